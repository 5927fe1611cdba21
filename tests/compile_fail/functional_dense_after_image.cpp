// The functional API checks each call where it is written: a Dense called on an image.
// EXPECT: call_shape_mismatch<latent::Dense<10>, latent::got<latent::Shape<28, 28, 1> ?>, latent::expected<latent::rank<1> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto inputs = input<28, 28, 1>("inputs");
#ifdef LATENT_EXPECT_FAIL
    auto outputs = Dense<10>{}(inputs);
#else
    auto outputs = Dense<10>{}(Flatten{}(inputs));
#endif
    Model model(inputs, outputs);
    return static_cast<int>(model.count_params() == 0);
}
