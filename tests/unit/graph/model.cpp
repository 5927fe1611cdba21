// The functional API: symbolic tensors, Model(inputs, outputs) over a DAG, shared layers,
// sub-models that share weights, layer handles, freezing and weights on disk.
#include <doctest/doctest.h>

#include <sstream>

#include <latent/latent.hpp>

#include "support/files.hpp"
#include "support/messages.hpp"

using namespace latent;

namespace {

template <class T>
std::vector<float> values_of(const T& t) {
    return {t.values().begin(), t.values().end()};
}

Tensor<Shape<6>> random_batch(std::size_t n, std::uint64_t seed) {
    Tensor<Shape<6>> x(n);
    Generator g(seed);
    for (auto& v : x.values()) v = static_cast<float>(g.uniform(-1.0, 1.0));
    return x;
}

// Central differences of objective() against the gradients that backward() adds, for every
// parameter of the model (float, so a smooth network and a loose tolerance).
template <class M, class Objective, class Backward>
void check_parameter_gradients(M& model, Objective objective, Backward backward) {
    objective();
    auto grads = model.gradients();
    std::fill(grads.begin(), grads.end(), 0.0f);
    backward();
    const std::vector<float> analytic(grads.begin(), grads.end());
    auto params = model.parameters().values();
    const float h = 1e-2f;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const float keep = params[i];
        params[i] = keep + h;
        const double up = objective();
        params[i] = keep - h;
        const double down = objective();
        params[i] = keep;
        INFO("parameter " << i);
        CHECK(analytic[i] == doctest::Approx((up - down) / (2 * h)).epsilon(2e-2).scale(1.0));
    }
    CHECK(params.size() > 0);
}

// The same for the scalar sum(r * output) of a one-input, one-output model.
template <class M>
void check_model_gradients(M& model, const Tensor<Shape<6>>& x, std::size_t out_size) {
    const std::size_t batch = x.batch();
    std::vector<float> r(batch * out_size);
    Generator g(9);
    for (auto& v : r) v = static_cast<float>(g.uniform(-1.0, 1.0));
    check_parameter_gradients(
        model,
        [&] {
            const float* y = model.forward(x.data(), batch, Mode::train);
            double total = 0;
            for (std::size_t i = 0; i < r.size(); ++i) total += double(r[i]) * y[i];
            return total;
        },
        [&] { model.backward(r.data()); });
}

}  // namespace

TEST_CASE("symbolic tensors carry their shapes in their types") {
    auto inputs = input<28, 28, 1>("inputs");
    auto x = Conv2D<8, 3, Padding::same>{}(inputs);
    auto f = Flatten{"features"}(MaxPool2D<2>{}(x));
    static_assert(std::is_same_v<decltype(x)::shape, Shape<28, 28, 8>>);
    static_assert(std::is_same_v<decltype(f)::shape, Shape<1568>>);
    static_assert(std::is_same_v<decltype(f)::backend, default_backend>);
    auto on_simd_free = input<cpu::reference, 4>("a");
    static_assert(std::is_same_v<decltype(on_simd_free)::backend, cpu::reference>);
    Model model(inputs, f, "encoder");
    static_assert(std::is_same_v<decltype(model), Model<default_backend, Shape<28, 28, 1>, Shape<1568>>>);
    CHECK(model.layer_names() == std::vector<std::string>{"conv2d", "max_pooling2d", "features"});
    CHECK(model.count_params() == 3 * 3 * 8 + 8);
}

TEST_CASE("a functional chain computes and trains exactly as the same Sequential") {
    using Net = Sequential<Input<6>, Dense<5>, Tanh, Dense<3>, Softmax>;
    Net seq(3);
    auto inputs = input<6>("inputs");
    auto out = Softmax{}(Dense<3>{}(Tanh{}(Dense<5>{}(inputs))));
    Model model(inputs, out);
    for (const char* name : {"dense", "dense_1"}) {
        std::vector<std::vector<float>> w;
        for (const auto& [slot, values] : seq.layer(name).weights()) w.emplace_back(values.begin(), values.end());
        model.get_layer(name).set_weights(w);
    }
    const auto x = random_batch(40, 1);
    CHECK(values_of(model.predict(x)) == values_of(seq.predict(x)));

    Tensor<Shape<1>> y(40);
    for (std::size_t i = 0; i < 40; ++i) y[i] = static_cast<float>(i % 3);
    seq.compile(optim::Adam{.lr = 1e-2}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    model.compile(optim::Adam{.lr = 1e-2}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    const auto h1 = seq.fit(x, y, {.epochs = 3, .batch_size = 8, .seed = 5, .verbose = Verbosity::silent});
    const auto h2 = model.fit(x, y, {.epochs = 3, .batch_size = 8, .seed = 5, .verbose = Verbosity::silent});
    CHECK(h1.at("loss") == h2.at("loss"));  // the fused softmax cross-entropy in both, bit for bit
    CHECK(values_of(model.predict(x)) == values_of(seq.predict(x)));
    CHECK(model.evaluate(x, y).at("accuracy") == seq.evaluate(x, y).at("accuracy"));
}

TEST_CASE("backward through a functional model matches finite differences") {
    auto inputs = input<6>();
    auto h = Tanh{}(Dense<5>{}(inputs));
    auto out = Sigmoid{}(Dense<2>{}(h));
    Model model(inputs, out);
    check_model_gradients(model, random_batch(3, 2), 2);
}

TEST_CASE("a sub-model shares the weights of the model it was cut from") {
    auto inputs = input<6>("inputs");
    auto features = Tanh{"features"}(Dense<4>{}(inputs));
    auto out = Dense<1>{}(features);
    Model model(inputs, out);
    Model encoder(inputs, features, "encoder");
    CHECK(encoder.count_params() == 6 * 4 + 4);
    const auto x = random_batch(32, 3);
    const auto before = values_of(encoder.predict(x));
    Tensor<Shape<1>> y(32);
    for (std::size_t i = 0; i < 32; ++i) y[i] = x.sample(i)[0] * 2 - x.sample(i)[3];
    model.compile(optim::SGD{.lr = 0.1}, loss::MeanSquaredError{});
    model.fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = Verbosity::silent});
    const auto after = values_of(encoder.predict(x));
    CHECK(before != after);  // training the model changed the encoder: one set of weights
    CHECK(encoder.get_layer("dense").get_weights() == model.get_layer("dense").get_weights());
    // ...and the other way round: setting the encoder's weights changes the model.
    auto w = encoder.get_layer("dense").get_weights();
    for (auto& v : w[1]) v += 1.0f;
    encoder.get_layer("dense").set_weights(w);
    CHECK(model.get_layer("dense").get_weights()[1] == w[1]);
}

