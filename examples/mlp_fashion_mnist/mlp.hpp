// The Keras "MLP on Fashion-MNIST" exercise for any backend: main.cpp runs it on the default
// backend (cpu::simd), main_cuda.cu on the GPU (latent::cuda, built where nvcc is). Build,
// summarize, train on the full 60,000 training images (early stopping, learning-rate decay on a
// plateau), evaluate on the 10,000 test images, save the weights, reload them into a fresh
// network and show that it scores the same.
#pragma once

#include <latent/latent.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace mlp_example {

using namespace latent;

template <class B>
using Mlp = Sequential<B, Input<784>, Dense<256>, ReLU, Dropout, Dense<128>, ReLU, Dense<10>, Softmax>;
static_assert(std::is_same_v<Mlp<default_backend>::output_shape, Shape<10>>);
static_assert(Mlp<default_backend>::param_count == 235'146);

template <class B>
int run(int argc, char** argv, const char* program) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 30;
    const auto start = std::chrono::steady_clock::now();

    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto x_train = as_shape<Shape<784>>(data.train_images);
    const auto x_test = as_shape<Shape<784>>(data.test_images);
    const auto y_train = data::one_hot<10>(data.train_labels);
    const auto y_test = data::one_hot<10>(data.test_labels);
    std::printf("Fashion-MNIST: %zu training and %zu test images; backend %s\n", x_train.batch(), x_test.batch(),
                std::string(B::name).c_str());

    Mlp<B> net;
    net.template layer<2>().rate(0.2);
    net.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    net.summary();

    // Keras' usual companions: halve the learning rate after 2 epochs without a better val_loss,
    // stop after 3, and end with the weights of the best epoch; every epoch's figures go to a CSV.
    callbacks::EarlyStopping early_stopping{
        .monitor = "val_loss", .patience = 3, .verbose = true, .restore_best_weights = true};
    const auto fit_start = std::chrono::steady_clock::now();
    const auto history = net.fit(
        x_train, y_train,
        {.epochs = epochs,
         .batch_size = 128,
         .validation_split = 0.1,
         .callbacks = {callbacks::ReduceLROnPlateau{.monitor = "val_loss", .factor = 0.5, .patience = 2, .verbose = true},
                       early_stopping, callbacks::CSVLogger{.filename = "mlp_history.csv"}}});
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();

    const auto test = net.evaluate(x_test, y_test);
    std::printf("test loss %.4f, test accuracy %.4f (after %zu epochs, %.1f s of training; the weights of epoch %zu, "
                "val_loss %.4f)\n",
                test.at("loss"), test.at("accuracy"), history.epochs, fit_seconds, early_stopping.best_epoch + 1,
                history["val_loss"][early_stopping.best_epoch]);

    net.save_weights("mlp.safetensors");
    Mlp<B> reloaded(/*seed=*/12345);  // different initial weights, then overwritten by the file
    reloaded.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    reloaded.load_weights("mlp.safetensors");
    const auto again = reloaded.evaluate(x_test, y_test);
    std::printf("reloaded from mlp.safetensors: test accuracy %.4f (%s)\n", again.at("accuracy"),
                again.at("accuracy") == test.at("accuracy") ? "identical" : "DIFFERENT");

    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("total wall time %.1f s\n", total);
    return again.at("accuracy") == test.at("accuracy") ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
}

}  // namespace mlp_example
