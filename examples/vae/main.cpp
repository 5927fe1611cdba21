// A variational autoencoder with a 2-D code on the MNIST digits (Kingma and Welling 2014; the
// Keras "VAE" example with dense layers): the encoder gives a mean and a log-variance per code
// unit, Sampling draws the code and adds the KL divergence to the loss. Writes
// manifold.png (digits decoded from a grid over the prior), samples.png (random draws),
// interpolation.png (strips between test digits) and latent_2d.png (test codes by class).
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/vae.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

using namespace latent;

constexpr std::size_t code = 2;
using Encoder = Sequential<Input<28, 28, 1>, Flatten, Dense<512>, ReLU, Dense<256>, ReLU, Dense<2 * code>, Sampling>;
using Decoder = Sequential<Input<code>, Dense<256>, ReLU, Dense<512>, ReLU, Dense<784>, Sigmoid, Reshape<28, 28, 1>>;
using Vae = repr::VariationalAutoencoder<Encoder, Decoder>;

namespace {
// The standard normal quantile (for a grid evenly spaced in probability, as the Keras example).
double normal_quantile(double p) {
    double lo = -8, hi = 8;
    for (int i = 0; i < 100; ++i) {
        const double mid = (lo + hi) / 2;
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
}
}  // namespace

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 50;
    const std::filesystem::path out_dir = argc > 2 ? argv[2] : ".";
    const auto start = std::chrono::steady_clock::now();
    const auto data = data::load_mnist();  // $LATENT_DATA/mnist (scripts/fetch-data)
    const auto& x_train = data.train_images;
    const auto& x_test = data.test_images;
    std::printf("MNIST digits: %zu training and %zu test images\n", x_train.batch(), x_test.batch());

    // The loss is the mean binary cross-entropy per pixel; the ELBO sums it over the 784 pixels,
    // so the KL term is weighted 1/784 to keep the two in the ELBO's proportion.
    Encoder encoder(1);
    encoder.layer<6>().beta(1.0 / 784.0);
    Vae vae(std::move(encoder), Decoder(2));
    vae.compile(optim::Adam{.lr = 1e-3}, loss::BinaryCrossentropy{});
    vae.summary();
    const auto history = vae.fit(x_train, {.epochs = epochs, .batch_size = 128, .validation = {x_test, x_test},
                                           .verbose = Verbosity::one_line_per_epoch});
    const double elbo_scale = 784.0;  // per-image negative ELBO in nats = loss * 784
    std::printf("test loss %.4f per pixel: negative ELBO %.1f nats per image, after %zu epochs\n",
                history.last("val_loss"), history.last("val_loss") * elbo_scale, history.epochs);

    // manifold.png: decoded codes on a 15x15 grid over the prior's quantiles.
    constexpr std::size_t n = 15;
    Tensor<Shape<code>> grid(n * n);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) {
            grid.sample(r * n + c)[0] = static_cast<float>(normal_quantile((static_cast<double>(c) + 0.5) / n));
            grid.sample(r * n + c)[1] = static_cast<float>(normal_quantile(1 - (static_cast<double>(r) + 0.5) / n));
        }
    const auto manifold = vae.decode(grid);
    io::write_png(out_dir / "manifold.png",
                  io::image_grid(manifold.values(), 28, 28, n,
                                 {.scale = 2, .title = "Digits decoded from a grid over the 2-D prior", .row_captions = {}}));

    Generator rng(7);
    const auto samples = vae.generate(40, rng);
    io::write_png(out_dir / "samples.png",
                  io::image_grid(samples.values(), 28, 28, 10, {.scale = 2, .title = "Random draws from the prior", .row_captions = {}}));

    // interpolation.png: strips between pairs of test digits of different classes.
    const auto first_of = [&](int digit) {
        for (std::size_t i = 0; i < x_test.batch(); ++i)
            if (static_cast<int>(data.test_labels[i]) == digit) return i;
        return std::size_t{0};
    };
    std::vector<float> strips;
    const std::vector<std::pair<int, int>> pairs{{1, 7}, {3, 8}, {0, 6}, {4, 9}};
    std::vector<std::string> captions;
    for (const auto& [a, b] : pairs) {
        const auto strip = vae.interpolate(x_test, first_of(a), x_test, first_of(b), 10);
        strips.insert(strips.end(), strip.values().begin(), strip.values().end());
        captions.push_back(std::to_string(a) + " to " + std::to_string(b));
    }
    io::write_png(out_dir / "interpolation.png",
                  io::image_grid(strips, 28, 28, 10,
                                 {.scale = 2, .title = "Straight lines in code space between test digits",
                                  .row_captions = captions}));

    const auto means = vae.encode(x_test, 256);  // Sampling gives the mean in inference
    std::vector<float> xs(means.batch()), ys(means.batch());
    std::vector<int> labels(means.batch());
    for (std::size_t i = 0; i < means.batch(); ++i) {
        xs[i] = means.sample(i)[0];
        ys[i] = means.sample(i)[1];
        labels[i] = static_cast<int>(data.test_labels[i]);
    }
    io::write_png(out_dir / "latent_2d.png",
                  io::scatter_plot({.width = 800, .height = 640, .title = "Code means of the test digits",
                                    .x_label = "z 1", .y_label = "z 2", .dot_alpha = 0.6},
                                   xs, ys, labels, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
    io::write_png(out_dir / "training_curves.png",
                  io::line_plot({.title = "VAE loss (binary cross-entropy per pixel + KL / 784)", .y_label = "loss"},
                                {{"training", history.at("loss")}, {"test", history.at("val_loss")}}));
    std::printf("wrote manifold.png, samples.png, interpolation.png, latent_2d.png, training_curves.png to %s "
                "(%.1f s in all)\n",
                out_dir.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "vae: %s\n", e.what());
    return 1;
}
