// A model with two outputs given, for its first output of Shape<3>, labels of Shape<2>: neither
// that output's shape nor class indices along its last axis.
// EXPECT: label_shape_mismatch<latent::Model<.*>, latent::got<latent::Shape<2> ?>, latent::expected<latent::Shape<3> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto inputs = input<6>("inputs");
    auto trunk = Dense<8>{}(inputs);
    Model model(inputs, std::tuple{Softmax{}(Dense<3>{}(trunk)), Dense<1>{}(trunk)});
    model.compile(optim::SGD{}, loss::per_output(loss::CategoricalCrossentropy{}, loss::MeanSquaredError{}));
    const Tensor<Shape<6>> x(4);
#ifdef LATENT_EXPECT_FAIL
    const Tensor<Shape<2>> digit(4);
#else
    const Tensor<Shape<3>> digit(4);
#endif
    const Tensor<Shape<1>> level(4);
    return static_cast<int>(model.train_on_batch(x, std::tuple{digit, level}).size());
}
