// A valid-padded Conv1D whose kernel is longer than the sequence it gets (after a pooling the
// 8 steps are 4; a kernel of 5 does not fit).
// EXPECT: input_shape_mismatch<latent::Conv1D<4, 5(, latent::Padding::valid, 1, 1)?>, latent::at_layer<1>, latent::got<latent::Shape<4, 2> ?>, latent::expected<latent::sequence_at_least<5> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<8, 2>, MaxPooling1D<2>, Conv1D<4, 5>, Flatten, Dense<3>>;
#else
using Net = Sequential<Input<8, 2>, MaxPooling1D<2>, Conv1D<4, 3>, Flatten, Dense<3>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
