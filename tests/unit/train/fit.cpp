// compile / fit / evaluate: learning a real (small) problem, bit-for-bit reproducibility,
// validation data and split, History, progress output, and every bad-input error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include <latent/latent.hpp>

#include "support/messages.hpp"

using namespace latent;

namespace {
// Two interleaved spirals would be harder; two Gaussian blobs per class, 3 classes, suffice
// to show the loop learns.
struct Blobs {
    Tensor<Shape<2>> x;
    Tensor<Shape<1>> classes;
    Tensor<Shape<3>> one_hot;
    explicit Blobs(std::size_t n, std::uint64_t seed = 1) : x(n), classes(n), one_hot(n) {
        Generator g(seed);
        const float centers[3][2] = {{-2, 0}, {2, 0}, {0, 2.5f}};
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = i % 3;
            x[2 * i] = centers[k][0] + static_cast<float>(g.normal()) * 0.6f;
            x[2 * i + 1] = centers[k][1] + static_cast<float>(g.normal()) * 0.6f;
            classes[i] = static_cast<float>(k);
            one_hot[3 * i + k] = 1.0f;
        }
    }
};
using Net = Sequential<Input<2>, Dense<16>, ReLU, Dropout, Dense<3>, Softmax>;
}  // namespace

TEST_CASE("fit learns a separable problem with each optimizer and loss") {
    Blobs train(600), test(300, 2);
    SUBCASE("Adam + CategoricalCrossentropy") {
        Net net;
        net.layer<2>().rate(0.1);
        net.compile(optim::Adam{.lr = 0.01}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
        auto h = net.fit(train.x, train.one_hot, {.epochs = 10, .batch_size = 32, .verbose = Verbosity::silent});
        CHECK(h.epochs == 10);
        CHECK(h["loss"].back() < h["loss"].front());
        CHECK(net.evaluate(test.x, test.one_hot)["accuracy"] > 0.9);
    }
    SUBCASE("SGD Nesterov + SparseCategoricalCrossentropy") {
        Net net;
        net.compile(optim::SGD{.lr = 0.05, .momentum = 0.9, .nesterov = true}, loss::SparseCategoricalCrossentropy{},
                    metrics::Accuracy{});
        net.fit(train.x, train.classes, {.epochs = 10, .batch_size = 16, .verbose = Verbosity::silent});
        CHECK(net.evaluate(test.x, test.classes)["accuracy"] > 0.9);
    }
    SUBCASE("RMSprop + MeanSquaredError on one-hot targets") {
        Net net;
        net.compile(optim::RMSprop{.lr = 0.01}, loss::MeanSquaredError{}, metrics::Accuracy{});
        net.fit(train.x, train.one_hot, {.epochs = 10, .batch_size = 32, .verbose = Verbosity::silent});
        CHECK(net.evaluate(test.x, test.one_hot)["accuracy"] > 0.9);
    }
    SUBCASE("Sigmoid + BinaryCrossentropy (fused from logits)") {
        Tensor<Shape<1>> is_first(train.x.batch());
        for (std::size_t i = 0; i < train.x.batch(); ++i) is_first[i] = train.classes[i] == 0.0f ? 1.0f : 0.0f;
        Sequential<Input<2>, Dense<8>, Tanh, Dense<1>, Sigmoid> net;
        net.compile(optim::Adam{.lr = 0.02}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
        auto h = net.fit(train.x, is_first, {.epochs = 10, .batch_size = 32, .verbose = Verbosity::silent});
        CHECK(h["accuracy"].back() > 0.9);
    }
}

TEST_CASE("seeded runs are reproducible bit for bit on the reference backend") {
    Blobs data(200);
    auto train = [&](std::uint64_t seed) {
        Net net;
        net.compile(optim::Adam{}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
        auto h = net.fit(data.x, data.one_hot, {.epochs = 3, .batch_size = 16, .seed = seed, .verbose = Verbosity::silent});
        return std::make_pair(std::vector<float>(net.parameters().values().begin(), net.parameters().values().end()),
                              h["loss"]);
    };
    const auto a = train(7), b = train(7), c = train(8);
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK(a.first != c.first);
}

TEST_CASE("validation: explicit data, or the last fraction held out as Keras does") {
    Blobs data(100);
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto h = net.fit(data.x, data.classes, {.epochs = 2, .validation_split = 0.2, .verbose = Verbosity::silent});
    CHECK(h["val_loss"].size() == 2);
    CHECK(h["val_accuracy"].size() == 2);
    // The held-out part is the last 20 samples, so evaluating them gives the same figures.
    auto tail_x = data.x.slice(80, 20);
    auto tail_y = data.classes.slice(80, 20);
    const auto e = net.evaluate(tail_x, tail_y);
    CHECK(e.at("loss") == doctest::Approx(h["val_loss"].back()));
    CHECK(e.at("accuracy") == doctest::Approx(h["val_accuracy"].back()));

    Blobs other(30, 9);
    auto h2 = net.fit(data.x, data.classes,
                      {.epochs = 1, .validation = {other.x, other.classes}, .verbose = Verbosity::silent});
    CHECK(h2["val_loss"].size() == 1);
    CHECK_THROWS_WITH_AS(h2["val_auc"], doctest::Contains("History has no \"val_auc\""), value_error);
}

TEST_CASE("progress: one plain line per epoch when not on a terminal") {
    Blobs data(64);
    Net net;
    net.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    std::ostringstream out;
    net.fit(data.x, data.classes, {.epochs = 2, .batch_size = 16, .verbose = Verbosity::one_line_per_epoch, .out = &out});
    const std::string s = out.str();
    CHECK(s.find("Epoch 1/2 - 4/4 - ") == 0);
    CHECK(s.find("\nEpoch 2/2 - 4/4 - ") != std::string::npos);
    CHECK(s.find(" - loss: ") != std::string::npos);
    CHECK(s.find(" - accuracy: ") != std::string::npos);
    CHECK(std::count(s.begin(), s.end(), '\n') == 2);
    SUBCASE("the bar redraws in place and ends each epoch with a newline") {
        std::ostringstream bar;
        net.fit(data.x, data.classes, {.epochs = 1, .batch_size = 16, .verbose = Verbosity::progress_bar, .out = &bar});
        CHECK(bar.str().find("Epoch 1/1\n") == 0);
        CHECK(bar.str().find("\r4/4 [==============================] - ") != std::string::npos);
    }
}

TEST_CASE("frozen layers stay bit-identical through fit") {
    Blobs data(64);
    Net net;
    net.layer("dense").set_trainable(false);
    const auto before = std::vector<float>(net.parameters().values().begin(), net.parameters().values().begin() + 48);
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    net.fit(data.x, data.classes, {.epochs = 2, .verbose = Verbosity::silent});
    CHECK(std::equal(before.begin(), before.end(), net.parameters().values().begin()));
}

TEST_CASE("bad input is refused with a message that names it") {
    Blobs data(20);
    Net net;
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.classes, {}), doctest::Contains("call compile("), value_error);
    net.compile(optim::SGD{}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.classes, {}), doctest::Contains("needs labels of 3 elements"), shape_error);
    Tensor<Shape<3>> short_labels(10);
    CHECK_THROWS_WITH_AS(net.fit(data.x, short_labels, {}), doctest::Contains("20 inputs but 10 labels"), shape_error);
    CHECK_THROWS_AS(net.fit(data.x, data.one_hot, {.batch_size = 0}), value_error);
    CHECK_THROWS_AS(net.fit(data.x, data.one_hot, {.validation_split = 1.0}), value_error);
    data.x[7] = std::nanf("");
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.one_hot, {.verbose = Verbosity::silent}),
                         doctest::Contains("sample 3, element 1 is nan"), value_error);
}

