// Padding::causal is Keras' Conv1D padding; a Conv2D over an image refuses it, as Keras does.
// EXPECT: Padding::causal is Conv1D's, as in Keras: a Conv2D takes it only with a kernel one row high
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Layer2D = Conv2D<8, 3, Padding::causal>;
#else
using Layer2D = Conv2D<8, 3, Padding::same>;
#endif
int main() {
    Sequential<Input<8, 8, 1>, Layer2D, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
