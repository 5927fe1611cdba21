// A model with two inputs given, in fit's std::tuple of input arrays, data of another sample
// shape than the input at that position.
// EXPECT: input_batch_mismatch<latent::Model<.*>, latent::got<latent::Shape<3> ?>, latent::expected<latent::Shape<6> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto features = input<6>("features");
    auto extra = input<2>("extra");
    Model model(std::tuple{features, extra}, Dense<1>{}(Concatenate<>{}(features, extra)));
    model.compile(optim::SGD{}, loss::MeanSquaredError{});
#ifdef LATENT_EXPECT_FAIL
    Tensor<Shape<3>> x(4);
#else
    Tensor<Shape<6>> x(4);
#endif
    const Tensor<Shape<2>> x2(4);
    const Tensor<Shape<1>> y(4);
    return static_cast<int>(model.fit(std::tuple{x, x2}, y, {.verbose = Verbosity::silent}).epochs);
}
