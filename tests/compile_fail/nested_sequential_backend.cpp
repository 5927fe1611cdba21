// A Sequential of one backend called on a symbolic tensor of another.
// EXPECT: network_backend_mismatch<latent::Sequential<other_backend, latent::Input<8>, latent::Dense<4> ?>, latent::got<latent::cpu::simd>, latent::expected<other_backend> ?>
#include <latent/latent.hpp>
using namespace latent;
struct other_backend : cpu::reference {
    static constexpr std::string_view name = "other";
};
int main() {
#ifdef LATENT_EXPECT_FAIL
    auto x = input<8>("x");
#else
    auto x = input<other_backend, 8>("x");
#endif
    Sequential<other_backend, Input<8>, Dense<4>> encoder;
    auto code = encoder(x);
    Model model(x, code);
    return static_cast<int>(model.count_params() == 0);
}