TEST_CASE("freezing keeps weights bit-identical and runs a frozen BatchNorm in inference mode") {
    auto inputs = input<6>("inputs");
    auto base = BatchNorm{}(Dense<8>{}(inputs));
    auto features = ReLU{"features"}(base);
    auto out = Dense<1>{}(features);
    Model model(inputs, out);
    for (const char* name : {"dense", "batch_normalization"}) model.get_layer(name).set_trainable(false);
    CHECK(model.count_params() == 6 * 8 + 8 + 4 * 8 + 8 + 1);
    CHECK(model.count_trainable_params() == 9);
    const auto frozen_dense = model.get_layer("dense").get_weights();
    const auto frozen_bn = model.get_layer("batch_normalization").get_weights();
    const auto head_before = model.get_layer("dense_1").get_weights();
    const auto x = random_batch(32, 4);
    Tensor<Shape<1>> y(32);
    for (std::size_t i = 0; i < 32; ++i) y[i] = x.sample(i)[1];
    model.compile(optim::Adam{.lr = 1e-2}, loss::MeanSquaredError{});
    model.fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = Verbosity::silent});
    CHECK(model.get_layer("dense").get_weights() == frozen_dense);
    CHECK(model.get_layer("batch_normalization").get_weights() == frozen_bn);  // moving statistics too
    CHECK(model.get_layer("dense_1").get_weights() != head_before);
    std::ostringstream out_text;
    model.summary(out_text);
    CHECK(out_text.str().find("Total params: 97\nTrainable params: 9\nNon-trainable params: 88\n") != std::string::npos);
    CHECK(out_text.str().find(" inputs (InputLayer)         [(None, 6)]               0         \n") !=
          std::string::npos);
}

TEST_CASE("layer handles: lookup, weights with shape checks, errors that name what is wrong") {
    auto inputs = input<6>("inputs");
    auto out = Dense<2>{"head"}(Dropout{0.5}(inputs));
    Model model(inputs, out);
    CHECK(model.layers().size() == 2);
    CHECK(model.get_layer(1).name() == "head");
    CHECK(model.get_layer("head").type_name() == "Dense");
    CHECK(model.get_layer("head").output_shape() == std::vector<std::size_t>{2});
    CHECK(model.get_layer("head").param_count() == 14);
    model.get_layer("dropout").as<Dropout>().rate(0.25);
    CHECK(model.get_layer("dropout").as<Dropout>().rate() == doctest::Approx(0.25));
    LATENT_CHECK_ERROR(value_error, model.get_layer("tail"), "latent.graph.layer_name", "no layer named \"tail\"");
    const auto before = model.get_layer("head").get_weights();
    LATENT_CHECK_ERROR(shape_error, model.get_layer("head").set_weights({std::vector<float>(12), std::vector<float>(3)}),
                       "latent.graph.set_weights", "weight 1 (head/bias): expected 2 values of shape (2,), got 3");
    CHECK(model.get_layer("head").get_weights() == before);  // nothing changed
    LATENT_CHECK_ERROR(value_error, model.get_layer("head").as<Dropout>(), "latent.graph.layer_type", "is a Dense");
}

TEST_CASE("a model whose output reads another input is refused (graph disconnected)") {
    auto a = input<4>("a");
    auto b = input<4>("b");
    auto joined = Add{}(Dense<3>{}(a), Dense<3>{}(b));
    LATENT_CHECK_ERROR(value_error, Model(a, joined), "latent.graph.disconnected", "depends on input \"b\"");
}

