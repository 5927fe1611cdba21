// PReLU's SharedAxes number the sample's axes from 1, as Keras' shared_axes: PReLU<0, 1> counts
// the batch as axis 0 by mistake.
// EXPECT: PReLU's SharedAxes number the sample's axes from 1
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Shared = PReLU<0, 1>;
#else
using Shared = PReLU<1, 2>;
#endif
int main() {
    Sequential<Input<8, 8, 3>, Shared, Flatten, Dense<2>> net;
    return static_cast<int>(net.parameters().values().size() == 0);
}
