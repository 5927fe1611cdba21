// A sparse autoencoder on Fashion-MNIST: 784 -> 64 ReLU units -> 784, with an L1 penalty on the
// code (ActivityRegularization, Keras' activity_regularizer=l1(lambda)) at several strengths.
// Prints code sparsity and reconstruction error against lambda, and writes
// sparse_reconstructions.png (a row per lambda) and code_activity.png (mean activity per unit).
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/autoencoder.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

using namespace latent;

using Encoder = Sequential<Input<28, 28, 1>, Flatten, Dense<64>, ReLU, ActivityRegularization>;
using Decoder = Sequential<Input<64>, Dense<784>, Sigmoid, Reshape<28, 28, 1>>;
using SparseAutoencoder = repr::Autoencoder<Encoder, Decoder>;

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10;
    const std::filesystem::path out_dir = argc > 2 ? argv[2] : ".";
    const auto start = std::chrono::steady_clock::now();
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto& x_train = data.train_images;
    const auto& x_test = data.test_images;

    const std::vector<double> lambdas{0.0, 1e-5, 1e-4, 1e-3};
    constexpr std::size_t shown = 10;
    std::vector<float> grid(x_test.data(), x_test.data() + shown * 784);
    std::vector<std::string> captions{"original"};
    std::vector<io::LineSeries> activity;
    std::printf("| lambda | test MSE | mean code activation | active units per image (> 0.01 of 64) | dead units |\n"
                "|---|---|---|---|---|\n");
    for (double lambda : lambdas) {
        Encoder encoder(1);
        encoder.layer<3>().l1(lambda);  // set before composing: the model keeps a copy of the layer
        SparseAutoencoder ae(std::move(encoder), Decoder(2));
        ae.compile(optim::Adam{.lr = 1e-3}, loss::BinaryCrossentropy{});
        ae.fit(x_train, {.epochs = epochs, .batch_size = 256, .verbose = Verbosity::silent});

        const auto codes = ae.encode(x_test, 256);
        const auto rebuilt = ae.predict(x_test, 256);
        double err = 0;
        for (std::size_t i = 0; i < x_test.size(); ++i) err += (double(rebuilt[i]) - x_test[i]) * (double(rebuilt[i]) - x_test[i]);
        err /= static_cast<double>(x_test.size());
        double mean = 0, active = 0;
        std::vector<double> per_unit(64, 0.0);
        for (std::size_t b = 0; b < codes.batch(); ++b)
            for (std::size_t j = 0; j < 64; ++j) {
                const double v = codes.sample(b)[j];
                mean += v;
                active += v > 0.01;
                per_unit[j] += v / static_cast<double>(codes.batch());
            }
        mean /= static_cast<double>(codes.size());
        active /= static_cast<double>(codes.batch());
        const auto dead = std::count_if(per_unit.begin(), per_unit.end(), [](double v) { return v < 1e-4; });
        std::printf("| %g | %.4f | %.4f | %.1f | %td |\n", lambda, err, mean, active, dead);
        std::fflush(stdout);

        grid.insert(grid.end(), rebuilt.data(), rebuilt.data() + shown * 784);
        char caption[32];
        std::snprintf(caption, sizeof caption, "lambda %g", lambda);
        captions.emplace_back(caption);
        std::sort(per_unit.begin(), per_unit.end(), std::greater<>());
        activity.push_back({caption, per_unit});
    }
    io::write_png(out_dir / "sparse_reconstructions.png",
                  io::image_grid(grid, 28, 28, shown,
                                 {.scale = 2, .title = "Test images and their reconstructions from 64 ReLU units",
                                  .row_captions = captions}));
    io::write_png(out_dir / "code_activity.png",
                  io::line_plot({.title = "Mean activation per code unit, sorted", .x_label = "unit (sorted)",
                                 .y_label = "mean activation"},
                                activity));
    std::printf("wrote %s/sparse_reconstructions.png and %s/code_activity.png (%.1f s in all)\n", out_dir.c_str(),
                out_dir.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "sparse_autoencoder: %s\n", e.what());
    return 1;
}
