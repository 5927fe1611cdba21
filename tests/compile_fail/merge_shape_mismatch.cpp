// Add needs inputs of one shape; a 4-unit branch and a 3-unit branch cannot be added.
// EXPECT: merge_shape_mismatch<latent::Add, latent::expected<latent::same_shapes>, latent::got<latent::Shape<4> ?>, latent::got<latent::Shape<3> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto inputs = input<8>("inputs");
    auto a = Dense<4>{}(inputs);
#ifdef LATENT_EXPECT_FAIL
    auto b = Dense<3>{}(inputs);
#else
    auto b = Dense<4>{}(inputs);
#endif
    Model model(inputs, Add{}(a, b));
    return static_cast<int>(model.count_params() == 0);
}
