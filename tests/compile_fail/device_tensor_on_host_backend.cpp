// A DeviceTensor keeps samples in a device backend's memory; a CPU backend has none: a Tensor is
// already where its models compute (the correct twin).
// EXPECT: latent: DeviceTensor<B, S> holds samples in a device backend's memory
#include <latent/latent.hpp>
using namespace latent;
int main() {
    const Tensor<Shape<4>> x(2);
#ifdef LATENT_EXPECT_FAIL
    const DeviceTensor<cpu::reference, Shape<4>> there(x);
#else
    const Tensor<Shape<4>> there(2, x.values());
#endif
    return static_cast<int>(there.batch()) - 2;
}
