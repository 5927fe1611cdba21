// RandomCrop cannot cut 32 x 32 windows out of a 28 x 28 image (Keras would resize it; here a
// Resizing before the crop says so): one wiring error naming the layer and what it needs.
// EXPECT: input_shape_mismatch<latent::RandomCrop<32, 32>, latent::at_layer<0>, latent::got<latent::Shape<28, 28, 1> ?>, latent::expected<latent::image_at_least<32, 32> ?> ?>
// EXPECT: latent: this layer cannot take the shape the layer before it produces
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<28, 28, 1>, RandomCrop<32, 32>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<28, 28, 1>, Resizing<36, 36>, RandomCrop<32, 32>, Flatten, Dense<10>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
