// A Sequential without Input: the first layer's input shape is unknown.
// EXPECT: missing_input<latent::Flatten, latent::at_layer<0> ?>
// EXPECT: latent: missing_input
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Flatten, Dense<10>, Softmax>;
#else
using Net = Sequential<Input<28, 28>, Flatten, Dense<10>, Softmax>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
