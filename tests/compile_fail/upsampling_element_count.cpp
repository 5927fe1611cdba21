// A decoder whose UpSampling2D output cannot be reshaped to the target: 14x14x8 = 1568
// elements is not 28x28x1 = 784.
// EXPECT: input_shape_mismatch<latent::Reshape<28, 28, 1>, latent::at_layer<3>, latent::got<latent::Shape<14, 14, 8> ?>, latent::expected<latent::elements<784> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<2>, Dense<392>, Reshape<7, 7, 8>, UpSampling2D<2>, Reshape<28, 28, 1>, Flatten>;
#else
using Net = Sequential<Input<2>, Dense<392>, Reshape<7, 7, 8>, UpSampling2D<2>, Reshape<28, 28, 2>, Flatten>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
