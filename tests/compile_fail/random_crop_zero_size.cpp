// A crop with no columns: one error, naming the rule.
// EXPECT: latent: RandomCrop needs a height and a width of at least 1
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<28, 28, 1>, RandomCrop<20, 0>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<28, 28, 1>, RandomCrop<20, 20>, Flatten, Dense<10>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
