// An LSTM autoencoder on Fashion-MNIST read row by row (Keras' sequence-to-sequence autoencoder):
// an LSTM encodes the 28 rows of an image into 64 numbers, RepeatVector hands that code to every
// step of an LSTM decoder, and TimeDistributed<Dense<28>> draws each row back. Then, with no
// labels used in training, a linear probe measures what the code knows about the classes,
// against the same encoder untrained and against raw pixels. Writes reconstructions.png.
#include <latent/io/plot.hpp>
#include <latent/latent.hpp>
#include <latent/repr/linear_probe.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

using namespace latent;

using Rows = Shape<28, 28>;  // (steps, features): row t of the image is step t
constexpr std::size_t code_size = 64;

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10;
    const std::string out_dir = argc > 2 ? argv[2] : ".";
    if (epochs == 0) {
        std::fprintf(stderr, "usage: lstm_autoencoder [epochs=10] [output folder=.]\n");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    // The same pixels seen as (steps, features), copied into tensors of that shape.
    const auto rows_of = [](const auto& images, std::size_t n) {
        return Tensor<Rows>(n, std::span<const float>(images.data(), n * Rows::size));
    };
    const auto x_train = rows_of(data.train_images, data.train_images.batch());
    const auto x_test = rows_of(data.test_images, data.test_images.batch());
    std::printf("Fashion-MNIST as sequences of 28 rows: %zu training and %zu test images\n", x_train.batch(),
                x_test.batch());

    // The probe: a softmax classifier on the codes of 10,000 labelled training images, scored on
    // the test images. Baselines first: raw pixels, and the encoder at its initial weights.
    const repr::ProbeOptions probe{.epochs = 40, .batch_size = 128, .lr = 1e-3, .standardize = true, .seed = 5};
    const auto probe_x = rows_of(data.train_images, 10'000);
    const Tensor<Shape<1>> probe_y(10'000, std::span<const float>(data.train_labels.data(), 10'000));
    const auto pixels_of = [](const Tensor<Rows>& x) {
        return Tensor<Shape<784>>(x.batch(), std::span<const float>(x.data(), x.size()));
    };
    const auto pixels =
        repr::linear_probe<10>(pixels_of(probe_x), probe_y, pixels_of(x_test), data.test_labels, probe);
    std::printf("linear probe on raw pixels (784): test accuracy %.4f\n", pixels.validation_accuracy);

    // The autoencoder, functional so that its encoder is a sub-model with the same weights.
    auto rows = input<28, 28>("rows");
    auto code = LSTM<code_size>{"code"}(rows);  // (64): the last step's h
    auto redrawn_rows = Sigmoid{}(TimeDistributed<Dense<28>>{}(  // (28, 28): each row back
        LSTM<code_size, Returns::sequences>{}(RepeatVector<28>{}(code))));
    Model autoencoder(rows, redrawn_rows);
    Model encoder(rows, code);
    autoencoder.summary();
    const auto untrained = repr::linear_probe<10>(encoder, probe_x, probe_y, x_test, data.test_labels, probe);
    std::printf("linear probe on the untrained encoder (%zu): test accuracy %.4f\n", code_size,
                untrained.validation_accuracy);

    autoencoder.compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
    const auto fit_start = std::chrono::steady_clock::now();
    const auto history = autoencoder.fit(x_train, x_train,
                                         {.epochs = epochs, .batch_size = 64, .validation = {x_test, x_test},
                                          .verbose = Verbosity::one_line_per_epoch});
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    std::printf("test reconstruction MSE %.5f after %zu epochs (%.1f s of training, %.1f s per epoch)\n",
                history.last("val_loss"), history.epochs, fit_seconds,
                fit_seconds / static_cast<double>(history.epochs));

    const auto trained = repr::linear_probe<10>(encoder, probe_x, probe_y, x_test, data.test_labels, probe);
    std::printf("linear probe on the trained encoder (%zu): test accuracy %.4f\n", code_size,
                trained.validation_accuracy);
    std::printf("\n| representation | linear probe test accuracy |\n|---|---|\n| raw pixels (784) | %.4f |\n"
                "| untrained LSTM encoder (%zu) | %.4f |\n| LSTM autoencoder's encoder (%zu), %zu epochs | %.4f |\n\n",
                pixels.validation_accuracy, code_size, untrained.validation_accuracy, code_size, history.epochs,
                trained.validation_accuracy);

    // reconstructions.png: the first ten test images above their reconstructions.
    const auto originals = x_test.slice(0, 10);
    const auto redrawn = autoencoder.predict(originals);
    std::vector<float> grid(originals.data(), originals.data() + originals.size());
    grid.insert(grid.end(), redrawn.values().begin(), redrawn.values().end());
    io::write_png(out_dir + "/reconstructions.png",
                  io::image_grid(grid, 28, 28, 10,
                                 {.scale = 3, .title = "Fashion-MNIST test images and their LSTM reconstructions",
                                  .row_captions = {"original", "reconstructed"}}));
    std::printf("wrote %s/reconstructions.png; total wall time %.1f s\n", out_dir.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "lstm_autoencoder: %s\n", e.what());
    return 1;
}
