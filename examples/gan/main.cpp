// A generative adversarial network on the MNIST digits (Goodfellow et al. 2014, with dense
// layers as in their paper): the generator turns 64 normal numbers into a digit, the
// discriminator tells real digits from generated ones, and they train in turns (the
// discriminator frozen while the generator learns, with the non-saturating loss). Writes
// samples.png, progress.png (the same noise at several epochs) and training_curves.png; a
// separately trained digit classifier says which digits come out and how clearly.
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/gan.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

using namespace latent;

constexpr std::size_t noise = 64;
using GeneratorNet = Sequential<Input<noise>, Dense<256>, LeakyReLU, Dense<512>, LeakyReLU, Dense<784>, Sigmoid,
                                Reshape<28, 28, 1>>;
using DiscriminatorNet =
    Sequential<Input<28, 28, 1>, Flatten, Dense<512>, LeakyReLU, Dropout, Dense<256>, LeakyReLU, Dropout, Dense<1>, Sigmoid>;
using Classifier = Sequential<Input<28, 28, 1>, Flatten, Dense<256>, ReLU, Dense<10>, Softmax>;

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 150;
    const std::filesystem::path out_dir = argc > 2 ? argv[2] : ".";
    const std::size_t limit = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 0;  // 0: all images
    const auto start = std::chrono::steady_clock::now();
    const auto data = data::load_mnist();  // $LATENT_DATA/mnist (scripts/fetch-data)
    const auto x_train = limit ? data.train_images.slice(0, std::min(limit, data.train_images.batch()))
                               : data.train_images.slice(0, data.train_images.batch());
    std::printf("MNIST digits: %zu training images\n", x_train.batch());

    // LeakyReLU(0.2) and Dropout(0.3) in the discriminator, Adam(2e-4, beta_1 = 0.5) for both:
    // the usual settings since Radford et al. 2016.
    DiscriminatorNet discriminator(2);
    discriminator.layer<2>().negative_slope(0.2);
    discriminator.layer<5>().negative_slope(0.2);
    discriminator.layer<3>().rate(0.3);
    discriminator.layer<6>().rate(0.3);
    GeneratorNet generator(1);
    generator.layer<1>().negative_slope(0.2);
    generator.layer<3>().negative_slope(0.2);
    repr::GAN<GeneratorNet, DiscriminatorNet> gan(std::move(generator), std::move(discriminator));
    gan.compile(optim::Adam{.lr = 2e-4, .beta_1 = 0.5}, optim::Adam{.lr = 2e-4, .beta_1 = 0.5});
    gan.generator().summary();
    gan.discriminator().summary();

    // The same 10 noise vectors after chosen epochs, one row each.
    Generator noise_rng(2024);
    Tensor<Shape<noise>> fixed(10);
    for (auto& v : fixed.values()) v = static_cast<float>(noise_rng.normal());
    std::vector<float> progress;
    std::vector<std::string> progress_rows;
    std::vector<double> d_loss, g_loss;
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        const auto h = gan.fit(x_train, {.epochs = 1, .batch_size = 64, .real_label = 0.9, .seed = epoch,
                                         .verbose = Verbosity::silent});
        d_loss.push_back(h.last("d_loss"));
        g_loss.push_back(h.last("g_loss"));
        std::printf("epoch %zu/%zu: d_loss %.4f, g_loss %.4f (%.0f s so far)\n", epoch, epochs, d_loss.back(),
                    g_loss.back(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        std::fflush(stdout);
        if (epoch == 1 || epoch == 5 || epoch == 10 || epoch % 20 == 0 || epoch == epochs) {
            const auto row = gan.generator().predict(fixed);
            progress.insert(progress.end(), row.values().begin(), row.values().end());
            progress_rows.push_back("epoch " + std::to_string(epoch));
        }
    }

    Generator rng(7);
    const auto samples = gan.generate(1000, rng);
    io::write_png(out_dir / "samples.png",
                  io::image_grid(std::span<const float>(samples.data(), 100 * 784), 28, 28, 10,
                                 {.scale = 2, .title = "Generated digits (100 random noise vectors)", .row_captions = {}}));
    io::write_png(out_dir / "progress.png",
                  io::image_grid(progress, 28, 28, 10,
                                 {.scale = 2, .title = "The same noise, as training goes on", .row_captions = progress_rows}));
    io::write_png(out_dir / "training_curves.png",
                  io::line_plot({.title = "GAN losses per epoch (binary cross-entropy)", .x_label = "epoch", .y_label = "loss"},
                                {{"discriminator", d_loss}, {"generator", g_loss}}));

    // What the discriminator thinks at the end, and what an independent classifier sees.
    const auto real_probe = data.test_images.slice(0, 1000);
    const auto p_real = gan.discriminate(real_probe), p_fake = gan.discriminate(samples);
    double mean_real = 0, mean_fake = 0;
    for (float v : p_real.values()) mean_real += v / 1000.0;
    for (float v : p_fake.values()) mean_fake += v / 1000.0;
    std::printf("discriminator: mean D(real test digit) %.3f, mean D(generated) %.3f\n", mean_real, mean_fake);

    Classifier classifier(3);
    classifier.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    classifier.fit(data.train_images, data.train_labels, {.epochs = 10, .batch_size = 128, .verbose = Verbosity::silent});
    const double test_accuracy = classifier.evaluate(data.test_images, data.test_labels).at("accuracy");
    const auto classes = classifier.predict(samples, 256);
    std::array<int, 10> counts{};
    double confident = 0, mean_max = 0;
    for (std::size_t i = 0; i < classes.batch(); ++i) {
        const auto p = classes.sample(i);
        const auto best = std::max_element(p.begin(), p.end());
        ++counts[static_cast<std::size_t>(best - p.begin())];
        mean_max += *best / static_cast<double>(classes.batch());
        confident += *best > 0.9 ? 1.0 / static_cast<double>(classes.batch()) : 0.0;
    }
    std::printf("classifier (test accuracy %.4f) on 1000 generated digits: mean top probability %.3f, "
                "%.1f%% above 0.9\nclass counts:", test_accuracy, mean_max, 100 * confident);
    for (std::size_t c = 0; c < 10; ++c) std::printf(" %zu:%d", c, counts[c]);
    std::printf("\nwrote samples.png, progress.png, training_curves.png to %s (%.1f s in all)\n", out_dir.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "gan: %s\n", e.what());
    return 1;
}
