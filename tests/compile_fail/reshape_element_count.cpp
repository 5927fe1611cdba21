// A Reshape whose target has another element count than its input.
// EXPECT: input_shape_mismatch<latent::Reshape<28, 27, 1>, latent::at_layer<1>, latent::got<latent::Shape<784> ?>, latent::expected<latent::elements<756> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<784>, Dense<784>, Reshape<28, 27, 1>, Flatten, Dense<10>>;
#else
using Net = Sequential<Input<784>, Dense<784>, Reshape<28, 28, 1>, Flatten, Dense<10>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