TEST_CASE("save_weights and load_weights round-trip a model's own parameters, all or nothing") {
    auto inputs = input<6>("inputs");
    auto out = Dense<2>{}(Tanh{}(Dense<3>{}(inputs)));
    Model model(inputs, out);
    const auto dir = latent::testing::fresh_dir("graph", "model_weights");
    model.save_weights(dir / "model.safetensors");
    const auto x = random_batch(5, 6);
    const auto expected = values_of(model.predict(x));
    auto w = model.get_layer("dense").get_weights();
    for (auto& v : w[0]) v = 0.0f;
    model.get_layer("dense").set_weights(w);
    CHECK(values_of(model.predict(x)) != expected);
    model.load_weights(dir / "model.safetensors");
    CHECK(values_of(model.predict(x)) == expected);
    // A file of another network is refused and changes nothing.
    auto other_in = input<6>("inputs");
    Model other(other_in, Dense<7>{}(other_in));
    other.save_weights(dir / "other.safetensors");
    CHECK_THROWS(model.load_weights(dir / "other.safetensors"));
    CHECK(values_of(model.predict(x)) == expected);
}

TEST_CASE("a DAG: a node read by two layers runs once and sums the gradients flowing back into it") {
    auto inputs = input<6>("inputs");
    auto h = Dense<5>{"h"}(inputs);
    auto a = Tanh{}(h);  // separate statements: the order of a call's arguments is unspecified
    auto b = Sigmoid{}(h);
    auto out = Add{}(a, b);
    Model model(inputs, out);
    Model hidden(inputs, h);
    CHECK(model.layer_names() == std::vector<std::string>{"h", "tanh", "sigmoid", "add"});
    CHECK(model.count_params() == 35);
    const auto x = random_batch(4, 7);
    const auto y = model.predict(x);
    const auto hv = hidden.predict(x);
    for (std::size_t i = 0; i < y.size(); ++i)
        CHECK(y[i] == doctest::Approx(std::tanh(hv[i]) + 1.0 / (1.0 + std::exp(-hv[i]))).epsilon(1e-5));
    check_model_gradients(model, random_batch(3, 8), 5);
}

TEST_CASE("a layer called twice shares its weights, and their gradients add up") {
    auto inputs = input<6>("inputs");
    auto h = Dense<5>{}(inputs);
    Dense<3> shared{"shared"};
    auto t = Tanh{}(h);
    auto left = shared(t);
    auto s = Sigmoid{}(h);
    auto right = shared(s);
    auto out = Concatenate<>{}(left, right);
    static_assert(std::is_same_v<decltype(out)::shape, Shape<6>>);
    Model model(inputs, out);
    CHECK(model.count_params() == 35 + 18);  // the shared Dense counts once
    CHECK(model.layer_names() == std::vector<std::string>{"dense", "tanh", "shared", "sigmoid", "concatenate"});
    check_model_gradients(model, random_batch(3, 10), 6);
    // Both calls read the same weights: zeroing them zeroes both halves of the output.
    auto w = model.get_layer("shared").get_weights();
    for (auto& v : w) std::fill(v.begin(), v.end(), 0.0f);
    model.get_layer("shared").set_weights(w);
    const auto y = model.predict(random_batch(2, 11));
    for (float v : y.values()) CHECK(v == 0.0f);
}

TEST_CASE("merge layers check their inputs' shapes where they are called") {
    auto inputs = input<8>("inputs");
    auto a = Dense<4>{}(inputs);
    auto b = Dense<4>{}(inputs);
    auto c = Dense<2>{}(inputs);
    static_assert(std::is_same_v<decltype(Subtract{}(a, b))::shape, Shape<4>>);
    static_assert(std::is_same_v<decltype(Concatenate<>{}(a, c))::shape, Shape<6>>);
    static_assert(std::is_same_v<decltype(Multiply{}(a, b, a))::shape, Shape<4>>);
    Model model(inputs, Concatenate<>{}(Average{}(a, b), c));
    CHECK(model.count_params() == 36 + 36 + 18);
}

TEST_CASE("load_weights by name takes the layers two networks share and reports the rest") {
    const auto dir = latent::testing::fresh_dir("graph", "by_name");
    // The "pretrained" network: a base and a 10-class head.
    Sequential<Input<6>, Dense<4>, ReLU, Dense<10>> pretrained(21);
    pretrained.layer<0>().set_name("base");
    pretrained.save_weights(dir / "pretrained.safetensors");
    // The new network: the same base, a 3-class head under the old head's name, and a new layer.
    auto inputs = input<6>("inputs");
    auto x = ReLU{}(Dense<4>{"base"}(inputs));
    auto out = Dense<3>{"dense_1"}(Dense<4>{"extra"}(x));
    Model model(inputs, out);
    const auto head_before = model.get_layer("dense_1").get_weights();
    const auto extra_before = model.get_layer("extra").get_weights();

    // Without skip_mismatch the head's shape difference is an error, and nothing changes.
    const auto base_before = model.get_layer("base").get_weights();
    LATENT_CHECK_ERROR(shape_error, model.load_weights(dir / "pretrained.safetensors", {.by_name = true}),
                       "latent.io.by_name.mismatch", "layer \"dense_1\": kernel is (4, 3) here, (4, 10) in");
    CHECK(model.get_layer("base").get_weights() == base_before);

    const auto report = model.load_weights(dir / "pretrained.safetensors", {.by_name = true, .skip_mismatch = true});
    CHECK(report.loaded == std::vector<std::string>{"base"});
    REQUIRE(report.skipped.size() == 2);
    CHECK(report.skipped[0] == "extra: not in pretrained.safetensors");
    CHECK(latent::testing::contains(report.skipped[1], "dense_1: kernel is (4, 3) here, (4, 10) in"));
    CHECK(model.get_layer("base").get_weights()[0] ==
          std::vector<float>(pretrained.layer("base").weights()[0].second.begin(),
                             pretrained.layer("base").weights()[0].second.end()));
    CHECK(model.get_layer("dense_1").get_weights() == head_before);
    CHECK(model.get_layer("extra").get_weights() == extra_before);
    LATENT_CHECK_ERROR(value_error, model.load_weights(dir / "pretrained.safetensors", {.skip_mismatch = true}),
                       "latent.io.by_name.options", "skip_mismatch only applies when loading by name");
}

