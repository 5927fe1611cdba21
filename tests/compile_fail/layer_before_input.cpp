// A layer written before Input.
// EXPECT: layer_before_input<latent::Dense<10>, latent::at_layer<0> ?>
// EXPECT: latent: layer_before_input: Input<...> must come first
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Dense<10>, Input<784>, Softmax>;
#else
using Net = Sequential<Input<784>, Dense<10>, Softmax>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
