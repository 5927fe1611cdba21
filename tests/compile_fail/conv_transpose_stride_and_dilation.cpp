// A transposed convolution, like the convolution it transposes, strides or dilates, not both:
// Conv1DTranspose<4, 3, Padding::same, 2, 2> asks for both. One error, naming Conv1DTranspose.
// EXPECT: Conv1DTranspose cannot both stride and dilate
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Upsample = Conv1DTranspose<4, 3, Padding::same, 2, 2>;
#else
using Upsample = Conv1DTranspose<4, 3, Padding::same, 1, 2>;
#endif
int main() {
    Sequential<Input<8, 2>, Upsample, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
