// A convolutional denoising autoencoder on Fashion-MNIST (Vincent et al. 2008; the Keras blog's
// "denoising autoencoder"): trained to restore clean images from corrupted ones, with a new
// corruption of every training image each epoch. Scores how much closer to the clean test images
// the reconstructions are than the noisy inputs, for the training noise and two others, and
// writes denoising.png (clean, noisy and restored rows per noise) and training_curves.png.
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/autoencoder.hpp>
#include <latent/repr/corruption.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

using namespace latent;

// 28x28x1 -> 7x7x32 feature maps -> 28x28x1.
using Encoder = Sequential<Input<28, 28, 1>,
                           Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                           Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>>;
using Decoder = Sequential<Input<7, 7, 32>,
                           Conv2D<32, 3, Padding::same>, ReLU, UpSampling2D<2>,
                           Conv2D<16, 3, Padding::same>, ReLU, UpSampling2D<2>,
                           Conv2D<1, 3, Padding::same>, Sigmoid>;

namespace {
template <class A, class B>
double mse(const A& a, const B& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return s / static_cast<double>(a.size());
}
}  // namespace

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10;
    const std::size_t train_count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 20000;
    const std::filesystem::path out_dir = argc > 3 ? argv[3] : ".";
    const auto start = std::chrono::steady_clock::now();

    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const Tensor<Shape<28, 28, 1>> x_train(
        std::min(train_count, data.train_images.batch()),
        std::span<const float>(data.train_images.data(), std::min(train_count, data.train_images.batch()) * 784));
    const auto& x_test = data.test_images;
    std::printf("Fashion-MNIST: training on %zu images, testing on %zu\n", x_train.batch(), x_test.batch());

    const auto training_noise = repr::Corruption::gaussian(0.3);
    repr::Autoencoder<Encoder, Decoder> ae(Encoder(1), Decoder(2), "denoising_autoencoder");
    ae.compile(optim::Adam{.lr = 1e-3}, loss::BinaryCrossentropy{});
    ae.summary();
    const auto fit_start = std::chrono::steady_clock::now();
    const auto history = ae.fit_denoising(x_train, training_noise,
                                          {.epochs = epochs, .batch_size = 64, .verbose = Verbosity::one_line_per_epoch});
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    std::printf("trained %zu epochs on %s in %.1f s\n", history.epochs, training_noise.describe().c_str(), fit_seconds);

    // Test images under the training noise and two it never saw.
    const std::vector<repr::Corruption> noises{training_noise, repr::Corruption::masking(0.3),
                                               repr::Corruption::salt_and_pepper(0.1)};
    Generator rng(2024);
    std::vector<float> grid;
    std::vector<std::string> captions;
    constexpr std::size_t shown = 10;
    grid.insert(grid.end(), x_test.data(), x_test.data() + shown * 784);
    captions.push_back("clean");
    std::printf("\n| test corruption | MSE of the noisy input | MSE of the reconstruction |\n|---|---|---|\n");
    for (const auto& noise : noises) {
        const auto noisy = repr::corrupt(x_test, noise, rng);
        const auto restored = ae.predict(noisy, 256);
        std::printf("| %s | %.4f | %.4f |\n", noise.describe().c_str(), mse(noisy, x_test), mse(restored, x_test));
        grid.insert(grid.end(), noisy.data(), noisy.data() + shown * 784);
        grid.insert(grid.end(), restored.data(), restored.data() + shown * 784);
        const std::string name = noise.kind == repr::Corruption::Kind::gaussian  ? "gaussian"
                                 : noise.kind == repr::Corruption::Kind::masking ? "masking"
                                                                                 : "salt+pepper";
        captions.push_back(name);
        captions.push_back("restored");
    }
    const auto clean = ae.predict(x_test, 256);
    std::printf("| none (clean input) | 0 | %.4f |\n", mse(clean, x_test));

    io::write_png(out_dir / "denoising.png",
                  io::image_grid(grid, 28, 28, shown,
                                 {.scale = 2, .title = "Fashion-MNIST test images: corrupted, then restored",
                                  .row_captions = captions}));
    io::write_png(out_dir / "training_curves.png",
                  io::line_plot({.title = "Denoising autoencoder: training loss (binary cross-entropy)",
                                 .y_label = "loss"},
                                {{"training", history.at("loss")}}));
    std::printf("wrote %s/denoising.png and %s/training_curves.png\n", out_dir.c_str(), out_dir.c_str());
    std::printf("total wall time %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "denoising_autoencoder: %s\n", e.what());
    return 1;
}
