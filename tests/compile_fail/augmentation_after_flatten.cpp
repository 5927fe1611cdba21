// An image augmentation layer placed after Flatten: RandomRotation turns (height, width,
// channels) images, so a flat vector is refused with the one wiring error.
// EXPECT: input_shape_mismatch<latent::RandomRotation, latent::at_layer<1>, latent::got<latent::Shape<784> ?>, latent::expected<latent::rank<3> ?> ?>
// EXPECT: latent: this layer cannot take the shape the layer before it produces
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<28, 28, 1>, Flatten, RandomRotation, Dense<10>, Softmax>;
#else
using Net = Sequential<Input<28, 28, 1>, RandomRotation, Flatten, Dense<10>, Softmax>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
