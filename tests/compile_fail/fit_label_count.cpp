// A model with two outputs given one label array by fit.
// EXPECT: need one label array per model output
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto inputs = input<6>("inputs");
    auto trunk = Dense<8>{}(inputs);
    Model model(inputs, std::tuple{Softmax{}(Dense<3>{}(trunk)), Dense<1>{}(trunk)});
    model.compile(optim::SGD{}, loss::per_output(loss::CategoricalCrossentropy{}, loss::MeanSquaredError{}));
    const Tensor<Shape<6>> x(4);
    const Tensor<Shape<3>> digit(4);
    const Tensor<Shape<1>> level(4);
#ifdef LATENT_EXPECT_FAIL
    return static_cast<int>(model.fit(x, std::tuple{digit}, {.verbose = Verbosity::silent}).epochs);
#else
    return static_cast<int>(model.fit(x, std::tuple{digit, level}, {.verbose = Verbosity::silent}).epochs);
#endif
}
