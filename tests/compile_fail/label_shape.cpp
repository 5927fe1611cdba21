// Labels whose shape is neither the output's nor class indices.
// EXPECT: label_shape_mismatch<latent::Sequential<latent::Input<4>, latent::Dense<3>, latent::Softmax>, latent::got<latent::Shape<5> ?>, latent::expected<latent::Shape<3> ?> ?>
// EXPECT: latent: label_shape_mismatch
#include <latent/latent.hpp>
using namespace latent;
using Net = Sequential<Input<4>, Dense<3>, Softmax>;
int main() {
    Net net;
    net.compile(optim::SGD{}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    Tensor<Shape<4>> x(2);
#ifdef LATENT_EXPECT_FAIL
    Tensor<Shape<5>> y(2);
#else
    Tensor<Shape<3>> y(2);
#endif
    return static_cast<int>(net.evaluate(x, y).size());
}
