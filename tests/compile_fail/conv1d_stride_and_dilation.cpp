// Conv1D's stride and dilation, as Keras', cannot both be above 1; the one error names Conv1D,
// not the 2-D convolution it runs on.
// EXPECT: Conv1D cannot both stride and dilate \(as in Keras\)
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Dilated = Conv1D<8, 3, Padding::same, 2, 4>;
#else
using Dilated = Conv1D<8, 3, Padding::same, 1, 4>;
#endif
int main() {
    Sequential<Input<32, 2>, Dilated, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
