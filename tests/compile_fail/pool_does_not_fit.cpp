// A valid-padded MaxPooling2D whose window is larger than the image it gets.
// EXPECT: input_shape_mismatch<latent::MaxPooling2D<3(, 3, latent::Padding::valid)?>, latent::at_layer<1>, latent::got<latent::Shape<2, 2, 8> ?>, latent::expected<latent::image_at_least<3, 3> ?> ?>
// EXPECT: latent: this layer cannot take the shape the layer before it produces
#include <latent/latent.hpp>
#include <latent/layers/pool.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<4, 4, 8>, MaxPooling2D<2>, MaxPooling2D<3>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<4, 4, 8>, MaxPooling2D<2>, MaxPooling2D<3, 3, Padding::same>, Flatten, Dense<10>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
