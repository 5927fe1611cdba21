// Reference for bench/README.md: line for line what dlib_mlp.cpp does, in latent — the MLP
// example's network (784-256-128-10, ReLU) trained with Adam for one epoch on 4 samples, then
// asked to predict. Not part of the budget gate (bench/compile_time/run).
#include <latent/latent.hpp>

using namespace latent;

using Mlp = Sequential<Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>, Softmax>;

int main() {
    Tensor<Shape<784>> x(4);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f;
    const auto y = data::one_hot<10>(std::vector<std::uint8_t>{0, 1, 2, 3});
    Mlp net;
    net.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{});
    net.fit(x, y, {.epochs = 1, .batch_size = 2, .verbose = Verbosity::silent});
    const auto predicted = net.predict(x);
    return predicted.batch() == 4 ? 0 : 1;
}
