// LSTM, GRU and SimpleRNN: shapes and parameter counts as Keras', Keras' initializers, outputs equal to the
// equations written out plainly here, gradients through time, the weights' names in a file, and
// models that learn what only a memory of the sequence can tell.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>
#include <vector>

#include <latent/latent.hpp>

#include "support/gradient_check.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;

namespace {
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Keras' LSTM step by step for one sample: x (steps, features), kernel (features, 4u),
// recurrent (u, 4u), bias (4u); returns h of every step, (steps, u).
std::vector<double> plain_lstm(const std::vector<double>& x, std::size_t steps, std::size_t features, std::size_t u,
                               const float* kernel, const float* recurrent, const float* bias) {
    std::vector<double> h(u, 0.0), c(u, 0.0), out;
    for (std::size_t t = 0; t < steps; ++t) {
        std::vector<double> z(4 * u);
        for (std::size_t j = 0; j < 4 * u; ++j) {
            double v = bias[j];
            for (std::size_t f = 0; f < features; ++f) v += x[t * features + f] * kernel[f * 4 * u + j];
            for (std::size_t k = 0; k < u; ++k) v += h[k] * recurrent[k * 4 * u + j];
            z[j] = v;
        }
        for (std::size_t k = 0; k < u; ++k) {
            const double i = sigmoid(z[k]), f = sigmoid(z[u + k]), g = std::tanh(z[2 * u + k]), o = sigmoid(z[3 * u + k]);
            c[k] = f * c[k] + i * g;
            h[k] = o * std::tanh(c[k]);
        }
        out.insert(out.end(), h.begin(), h.end());
    }
    return out;
}

// Keras' GRU (reset_after=True): kernel (features, 3u), recurrent (u, 3u), bias (2, 3u).
std::vector<double> plain_gru(const std::vector<double>& x, std::size_t steps, std::size_t features, std::size_t u,
                              const float* kernel, const float* recurrent, const float* bias) {
    std::vector<double> h(u, 0.0), out;
    for (std::size_t t = 0; t < steps; ++t) {
        std::vector<double> xs(3 * u), hs(3 * u);
        for (std::size_t j = 0; j < 3 * u; ++j) {
            xs[j] = bias[j];
            hs[j] = bias[3 * u + j];
            for (std::size_t f = 0; f < features; ++f) xs[j] += x[t * features + f] * kernel[f * 3 * u + j];
            for (std::size_t k = 0; k < u; ++k) hs[j] += h[k] * recurrent[k * 3 * u + j];
        }
        for (std::size_t k = 0; k < u; ++k) {
            const double z = sigmoid(xs[k] + hs[k]), r = sigmoid(xs[u + k] + hs[u + k]);
            const double hh = std::tanh(xs[2 * u + k] + r * hs[2 * u + k]);
            h[k] = z * h[k] + (1 - z) * hh;
        }
        out.insert(out.end(), h.begin(), h.end());
    }
    return out;
}

// Keras' SimpleRNN: h = tanh(x W + h_prev U + b); kernel (features, u), recurrent (u, u), bias (u).
std::vector<double> plain_simple_rnn(const std::vector<double>& x, std::size_t steps, std::size_t features,
                                     std::size_t u, const float* kernel, const float* recurrent, const float* bias) {
    std::vector<double> h(u, 0.0), out;
    for (std::size_t t = 0; t < steps; ++t) {
        std::vector<double> z(u);
        for (std::size_t j = 0; j < u; ++j) {
            z[j] = bias[j];
            for (std::size_t f = 0; f < features; ++f) z[j] += x[t * features + f] * kernel[f * u + j];
            for (std::size_t k = 0; k < u; ++k) z[j] += h[k] * recurrent[k * u + j];
        }
        for (std::size_t j = 0; j < u; ++j) h[j] = std::tanh(z[j]);
        out.insert(out.end(), h.begin(), h.end());
    }
    return out;
}

// Random weights of a moderate size (not the initial ones: biases zero there), and random
// inputs; checks every output against `plain`, for the last step only or for every step.
template <class Net, class Plain>
void check_against_plain(Net& net, std::size_t steps, std::size_t features, std::size_t units, std::size_t gate_count,
                         Plain plain, bool sequences) {
    auto params = net.parameters().values();
    Generator g(11);
    for (auto& v : params) v = static_cast<float>(g.uniform(-0.6, 0.6));
    constexpr std::size_t batch = 3;
    Tensor<typename Net::input_shape> x(batch);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(g.uniform(-1.0, 1.0));
    const auto y = net.predict(x);
    const std::size_t width = gate_count * units;
    const float* kernel = params.data();  // (features, width), then (units, width), then the bias
    const float* recurrent = kernel + features * width;
    const float* bias = recurrent + units * width;
    for (std::size_t b = 0; b < batch; ++b) {
        const std::vector<double> sample(x.data() + b * steps * features, x.data() + (b + 1) * steps * features);
        const auto expected = plain(sample, steps, features, units, kernel, recurrent, bias);
        const std::size_t first = sequences ? 0 : (steps - 1) * units;
        const std::size_t per_sample = sequences ? steps * units : units;
        for (std::size_t i = 0; i < per_sample; ++i) {
            INFO("sample " << b << ", output " << i);
            CHECK(y.data()[b * per_sample + i] == doctest::Approx(expected[first + i]).epsilon(1e-5));
        }
    }
}

// Rows of a (rows, cols) matrix with rows <= cols: each of length 1, each pair orthogonal.
void check_orthonormal_rows(const float* m, std::size_t rows, std::size_t cols) {
    for (std::size_t a = 0; a < rows; ++a)
        for (std::size_t b = a; b < rows; ++b) {
            double dot = 0;
            for (std::size_t c = 0; c < cols; ++c) dot += double(m[a * cols + c]) * m[b * cols + c];
            INFO("rows " << a << " and " << b);
            CHECK(dot == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-5).scale(1.0));
        }
}

