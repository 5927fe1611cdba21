// Hard parameter sharing, as in Keras' multi-output functional models: one convolutional trunk
// reads an MNIST digit, two heads answer two questions about it (which digit; how much ink it
// has), trained together with two losses and loss weights. The single-task baseline trains the
// same trunk and digit head alone, for comparison.
#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <tuple>

using namespace latent;
using B = cpu::simd;
using Image = Shape<28, 28, 1>;

// The trunk every head shares: two conv blocks and a 64-unit dense layer ("features").
Symbolic<Shape<64>, B> trunk(const Symbolic<Image, B>& image) {
    auto x = Conv2D<16, 3, Padding::same>{}(image);
    x = ReLU{}(x);
    auto p = MaxPool2D<2>{}(x);
    auto y = Conv2D<32, 3, Padding::same>{}(p);
    y = ReLU{}(y);
    auto q = MaxPool2D<2>{}(y);
    auto flat = Flatten{}(q);
    auto hidden = Dense<64>{}(flat);
    return ReLU{"features"}(hidden);
}

// The second label, derived from the image itself: the fraction of its pixels that are ink.
Tensor<Shape<1>> ink_of(const Tensor<Image>& images) {
    Tensor<Shape<1>> ink(images.batch());
    for (std::size_t i = 0; i < images.batch(); ++i) {
        std::size_t on = 0;
        for (float v : images.sample(i)) on += v > 0.5f ? 1 : 0;
        ink[i] = static_cast<float>(on) / 784.0f;
    }
    return ink;
}

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 8;
    const double ink_weight = argc > 2 ? std::strtod(argv[2], nullptr) : 100.0;
    const auto data = data::load_mnist();  // $LATENT_DATA/mnist (scripts/fetch-data)
    const auto y_train = data::one_hot<10>(data.train_labels);
    const auto y_test = data::one_hot<10>(data.test_labels);
    const auto ink_train = ink_of(data.train_images);
    const auto ink_test = ink_of(data.test_images);
    std::printf("MNIST digits: %zu training and %zu test images\n", data.train_images.batch(), data.test_images.batch());

    // Two heads on one trunk.
    auto image = input<B, 28, 28, 1>("image");
    auto features = trunk(image);
    auto digit_logits = Dense<10>{}(features);
    auto digit = Softmax{"digit"}(digit_logits);
    auto ink_hidden = Dense<16>{}(features);
    auto ink_relu = ReLU{}(ink_hidden);
    auto ink = Dense<1>{"ink"}(ink_relu);
    Model multitask(image, std::tuple{digit, ink}, "multitask");
    multitask.summary();
    // The ink fraction is about 0.1-0.2, so its squared error is small: weight it up so both
    // tasks pull on the trunk.
    multitask.compile(optim::Adam{.lr = 1e-3},
                      loss::per_output(loss::CategoricalCrossentropy{}, loss::MeanSquaredError{}).weighted({1.0, ink_weight}),
                      metrics::Accuracy{});
    auto start = std::chrono::steady_clock::now();
    multitask.fit(data.train_images, std::tuple{y_train, ink_train},
                  {.epochs = epochs, .batch_size = 64, .validation_split = 0.1,
                   .verbose = Verbosity::one_line_per_epoch});
    const double multitask_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto both = multitask.evaluate(data.test_images, std::tuple{y_test, ink_test});

    // The baseline: the same trunk and digit head, trained on the digit alone.
    auto image2 = input<B, 28, 28, 1>("image");
    auto features2 = trunk(image2);
    auto logits2 = Dense<10>{}(features2);
    auto digit2 = Softmax{"digit"}(logits2);
    Model single(image2, digit2, "digit_only");
    single.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    start = std::chrono::steady_clock::now();
    single.fit(data.train_images, y_train,
               {.epochs = epochs, .batch_size = 64, .validation_split = 0.1, .verbose = Verbosity::one_line_per_epoch});
    const double single_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto alone = single.evaluate(data.test_images, y_test);

    // What the ink head is up against: always answering the training set's mean ink.
    double mean = 0, squared = 0;
    for (float v : ink_train.values()) mean += v;
    mean /= static_cast<double>(ink_train.batch());
    for (float v : ink_test.values()) squared += (v - mean) * (v - mean);
    const double mean_rmse = std::sqrt(squared / static_cast<double>(ink_test.batch())) * 784.0;

    std::printf("\n%-22s %14s %18s %10s\n", "model", "digit accuracy", "ink RMSE (pixels)", "training");
    std::printf("%-22s %14.4f %18.1f %9.0fs\n", "multitask (2 heads)", both.at("digit_accuracy"),
                std::sqrt(both.at("ink_loss")) * 784.0, multitask_seconds);
    std::printf("%-22s %14.4f %18s %9.0fs\n", "digit only", alone.at("accuracy"), "-", single_seconds);
    std::printf("%-22s %14s %18.1f %10s\n", "mean ink (no model)", "-", mean_rmse, "-");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "multitask: %s\n", e.what());
    return 1;
}
