// A valid-padded Conv2D whose kernel is larger than the image it gets (after two poolings the
// 8x8 image is 2x2; a 3x3 kernel does not fit).
// EXPECT: input_shape_mismatch<latent::Conv2D<4, 3(, latent::Padding::valid, 1, 1)?>, latent::at_layer<3>, latent::got<latent::Shape<2, 2, 8> ?>, latent::expected<latent::image_at_least<3, 3> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<8, 8, 1>, Conv2D<8, 3, Padding::same>, Conv2D<8, 3, Padding::valid, 2>,
                       Conv2D<8, 2>, Conv2D<4, 3>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<8, 8, 1>, Conv2D<8, 3, Padding::same>, Conv2D<8, 3, Padding::valid, 2>,
                       Conv2D<8, 2>, Conv2D<4, 2>, Flatten, Dense<10>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
