// TimeDistributed given a vector: it applies its layer to every step of a sequence (steps, ...).
// EXPECT: input_shape_mismatch<latent::TimeDistributed<latent::Dense<3> ?>, latent::at_layer<1>, latent::got<latent::Shape<16> ?>, latent::expected<latent::each_step<latent::rank<1> ?> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<8, 2>, LSTM<16>, TimeDistributed<Dense<3>>>;
#else
using Net = Sequential<Input<8, 2>, LSTM<16, Returns::sequences>, TimeDistributed<Dense<3>>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