TEST_CASE("transfer_weights copies layers by name between a Sequential and a Model") {
    Sequential<Input<6>, Dense<4>, Tanh, Dense<2>> seq(4);
    auto inputs = input<6>("inputs");
    Model model(inputs, Dense<2>{}(Tanh{}(Dense<4>{}(inputs))));
    const auto report = transfer_weights(seq, model);
    CHECK(report.loaded == std::vector<std::string>{"dense", "dense_1"});
    const auto x = random_batch(9, 12);
    CHECK(values_of(model.predict(x)) == values_of(seq.predict(x)));
    Sequential<Input<6>, Dense<4>, Tanh, Dense<2>> back(77);
    transfer_weights(model, back);
    CHECK(values_of(back.predict(x)) == values_of(seq.predict(x)));
}

TEST_CASE("fine-tuning: freeze_until, unfreeze_top and per-layer learning-rate multipliers") {
    auto inputs = input<6>("inputs");
    auto features = Dense<4>{"features"}(Dense<5>{"low"}(inputs));
    auto out = Dense<1>{"head"}(Tanh{}(features));
    Model model(inputs, out);
    model.freeze_until("features");
    CHECK_FALSE(model.get_layer("low").trainable());
    CHECK_FALSE(model.get_layer("features").trainable());
    CHECK(model.get_layer("head").trainable());
    model.unfreeze_top(3);  // features, tanh, head
    CHECK_FALSE(model.get_layer("low").trainable());
    CHECK(model.get_layer("features").trainable());

    // Plain SGD: a multiplier of 0.5 moves the layer by exactly half of what 1 would.
    const auto x = random_batch(8, 13);
    Tensor<Shape<1>> y(8);
    for (std::size_t i = 0; i < 8; ++i) y[i] = x.sample(i)[2];
    auto run_once = [&](double multiplier) {
        auto in2 = input<6>("inputs");
        Model m(in2, Dense<1>{"head"}(Tanh{}(Dense<4>{"features"}(in2))));
        const auto w0 = m.get_layer("features").get_weights()[0];
        m.get_layer("features").set_lr_multiplier(multiplier);
        m.compile(optim::SGD{.lr = 0.1}, loss::MeanSquaredError{});
        m.fit(x, y, {.epochs = 1, .batch_size = 8, .shuffle = false, .verbose = Verbosity::silent});
        const auto w1 = m.get_layer("features").get_weights()[0];
        std::vector<double> delta(w0.size());
        for (std::size_t i = 0; i < w0.size(); ++i) delta[i] = double(w1[i]) - w0[i];
        return delta;
    };
    const auto full = run_once(1.0), half = run_once(0.5), none = run_once(0.0);
    bool moved = false;
    for (std::size_t i = 0; i < full.size(); ++i) {
        CHECK(half[i] == doctest::Approx(full[i] / 2).epsilon(1e-3).scale(1e-6));
        CHECK(none[i] == 0.0);
        moved = moved || full[i] != 0.0;
    }
    CHECK(moved);
    LATENT_CHECK_ERROR(value_error, model.get_layer("head").set_lr_multiplier(-1), "latent.graph.lr_multiplier",
                       "must be a finite number >= 0");
}

