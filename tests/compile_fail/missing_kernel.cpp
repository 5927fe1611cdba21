// A backend tag with no kernels (not derived from cpu::reference) used for a model.
// EXPECT: missing_kernel<bare_backend, latent::ops::op::activation>
// EXPECT: latent: this backend has no kernel for this op
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
struct bare_backend {
    using memory_space = host_memory;
    static constexpr std::string_view name = "bare";
};
#else
struct bare_backend : cpu::reference {};
#endif
using Net = Sequential<bare_backend, Input<8>, ReLU>;
int main() {
    Net net;
    Tensor<Shape<8>> x(1);
    return static_cast<int>(net.predict(x).batch());
}
