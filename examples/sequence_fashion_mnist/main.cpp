// Fashion-MNIST read as sequences: each image is 28 rows of 28 pixels, seen one row per step by
// a recurrent layer (Keras' LSTM(128) -> Dense(10, softmax) exercise) or by a temporal
// convolutional network of causal, dilated Conv1Ds. Trains the LSTM, the GRU or the TCN
// classifier on the 60,000 training images and reports its test accuracy.
#include <latent/latent.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

using namespace latent;

using Rows = Shape<28, 28>;  // (steps, features): row t of the image is step t
using LstmClassifier = Sequential<Input<28, 28>, LSTM<128>, Dense<10>, Softmax>;
using GruClassifier = Sequential<Input<28, 28>, GRU<128>, Dense<10>, Softmax>;
// Keras' counts: 4 * (28 * 128 + 128 * 128 + 128) + 1,290 and 3 * (28 * 128 + 128 * 128 + 2 * 128) + 1,290.
static_assert(LstmClassifier::param_count == 81'674);
static_assert(GruClassifier::param_count == 61'962);

// A temporal convolutional network: causal convolutions of kernel 2 at dilations 1, 2, 4, 8, 16,
// so the last step's 64 features have seen 1 + 1 + 2 + 4 + 8 + 16 = 32 >= 28 rows, all of the
// image and none after it; the classifier reads that last step (Cropping1D<27, 0>).
using TcnClassifier =
    Sequential<Input<28, 28>, Conv1D<64, 2, Padding::causal>, ReLU, Conv1D<64, 2, Padding::causal, 1, 2>, ReLU,
               Conv1D<64, 2, Padding::causal, 1, 4>, ReLU, Conv1D<64, 2, Padding::causal, 1, 8>, ReLU,
               Conv1D<64, 2, Padding::causal, 1, 16>, ReLU, Cropping1D<27, 0>, Flatten, Dense<10>, Softmax>;
static_assert(TcnClassifier::output_shape::size == 10);
static_assert(TcnClassifier::param_count == (2 * 28 * 64 + 64) + 4 * (2 * 64 * 64 + 64) + 650);  // 37,322

template <class Net>
int train(const char* cell, std::size_t epochs) {
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto x_train = as_shape<Rows>(data.train_images);
    const auto x_test = as_shape<Rows>(data.test_images);
    const auto y_train = data::one_hot<10>(data.train_labels);
    const auto y_test = data::one_hot<10>(data.test_labels);
    std::printf("Fashion-MNIST as sequences of 28 rows: %zu training and %zu test images; %s\n", x_train.batch(),
                x_test.batch(), cell);

    Net net;
    net.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    net.summary();
    const auto fit_start = std::chrono::steady_clock::now();
    const auto history = net.fit(x_train, y_train, {.epochs = epochs, .batch_size = 64, .validation_split = 0.1});
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    const auto test = net.evaluate(x_test, y_test);
    std::printf("%s: test loss %.4f, test accuracy %.4f after %zu epochs (%.1f s of training, %.1f s per epoch)\n", cell,
                test.at("loss"), test.at("accuracy"), history.epochs, fit_seconds,
                fit_seconds / static_cast<double>(history.epochs));
    return 0;
}

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5;
    const std::string cell = argc > 2 ? argv[2] : "lstm";
    if (epochs == 0 || (cell != "lstm" && cell != "gru" && cell != "tcn")) {
        std::fprintf(stderr, "usage: sequence_fashion_mnist [epochs=5] [lstm|gru|tcn]\n");
        return 2;
    }
    if (cell == "tcn") return train<TcnClassifier>("TCN (causal Conv1D, dilations 1-16)", epochs);
    return cell == "lstm" ? train<LstmClassifier>("LSTM(128)", epochs) : train<GruClassifier>("GRU(128)", epochs);
} catch (const std::exception& e) {
    std::fprintf(stderr, "sequence_fashion_mnist: %s\n", e.what());
    return 1;
}