TEST_CASE("a siamese pair: two inputs through one shared encoder") {
    auto left = input<6>("left");
    auto right = input<6>("right");
    Dense<4> encoder{"encoder"};
    auto a = Tanh{}(encoder(left));
    auto b = Tanh{}(encoder(right));
    auto score = Dense<1>{"score"}(Subtract{}(a, b));
    Model model(std::tuple{left, right}, score, "siamese");
    static_assert(std::is_same_v<decltype(model), Model<default_backend, Inputs<Shape<6>, Shape<6>>, Shape<1>>>);
    CHECK(model.count_params() == 28 + 5);  // one encoder, shared by both inputs
    std::ostringstream text;
    model.summary(text);
    CHECK(text.str().find(" left (InputLayer)") != std::string::npos);
    CHECK(text.str().find(" right (InputLayer)") != std::string::npos);

    const auto x1 = random_batch(5, 14), x2 = random_batch(5, 15);
    const float bias = model.get_layer("score").get_weights()[1][0];
    const auto same = model.predict(x1, x1);
    for (float v : same.values()) CHECK(v == doctest::Approx(bias));  // same input, same code
    const auto forward_order = model.predict(x1, x2), swapped = model.predict(x2, x1);
    for (std::size_t i = 0; i < 5; ++i) CHECK(forward_order[i] - bias == doctest::Approx(-(swapped[i] - bias)));

    // Gradients through both branches add up in the shared encoder.
    const std::size_t batch = 3;
    std::vector<float> r{0.5f, -1.0f, 0.25f};
    check_parameter_gradients(
        model,
        [&] {
            const float* y = model.forward_inputs({x1.data(), x2.data()}, batch, Mode::train);
            double total = 0;
            for (std::size_t i = 0; i < batch; ++i) total += double(r[i]) * y[i];
            return total;
        },
        [&] { model.backward(r.data()); });
    LATENT_CHECK_ERROR(value_error, model.forward_inputs({x1.data()}, 1, Mode::infer), "latent.graph.inputs",
                       "has 2 inputs, got 1");
}

TEST_CASE("several outputs: one trunk, two heads, two weighted losses, trained together") {
    auto inputs = input<6>("inputs");
    auto trunk = Tanh{}(Dense<8>{"trunk"}(inputs));
    auto digit = Softmax{"digit"}(Dense<3>{}(trunk));
    auto sign = Sigmoid{"sign"}(Dense<1>{}(trunk));
    Model model(inputs, std::tuple{digit, sign});
    static_assert(std::is_same_v<decltype(model), Model<default_backend, Shape<6>, Outputs<Shape<3>, Shape<1>>>>);
    static_assert(std::is_same_v<decltype(model)::prediction, std::tuple<Tensor<Shape<3>>, Tensor<Shape<1>>>>);

    // Labels: which of the first three features is largest, and whether the fourth is positive.
    const auto x = random_batch(200, 16);
    Tensor<Shape<3>> y_digit(200);
    Tensor<Shape<1>> y_sign(200);
    for (std::size_t i = 0; i < 200; ++i) {
        const auto s = x.sample(i);
        y_digit.sample(i)[static_cast<std::size_t>(std::max_element(s.begin(), s.begin() + 3) - s.begin())] = 1.0f;
        y_sign[i] = s[3] > 0 ? 1.0f : 0.0f;
    }
    model.compile(optim::Adam{.lr = 2e-2}, loss::per_output(loss::CategoricalCrossentropy{}, loss::BinaryCrossentropy{})
                                                .weighted({1.0, 0.5}),
                  metrics::Accuracy{});
    const auto before = model.evaluate(x, std::tuple{y_digit, y_sign});
    CHECK(before.at("loss") == doctest::Approx(before.at("digit_loss") + 0.5 * before.at("sign_loss")));
    const auto history =
        model.fit(x, std::tuple{y_digit, y_sign}, {.epochs = 15, .batch_size = 16, .validation_split = 0.2,
                                                    .verbose = Verbosity::silent});
    for (const char* key : {"loss", "digit_loss", "sign_loss", "digit_accuracy", "sign_accuracy", "val_loss",
                            "val_digit_accuracy", "val_sign_accuracy"})
        CHECK(history.contains(key));
    CHECK(history.at("loss").back() < history.at("loss").front());
    const auto after = model.evaluate(x, std::tuple{y_digit, y_sign});
    CHECK(after.at("digit_accuracy") > 0.8);
    CHECK(after.at("sign_accuracy") > 0.85);
    const auto [p_digit, p_sign] = model.predict(x);
    CHECK(p_digit.batch() == 200);
    CHECK(p_sign.batch() == 200);

    // The gradients of both heads meet in the trunk: finite differences of r1.y1 + r2.y2.
    const std::size_t batch = 2;
    std::vector<float> r1{0.3f, -0.2f, 0.5f, 0.1f, 0.4f, -0.6f}, r2{0.7f, -0.9f};
    check_parameter_gradients(
        model,
        [&] {
            model.forward_inputs({x.data()}, batch, Mode::train);
            double total = 0;
            for (std::size_t i = 0; i < r1.size(); ++i) total += double(r1[i]) * model.output_at(0)[i];
            for (std::size_t i = 0; i < r2.size(); ++i) total += double(r2[i]) * model.output_at(1)[i];
            return total;
        },
        [&] { model.backward_outputs({r1.data(), r2.data()}, {false, false}); });
    // One label array per output is checked at compile time (tests/compile_fail/fit_label_count.cpp).
}

TEST_CASE("a two-input model trains with fit on a tuple of inputs") {
    auto left = input<6>("left");
    auto right = input<6>("right");
    Dense<4> encoder{"encoder"};
    auto a = encoder(left);
    auto b = encoder(right);
    auto out = Dense<1>{}(Multiply{}(Subtract{}(a, b), Subtract{}(a, b)));
    Model model(std::tuple{left, right}, out);
    const auto x1 = random_batch(64, 17), x2 = random_batch(64, 18);
    Tensor<Shape<1>> y(64);
    for (std::size_t i = 0; i < 64; ++i) y[i] = x1.sample(i)[0] - x2.sample(i)[0];
    for (std::size_t i = 0; i < 64; ++i) y[i] *= y[i];  // a squared distance along the first feature
    model.compile(optim::Adam{.lr = 1e-2}, loss::MeanSquaredError{});
    const auto h = model.fit(std::tuple{x1, x2}, y, {.epochs = 20, .batch_size = 16, .verbose = Verbosity::silent});
    CHECK(h.at("loss").back() < 0.5 * h.at("loss").front());
    CHECK(model.evaluate(std::tuple{x1, x2}, y).at("loss") == doctest::Approx(h.at("loss").back()).epsilon(0.5));
}

