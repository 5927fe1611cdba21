// Sequential models on a device backend against the same models on the CPU: predictions in
// batches, weights changed on the host, the allocation-free predict, training (fit, evaluate,
// train_on_batch, metrics, checkpoints), the errors, and weights moving between the two.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <latent/latent.hpp>

#include "layer_agreement.hpp"

namespace latent::testing {

template <class B>
using DeviceCnn = Sequential<B, Input<12, 12, 1>, Conv2D<4, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>, Dropout,
                             Conv2D<6, 3>, Tanh, UpSampling2D<2>, Flatten, Dense<10>, Softmax>;

template <class B>
using DeviceBnMlp = Sequential<B, Input<6>, Dense<16>, ReLU, BatchNorm, Dense<8>, Tanh, Dense<3>, Softmax>;

template <class S>
Tensor<S> random_batch(std::size_t n, std::uint64_t seed) {
    Tensor<S> x(n);
    Generator g(seed);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-1.0, 1.0));
    return x;
}
template <class S>
std::vector<float> values_of(const Tensor<S>& tensor) {
    return {tensor.data(), tensor.data() + tensor.size()};
}

template <class B>
void check_device_predict(double tol) {
    DeviceCnn<cpu::reference> host(5);
    DeviceCnn<B> device(5);
    const auto x = random_batch<Shape<12, 12, 1>>(7, 1);
    // Batches of 3: two full ones and a short one, through the same device buffers.
    CHECK(relative_error(values_of(device.predict(x, 3)), values_of(host.predict(x, 3))) < tol);

    // Weights changed on the host reach the device before the next prediction.
    for (auto& v : host.parameters().values()) v *= 0.5f;
    for (auto& v : device.parameters().values()) v *= 0.5f;
    CHECK(relative_error(values_of(device.predict(x)), values_of(host.predict(x))) < tol);

    // The allocation-free overload, one sample at a time.
    const auto one = random_batch<Shape<12, 12, 1>>(1, 2);
    Tensor<Shape<10>> out_host(1), out_device(1);
    host.predict(one, out_host);
    device.predict(one, out_device);
    CHECK(relative_error(values_of(out_device), values_of(out_host)) < tol);
}

template <class B>
void check_device_loads_trained_weights(double tol, const std::filesystem::path& path) {
    Tensor<Shape<6>> x(60);
    Tensor<Shape<1>> y(60);
    Generator g(4);
    for (std::size_t i = 0; i < 60; ++i) {
        y[i] = static_cast<float>(i % 3);
        for (std::size_t j = 0; j < 6; ++j) x[6 * i + j] = static_cast<float>(g.normal()) + (j == i % 3 ? 1.5f : 0.0f);
    }
    DeviceBnMlp<cpu::reference> trained(1);
    trained.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    trained.fit(x, y, {.epochs = 3, .batch_size = 8, .verbose = Verbosity::silent});
    trained.save_weights(path);

    DeviceBnMlp<B> device(2);
    const auto before = values_of(device.predict(x));
    device.load_weights(path);
    const auto after = values_of(device.predict(x));
    CHECK(relative_error(after, values_of(trained.predict(x))) < tol);
    CHECK(relative_error(after, before) > 0.01);  // the loaded weights, not the initial ones
}

// A small classification problem: 3 classes in 6 dimensions.
struct ToyData {
    Tensor<Shape<6>> x{90};
    Tensor<Shape<1>> y{90};
    ToyData() {
        Generator g(4);
        for (std::size_t i = 0; i < 90; ++i) {
            y[i] = static_cast<float>(i % 3);
            for (std::size_t j = 0; j < 6; ++j)
                x[6 * i + j] = static_cast<float>(g.normal()) + (j == i % 3 ? 1.5f : 0.0f);
        }
    }
};