TEST_CASE("a diverging run stops with an error naming epoch and step") {
    Blobs data(64);
    for (auto& v : data.x.values()) v *= 1e18f;
    Sequential<Input<2>, Dense<3>> net;
    net.compile(optim::SGD{.lr = 1e10}, loss::MeanSquaredError{});
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.one_hot, {.epochs = 5, .batch_size = 8, .verbose = Verbosity::silent}),
                         doctest::Contains("epoch 1, step "), value_error);
}

TEST_CASE("a copied compiled model trains on its own") {
    Blobs data(32);
    Net a;
    a.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    Net b = a;
    b.fit(data.x, data.classes, {.epochs = 1, .verbose = Verbosity::silent});
    CHECK(a.parameters().values()[0] != b.parameters().values()[0]);
    CHECK(b.compiled());
}

TEST_CASE("labels and validation sets that can never work are refused before the first step") {
    Blobs data(50);
    Net net;
    net.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
    const auto before = std::vector<float>(net.parameters().values().begin(), net.parameters().values().end());
    data.classes[49] = 3.0f;  // the last label is out of range for 3 classes
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.classes, {.batch_size = 8, .verbose = Verbosity::silent}),
                         doctest::Contains("label 49 is 3"), value_error);
    CHECK(std::equal(before.begin(), before.end(), net.parameters().values().begin()));
    data.classes[49] = 1.0f;
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.classes, {.validation_split = 1e-17, .verbose = Verbosity::silent}),
                         doctest::Contains("holds out none"), value_error);
    Tensor<Shape<2>> none(0);
    Tensor<Shape<1>> no_labels(0);
    CHECK_THROWS_WITH_AS(net.evaluate(none, no_labels), doctest::Contains("no samples"), value_error);
}

