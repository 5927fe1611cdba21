// Data of another sample shape than the model's Input, given to predict.
// EXPECT: input_batch_mismatch<latent::Sequential<latent::Input<784>, latent::Dense<10> ?>, latent::got<latent::Shape<28, 28> ?>, latent::expected<latent::Shape<784> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
using Net = Sequential<Input<784>, Dense<10>>;
int main() {
    Net net;
#ifdef LATENT_EXPECT_FAIL
    Tensor<Shape<28, 28>> x(1);
#else
    Tensor<Shape<784>> x(1);
#endif
    return static_cast<int>(net.predict(x).batch());
}
