// A valid-padded DepthwiseConv2D whose kernel is larger than the image it gets (after a pooling
// the 6x6 image is 3x3; a 5x5 kernel does not fit).
// EXPECT: input_shape_mismatch<latent::DepthwiseConv2D<5(, latent::Padding::valid, 1, 1, 1)?>, latent::at_layer<2>, latent::got<latent::Shape<3, 3, 4> ?>, latent::expected<latent::image_at_least<5, 5> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net =
    Sequential<Input<6, 6, 1>, Conv2D<4, 3, Padding::same>, MaxPool2D<2>, DepthwiseConv2D<5>, Flatten, Dense<2>>;
#else
using Net =
    Sequential<Input<6, 6, 1>, Conv2D<4, 3, Padding::same>, MaxPool2D<2>, DepthwiseConv2D<3>, Flatten, Dense<2>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
