// A functional model with two inputs and two outputs, for the training loop of such models
// (train/fit_outputs.hpp) on any backend: its data, train_on_batch steps against the CPU's, and
// the check that a run stopped and resumed from checkpoints ends bit for bit as an uninterrupted one.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <latent/latent.hpp>

namespace latent::testing {

// Two inputs joined, a trunk with BatchNorm and Dropout (a resumed run needs the moving
// statistics and the dropout generator's state), then a classifier and a regression head.
template <class B>
auto two_by_two(std::uint64_t seed, double dropout = 0.25) {
    auto features = input<B, 6>("features", seed);
    auto extra = input<B, 2>("extra");
    auto trunk =
        Dropout{dropout}(BatchNorm{"trunk_bn"}(Tanh{}(Dense<8>{"trunk"}(Concatenate<>{}(features, extra)))));
    auto digit = Softmax{"digit"}(Dense<3>{}(trunk));
    auto level = Dense<1>{"level"}(trunk);
    Model model(std::tuple{features, extra}, std::tuple{digit, level});
    model.compile(optim::Adam{.lr = 1e-2},
                  loss::per_output(loss::CategoricalCrossentropy{}, loss::MeanSquaredError{}).weighted({1.0, 0.5}),
                  metrics::Accuracy{});
    return model;
}

// 90 samples: 6 features that tell 3 classes apart, 2 more features, the class one-hot, and a
// level read from both inputs.
struct TwoByTwoData {
    Tensor<Shape<6>> features{90};
    Tensor<Shape<2>> extra{90};
    Tensor<Shape<3>> digit{90};
    Tensor<Shape<1>> level{90};
    TwoByTwoData() {
        Generator g(4);
        for (std::size_t i = 0; i < 90; ++i) {
            for (std::size_t j = 0; j < 6; ++j)
                features[6 * i + j] = static_cast<float>(g.normal()) + (j == i % 3 ? 1.5f : 0.0f);
            extra[2 * i] = static_cast<float>(g.normal());
            extra[2 * i + 1] = static_cast<float>(g.normal());
            digit[3 * i + i % 3] = 1.0f;
            level[i] = 0.5f * extra[2 * i] - features[6 * i + 4];
        }
    }
    auto x() const { return std::tuple{features, extra}; }
    auto y() const { return std::tuple{digit, level}; }
};

template <class Net>
std::vector<float> weights_of(Net& net) {
    const auto values = net.parameters().values();
    return {values.begin(), values.end()};
}

// Four train_on_batch steps on the whole set; `inspect(model)` sees the model after them.
struct BatchSteps {
    std::vector<std::map<std::string, double>> losses;
    std::vector<float> weights;
};
template <class B, class Inspect>
BatchSteps step_two_by_two(double dropout, Inspect inspect) {
    const TwoByTwoData data;
    auto model = two_by_two<B>(3, dropout);
    BatchSteps run;
    for (int i = 0; i < 4; ++i) run.losses.push_back(model.train_on_batch(data.x(), data.y()));
    run.weights = weights_of(model);
    inspect(model);
    return run;
}
// train_on_batch on backend B computes the CPU's losses and weights (without dropout: a device
// draws other random numbers than the CPU).
template <class B>
void check_outputs_train_on_batch(double tol) {
    const auto want = step_two_by_two<cpu::reference>(0.0, [](auto&) {});
    const auto got = step_two_by_two<B>(0.0, [](auto&) {});
    for (std::size_t i = 0; i < want.losses.size(); ++i)
        for (const auto& entry : want.losses[i]) {
            INFO("step " << i + 1 << ", " << entry.first);
            CHECK(got.losses[i].at(entry.first) == doctest::Approx(entry.second).epsilon(tol));
        }
    const auto relative = [](const std::vector<float>& a, const std::vector<float>& b) {
        double diff = 0, norm = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
            norm += double(b[i]) * b[i];
        }
        return std::sqrt(diff / std::max(norm, 1e-30));
    };
    REQUIRE(got.weights.size() == want.weights.size());
    CHECK(relative(got.weights, want.weights) < tol);
}

// A run of 4 epochs checkpointed at `path`: stopped after epoch 2, resumed and stopped again
// after the first step of epoch 3, resumed to the end, each time by a model built with other
// weights (the checkpoint replaces them). It ends with the weights and the last epoch's
// history of an uninterrupted run, bit for bit.
template <class B>
void check_outputs_resume(const std::filesystem::path& path) {
    const TwoByTwoData data;
    const auto options = [&](std::size_t epochs) {
        return FitOptions{.epochs = epochs, .batch_size = 16, .validation_split = 0.2, .seed = 5,
                          .verbose = Verbosity::silent, .checkpoint = path, .resume = true};
    };
    std::filesystem::remove(path);
    auto first = two_by_two<B>(1);
    CHECK(first.fit(data.x(), data.y(), options(2)).epochs == 2);
    std::atomic<bool> stop{true};  // already set: stop after the first step
    auto stopping = options(4);
    stopping.stop = &stop;
    auto second = two_by_two<B>(7);
    const History stopped = second.fit(data.x(), data.y(), stopping);
    CHECK(stopped.epochs == 2);  // the checkpoint's two epochs: this call finished none
    CHECK(stopped.at("loss").size() == 2);
    auto resumed = two_by_two<B>(8);
    const History rest = resumed.fit(data.x(), data.y(), options(4));

    std::filesystem::remove(path);
    auto straight = two_by_two<B>(1);
    const History whole = straight.fit(data.x(), data.y(), options(4));
    CHECK(weights_of(resumed) == weights_of(straight));
    for (const char* key : {"loss", "digit_loss", "level_loss", "digit_accuracy", "val_loss", "val_level_loss"}) {
        INFO(key);
        REQUIRE(rest.at(key).size() == 4);  // the checkpoint's two epochs, then the two run here
        CHECK(rest.at(key)[1] == whole.at(key)[1]);
        CHECK(rest.at(key)[3] == whole.at(key)[3]);
    }
}

}  // namespace latent::testing