// 256 sequences of 12 values, +-1 at random; the label: whether the first value was +1, which
// only a memory carried over the whole sequence can tell at its end.
std::pair<Tensor<Shape<12, 1>>, Tensor<Shape<1>>> first_value_data(std::uint64_t seed) {
    constexpr std::size_t n = 256, steps = 12;
    Tensor<Shape<steps, 1>> x(n);
    Tensor<Shape<1>> y(n);
    Generator g(seed);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t t = 0; t < steps; ++t) x[i * steps + t] = g.uniform(0.0, 1.0) < 0.5 ? -1.0f : 1.0f;
        y[i] = x[i * steps] > 0 ? 1.0f : 0.0f;
    }
    return {std::move(x), std::move(y)};
}
}  // namespace

TEST_CASE("LSTM, GRU and SimpleRNN: Shape<Steps, Features> in, Keras' output shapes and parameter counts") {
    static_assert(std::is_same_v<LSTM<8>::output_shape<Shape<10, 3>>, Shape<8>>);
    static_assert(std::is_same_v<LSTM<8, Returns::sequences>::output_shape<Shape<10, 3>>, Shape<10, 8>>);
    static_assert(std::is_same_v<GRU<8>::output_shape<Shape<10, 3>>, Shape<8>>);
    static_assert(std::is_same_v<GRU<8, Returns::sequences>::output_shape<Shape<10, 3>>, Shape<10, 8>>);
    static_assert(!LSTM<8>::accepts<Shape<30>> && !GRU<8>::accepts<Shape<28, 28, 1>>);
    // Keras: LSTM(32) on (10, 3) has 4 * (3 * 32 + 32 * 32 + 32) = 4,608 parameters; GRU(32)
    // (reset_after, two biases) 3 * (3 * 32 + 32 * 32 + 2 * 32) = 3,552.
    static_assert(layer_param_count<LSTM<32>, Shape<10, 3>>() == 4608);
    static_assert(layer_param_count<GRU<32>, Shape<10, 3>>() == 3552);
    static_assert(layer_param_count<SimpleRNN<32>, Shape<10, 3>>() == 3 * 32 + 32 * 32 + 32);  // Keras: 1,152
    static_assert(std::is_same_v<SimpleRNN<8, Returns::sequences>::output_shape<Shape<10, 3>>, Shape<10, 8>>);
    static_assert(!SimpleRNN<8>::accepts<Shape<30>>);
    // Stacked: a sequence layer feeds the next; an Embedding's (steps, dim) feeds one too.
    using Net = Sequential<Input<20>, Embedding<50, 16>, LSTM<32, Returns::sequences>, GRU<16>, Dense<1>>;
    static_assert(std::is_same_v<Net::output_shape, Shape<1>>);
    static_assert(Net::param_count == 50 * 16 + 4 * (16 * 32 + 32 * 32 + 32) + 3 * (32 * 16 + 16 * 16 + 32) + 17);
    CHECK(LSTM<8>::return_sequences == false);
    CHECK(LSTM<8, Returns::sequences>::return_sequences == true);
}

