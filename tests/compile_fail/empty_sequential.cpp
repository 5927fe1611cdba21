// A Sequential with nothing in it.
// EXPECT: empty_sequential<latent::Sequential<> ?>
// EXPECT: latent: empty_sequential: a Sequential needs an Input
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<>;
#else
using Net = Sequential<Input<4>, Dense<1>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.layer_count);
}
