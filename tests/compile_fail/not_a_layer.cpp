// Something that is not a layer in the layer list.
// EXPECT: not_a_layer<int, latent::at_layer<1> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<8>, Dense<4>, int, Dense<2>>;
#else
using Net = Sequential<Input<8>, Dense<4>, ReLU, Dense<2>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