TEST_CASE("LSTM, GRU and SimpleRNN start as Keras': Glorot kernel, orthogonal recurrent kernel, LSTM's forget bias 1") {
    SUBCASE("LSTM") {
        Sequential<Input<6, 5>, LSTM<7>> net(3);
        const auto p = net.parameters().values();
        REQUIRE(p.size() == 5 * 28 + 7 * 28 + 28);
        const double limit = std::sqrt(6.0 / (5 + 28));
        CHECK(std::all_of(p.begin(), p.begin() + 140, [&](float v) { return std::abs(v) <= limit; }));
        check_orthonormal_rows(p.data() + 140, 7, 28);
        for (std::size_t i = 0; i < 28; ++i) {
            INFO("bias " << i);
            CHECK(p[140 + 196 + i] == (i >= 7 && i < 14 ? 1.0f : 0.0f));
        }
    }
    SUBCASE("GRU") {
        Sequential<Input<6, 5>, GRU<7>> net(3);
        const auto p = net.parameters().values();
        REQUIRE(p.size() == 5 * 21 + 7 * 21 + 42);
        check_orthonormal_rows(p.data() + 105, 7, 21);
        CHECK(std::all_of(p.begin() + 105 + 147, p.end(), [](float v) { return v == 0.0f; }));
    }
    SUBCASE("SimpleRNN") {
        Sequential<Input<6, 5>, SimpleRNN<7>> net(3);
        const auto p = net.parameters().values();
        REQUIRE(p.size() == 5 * 7 + 7 * 7 + 7);
        const double limit = std::sqrt(6.0 / (5 + 7));
        CHECK(std::all_of(p.begin(), p.begin() + 35, [&](float v) { return std::abs(v) <= limit; }));
        check_orthonormal_rows(p.data() + 35, 7, 7);
        CHECK(std::all_of(p.begin() + 35 + 49, p.end(), [](float v) { return v == 0.0f; }));
        CHECK(net.parameters().slots()[1].name == "simple_rnn/recurrent_kernel");
    }
    SUBCASE("a tall matrix gets orthonormal columns") {
        const ParamSpec spec{"kernel", {9, 4}, 2, Init::orthogonal, true};
        std::vector<float> m(36), transposed(36);
        Generator g(5);
        detail::initialize_parameter(spec, m, g);
        for (std::size_t r = 0; r < 9; ++r)
            for (std::size_t c = 0; c < 4; ++c) transposed[c * 9 + r] = m[r * 4 + c];
        check_orthonormal_rows(transposed.data(), 4, 9);
    }
}

