// A Cropping2D that would leave no column of the image.
// EXPECT: input_shape_mismatch<latent::Cropping2D<(latent::Edges2D)?{2, 2, 4, 6}>, latent::at_layer<1>, latent::got<latent::Shape<8, 10, 1> ?>, latent::expected<latent::image_at_least<5, 11> ?> ?>
// EXPECT: latent: this layer cannot take the shape the layer before it produces
#include <latent/latent.hpp>
#include <latent/layers/padding.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<6, 8, 1>, ZeroPadding2D<1>, Cropping2D<Edges<2, 2, 4, 6>>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<6, 8, 1>, ZeroPadding2D<1>, Cropping2D<Edges<2, 2, 4, 4>>, Flatten, Dense<10>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