TEST_CASE("train_on_batch takes one optimizer step on exactly the batch it is given") {
    Net net(3);
    const Blobs data(60);
    LATENT_CHECK_ERROR(value_error, net.train_on_batch(data.x, data.one_hot), "latent.train.not_compiled",
                       "train_on_batch");
    net.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::CategoricalCrossentropy{});
    const double first = net.train_on_batch(data.x, data.one_hot);
    double last = first;
    for (int i = 0; i < 30; ++i) last = net.train_on_batch(data.x, data.one_hot);
    CHECK(last < first * 0.5);
    // The loss it returns is the loss of the batch before the step.
    const double evaluated = net.evaluate(data.x, data.one_hot, 60).at("loss");
    const double step = net.train_on_batch(data.x, data.one_hot);
    CHECK(step == doctest::Approx(evaluated).epsilon(0.2));  // training mode: Dropout changes it a little
    Tensor<Shape<3>> fewer(59);
    LATENT_CHECK_ERROR(shape_error, net.train_on_batch(data.x, fewer), "latent.train.batch", "60 inputs but 59");
}

TEST_CASE("use_ema: training follows the weights; finalize_variable_values, and fit at its end, swap in the average") {
    const Blobs data(60);
    // The same steps with and without use_ema: the weights during training are the same bits.
    Net plain(3), averaged(3);
    plain.compile(optim::SGD{.lr = 0.1}, loss::CategoricalCrossentropy{});
    averaged.compile(optim::SGD{.lr = 0.1, .use_ema = true, .ema_momentum = 0.8}, loss::CategoricalCrossentropy{});
    std::vector<double> average;
    for (int t = 0; t < 5; ++t) {
        plain.train_on_batch(data.x, data.one_hot);
        averaged.train_on_batch(data.x, data.one_hot);
        const auto w = plain.parameters().values();
        REQUIRE(std::equal(w.begin(), w.end(), averaged.parameters().values().begin()));
        if (t == 0) average.assign(w.begin(), w.end());
        for (std::size_t i = 0; i < w.size(); ++i) average[i] = 0.8 * average[i] + 0.2 * w[i];
    }
    const std::vector<float> raw(plain.parameters().values().begin(), plain.parameters().values().end());
    plain.finalize_variable_values();  // no use_ema: nothing changes
    averaged.finalize_variable_values();
    CHECK(std::equal(raw.begin(), raw.end(), plain.parameters().values().begin()));
    const auto got = averaged.parameters().values();
    std::size_t differ = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i] == doctest::Approx(average[i]).epsilon(1e-5));
        differ += got[i] != raw[i];
    }
    CHECK(differ > got.size() / 2);

    // fit finalizes after its last epoch: the averaged model still classifies the blobs.
    Blobs train(600), test(300, 2);
    Net net;
    net.compile(optim::Adam{.lr = 0.01, .use_ema = true}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    net.fit(train.x, train.one_hot, {.epochs = 8, .batch_size = 32, .verbose = Verbosity::silent});
    CHECK(net.evaluate(test.x, test.one_hot).at("accuracy") > 0.9);
    Net untouched;
    LATENT_CHECK_ERROR(value_error, untouched.finalize_variable_values(), "latent.train.not_compiled",
                       "finalize_variable_values");
}

TEST_CASE("exclude_from_weight_decay: fit and train_on_batch give the optimizer the weights' names") {
    using Lin = Sequential<Input<2>, Dense<1>>;
    const Tensor<Shape<2>> x(4, {1, 0, 0, 1, 1, 1, -1, 2});
    const Tensor<Shape<1>> y(4, {1, -1, 0.5f, 2});
    auto trained = [&](const optim::SGD& sgd) {
        Lin net(5);
        net.layer("dense").set_weights({{0.5f, -0.25f}, {0.75f}});
        net.compile(sgd, loss::MeanSquaredError{});
        net.train_on_batch(x, y);
        return net.layer("dense").get_weights();
    };
    const auto plain = trained(optim::SGD{.lr = 0.1});
    const auto decayed = trained(optim::SGD{.lr = 0.1, .weight_decay = 1.0});
    const auto excluded = trained(optim::SGD{.lr = 0.1, .weight_decay = 1.0, .exclude_from_weight_decay = {"bias"}});
    // Keras 3: w -= lr * weight_decay * w before the update, here only for the kernel
    CHECK(excluded[0][0] == doctest::Approx(plain[0][0] - 0.1 * 0.5));
    CHECK(excluded[0][1] == doctest::Approx(plain[0][1] + 0.1 * 0.25));
    CHECK(excluded[1][0] == doctest::Approx(plain[1][0]));
    CHECK(decayed[1][0] == doctest::Approx(plain[1][0] - 0.1 * 0.75));

    // a functional model's names ("head/kernel") reach the optimizer through fit
    auto in = input<2>("in");
    auto out = Dense<1>{"head"}(in);
    Model model(in, out);
    model.get_layer("head").set_weights({{0.5f, -0.25f}, {0.75f}});
    model.compile(optim::SGD{.lr = 0.1, .weight_decay = 1.0, .exclude_from_weight_decay = {"head/kernel"}},
                  loss::MeanSquaredError{});
    model.fit(x, y, {.epochs = 1, .batch_size = 4, .shuffle = false, .verbose = Verbosity::silent});
    const auto w = model.get_layer("head").get_weights();
    CHECK(w[0][0] == doctest::Approx(plain[0][0]));  // the kernel excluded this time
    CHECK(w[1][0] == doctest::Approx(plain[1][0] - 0.1 * 0.75));
}