template <class B>
struct TrainedRun {
    History history;
    std::vector<float> weights;
    std::map<std::string, double> evaluation;
    double batch_loss = 0;
};
// Two runs' fit histories (loss, accuracy and their validation twins, per epoch) and their
// evaluations agree within tol: any types with `history` and `evaluation` as TrainedRun's.
template <class Want, class Got>
void check_same_fit_and_evaluation(const Want& want, const Got& got, std::size_t epochs, double tol) {
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"})
        for (std::size_t e = 0; e < epochs; ++e) {
            INFO(key << ", epoch " << e + 1);
            CHECK(got.history[key][e] == doctest::Approx(want.history[key][e]).epsilon(tol));
        }
    CHECK(got.evaluation.at("loss") == doctest::Approx(want.evaluation.at("loss")).epsilon(tol));
    CHECK(got.evaluation.at("accuracy") == doctest::Approx(want.evaluation.at("accuracy")).epsilon(tol));
}
template <class B, class Optimizer>
TrainedRun<B> train_toy(Optimizer optimizer) {
    ToyData d;
    DeviceBnMlp<B> net(9);
    net.compile(optimizer, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    TrainedRun<B> run;
    run.history = net.fit(d.x, d.y, {.epochs = 4, .batch_size = 16, .validation_split = 0.2, .seed = 2,
                                     .verbose = Verbosity::silent});
    run.evaluation = net.evaluate(d.x, d.y);
    run.batch_loss = net.train_on_batch(d.x, d.y);
    const auto values = net.parameters().values();
    run.weights.assign(values.begin(), values.end());
    return run;
}

template <class B>
void check_device_training(double tol) {
    const auto check = [tol](const TrainedRun<cpu::reference>& want, const TrainedRun<B>& got) {
        check_same_fit_and_evaluation(want, got, 4, tol);
        CHECK(got.batch_loss == doctest::Approx(want.batch_loss).epsilon(tol));
        // parameters after training, BatchNorm's moving statistics included
        CHECK(relative_error(got.weights, want.weights) < tol);
    };
    check(train_toy<cpu::reference>(optim::Adam{}), train_toy<B>(optim::Adam{}));
    check(train_toy<cpu::reference>(optim::SGD{.lr = 0.05, .momentum = 0.9, .nesterov = true}),
          train_toy<B>(optim::SGD{.lr = 0.05, .momentum = 0.9, .nesterov = true}));
    check(train_toy<cpu::reference>(optim::RMSprop{.momentum = 0.5}), train_toy<B>(optim::RMSprop{.momentum = 0.5}));
}

// The other optimizers and Keras 3's settings (weight decay, the clippings, amsgrad): their
// updates are elementwise kernels over the arena, the norms the device's own reductions.
template <class B>
void check_device_optimizers(double tol) {
    const auto check = [tol](auto optimizer) {
        const auto want = train_toy<cpu::reference>(optimizer);
        const auto got = train_toy<B>(optimizer);
        CHECK(got.batch_loss == doctest::Approx(want.batch_loss).epsilon(tol));
        CHECK(relative_error(got.weights, want.weights) < tol);
    };
    check(optim::Adam{.amsgrad = true});
    check(optim::AdamW{.global_clipnorm = 0.5});
    check(optim::SGD{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.1, .clipnorm = 0.2});
    check(optim::RMSprop{.clipvalue = 0.01});
    check(optim::Adagrad{.lr = 0.05});
    check(optim::Adamax{});
    check(optim::Nadam{});
    check(optim::Lion{.lr = 1e-4, .weight_decay = 0.01});
    check(optim::Adadelta{.lr = 1.0});
    // the weights' moving average: swapped in every 3 steps, and by fit at its end
    check(optim::Adam{.use_ema = true, .ema_momentum = 0.9, .ema_overwrite_frequency = 3});
    check(optim::SGD{.lr = 0.05, .use_ema = true});
    // decay for the kernels only, by name
    check(optim::AdamW{.weight_decay = 0.1, .exclude_from_weight_decay = {"bias", "batch_normalization"}});
}

// Losses outside the fused softmax path: probabilities through CategoricalCrossentropy after a
// Sigmoid, and mean squared error.
template <class B>
void check_device_unfused_losses(double tol) {
    ToyData d;
    Tensor<Shape<3>> one_hot(90);
    for (std::size_t i = 0; i < 90; ++i) one_hot[3 * i + static_cast<std::size_t>(d.y[i])] = 1.0f;
    const auto run = [&]<class BB>(auto loss) {
        Sequential<BB, Input<6>, Dense<8>, ReLU, Dense<3>, Sigmoid> net(3);
        net.compile(optim::Adam{}, loss);
        const auto h = net.fit(d.x, one_hot, {.epochs = 2, .batch_size = 30, .verbose = Verbosity::silent});
        return h["loss"];
    };
    const auto ce0 = run.template operator()<cpu::reference>(loss::CategoricalCrossentropy{});
    const auto ce1 = run.template operator()<B>(loss::CategoricalCrossentropy{});
    const auto mse0 = run.template operator()<cpu::reference>(loss::MeanSquaredError{});
    const auto mse1 = run.template operator()<B>(loss::MeanSquaredError{});
    for (std::size_t e = 0; e < 2; ++e) {
        CHECK(ce1[e] == doctest::Approx(ce0[e]).epsilon(tol));
        CHECK(mse1[e] == doctest::Approx(mse0[e]).epsilon(tol));
    }
}

// A checkpointed run stopped after 2 epochs and resumed to 4 ends where an uninterrupted run
// does, on the device too (the optimizer's moments go through the host and back).
template <class B>
void check_device_checkpoint_resume(const std::filesystem::path& path) {
    ToyData d;
    const auto options = [&](std::size_t epochs) {
        return FitOptions{.epochs = epochs, .batch_size = 16, .seed = 5, .verbose = Verbosity::silent,
                          .checkpoint = path, .resume = true};
    };
    std::filesystem::remove(path);
    DeviceBnMlp<B> first(1);
    first.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    first.fit(d.x, d.y, options(2));
    DeviceBnMlp<B> resumed(7);  // other initial weights: the checkpoint replaces them
    resumed.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    resumed.fit(d.x, d.y, options(4));

    std::filesystem::remove(path);
    DeviceBnMlp<B> straight(1);
    straight.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    straight.fit(d.x, d.y, options(4));
    const auto a = resumed.parameters().values(), b = straight.parameters().values();
    CHECK(std::vector<float>(a.begin(), a.end()) == std::vector<float>(b.begin(), b.end()));
}

// Callbacks on a device backend act on what the device holds: EarlyStopping's restore_best_weights
// puts the best epoch's weights back where predict reads them, ModelCheckpoint saves the device's
// current weights, and the learning rate ReduceLROnPlateau sets reaches the device's optimizer.
// No loss improves by 10, so epoch 1 is the best: patience 2 stops after epoch 3 and restores
// epoch 1's weights, and the learning rate halves after epochs 2 and 3.
struct CallbackRun {
    History history;
    std::vector<float> weights, predicted, saved_first_epoch;
};
template <class BB>
CallbackRun train_toy_with_callbacks(const std::filesystem::path& dir) {
    ToyData d;
    DeviceBnMlp<BB> net(4);
    net.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    std::filesystem::remove_all(dir);
    CallbackRun run;
    run.history = net.fit(
        d.x, d.y,
        {.epochs = 10, .batch_size = 16, .seed = 3, .verbose = Verbosity::silent,
         .callbacks = {callbacks::ReduceLROnPlateau{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 10.0},
                       callbacks::EarlyStopping{.monitor = "loss", .min_delta = 10.0, .patience = 2,
                                                .restore_best_weights = true},
                       callbacks::ModelCheckpoint{.filepath = (dir / "{epoch}.safetensors").string()}}});
    run.predicted = values_of(net.predict(d.x));
    const auto values = net.parameters().values();
    run.weights.assign(values.begin(), values.end());
    DeviceBnMlp<cpu::reference> first;
    first.load_weights(dir / "1.safetensors");
    const auto saved = first.parameters().values();
    run.saved_first_epoch.assign(saved.begin(), saved.end());
    return run;
}
template <class B>
void check_device_callbacks(double tol, const std::filesystem::path& dir) {
    const auto want = train_toy_with_callbacks<cpu::reference>(dir);
    const auto got = train_toy_with_callbacks<B>(dir);
    REQUIRE(got.history.epochs == 3);
    CHECK(got.history["learning_rate"] == want.history["learning_rate"]);
    for (std::size_t e = 0; e < 3; ++e) CHECK(got.history["loss"][e] == doctest::Approx(want.history["loss"][e]).epsilon(tol));
    // The model ends with epoch 1's weights, as saved then, on the device too.
    CHECK(got.weights == got.saved_first_epoch);
    CHECK(relative_error(got.weights, want.weights) < tol);
    CHECK(relative_error(got.predicted, want.predicted) < tol);
}

// The CPU's errors, word for word: a diverged loss names the first layer whose output is not
// finite, and a batch of the wrong size is refused. make(std::type_identity<BB>{}, poisoned)
// returns a compiled model on backend BB (poisoned: one of its biases NaN); `culprit` is how
// the message names the layer.
template <class B, class Make>
void check_errors_as_on_cpu(const Make& make, const std::string& culprit) {
    ToyData d;
    const auto message = [&]<class BB>() -> std::string {
        auto net = make(std::type_identity<BB>{}, true);
        try {
            net.fit(d.x, d.y, {.epochs = 1, .batch_size = 16, .verbose = Verbosity::silent});
        } catch (const value_error& e) {
            return e.what();
        }
        return "no error";
    };
    const std::string want = message.template operator()<cpu::reference>();
    INFO(want);
    CHECK(want.find("[latent.train.non_finite_loss]") != std::string::npos);
    CHECK(want.find(culprit) != std::string::npos);
    CHECK(message.template operator()<B>() == want);

    auto net = make(std::type_identity<B>{}, false);
    Tensor<Shape<1>> short_labels(89);
    CHECK_THROWS_WITH_AS(net.fit(d.x, short_labels), doctest::Contains("[latent.train.batch]"), shape_error);
}

template <class B>
void check_device_errors() {
    check_errors_as_on_cpu<B>(
        []<class BB>(std::type_identity<BB>, bool poisoned) {
            DeviceBnMlp<BB> net(1);
            net.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
            auto values = net.parameters().values();
            if (poisoned) values[values.size() - 1] = std::numeric_limits<float>::quiet_NaN();  // the last Dense's bias
            return net;
        },
        "layer 5 \"dense_2\"");
}

// train_on_batch on batches kept in device memory (DeviceTensor) trains as on host tensors, within
// tol (0 on an emulation: bit for bit); a wrong batch gives the host's error, and a class index out
// of range, which the host never sees, an error naming the unchecked labels that leaves the weights
// as they were.
template <class B>
void check_device_tensor_training(double tol) {
    ToyData d;
    const DeviceTensor<B, Shape<6>> x(d.x);
    const DeviceTensor<B, Shape<1>> y(d.y);
    CHECK(values_of(x.to_host()) == values_of(d.x));
    CHECK(x.batch() == 90);

    DeviceBnMlp<B> from_host(4), from_device(4);
    from_host.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    from_device.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    for (int step = 0; step < 3; ++step) {
        const double want = from_host.train_on_batch(d.x, d.y);
        CHECK(std::abs(from_device.train_on_batch(x, y) - want) <= tol * std::abs(want));
    }
    const auto weights = [](auto& net) {
        const auto v = net.parameters().values();
        return std::vector<float>(v.begin(), v.end());
    };
    CHECK(relative_error(weights(from_device), weights(from_host)) <= tol);
    CHECK(values_of(x.to_host()) == values_of(d.x));  // read, not written
    // predict reads it where it is, batch after batch (32, 32 and 26 samples), a Model's too.
    CHECK(values_of(from_device.predict(x)) == values_of(from_device.predict(d.x)));
    auto inputs = input<B, 6>("inputs", 5);
    Model functional(inputs, Dense<3>{"head"}(Dense<8>{}(inputs)));
    CHECK(values_of(functional.predict(x, 40)) == values_of(functional.predict(d.x, 40)));

    const DeviceTensor<B, Shape<1>> ten_labels(d.y.slice(0, 10));
    CHECK_THROWS_WITH_AS(from_device.train_on_batch(x, ten_labels), doctest::Contains("got 90 inputs but 10 labels"),
                         shape_error);
    Tensor<Shape<1>> bad(90, d.y.values());
    bad[5] = 3.0f;  // classes are 0, 1 and 2
    const DeviceTensor<B, Shape<1>> bad_there(bad);
    // Without BatchNorm, whose moving statistics the step's forward pass updates before the loss.
    Sequential<B, Input<6>, Dense<8>, ReLU, Dense<3>, Softmax> plain(2);
    plain.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    const auto before = weights(plain);
    CHECK_THROWS_WITH_AS(plain.train_on_batch(x, bad_there),
                         doctest::Contains("the labels are on the device, unchecked"), value_error);
    CHECK(weights(plain) == before);
    CHECK_THROWS_WITH_AS(from_host.train_on_batch(d.x, bad), doctest::Contains("label 5 is 3"), value_error);
}

}  // namespace latent::testing