namespace {
// Trains a Siamese model whose output is a pair's distance with the contrastive loss on pairs
// that are similar (label 1) when their two points' first features have one sign, whatever the
// other five, and checks that it learns to part them: afterwards over 90% of the pairs lie on the
// right side of distance 0.5.
template <class M>
void check_contrastive_parting(M& model, std::uint64_t seed) {
    const auto x1 = random_batch(256, seed), x2 = random_batch(256, seed + 1);
    Tensor<Shape<1>> same(256);
    for (std::size_t i = 0; i < 256; ++i) same[i] = (x1[6 * i] > 0) == (x2[6 * i] > 0) ? 1.0f : 0.0f;
    const auto parted = [&] {
        const auto d = model.predict(std::tuple{x1, x2}, 64);
        std::size_t right = 0;
        for (std::size_t i = 0; i < 256; ++i) right += (d[i] < 0.5f) == (same[i] > 0);
        return static_cast<double>(right) / 256.0;
    };
    const double before = parted();
    model.compile(optim::Adam{.lr = 1e-2}, loss::Contrastive{.margin = 1.0});
    const auto h = model.fit(std::tuple{x1, x2}, same, {.epochs = 40, .batch_size = 32, .verbose = Verbosity::silent});
    CHECK(h.at("loss").back() < 0.5 * h.at("loss").front());
    CHECK(parted() > 0.9);
    CHECK(parted() > before + 0.2);
}
}  // namespace

TEST_CASE("a Siamese model trained with the contrastive loss on the cosine distance parts the two kinds of pair") {
    // The shared encoder must learn to point by the first feature alone. The head is the cosine
    // distance, 1 - cosine = Rescaling{-1, 1}(Dot<>{true}(a, b)), in [0, 2].
    auto left = input<6>("left");
    auto right = input<6>("right");
    Dense<8> encoder{"encoder"};
    auto distance = Rescaling{-1.0, 1.0}(Dot<>{true}(encoder(left), encoder(right)));
    Model model(std::tuple{left, right}, distance);
    check_contrastive_parting(model, 31);
    CHECK_THROWS_WITH_AS(model.compile(optim::Adam{}, loss::Contrastive{.margin = -1.0}),
                         doctest::Contains("Contrastive: margin must be a positive finite number"), value_error);
}

TEST_CASE("a Siamese model trained with the contrastive loss on the euclidean distance parts the two kinds of pair") {
    // Keras' Siamese-contrastive head: EuclideanDistance of the two codes. Unlike a direction, a
    // distance cannot tell the sign of a feature linearly, so the shared encoder has a tanh to
    // saturate.
    auto left = input<6>("left");
    auto right = input<6>("right");
    Dense<8> hidden{"hidden"};
    Tanh squash{"squash"};
    Dense<4> code{"code"};
    auto distance = EuclideanDistance{}(code(squash(hidden(left))), code(squash(hidden(right))));
    static_assert(std::is_same_v<decltype(distance)::shape, Shape<1>>);
    Model model(std::tuple{left, right}, distance);
    CHECK(model.layer_names() == std::vector<std::string>{"hidden", "squash", "code", "euclidean_distance"});
    check_contrastive_parting(model, 33);
}

TEST_CASE("a Siamese model with a cosine head (Dot<>{true}) learns which pairs point the same way") {
    // Pairs (x, x + noise) should score +1 and (x, -x + noise) -1: the shared encoder must keep
    // directions, which the cosine of its two outputs reads.
    auto left = input<6>("left");
    auto right = input<6>("right");
    Dense<8> encoder{"encoder"};
    auto similarity = Dot<>{true, "cosine"}(encoder(left), encoder(right));
    Model model(std::tuple{left, right}, similarity);
    static_assert(std::is_same_v<decltype(similarity)::shape, Shape<1>>);
    CHECK(model.layer_names() == std::vector<std::string>{"encoder", "cosine"});
    const auto x1 = random_batch(64, 21), noise = random_batch(64, 22);
    Tensor<Shape<6>> x2(64);
    Tensor<Shape<1>> y(64);
    for (std::size_t i = 0; i < 64; ++i) {
        y[i] = i % 2 ? 1.0f : -1.0f;
        for (std::size_t j = 0; j < 6; ++j) x2[6 * i + j] = y[i] * x1[6 * i + j] + 0.1f * noise[6 * i + j];
    }
    model.compile(optim::Adam{.lr = 1e-2}, loss::MeanSquaredError{});
    const auto h = model.fit(std::tuple{x1, x2}, y, {.epochs = 30, .batch_size = 16, .verbose = Verbosity::silent});
    CHECK(h.at("loss").back() < 0.25 * h.at("loss").front());
    const auto scores = model.predict(std::tuple{x1, x2}, 16);  // as fit takes them (Keras' predict([x1, x2]))
    CHECK(model.predict(x1, x2).values()[5] == scores[5]);
    CHECK_THROWS_WITH_AS(model.predict(std::tuple{x1, x2}, 0), doctest::Contains("predict needs batch_size >= 1"),
                         value_error);
    CHECK_THROWS_WITH_AS(model.predict(std::tuple{x1, random_batch(63, 5)}),
                         doctest::Contains("predict got inputs with 64 and 63 samples"), shape_error);
    for (std::size_t i = 0; i < 64; ++i) {
        CAPTURE(i);
        CHECK(scores[i] * y[i] > 0.0f);  // the sign of each pair's cosine is right
        CHECK(std::abs(scores[i]) <= 1.0f + 1e-6f);
    }
}

