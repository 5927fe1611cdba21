// Keras' MiniVGGNet on Fashion-MNIST in latent: the convolutional network the transfer-learning
// examples start from. Trains on the 60,000 training images, reports the test accuracy and
// saves the weights (fashion_cnn.safetensors) for those examples to load.
#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

using namespace latent;

// The layer list as Keras' MiniVGGNet (pyimagesearch's transfer-learning course): two
// conv-conv-pool blocks with BatchNorm after every ReLU, then a 512-unit dense head.
struct MiniVGG : Sequential<cpu::simd, Input<28, 28, 1>,
                            Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                            Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                            MaxPool2D<2>, Dropout,
                            Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                            Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                            MaxPool2D<2>, Dropout,
                            Flatten, Dense<512>, ReLU, BatchNorm, Dropout,
                            Dense<10>, Softmax> {
    explicit MiniVGG(std::uint64_t seed = 0) : Sequential(seed) {
        layer<7>().rate(0.25);
        layer<15>().rate(0.25);
        layer<16>().set_name("features");  // the transfer-learning examples cut the network here
        layer<20>().rate(0.5);
    }
};
static_assert(MiniVGG::param_count == 1'679'082);
static_assert(MiniVGG::non_trainable_param_count == 1'408);

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5;
    const std::string weights = argc > 2 ? argv[2] : "fashion_cnn.safetensors";
    const auto start = std::chrono::steady_clock::now();

    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto y_train = data::one_hot<10>(data.train_labels);
    const auto y_test = data::one_hot<10>(data.test_labels);
    std::printf("Fashion-MNIST: %zu training and %zu test images; GEMM threads: %d\n", data.train_images.batch(),
                data.test_images.batch(), cpu::threads());

    MiniVGG net;
    net.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    net.summary();

    const auto fit_start = std::chrono::steady_clock::now();
    const auto history = net.fit(data.train_images, y_train,
                                 {.epochs = epochs, .batch_size = 128, .validation_split = 0.1,
                                  .verbose = Verbosity::progress_bar});
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();

    const auto test = net.evaluate(data.test_images, y_test);
    std::printf("test loss %.4f, test accuracy %.4f (after %zu epochs, %.1f s of training, %.1f s per epoch)\n",
                test.at("loss"), test.at("accuracy"), history.epochs, fit_seconds,
                fit_seconds / static_cast<double>(history.epochs));

    net.save_weights(weights);
    std::printf("weights saved to %s\n", weights.c_str());
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("total wall time %.1f s\n", total);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_cnn: %s\n", e.what());
    return 1;
}
