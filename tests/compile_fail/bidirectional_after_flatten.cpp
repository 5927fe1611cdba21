// A Bidirectional layer given a vector: its recurrent layer reads a sequence, (steps, features).
// EXPECT: input_shape_mismatch<latent::Bidirectional<latent::GRU<8(, latent::Returns::last_output)?>(, latent::Merge::concat)? ?>, latent::at_layer<1>, latent::got<latent::Shape<84> ?>, latent::expected<latent::rank<2> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<28, 3>, Flatten, Bidirectional<GRU<8>>, Dense<2>>;
#else
using Net = Sequential<Input<28, 3>, Bidirectional<GRU<8>>, Dense<2>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