TEST_CASE("LSTM, GRU and SimpleRNN outputs are Keras' equations, for the last step and for every step") {
    SUBCASE("LSTM, last output") {
        Sequential<Input<5, 3>, LSTM<4>> net;
        check_against_plain(net, 5, 3, 4, 4, plain_lstm, false);
    }
    SUBCASE("LSTM, sequences") {
        Sequential<Input<5, 3>, LSTM<4, Returns::sequences>> net;
        check_against_plain(net, 5, 3, 4, 4, plain_lstm, true);
    }
    SUBCASE("GRU, last output") {
        Sequential<Input<5, 3>, GRU<4>> net;
        check_against_plain(net, 5, 3, 4, 3, plain_gru, false);
    }
    SUBCASE("GRU, sequences") {
        Sequential<Input<5, 3>, GRU<4, Returns::sequences>> net;
        check_against_plain(net, 5, 3, 4, 3, plain_gru, true);
    }
    SUBCASE("SimpleRNN, last output and sequences") {
        Sequential<Input<5, 3>, SimpleRNN<4>> last;
        check_against_plain(last, 5, 3, 4, 1, plain_simple_rnn, false);
        Sequential<Input<5, 3>, SimpleRNN<4, Returns::sequences>> every;
        check_against_plain(every, 5, 3, 4, 1, plain_simple_rnn, true);
    }
    SUBCASE("one step") {
        Sequential<Input<1, 2>, SimpleRNN<3>> rnn;
        check_against_plain(rnn, 1, 2, 3, 1, plain_simple_rnn, false);
        Sequential<Input<1, 2>, LSTM<3>> lstm;
        check_against_plain(lstm, 1, 2, 3, 4, plain_lstm, false);
        Sequential<Input<1, 2>, GRU<3>> gru;
        check_against_plain(gru, 1, 2, 3, 3, plain_gru, false);
    }
}

TEST_CASE("LSTM, GRU and SimpleRNN gradients through time") {
    SUBCASE("LSTM") {
        CHECK(check_layer_gradients<Shape<4, 3>>(LSTM<5>{}) == 3 * 4 * 3 + 4 * (3 * 5 + 5 * 5 + 5));
        CHECK(check_layer_gradients<Shape<4, 3>>(LSTM<5, Returns::sequences>{}) > 0);
        CHECK(check_layer_gradients<Shape<1, 2>>(LSTM<3>{}, {.batch = 2}) > 0);
    }
    SUBCASE("GRU") {
        CHECK(check_layer_gradients<Shape<4, 3>>(GRU<5>{}) == 3 * 4 * 3 + 3 * (3 * 5 + 5 * 5 + 2 * 5));
        CHECK(check_layer_gradients<Shape<4, 3>>(GRU<5, Returns::sequences>{}) > 0);
        CHECK(check_layer_gradients<Shape<1, 2>>(GRU<3>{}, {.batch = 2}) > 0);
    }
    SUBCASE("SimpleRNN") {
        CHECK(check_layer_gradients<Shape<4, 3>>(SimpleRNN<5>{}) == 3 * 4 * 3 + (3 * 5 + 5 * 5 + 5));
        CHECK(check_layer_gradients<Shape<4, 3>>(SimpleRNN<5, Returns::sequences>{}) > 0);
        CHECK(check_layer_gradients<Shape<1, 2>>(SimpleRNN<3>{}, {.batch = 2}) > 0);
    }
}

TEST_CASE("an LSTM's weights are saved as Keras names them: kernel, recurrent_kernel, bias") {
    Sequential<Input<6, 5>, LSTM<7, Returns::sequences>, GRU<3>> net;
    const auto path = std::filesystem::path(LATENT_TEST_TMP_DIR) / "recurrent.safetensors";
    net.save_weights(path);
    const auto file = io::read_safetensors(path);
    REQUIRE(file.tensors.count("lstm/recurrent_kernel") == 1);
    CHECK(file.tensors.at("lstm/kernel").dims == std::vector<std::size_t>{5, 28});
    CHECK(file.tensors.at("lstm/recurrent_kernel").dims == std::vector<std::size_t>{7, 28});
    CHECK(file.tensors.at("lstm/bias").dims == std::vector<std::size_t>{28});
    CHECK(file.tensors.at("gru/bias").dims == std::vector<std::size_t>{2, 9});
}

