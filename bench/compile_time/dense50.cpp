// Compile-time benchmark (c): a 50-layer Sequential, 25 x (Dense<64>, ReLU) after Input<64>.
// It is constructed, compiled with Adam and MeanSquaredError, fitted on a tiny tensor and
// asked to predict, so that the forward, backward, optimizer and training-loop code for all
// 50 layers is instantiated, not only the type.
#include <latent/latent.hpp>

using namespace latent;

using D = Dense<64>;
using Deep = Sequential<Input<64>,
    D, ReLU, D, ReLU, D, ReLU, D, ReLU, D, ReLU,   //  1-10
    D, ReLU, D, ReLU, D, ReLU, D, ReLU, D, ReLU,   // 11-20
    D, ReLU, D, ReLU, D, ReLU, D, ReLU, D, ReLU,   // 21-30
    D, ReLU, D, ReLU, D, ReLU, D, ReLU, D, ReLU,   // 31-40
    D, ReLU, D, ReLU, D, ReLU, D, ReLU, D, ReLU>;  // 41-50
static_assert(Deep::layer_count == 50);
static_assert(std::is_same_v<Deep::output_shape, Shape<64>>);

int main() {
    Tensor<Shape<64>> x(4), y(4);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = y[i] = 0.01f * static_cast<float>(i % 7);
    Deep net;
    net.compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
    const auto history = net.fit(x, y, {.epochs = 1, .batch_size = 2, .verbose = Verbosity::silent});
    const auto out = net.predict(x);
    return history.epochs == 1 && out.batch() == 4 ? 0 : 1;
}
