// A Dense layer right after an image-shaped input, without Flatten.
// EXPECT: input_shape_mismatch<latent::Dense<10>, latent::at_layer<1>, latent::got<latent::Shape<28, 28, 1> ?>, latent::expected<latent::rank<1> ?> ?>
// EXPECT: latent: this layer cannot take the shape the layer before it produces
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<28, 28, 1>, ReLU, Dense<10>, Softmax>;
#else
using Net = Sequential<Input<28, 28, 1>, ReLU, Flatten, Dense<10>, Softmax>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
