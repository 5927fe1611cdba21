// A dilated kernel spans (k - 1) * d + 1 rows: a 3x3 kernel at dilation 4 spans 9, more than
// the 8x8 image holds under valid padding. The one error names the span the layer needs.
// EXPECT: image_at_least<9, 9>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Dilated = Conv2D<4, 3, Padding::valid, 1, 4>;
#else
using Dilated = Conv2D<4, 3, Padding::valid, 1, 3>;
#endif
int main() {
    Sequential<Input<8, 8, 1>, Dilated, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