TEST_CASE("a model with two inputs and one output keys its results as Keras: loss, accuracy, no output prefix") {
    auto left = input<6>("left");
    auto right = input<6>("right");
    auto out = Sigmoid{"score"}(Dense<1>{}(Concatenate<>{}(left, right)));
    Model model(std::tuple{left, right}, out);
    model.compile(optim::Adam{.lr = 1e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
    const auto x1 = random_batch(40, 3), x2 = random_batch(40, 4);
    Tensor<Shape<1>> y(40);
    for (std::size_t i = 0; i < 40; ++i) y[i] = x1.sample(i)[0] > x2.sample(i)[0] ? 1.0f : 0.0f;
    const auto h = model.fit(std::tuple{x1, x2}, y,
                             {.epochs = 2, .batch_size = 8, .validation = {std::tuple{x1, x2}, std::tuple{y}},
                              .verbose = Verbosity::silent});
    std::vector<std::string> keys;
    for (const auto& [key, values] : h.history) keys.push_back(key);
    CHECK(keys == std::vector<std::string>{"accuracy", "loss", "val_accuracy", "val_loss"});
    const auto scores = model.evaluate(std::tuple{x1, x2}, y);
    CHECK(scores.size() == 2);
    CHECK(scores.count("accuracy") == 1);
    const auto step = model.train_on_batch(std::tuple{x1, x2}, std::tuple{y});
    CHECK(step.size() == 1);
    CHECK(step.count("loss") == 1);
}

TEST_CASE("unfreezing through one model reaches every model on the same graph") {
    auto inputs = input<6>("inputs");
    auto h = Tanh{}(Dense<4>{"low"}(inputs));
    Model base(inputs, h, "base");
    base.set_trainable(false);
    auto out = Dense<1>{"head"}(h);
    Model full(inputs, out);
    base.set_trainable(true);  // Keras' fine-tuning recipe: base_model.trainable = True
    const auto x = random_batch(4, 19);
    std::vector<float> r{1, -1, 0.5f, 2};
    full.forward(x.data(), 4, Mode::train);
    auto grads = full.gradients();
    std::fill(grads.begin(), grads.end(), 0.0f);
    full.backward(r.data());
    const auto& slot = *full.parameters().find("low/kernel");
    CHECK(std::any_of(grads.begin() + static_cast<long>(slot.offset),
                      grads.begin() + static_cast<long>(slot.offset + slot.size), [](float g) { return g != 0.0f; }));
}

TEST_CASE("a model called like a layer inside another model shares its weights") {
    auto code_in = input<6>("code_in");
    auto code = Tanh{}(Dense<3>{"encode"}(code_in));
    Model encoder(code_in, code, "encoder");
    // A siamese pair built from the encoder model itself.
    auto left = input<6>("left");
    auto right = input<6>("right");
    auto a = encoder(left);
    auto b = encoder(right);
    static_assert(std::is_same_v<decltype(a)::shape, Shape<3>>);
    auto score = Dense<1>{"score"}(Subtract{}(a, b));
    Model pair(std::tuple{left, right}, score);
    CHECK(pair.count_params() == 21 + 4);  // the encoder's weights once
    const auto x1 = random_batch(6, 20), x2 = random_batch(6, 21);
    const auto codes = encoder.predict(x1);
    Tensor<Shape<1>> y(6);
    for (std::size_t i = 0; i < 6; ++i) y[i] = x1.sample(i)[0] - x2.sample(i)[0];
    pair.compile(optim::SGD{.lr = 0.1}, loss::MeanSquaredError{});
    pair.fit(std::tuple{x1, x2}, y, {.epochs = 2, .batch_size = 3, .verbose = Verbosity::silent});
    CHECK(values_of(encoder.predict(x1)) != values_of(codes));  // training the pair trained the encoder
    encoder.set_trainable(false);
    CHECK(pair.count_trainable_params() == 4);
}

TEST_CASE("a Sequential called like a layer inside a model keeps its weights and shares them") {
    Sequential<Input<6>, Dense<4>, Tanh> encoder(31);
    const auto x = random_batch(5, 22);
    const auto before = encoder.predict(x);
    auto inputs = input<6>("inputs");
    auto code = encoder(inputs);
    static_assert(std::is_same_v<decltype(code)::shape, Shape<4>>);
    auto out = Dense<2>{"head"}(code);
    Model model(inputs, out);
    Model codes(inputs, code);
    CHECK(model.count_params() == 28 + 10);
    CHECK(model.layer_names() == std::vector<std::string>{"dense", "tanh", "head"});
    // The network's trained weights went into the model with it.
    CHECK(values_of(codes.predict(x)) == values_of(before));
    CHECK(values_of(encoder.predict(x)) == values_of(before));
    check_model_gradients(model, random_batch(3, 23), 2);

    // Training the model trains the Sequential's weights, and the other way round.
    Tensor<Shape<2>> y(5);
    for (auto& v : y.values()) v = 0.5f;
    model.compile(optim::SGD{.lr = 0.1}, loss::MeanSquaredError{});
    model.fit(x, y, {.epochs = 2, .batch_size = 5, .verbose = Verbosity::silent});
    const auto trained = encoder.predict(x);
    CHECK(values_of(trained) != values_of(before));
    CHECK(values_of(trained) == values_of(codes.predict(x)));
    Tensor<Shape<4>> target(5);
    encoder.compile(optim::SGD{.lr = 0.1}, loss::MeanSquaredError{});
    encoder.fit(x, target, {.epochs = 1, .batch_size = 5, .verbose = Verbosity::silent});
    CHECK(values_of(codes.predict(x)) == values_of(encoder.predict(x)));
    CHECK(values_of(codes.predict(x)) != values_of(trained));

    // Saving and loading through either view reads the same numbers.
    const auto path = latent::testing::fresh_dir("graph", "nested_sequential") / "encoder.safetensors";
    encoder.save_weights(path);
    auto w = model.get_layer("dense").get_weights();
    for (auto& v : w) std::fill(v.begin(), v.end(), 0.0f);
    model.get_layer("dense").set_weights(w);
    CHECK(std::all_of(encoder.parameters().values().begin(), encoder.parameters().values().end(),
                      [](float v) { return v == 0.0f; }));
    encoder.load_weights(path);
    CHECK(values_of(codes.predict(x)) == values_of(encoder.predict(x)));
}

TEST_CASE("freezing a Sequential inside a model, through either of them, freezes it in both") {
    Sequential<Input<6>, Dense<4>, Tanh> base(32);
    auto inputs = input<6>("inputs");
    auto code = base(inputs);
    auto out = Dense<1>{"head"}(code);
    Model model(inputs, out);
    base.set_trainable(false);  // Keras: base_model.trainable = False, after the call
    CHECK(model.count_trainable_params() == 5);
    CHECK_FALSE(model.get_layer("dense").trainable());
    const auto frozen = values_of(base.parameters());
    const auto x = random_batch(6, 24);
    Tensor<Shape<1>> y(6);
    for (auto& v : y.values()) v = 1.0f;
    model.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::MeanSquaredError{});
    model.fit(x, y, {.epochs = 2, .batch_size = 3, .verbose = Verbosity::silent});
    CHECK(values_of(base.parameters()) == frozen);  // bit-identical

    model.get_layer("dense").set_trainable(true);  // and back, through the model
    CHECK(base.trainable(0));
    CHECK(base.count_trainable_params() == 28);
    model.fit(x, y, {.epochs = 1, .batch_size = 3, .verbose = Verbosity::silent});
    CHECK(values_of(base.parameters()) != frozen);
}

TEST_CASE("a Sequential called twice is one set of weights; its default names give way in the graph") {
    auto left = input<6>("left");
    auto right = input<6>("right");
    auto first = Dense<6>{}(left);  // takes the name "dense" before the Sequential arrives
    Sequential<Input<6>, Dense<3>, Tanh> tower(33);
    auto a = tower(first);
    auto b = tower(right);
    auto out = Subtract{}(a, b);
    Model pair(std::tuple{left, right}, out);
    CHECK(pair.count_params() == 42 + 21);  // the tower's weights once
    CHECK(pair.layer_names() == std::vector<std::string>{"dense", "dense_1", "tanh", "subtract"});
    CHECK(tower.layer_name(0) == "dense");  // the network keeps its own names
    // Gradients of both calls add up in the one set of weights.
    const auto x1 = random_batch(3, 25), x2 = random_batch(3, 26);
    std::vector<float> r{1, -2, 0.5f, 0.25f, 1, -1, 2, 0, 1};
    check_parameter_gradients(
        pair,
        [&] {
            const float* y = pair.forward_inputs({x1.data(), x2.data()}, 3, Mode::train);
            double total = 0;
            for (std::size_t i = 0; i < r.size(); ++i) total += double(r[i]) * y[i];
            return total;
        },
        [&] { pair.backward(r.data()); });

    // A copy is a network of its own: it keeps the weights but leaves the graph.
    auto copy = tower;
    copy.initialize(99);
    CHECK(values_of(copy.parameters()) != values_of(tower.parameters()));

    // Names the user gave must stay unique.
    Sequential<Input<6>, Dense<3>> named;
    named.layer<0>().set_name("features");
    auto z = input<6>("z");
    auto taken = Dense<6>{"features"}(z);
    LATENT_CHECK_ERROR(value_error, named(taken), "latent.graph.duplicate_name", "\"features\"");
}
