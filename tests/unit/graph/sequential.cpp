// Sequential: compile-time shapes and accounting, validity predicates, names and handles,
// the summary table, and backward against finite differences through the whole network.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include <latent/latent.hpp>

using namespace latent;

using Mlp = Sequential<Input<784>, Dense<256>, ReLU, Dropout, Dense<128>, ReLU, Dense<10>, Softmax>;

// The example, checked by the compiler.
static_assert(std::is_same_v<Mlp::input_shape, Shape<784>>);
static_assert(std::is_same_v<Mlp::output_shape, Shape<10>>);
static_assert(Mlp::param_count == 235'146);
static_assert(Mlp::trainable_param_count == 235'146);
static_assert(Mlp::non_trainable_param_count == 0);
static_assert(Mlp::layer_count == 7);
static_assert(std::is_same_v<Mlp::layer_input_shape<3>, Shape<256>>);
static_assert(std::is_same_v<Mlp::layer_output_shape<3>, Shape<128>>);
static_assert(Mlp::flops_per_sample == (2 * 784 * 256 + 256) + 256 + 256 + (2 * 256 * 128 + 128) + 128 +
                                           (2 * 128 * 10 + 10) + 30);
static_assert(Mlp::activation_bytes_per_sample == (256 * 3 + 128 * 2 + 10 * 2) * 4);
static_assert(std::is_same_v<Mlp::policy, default_backend>);

// Validity as a predicate, without a hard error.
static_assert(is_valid_v<Mlp>);
static_assert(!is_valid_v<Sequential<Input<28, 28, 1>, Dense<10>>>);
static_assert(is_valid_v<Sequential<Input<28, 28, 1>, Flatten, Dense<10>>>);
static_assert(!is_valid_v<Sequential<Input<784>, Reshape<28, 27>>>);
static_assert(!is_valid_v<Sequential<>>);
static_assert(!is_valid_v<Sequential<Input<4>>>);
static_assert(!is_valid_v<Sequential<Dense<4>, Input<4>>>);
static_assert(!is_valid_v<Sequential<Dense<4>>>);
static_assert(!is_valid_v<Sequential<Input<4>, int>>);
static_assert(is_valid_v<Sequential<cpu::reference, Input<4>, Dense<2>>>);
static_assert(accepts_v<Dense<3>, Shape<5>> && !accepts_v<Dense<3>, Shape<5, 5>>);

// A model named by deriving, as users do.
struct Autoencoder : Sequential<Input<28, 28, 1>, Flatten, Dense<32>, ReLU, Dense<784>, Sigmoid, Reshape<28, 28, 1>> {};
static_assert(std::is_same_v<Autoencoder::output_shape, Shape<28, 28, 1>>);
static_assert(Autoencoder::param_count == 784 * 32 + 32 + 32 * 784 + 784);

TEST_CASE("layers get Keras' default names and can be found by name") {
    Mlp net;
    CHECK(net.layer_names() ==
          std::vector<std::string>{"dense", "re_lu", "dropout", "dense_1", "re_lu_1", "dense_2", "softmax"});
    CHECK(net.layer_index("dense_1") == 3);
    auto h = net.layer("dense_1");
    CHECK(h.type_name() == "Dense");
    CHECK(h.output_shape() == std::vector<std::size_t>{128});
    CHECK(h.param_count() == 32896);
    CHECK(h.weights().size() == 2);
    CHECK(h.weights()[0].first->name == "dense_1/kernel");
    CHECK(h.weights()[0].second.size() == 256 * 128);
    CHECK_THROWS_WITH_AS(net.layer("dense_9"), doctest::Contains("no layer named \"dense_9\""), value_error);
    CHECK_THROWS_AS(net.layer(std::size_t{7}), value_error);
    net.layer<2>().rate(0.25);  // runtime hyperparameters through the typed accessor
    CHECK(net.layer<2>().rate() == doctest::Approx(0.25));
}

TEST_CASE("names given by the user are kept; default names skip them; duplicates are refused") {
    using Net = Sequential<Input<4>, Dense<3>, Dense<2>>;
    Net net;
    CHECK(net.parameters().slots()[0].name == "dense/kernel");
    CHECK(net.parameters().slots()[3].name == "dense_1/bias");
    net.layer<1>().set_name("dense");
    CHECK_THROWS_WITH_AS(net.save_weights(LATENT_TEST_TMP_DIR "/dup.safetensors"),
                         doctest::Contains("both named \"dense\""), value_error);
}

TEST_CASE("weights: Glorot-uniform kernels within the limit, zero biases, reproducible from a seed") {
    Mlp a, b, c(42);
    const double limit = std::sqrt(6.0 / (784 + 256));
    const auto& slot = a.parameters().slots()[0];
    CHECK(slot.name == "dense/kernel");
    double mean = 0, largest = 0;
    for (float v : a.parameters().slot_values(slot)) {
        largest = std::max(largest, double(std::abs(v)));
        mean += v;
    }
    CHECK(largest <= limit);
    CHECK(largest > 0.99 * limit);
    CHECK(std::abs(mean / static_cast<double>(slot.size)) < 0.01);
    const auto bias = a.parameters().slot_values(a.parameters().slots()[1]);
    CHECK(std::all_of(bias.begin(), bias.end(), [](float v) { return v == 0.0f; }));
    CHECK(std::equal(a.parameters().values().begin(), a.parameters().values().end(), b.parameters().values().begin()));
    CHECK_FALSE(
        std::equal(a.parameters().values().begin(), a.parameters().values().end(), c.parameters().values().begin()));
}

TEST_CASE("summary prints a Keras-style table") {
    Sequential<Input<784>, Dense<256>, ReLU, Dense<10>, Softmax> net;
    std::ostringstream out;
    net.summary(out);
    const std::string expected =
        "Model: \"sequential\"\n"
        "_________________________________________________________________\n"
        " Layer (type)                Output Shape              Param #   \n"
        "=================================================================\n"
        " dense (Dense)               (None, 256)               200960    \n"
        "\n"
        " re_lu (ReLU)                (None, 256)               0         \n"
        "\n"
        " dense_1 (Dense)             (None, 10)                2570      \n"
        "\n"
        " softmax (Softmax)           (None, 10)                0         \n"
        "=================================================================\n"
        "Total params: 203,530\n"
        "Trainable params: 203,530\n"
        "Non-trainable params: 0\n"
        "_________________________________________________________________\n";
    CHECK(out.str() == expected);
    SUBCASE("frozen layers count as non-trainable") {
        net.layer("dense").set_trainable(false);
        std::ostringstream frozen;
        net.summary(frozen);
        CHECK(frozen.str().find("Trainable params: 2,570\nNon-trainable params: 200,960\n") != std::string::npos);
        CHECK(net.count_trainable_params() == 2570);
        CHECK(net.lowest_trainable_layer() == 2);
    }
}

TEST_CASE("predict: batch size does not change the result; inference is deterministic") {
    Mlp net(3);
    Tensor<Shape<784>> x(37);
    Generator g(5);
    for (auto& v : x.values()) v = g.uniform_float();
    const auto a = net.predict(x);
    const auto b = net.predict(x, 5);
    const auto c = net.predict(x, 1000);
    CHECK(a.batch() == 37);
    CHECK(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
    CHECK(std::equal(a.values().begin(), a.values().end(), c.values().begin()));
    for (std::size_t i = 0; i < 37; ++i) {
        double total = 0;
        for (float p : a.sample(i)) total += p;
        CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
    }
    CHECK_THROWS_AS(net.predict(x, 0), value_error);
}

TEST_CASE("backward through the network matches finite differences of the loss") {
    // A smooth network, so float central differences are meaningful.
    using Net = Sequential<Input<2, 3>, Flatten, Dense<5>, Tanh, Dense<4>, Sigmoid, Dense<3>>;
    Net net(11);
    constexpr std::size_t batch = 2;
    Tensor<Shape<2, 3>> x(batch);
    Generator g(2);
    for (auto& v : x.values()) v = g.uniform_float() * 2 - 1;
    std::vector<float> r(batch * 3);
    for (auto& v : r) v = g.uniform_float() * 2 - 1;
    auto objective = [&] {
        const float* y = net.forward(x.data(), batch, Mode::train);
        double total = 0;
        for (std::size_t i = 0; i < r.size(); ++i) total += double(r[i]) * y[i];
        return total;
    };
    objective();
    auto grads = net.gradients();
    std::fill(grads.begin(), grads.end(), 0.0f);
    net.backward(r.data());
    std::vector<float> analytic(grads.begin(), grads.end());
    auto params = net.parameters().values();
    const float h = 1e-2f;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const float keep = params[i];
        params[i] = keep + h;
        const double up = objective();
        params[i] = keep - h;
        const double down = objective();
        params[i] = keep;
        const double numeric = (up - down) / (2 * h);
        INFO("parameter " << i);
        CHECK(analytic[i] == doctest::Approx(numeric).epsilon(2e-2).scale(1.0));
    }
}

TEST_CASE("a network whose input gradient is not needed skips it; frozen layers get no gradient") {
    using Net = Sequential<Input<3>, Dense<4>, ReLU, Dense<2>>;
    Net net;
    net.layer("dense").set_trainable(false);
    Tensor<Shape<3>> x(1, {1, 2, 3});
    net.forward(x.data(), 1, Mode::train);
    auto grads = net.gradients();
    std::fill(grads.begin(), grads.end(), 0.0f);
    std::vector<float> dy{1, 1};
    net.backward(dy.data());
    for (std::size_t i = 0; i < 16; ++i) CHECK(grads[i] == 0.0f);  // the frozen Dense
    CHECK(std::any_of(grads.begin() + 16, grads.end(), [](float v) { return v != 0.0f; }));
    CHECK(net.parameters().trainable_ranges().size() == 2);  // dense_1's kernel and bias
    CHECK(net.parameters().trainable_ranges()[0].begin == 16);
}

TEST_CASE("copies are deep") {
    using Net = Sequential<Input<3>, Dense<2>>;
    Net a;
    Net b = a;
    b.parameters().values()[0] += 1.0f;
    CHECK(a.parameters().values()[0] + 1.0f == b.parameters().values()[0]);
}

// A named model that keeps Sequential's constructors, so it can take a seed.
struct Tiny : Sequential<Input<3>, Dense<2>> {
    using Sequential::Sequential;
};

TEST_CASE("a named model takes a seed; a moved-from model refuses to run instead of crashing") {
    Tiny a(1), b(1), c(2);
    CHECK(a.parameters().values()[0] == b.parameters().values()[0]);
    CHECK(a.parameters().values()[0] != c.parameters().values()[0]);
    Tensor<Shape<3>> x(2, {1, 2, 3, 4, 5, 6});
    const auto before = a.predict(x);
    Tiny moved = std::move(a);
    const auto after = moved.predict(x);
    CHECK(std::equal(before.values().begin(), before.values().end(), after.values().begin()));
    CHECK_THROWS_WITH_AS(a.predict(x), doctest::Contains("was moved from"), value_error);  // NOLINT(bugprone-use-after-move)
    a = c;  // assigning makes it usable again
    CHECK(a.predict(x).batch() == 2);
}