TEST_CASE("an LSTM, a GRU and a SimpleRNN learn to remember a sequence's first value over 12 steps") {
    const auto [x, y] = first_value_data(3);
    SUBCASE("LSTM") {
        Sequential<Input<12, 1>, LSTM<8>, Dense<1>, Sigmoid> net(1);
        net.compile(optim::Adam{.lr = 2e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
        const History history = net.fit(x, y, {.epochs = 25, .batch_size = 32, .verbose = Verbosity::silent});
        CHECK(history.last("accuracy") > 0.97);
    }
    SUBCASE("SimpleRNN") {
        Sequential<Input<12, 1>, SimpleRNN<8>, Dense<1>, Sigmoid> net(1);
        net.compile(optim::Adam{.lr = 2e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
        const History history = net.fit(x, y, {.epochs = 25, .batch_size = 32, .verbose = Verbosity::silent});
        CHECK(history.last("accuracy") > 0.97);
    }
    SUBCASE("GRU, stacked on a sequence-returning GRU") {
        Sequential<Input<12, 1>, GRU<8, Returns::sequences>, GRU<8>, Dense<1>, Sigmoid> net(1);
        net.compile(optim::Adam{.lr = 2e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
        const History history = net.fit(x, y, {.epochs = 25, .batch_size = 32, .verbose = Verbosity::silent});
        CHECK(history.last("accuracy") > 0.97);
    }
}

// ---- sequence plumbing: RepeatVector, TimeDistributed, an LSTM autoencoder ------------------

TEST_CASE("RepeatVector<N>: (features) -> (N, features), the vector at every step; its gradient sums the steps") {
    static_assert(std::is_same_v<RepeatVector<4>::output_shape<Shape<3>>, Shape<4, 3>>);
    static_assert(!RepeatVector<4>::accepts<Shape<2, 3>>);
    Sequential<Input<3>, RepeatVector<4>> net;
    Tensor<Shape<3>> x(2);
    for (std::size_t i = 0; i < 6; ++i) x.data()[i] = static_cast<float>(i) - 2.5f;
    const auto y = net.predict(x);
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t t = 0; t < 4; ++t)
            for (std::size_t f = 0; f < 3; ++f) CHECK(y.data()[(b * 4 + t) * 3 + f] == x.data()[b * 3 + f]);
    CHECK(check_layer_gradients<Shape<3>>(RepeatVector<4>{}) > 0);
}

TEST_CASE("TimeDistributed<L>: L on every step with one set of weights, as Keras'") {
    using TD = TimeDistributed<Dense<3>>;
    static_assert(std::is_same_v<TD::output_shape<Shape<5, 4>>, Shape<5, 3>>);
    static_assert(layer_param_count<TD, Shape<5, 4>>() == 4 * 3 + 3);  // Dense's own, once
    static_assert(!TD::accepts<Shape<4>> && !TD::accepts<Shape<5, 4, 2>>);
    static_assert(std::is_same_v<TimeDistributed<Flatten>::output_shape<Shape<5, 4, 2>>, Shape<5, 8>>);

    Sequential<Input<5, 4>, TD> net(2);
    Sequential<Input<4>, Dense<3>> dense;
    const auto w = net.parameters().values();
    std::copy(w.begin(), w.end(), dense.parameters().values().begin());
    Tensor<Shape<5, 4>> x(3);
    Generator g(4);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(g.uniform(-1, 1));
    const auto y = net.predict(x);
    Tensor<Shape<4>> each_step(15);  // the 15 steps as 15 samples
    std::copy(x.data(), x.data() + x.size(), each_step.data());
    const auto steps = dense.predict(each_step);
    REQUIRE(steps.size() == y.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y.data()[i] == steps.data()[i]);

    CHECK(check_layer_gradients<Shape<5, 4>>(TD{}) == 3 * 5 * 4 + 4 * 3 + 3);
    CHECK(check_layer_gradients<Shape<3, 2, 2>>(TimeDistributed<Flatten>{}) > 0);
    CHECK(check_layer_gradients<Shape<6, 5>>(TimeDistributed<Dropout>{Dropout{0.4}}, {.mode = Mode::train}) > 0);

    TimeDistributed<Dropout> dropout{Dropout{0.25}};
    CHECK(dropout.layer().rate() == doctest::Approx(0.25));
    const auto path = std::filesystem::path(LATENT_TEST_TMP_DIR) / "time_distributed.safetensors";
    net.save_weights(path);
    CHECK(io::read_safetensors(path).tensors.at("time_distributed/kernel").dims == std::vector<std::size_t>{4, 3});
}

TEST_CASE("an LSTM autoencoder (LSTM, RepeatVector, LSTM, TimeDistributed<Dense>) learns to redraw sine waves") {
    // 512 waves of 10 steps, 2 features (sine and cosine), random frequency and phase.
    constexpr std::size_t n = 512, steps = 10;
    Tensor<Shape<steps, 2>> x(n);
    Generator g(9);
    for (std::size_t i = 0; i < n; ++i) {
        const double frequency = g.uniform(0.2, 0.6), phase = g.uniform(0.0, 6.283);
        for (std::size_t t = 0; t < steps; ++t) {
            x[(i * steps + t) * 2] = static_cast<float>(std::sin(frequency * double(t) + phase));
            x[(i * steps + t) * 2 + 1] = static_cast<float>(std::cos(frequency * double(t) + phase));
        }
    }
    using Autoencoder = Sequential<Input<steps, 2>, LSTM<16>, RepeatVector<steps>, LSTM<16, Returns::sequences>,
                                   TimeDistributed<Dense<2>>>;
    static_assert(std::is_same_v<Autoencoder::output_shape, Shape<steps, 2>>);
    static_assert(std::is_same_v<Autoencoder::layer_output_shape<0>, Shape<16>>);  // the code
    Autoencoder net(5);
    net.compile(optim::Adam{.lr = 1e-2}, loss::MeanSquaredError{});
    const double before = net.evaluate(x, x).at("loss");
    const History history = net.fit(x, x, {.epochs = 40, .batch_size = 32, .verbose = Verbosity::silent});
    // The data's variance is 0.5 per value: predicting the mean scores about 0.5.
    INFO("loss before " << before << ", after " << history.last("loss"));
    CHECK(before > 0.3);
    CHECK(history.last("loss") < 0.02);
}

TEST_CASE("an LSTM in a functional model with two inputs: tokens through Embedding and LSTM, numbers beside") {
    auto tokens = input<6>("tokens", 4);
    auto numbers = input<3>("numbers");
    auto memory = LSTM<8>{"memory"}(Embedding<10, 4>{}(tokens));
    auto merged = Concatenate<>{}(memory, Dense<4>{}(numbers));
    auto out = Sigmoid{}(Dense<1>{}(merged));
    Model model(std::tuple{tokens, numbers}, out);
    // Drawn by the functional graph's initializer too: orthonormal rows, the forget gate's bias 1.
    const auto weights = model.get_layer("memory").get_weights();  // kernel, recurrent_kernel, bias
    REQUIRE(weights.size() == 3);
    check_orthonormal_rows(weights[1].data(), 8, 32);
    CHECK(weights[2][8] == 1.0f);
    CHECK(weights[2][0] == 0.0f);

    // The label: whether the first of the 6 tokens was token 3; the numbers are noise.
    constexpr std::size_t n = 320;
    Tensor<Shape<6>> x_tokens(n);
    Tensor<Shape<3>> x_numbers(n);
    Tensor<Shape<1>> y(n);
    Generator g(8);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t t = 0; t < 6; ++t) x_tokens[i * 6 + t] = static_cast<float>(g.next_u64() % 10);
        if (i % 2 == 0) x_tokens[i * 6] = 3.0f;
        for (std::size_t k = 0; k < 3; ++k) x_numbers[i * 3 + k] = static_cast<float>(g.uniform(-1, 1));
        y[i] = x_tokens[i * 6] == 3.0f ? 1.0f : 0.0f;
    }
    model.compile(optim::Adam{.lr = 1e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
    const History history = model.fit(std::tuple{x_tokens, x_numbers}, y,
                                      {.epochs = 30, .batch_size = 32, .verbose = Verbosity::silent});
    CHECK(history.last("accuracy") > 0.97);
}

// ---- Bidirectional ----------------------------------------------------------------------------

TEST_CASE("Bidirectional<L>: L both ways, outputs concatenated, Keras' counts and weight names") {
    using BiLstm = Bidirectional<LSTM<4, Returns::sequences>>;
    static_assert(std::is_same_v<BiLstm::output_shape<Shape<5, 3>>, Shape<5, 8>>);
    static_assert(std::is_same_v<Bidirectional<GRU<2>>::output_shape<Shape<5, 8>>, Shape<4>>);
    static_assert(!BiLstm::accepts<Shape<15>>);
    // Keras: Bidirectional(LSTM(4)) on (5, 3) has twice LSTM's 128; Bidirectional(GRU(2)) on
    // (5, 8) twice GRU's 72.
    static_assert(layer_param_count<BiLstm, Shape<5, 3>>() == 256);
    static_assert(layer_param_count<Bidirectional<GRU<2>>, Shape<5, 8>>() == 144);

    Sequential<Input<5, 3>, BiLstm, Bidirectional<GRU<2>>, Dense<1>> net(3);
    std::vector<std::string> names;
    for (const auto& slot : net.parameters().slots()) names.push_back(slot.name);
    CHECK(names == std::vector<std::string>{
                       "bidirectional/forward_lstm/kernel", "bidirectional/forward_lstm/recurrent_kernel",
                       "bidirectional/forward_lstm/bias", "bidirectional/backward_lstm/kernel",
                       "bidirectional/backward_lstm/recurrent_kernel", "bidirectional/backward_lstm/bias",
                       "bidirectional_1/forward_gru/kernel", "bidirectional_1/forward_gru/recurrent_kernel",
                       "bidirectional_1/forward_gru/bias", "bidirectional_1/backward_gru/kernel",
                       "bidirectional_1/backward_gru/recurrent_kernel", "bidirectional_1/backward_gru/bias",
                       "dense/kernel", "dense/bias"});
    // Each direction draws its own initial weights.
    const auto p = net.parameters().values();
    CHECK(!std::equal(p.begin(), p.begin() + 128, p.begin() + 128));
}

TEST_CASE("Bidirectional's output is L on the sequence beside L on the reversed sequence, step by step") {
    constexpr std::size_t steps = 5, batch = 2;
    Tensor<Shape<steps, 3>> x(batch), reversed(batch);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::sin(double(i)));
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t t = 0; t < steps; ++t)
            for (std::size_t k = 0; k < 3; ++k)
                reversed.data()[(b * steps + t) * 3 + k] = x.data()[(b * steps + steps - 1 - t) * 3 + k];
    const auto check = [&](auto both, auto forward, auto backward, bool sequences) {
        const auto p = both.parameters().values();
        auto pf = forward.parameters().values();
        auto pb = backward.parameters().values();
        std::copy(p.begin(), p.begin() + static_cast<long>(pf.size()), pf.begin());
        std::copy(p.begin() + static_cast<long>(pf.size()), p.end(), pb.begin());
        const auto y = both.predict(x);
        const auto yf = forward.predict(x);
        const auto yb = backward.predict(reversed);
        const std::size_t n = sequences ? steps : 1, u = 4;
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t t = 0; t < n; ++t)
                for (std::size_t k = 0; k < u; ++k) {
                    INFO("sample " << b << ", step " << t << ", unit " << k);
                    const std::size_t at = (b * n + t) * 2 * u;
                    CHECK(y.data()[at + k] == yf.data()[(b * n + t) * u + k]);
                    CHECK(y.data()[at + u + k] == yb.data()[(b * n + (n - 1 - t)) * u + k]);
                }
    };
    check(Sequential<Input<steps, 3>, Bidirectional<LSTM<4>>>(1), Sequential<Input<steps, 3>, LSTM<4>>(),
          Sequential<Input<steps, 3>, LSTM<4>>(), false);
    check(Sequential<Input<steps, 3>, Bidirectional<GRU<4, Returns::sequences>>>(1),
          Sequential<Input<steps, 3>, GRU<4, Returns::sequences>>(), Sequential<Input<steps, 3>, GRU<4, Returns::sequences>>(),
          true);
}

TEST_CASE("Bidirectional's merge modes: the two directions' outputs, step by step, summed, multiplied or averaged") {
    using Sum = Bidirectional<GRU<4, Returns::sequences>, Merge::sum>;
    static_assert(std::is_same_v<Sum::output_shape<Shape<5, 3>>, Shape<5, 4>>);
    static_assert(std::is_same_v<Bidirectional<LSTM<4>, Merge::ave>::output_shape<Shape<5, 3>>, Shape<4>>);
    // Keras: the merge adds no weights.
    static_assert(layer_param_count<Sum, Shape<5, 3>>() ==
                  layer_param_count<Bidirectional<GRU<4, Returns::sequences>>, Shape<5, 3>>());
    constexpr std::size_t steps = 5, batch = 2, u = 4;
    Tensor<Shape<steps, 3>> x(batch);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::sin(0.7 * double(i)));
    // The same weights in every model: concat's output holds both directions, step-aligned.
    Sequential<Input<steps, 3>, Bidirectional<GRU<u, Returns::sequences>>> concat(1);
    const auto both = concat.predict(x);
    const auto check = [&](auto merged, auto merge) {
        const auto from = concat.parameters().values();
        auto to = merged.parameters().values();
        std::copy(from.begin(), from.end(), to.begin());
        const auto y = merged.predict(x);
        for (std::size_t i = 0; i < batch * steps; ++i)
            for (std::size_t k = 0; k < u; ++k) {
                INFO("sample and step " << i << ", unit " << k);
                const float f = both.data()[i * 2 * u + k], b = both.data()[i * 2 * u + u + k];
                CHECK(y.data()[i * u + k] == doctest::Approx(merge(f, b)).epsilon(1e-6));
            }
    };
    check(Sequential<Input<steps, 3>, Sum>(), [](float f, float b) { return f + b; });
    check(Sequential<Input<steps, 3>, Bidirectional<GRU<u, Returns::sequences>, Merge::mul>>(),
          [](float f, float b) { return f * b; });
    check(Sequential<Input<steps, 3>, Bidirectional<GRU<u, Returns::sequences>, Merge::ave>>(),
          [](float f, float b) { return (f + b) / 2; });
    CHECK(check_layer_gradients<Shape<4, 3>>(Bidirectional<LSTM<3>, Merge::mul>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3>>(Bidirectional<GRU<3, Returns::sequences>, Merge::mul>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3>>(Bidirectional<GRU<3, Returns::sequences>, Merge::sum>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3>>(Bidirectional<LSTM<3, Returns::sequences>, Merge::ave>{}) > 0);
}

TEST_CASE("Bidirectional gradients, and a bidirectional model learns the memory task") {
    CHECK(check_layer_gradients<Shape<4, 3>>(Bidirectional<LSTM<3>>{}) == 3 * 4 * 3 + 2 * 4 * (3 * 3 + 3 * 3 + 3));
    CHECK(check_layer_gradients<Shape<4, 3>>(Bidirectional<GRU<3, Returns::sequences>>{}) > 0);
    const auto [x, y] = first_value_data(4);
    Sequential<Input<12, 1>, Bidirectional<GRU<8>>, Dense<1>, Sigmoid> net(2);
    net.compile(optim::Adam{.lr = 2e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
    const History history = net.fit(x, y, {.epochs = 15, .batch_size = 32, .verbose = Verbosity::silent});
    CHECK(history.last("accuracy") > 0.97);
}
