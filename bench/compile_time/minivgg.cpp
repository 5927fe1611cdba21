// Compile-time benchmark (b): Keras' MiniVGGNet (issue 3's reference network, 1,679,082
// parameters) defined, compiled with Adam and CategoricalCrossentropy, fitted on a tiny batch
// and asked to predict, so every conv, pool, BatchNorm and Dropout path is instantiated.
#include <latent/latent.hpp>

using namespace latent;

using MiniVGG = Sequential<Input<28, 28, 1>,
                           Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                           Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                           MaxPool2D<2>, Dropout,
                           Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                           Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                           MaxPool2D<2>, Dropout,
                           Flatten, Dense<512>, ReLU, BatchNorm, Dropout,
                           Dense<10>, Softmax>;
static_assert(MiniVGG::param_count == 1'679'082);

int main() {
    Tensor<Shape<28, 28, 1>> x(2);
    Tensor<Shape<10>> y(2);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 7);
    y[3] = y[17] = 1.0f;
    MiniVGG net;
    net.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    const auto history = net.fit(x, y, {.epochs = 1, .batch_size = 2, .verbose = Verbosity::silent});
    const auto out = net.predict(x);
    return history.epochs == 1 && out.batch() == 2 ? 0 : 1;
}
