// A model with two inputs given one input array by fit.
// EXPECT: fit, evaluate and train_on_batch need one array per model input
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto features = input<6>("features");
    auto extra = input<2>("extra");
    Model model(std::tuple{features, extra}, Dense<1>{}(Concatenate<>{}(features, extra)));
    model.compile(optim::SGD{}, loss::MeanSquaredError{});
    const Tensor<Shape<6>> x(4);
    const Tensor<Shape<2>> x2(4);
    const Tensor<Shape<1>> y(4);
#ifdef LATENT_EXPECT_FAIL
    return static_cast<int>(model.evaluate(std::tuple{x}, y).size());
#else
    return static_cast<int>(model.evaluate(std::tuple{x, x2}, y).size());
#endif
}
