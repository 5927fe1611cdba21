// A merge of symbolic tensors that run on different backends.
// EXPECT: mixed_backends<latent::Add>
#include <latent/latent.hpp>
using namespace latent;
struct other_backend : cpu::reference {
    static constexpr std::string_view name = "other";
};
int main() {
    auto a = input<8>("a");
#ifdef LATENT_EXPECT_FAIL
    auto b = input<other_backend, 8>("b");
#else
    auto b = input<8>("b");
#endif
    auto sum = Add{}(Dense<4>{}(a), Dense<4>{}(b));
    Model model(std::tuple{a, b}, sum);
    return static_cast<int>(model.count_params() == 0);
}
