// PReLU<1, 2> shares alpha across an image's height and width; after Flatten there is one axis.
// EXPECT: input_shape_mismatch<latent::PReLU<1, 2>, latent::at_layer<1>, latent::got<latent::Shape<192> ?>, latent::expected<latent::min_rank<2> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<8, 8, 3>, Flatten, PReLU<1, 2>, Dense<2>>;
#else
using Net = Sequential<Input<8, 8, 3>, PReLU<1, 2>, Flatten, Dense<2>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
