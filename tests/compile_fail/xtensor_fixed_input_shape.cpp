// An xt::xtensor_fixed whose shape is not the model's input shape, given to predict.
// EXPECT: input_batch_mismatch<latent::Sequential<latent::Input<28, 28, 1>, latent::Flatten, latent::Dense<10> ?>, latent::got<xt::fixed_shape<28, 28> ?>, latent::expected<latent::Shape<28, 28, 1> ?> ?>
#include <latent/latent.hpp>
#include <latent/interop/xtensor.hpp>
#include <xtensor/xfixed.hpp>
using namespace latent;
using Net = Sequential<Input<28, 28, 1>, Flatten, Dense<10>>;
int main() {
    Net net;
#ifdef LATENT_EXPECT_FAIL
    xt::xtensor_fixed<float, xt::xshape<28, 28>> image{};
#else
    xt::xtensor_fixed<float, xt::xshape<28, 28, 1>> image{};
#endif
    return static_cast<int>(net.predict(image).batch() != 1);
}
