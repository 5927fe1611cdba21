// MultiHeadAttention attends over the steps of a (steps, features) sequence: a flat vector has
// none.
// EXPECT: input_shape_mismatch<latent::MultiHeadAttention<4, 8(, 8)?>, latent::at_layer<1>, latent::got<latent::Shape<160> ?>, latent::expected<latent::rank<2> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<10, 16>, Flatten, MultiHeadAttention<4, 8>, Dense<2>>;
#else
using Net = Sequential<Input<10, 16>, MultiHeadAttention<4, 8>, Flatten, Dense<2>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
