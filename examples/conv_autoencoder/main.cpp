// A convolutional autoencoder on the MNIST digits with a 2-unit linear bottleneck: it learns to
// squeeze each digit into two numbers and draw it back. Writes latent_2d.png (the test digits'
// codes, coloured by class), reconstructions.png (originals above reconstructions) and
// training_curves.png (loss per epoch).
#include <latent/backend/cpu/simd.hpp>
#include <latent/io/plot.hpp>
#include <latent/latent.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

using namespace latent;

// Encoder: conv blocks (3x3 same, ReLU, BatchNorm) with two poolings down to 7x7x8, then the
// 2-unit code. Decoder: the mirror image, upsampling back to 28x28x1 in [0, 1].
struct ConvAutoencoder : Sequential<cpu::simd, Input<28, 28, 1>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<16, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
    Conv2D<8, 3, Padding::same>, ReLU, BatchNorm,
    Flatten, Dense<2>,                                   // 15: "features", the 2-D code
    Dense<8 * 7 * 7>, ReLU, Reshape<7, 7, 8>,
    Conv2D<8, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<16, 3, Padding::same>, ReLU, BatchNorm, UpSampling2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm, UpSampling2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<1, 3, Padding::same>, Sigmoid> {
    static constexpr std::size_t code_layer = 15;
    explicit ConvAutoencoder(std::uint64_t seed = 0) : Sequential(seed) { layer<code_layer>().set_name("features"); }
};
static_assert(std::is_same_v<ConvAutoencoder::layer_output_shape<ConvAutoencoder::code_layer>, Shape<2>>);
static_assert(std::is_same_v<ConvAutoencoder::output_shape, Shape<28, 28, 1>>);

// The codes of all of x: the output of the "features" layer, a batch at a time.
Tensor<Shape<2>> encode(ConvAutoencoder& net, const Tensor<Shape<28, 28, 1>>& x) {
    Tensor<Shape<2>> codes(x.batch());
    constexpr std::size_t chunk = 250;
    for (std::size_t start = 0; start < x.batch(); start += chunk) {
        const std::size_t n = std::min(chunk, x.batch() - start);
        net.forward(x.data() + start * 784, n, Mode::infer);
        const float* code = net.output(ConvAutoencoder::code_layer);
        std::copy(code, code + n * 2, codes.data() + start * 2);
    }
    return codes;
}

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20;
    const std::string out_dir = argc > 2 ? argv[2] : ".";
    const auto start = std::chrono::steady_clock::now();

    const auto data = data::load_mnist();  // $LATENT_DATA/mnist (scripts/fetch-data)
    const auto& x_train = data.train_images;
    const auto& x_test = data.test_images;
    std::printf("MNIST digits: %zu training and %zu test images\n", x_train.batch(), x_test.batch());

    ConvAutoencoder net;
    net.compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
    net.summary();

    const auto fit_start = std::chrono::steady_clock::now();
    const auto history = net.fit(x_train, x_train,
                                 {.epochs = epochs, .batch_size = 64, .validation = {x_test, x_test},
                                  .verbose = Verbosity::one_line_per_epoch});
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    const auto test = net.evaluate(x_test, x_test);
    std::printf("test reconstruction MSE %.5f after %zu epochs (%.1f s of training, %.1f s per epoch)\n",
                test.at("loss"), history.epochs, fit_seconds, fit_seconds / static_cast<double>(history.epochs));

    // latent_2d.png: where the encoder puts each test digit.
    const auto codes = encode(net, x_test);
    std::vector<float> xs(codes.batch()), ys(codes.batch());
    std::vector<int> labels(codes.batch());
    for (std::size_t i = 0; i < codes.batch(); ++i) {
        xs[i] = codes.sample(i)[0];
        ys[i] = codes.sample(i)[1];
        labels[i] = static_cast<int>(data.test_labels.sample(i)[0]);
    }
    const std::vector<std::string> digits{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    io::write_png(out_dir + "/latent_2d.png",
                  io::scatter_plot({.width = 800, .height = 640,
                                    .title = "2-D codes of " + std::to_string(codes.batch()) + " test digits",
                                    .x_label = "code 1", .y_label = "code 2", .dot_alpha = 0.6},
                                   xs, ys, labels, digits));

    // reconstructions.png: the first test digit of each class, above its reconstruction.
    Tensor<Shape<28, 28, 1>> originals(10);
    for (int digit = 0; digit < 10; ++digit)
        for (std::size_t i = 0; i < x_test.batch(); ++i)
            if (labels[i] == digit) {
                std::ranges::copy(x_test.sample(i), originals.sample(static_cast<std::size_t>(digit)).begin());
                break;
            }
    const auto reconstructed = net.predict(originals);
    std::vector<float> grid(originals.values().begin(), originals.values().end());
    grid.insert(grid.end(), reconstructed.values().begin(), reconstructed.values().end());
    io::write_png(out_dir + "/reconstructions.png",
                  io::image_grid(grid, 28, 28, 10,
                                 {.scale = 3, .title = "MNIST test digits and their reconstructions",
                                  .row_captions = {"original", "reconstructed"}}));

    // training_curves.png: reconstruction loss per epoch.
    io::write_png(out_dir + "/training_curves.png",
                  io::line_plot({.title = "Reconstruction loss (MSE)", .y_label = "loss"},
                                {{"training", history.at("loss")}, {"test", history.at("val_loss")}}));
    std::printf("wrote %s/latent_2d.png, %s/reconstructions.png and %s/training_curves.png\n", out_dir.c_str(),
                out_dir.c_str(), out_dir.c_str());
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("total wall time %.1f s\n", total);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "conv_autoencoder: %s\n", e.what());
    return 1;
}
