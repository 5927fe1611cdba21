// Keras refuses a convolution that both strides and dilates; so does latent, at compile time:
// Conv2D<16, 3, Padding::same, 2, 2> asks for a stride of 2 and a dilation of 2.
// EXPECT: Conv2D cannot both stride and dilate \(as in Keras\)
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Dilated = Conv2D<16, 3, Padding::same, 2, 2>;
#else
using Dilated = Conv2D<16, 3, Padding::same, 1, 2>;
#endif
int main() {
    Sequential<Input<16, 16, 3>, Dilated, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
