// A Sequential called inside a functional model on a tensor of the wrong shape.
// EXPECT: call_shape_mismatch<latent::Sequential<latent::Input<8>, latent::Dense<4>, latent::ReLU ?>, latent::got<latent::Shape<6> ?>, latent::expected<latent::Shape<8> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
int main() {
#ifdef LATENT_EXPECT_FAIL
    auto x = input<6>("x");
#else
    auto x = input<8>("x");
#endif
    Sequential<Input<8>, Dense<4>, ReLU> encoder;
    auto code = encoder(x);
    Model model(x, Dense<2>{}(code));
    return static_cast<int>(model.count_params() == 0);
}
