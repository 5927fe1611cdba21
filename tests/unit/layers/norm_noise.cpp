// BatchNormalization and GaussianNoise: forward values against hand-computed Keras results,
// moving statistics, frozen and inference behaviour, gradients, determinism, setting
// validation, and both inside a Sequential that trains.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include <latent/latent.hpp>
#include <latent/layers/noise.hpp>
#include <latent/layers/norm.hpp>

#include "support/gradient_check.hpp"
#include "support/messages.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;
using B = cpu::reference;

namespace {

// One forward pass of `layer` on float data the way Sequential runs it; `params` doubles as the
// writable state unless `with_state` is false.
struct Pass {
    Mode mode = Mode::train;
    bool trainable = true;
    bool with_state = true;
    Generator* rng = nullptr;
};

template <class In, class L>
std::vector<float> forward(const L& layer, const std::vector<float>& x, std::size_t batch, std::vector<float>& params,
                           const Pass& pass) {
    using Out = typename L::template output_shape<In>;
    std::vector<float> y(batch * Out::size), ws(workspace_size<L, In>(batch));
    ForwardArgs<float> a{x.data(), y.data(), params.data(), ws.data(), batch, pass.mode, pass.rng};
    a.trainable = pass.trainable;
    a.state = pass.with_state ? params.data() : nullptr;
    layer.template forward<In, B, float>(a);
    return y;
}

// (gamma, beta, moving_mean, moving_variance) for two channels.
std::vector<float> bn_params(std::vector<float> gamma, std::vector<float> beta, std::vector<float> mean,
                             std::vector<float> variance) {
    std::vector<float> p = gamma;
    for (const auto* v : {&beta, &mean, &variance}) p.insert(p.end(), v->begin(), v->end());
    return p;
}

void check_values(const std::vector<float>& got, const std::vector<double>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    }
}

// Moving variances must be positive for the moving-statistics mode to be differentiable.
template <std::size_t C>
void positive_moving_variance(std::vector<double>& params) {
    for (std::size_t c = 0; c < C; ++c) params[3 * C + c] = 0.5 + std::abs(params[3 * C + c]);
}

// Rows (batch, 2) interleaved as channel 0, channel 1: channel 0 = 1, 2, 3, 4 and channel 1 = 0, 0, 4, 8.
const std::vector<float> two_channels{1, 0, 2, 0, 3, 4, 4, 8};

}  // namespace

// Keras counts BatchNorm's moving statistics as non-trainable parameters.
static_assert(Sequential<Input<8>, Dense<4>, BatchNorm>::param_count == (8 * 4 + 4) + 4 * 4);
static_assert(Sequential<Input<8>, Dense<4>, BatchNorm>::non_trainable_param_count == 8);
using BnNet = Sequential<Input<6>, Dense<4>, BatchNorm, Dense<2>>;
static_assert(BnNet::param_count == (6 * 4 + 4) + 4 * 4 + (4 * 2 + 2));
static_assert(BnNet::trainable_param_count == (6 * 4 + 4) + 2 * 4 + (4 * 2 + 2));
static_assert(BnNet::non_trainable_param_count == 2 * 4);
static_assert(std::is_same_v<BatchNorm, BatchNormalization>);
static_assert(std::is_same_v<BatchNorm::output_shape<Shape<5, 5, 3>>, Shape<5, 5, 3>>);
static_assert(BatchNorm::channels<Shape<5, 5, 3>> == 3 && BatchNorm::params<Shape<5, 5, 3>>[3].size() == 3);
static_assert(accepts_v<BatchNorm, Shape<7>> && accepts_v<BatchNorm, Shape<4, 4, 2>>);
static_assert(std::is_same_v<GaussianNoise::output_shape<Shape<2, 3>>, Shape<2, 3>>);

TEST_CASE("BatchNorm in training normalizes each channel with the batch's biased statistics") {
    BatchNorm bn;
    auto params = bn_params({2, 0.5f}, {1, -1}, {0, 0}, {1, 1});
    const auto y = forward<Shape<2>>(bn, two_channels, 4, params, {});
    // channel 0: mean 2.5, variance 1.25; channel 1: mean 3, variance 11 (epsilon 1e-3)
    check_values(y, {-1.6822089039, -1.4522464607, 0.1059303654, -1.4522464607, 1.8940696346, -0.8492511798,
                     3.6822089039, -0.2462558989});
    CHECK(BatchNorm::params<Shape<2>>[0].name == "gamma");
    CHECK(BatchNorm::params<Shape<2>>[0].init == Init::ones);
    CHECK(BatchNorm::params<Shape<2>>[1].init == Init::zeros);
    CHECK_FALSE(BatchNorm::params<Shape<2>>[2].trainable);
    CHECK(BatchNorm::params<Shape<2>>[3].name == "moving_variance");
    CHECK(BatchNorm::params<Shape<2>>[3].init == Init::ones);
    CHECK_FALSE(BatchNorm::params<Shape<2>>[3].trainable);
}

TEST_CASE("BatchNorm normalizes over batch and positions of an image, per channel") {
    BatchNorm bn(0.99, 1e-6);
    constexpr std::size_t batch = 3, C = 2;
    std::vector<float> x(batch * 2 * 2 * C);
    Generator g(4);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-1, 1)) + (i % C == 0 ? 5.0f : -3.0f);
    auto params = bn_params({1, 1}, {0, 0}, {0, 0}, {1, 1});
    const auto y = forward<Shape<2, 2, C>>(bn, x, batch, params, {});
    for (std::size_t c = 0; c < C; ++c) {
        double mean = 0, square = 0;
        for (std::size_t i = c; i < y.size(); i += C) {
            mean += y[i];
            square += double(y[i]) * y[i];
        }
        CHECK(mean / 12 == doctest::Approx(0.0).scale(1.0).epsilon(1e-5));
        CHECK(square / 12 == doctest::Approx(1.0).epsilon(1e-4));
    }
}

TEST_CASE("BatchNorm moving statistics follow momentum * moving + (1 - momentum) * batch") {
    BatchNorm bn(0.9);
    auto params = bn_params({1, 1}, {0, 0}, {0, 0}, {1, 1});
    forward<Shape<2>>(bn, two_channels, 4, params, {});
    // mean (2.5, 3), biased variance (1.25, 11)
    check_values(std::vector<float>(params.begin() + 4, params.end()), {0.25, 0.3, 1.025, 2.0});
    CHECK(params[0] == 1.0f);  // gamma and beta are the optimizer's, never the layer's
    CHECK(params[2] == 0.0f);
    // channel 0 = 2, 2, 6, 6: mean 4, variance 4; channel 1 = -1, 1, -1, 1: mean 0, variance 1
    forward<Shape<2>>(bn, {2, -1, 2, 1, 6, -1, 6, 1}, 4, params, {});
    check_values(std::vector<float>(params.begin() + 4, params.end()), {0.625, 0.27, 1.3225, 1.9});
}

TEST_CASE("BatchNorm uses the moving statistics in inference, and when frozen, and then leaves them alone") {
    BatchNorm bn;
    const auto initial = bn_params({2, 0.5f}, {1, -1}, {1, -2}, {3, 0.25f});
    // (x - moving_mean) / sqrt(moving_variance + 1e-3) * gamma + beta
    const std::vector<double> expected{1.0,          0.9960119601, 2.1545081364, 0.9960119601,
                                       3.3090162728, 4.9880358804, 4.4635244092, 8.9800598007};
    SUBCASE("inference") {
        auto params = initial;
        check_values(forward<Shape<2>>(bn, two_channels, 4, params, {.mode = Mode::infer}), expected);
        CHECK(params == initial);
    }
    SUBCASE("frozen in training, even when handed a writable state") {
        auto params = initial;
        check_values(forward<Shape<2>>(bn, two_channels, 4, params, {.mode = Mode::train, .trainable = false}), expected);
        CHECK(params == initial);
    }
    SUBCASE("training without a state normalizes with the batch but updates nothing") {
        auto params = initial;
        const auto y = forward<Shape<2>>(bn, two_channels, 4, params, {.mode = Mode::train, .with_state = false});
        CHECK(params == initial);
        CHECK(y[0] == doctest::Approx(-1.6822089039));  // the batch's statistics, not the moving ones
    }
}

TEST_CASE("BatchNorm gradients in every mode") {
    SUBCASE("training, rank 1") {
        CHECK(check_layer_gradients<Shape<5>>(BatchNorm{}, {.batch = 4, .mode = Mode::train}) > 0);
    }
    SUBCASE("training, an image batch (rank 3)") {
        CHECK(check_layer_gradients<Shape<3, 3, 2>>(BatchNorm{}, {.batch = 2, .mode = Mode::train}) > 0);
    }
    SUBCASE("training with a batch of one") {
        CHECK(check_layer_gradients<Shape<2, 3>>(BatchNorm{}, {.batch = 1, .mode = Mode::train}) > 0);
    }
    SUBCASE("inference") {
        CHECK(check_layer_gradients<Shape<4>>(
                  BatchNorm{}, {.mode = Mode::infer, .prepare_params = positive_moving_variance<4>}) > 0);
    }
    SUBCASE("frozen, in training") {
        CHECK(check_layer_gradients<Shape<2, 2, 3>>(BatchNorm{}, {.mode = Mode::train,
                                                                  .trainable = false,
                                                                  .prepare_params = positive_moving_variance<3>}) > 0);
    }
}

TEST_CASE("BatchNorm backward adds to the parameter gradients and skips what is not asked for") {
    BatchNorm bn;
    auto params = bn_params({2, 0.5f}, {1, -1}, {0, 0}, {1, 1});
    std::vector<float> y(8), ws(workspace_size<BatchNorm, Shape<2>>(4));
    ForwardArgs<float> f{two_channels.data(), y.data(), params.data(), ws.data(), 4, Mode::train};
    bn.forward<Shape<2>, B, float>(f);
    const std::vector<float> dy{1, 2, 3, 4, 5, 6, 7, 8};
    std::vector<float> dparams(8, 1.0f);
    BackwardArgs<float> b{two_channels.data(), y.data(), dy.data(), nullptr, params.data(), dparams.data(), ws.data(), 4};
    bn.backward<Shape<2>, B, float>(b);
    CHECK(dparams[2] == doctest::Approx(1 + 1 + 3 + 5 + 7));  // dbeta[0] = 1 + sum of dy
    CHECK(dparams[3] == doctest::Approx(1 + 2 + 4 + 6 + 8));
    for (std::size_t i = 4; i < 8; ++i) CHECK(dparams[i] == 1.0f);  // batch statistics: nothing for the moving ones
    b.dparams = nullptr;
    std::vector<float> dx(8, -1.0f);
    b.dx = dx.data();
    bn.backward<Shape<2>, B, float>(b);
    double total = 0;
    for (std::size_t i = 0; i < 8; i += 2) total += dx[i];
    CHECK(total == doctest::Approx(0.0).scale(1.0));  // a shift of a channel's inputs changes nothing
}

TEST_CASE("inference is deterministic and per sample: BatchNorm and Dropout") {
    constexpr std::size_t batch = 3;
    std::vector<float> x(batch * 4);
    Generator g(9);
    for (auto& v : x) v = static_cast<float>(g.uniform(-2, 2));
    std::vector<float> first(x.begin(), x.begin() + 4);
    SUBCASE("BatchNorm") {
        BatchNorm bn;
        auto params = std::vector<float>{1.5f, 1, 0.5f, 2, 0, 0.1f, 0, -0.2f, 0.3f, -1, 0, 2, 1, 2, 0.5f, 4};
        const auto a = forward<Shape<4>>(bn, x, batch, params, {.mode = Mode::infer});
        const auto b = forward<Shape<4>>(bn, x, batch, params, {.mode = Mode::infer});
        CHECK(a == b);
        const auto alone = forward<Shape<4>>(bn, first, 1, params, {.mode = Mode::infer});
        CHECK(alone == std::vector<float>(a.begin(), a.begin() + 4));
        auto others = x;
        for (std::size_t i = 4; i < others.size(); ++i) others[i] *= 10;
        const auto c = forward<Shape<4>>(bn, others, batch, params, {.mode = Mode::infer});
        CHECK(std::vector<float>(c.begin(), c.begin() + 4) == alone);
    }
    SUBCASE("Dropout") {
        Dropout d(0.5);
        std::vector<float> none;
        const auto a = forward<Shape<4>>(d, x, batch, none, {.mode = Mode::infer, .with_state = false});
        CHECK(a == forward<Shape<4>>(d, x, batch, none, {.mode = Mode::infer, .with_state = false}));
        CHECK(a == x);
    }
}

TEST_CASE("GaussianNoise is the identity in inference and adds N(0, stddev^2) in training") {
    GaussianNoise noise(0.5);
    std::vector<float> none;
    SUBCASE("inference, without a generator") {
        const std::vector<float> x{1, -2, 3.5f, 0};
        CHECK(forward<Shape<4>>(noise, x, 1, none, {.mode = Mode::infer, .with_state = false}) == x);
    }
    SUBCASE("training: mean and standard deviation over many draws, same seed same noise") {
        constexpr std::size_t n = 20000;
        const std::vector<float> x(n, 3.0f);
        Generator rng(5);
        const auto y = forward<Shape<n>>(noise, x, 1, none, {.mode = Mode::train, .with_state = false, .rng = &rng});
        double mean = 0, square = 0;
        for (float v : y) {
            mean += v - 3.0;
            square += (v - 3.0) * (v - 3.0);
        }
        mean /= n;
        const double stddev = std::sqrt(square / n - mean * mean);
        CHECK(std::abs(mean) < 0.02);
        CHECK(stddev > 0.48);
        CHECK(stddev < 0.52);
        Generator again(5);
        CHECK(forward<Shape<n>>(noise, x, 1, none, {.mode = Mode::train, .with_state = false, .rng = &again}) == y);
    }
    SUBCASE("a frozen GaussianNoise still adds noise in training, as in Keras") {
        const std::vector<float> x(8, 0.0f);
        Generator rng(1);
        const auto y = forward<Shape<8>>(noise, x, 1, none, {.mode = Mode::train, .trainable = false, .rng = &rng});
        CHECK(std::any_of(y.begin(), y.end(), [](float v) { return v != 0.0f; }));
    }
    SUBCASE("the normal op draws Generator::normal() in index order") {
        std::vector<double> out(5);
        Generator a(11), b(11);
        ops::normal<B>(out.size(), out.data(), a, 1.0, 2.0);
        for (double v : out) CHECK(v == 1.0 + 2.0 * b.normal());
    }
}

TEST_CASE("GaussianNoise gradients") {
    CHECK(check_layer_gradients<Shape<6>>(GaussianNoise{0.3}, {.mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<2, 3>>(GaussianNoise{0.3}, {.mode = Mode::infer}) > 0);
}

TEST_CASE("runtime settings are validated with messages naming the layer and the value") {
    LATENT_CHECK_ERROR(value_error, BatchNorm{1.5}, "latent.layers.batch_normalization.momentum",
                       "BatchNormalization: momentum must be in [0, 1], got 1.5");
    LATENT_CHECK_ERROR(value_error, BatchNorm{"bn"}.momentum(-0.1), "latent.layers.batch_normalization.momentum",
                       "BatchNormalization \"bn\": momentum must be in [0, 1], got -0.1");
    LATENT_CHECK_ERROR(value_error, BatchNorm{}.momentum(std::nan("")), "latent.layers.batch_normalization.momentum",
                       "got nan");
    LATENT_CHECK_ERROR(value_error, BatchNorm{"bn"}.epsilon(0), "latent.layers.batch_normalization.epsilon",
                       "BatchNormalization \"bn\": epsilon must be a positive finite number, got 0");
    LATENT_CHECK_ERROR(value_error, BatchNorm{}.epsilon(-1e-9), "latent.layers.batch_normalization.epsilon",
                       "got -1e-09");
    LATENT_CHECK_ERROR(value_error, BatchNorm{}.epsilon(HUGE_VAL), "latent.layers.batch_normalization.epsilon",
                       "got inf");
    LATENT_CHECK_ERROR(value_error, GaussianNoise{-0.5}, "latent.layers.gaussian_noise.stddev",
                       "GaussianNoise: stddev must be a finite number >= 0, got -0.5");
    LATENT_CHECK_ERROR(value_error, (GaussianNoise{HUGE_VAL, "noisy"}), "latent.layers.gaussian_noise.stddev",
                       "GaussianNoise \"noisy\": stddev must be a finite number >= 0, got inf");

    BatchNorm bn("bn");
    CHECK(bn.momentum() == 0.99);
    CHECK(bn.epsilon() == 1e-3);
    bn.momentum(0.9).epsilon(1e-5).momentum(1.0);  // chainable; both ends of [0, 1] are valid
    CHECK(bn.momentum() == 1.0);
    CHECK(bn.epsilon() == 1e-5);
    CHECK(bn.name() == "bn");
    CHECK_THROWS_AS(bn.epsilon(std::nan("")), value_error);
    CHECK(bn.epsilon() == 1e-5);  // a refused value changes nothing
    GaussianNoise noise;
    CHECK(std::isnan(noise.stddev()));
    CHECK(noise.stddev(0.25).stddev() == 0.25);
}

TEST_CASE("GaussianNoise refuses to train without a generator or a stddev") {
    std::vector<float> x(4, 1.0f), none;
    LATENT_CHECK_ERROR(value_error, forward<Shape<4>>(GaussianNoise{0.1}, x, 1, none, {.with_state = false}),
                       "latent.layers.gaussian_noise.rng", "needs a random generator");
    Generator rng(1);
    LATENT_CHECK_ERROR(value_error,
                       forward<Shape<4>>(GaussianNoise{}, x, 1, none, {.with_state = false, .rng = &rng}),
                       "latent.layers.gaussian_noise.stddev", "stddev was never set");
    CHECK(forward<Shape<4>>(GaussianNoise{0.0}, x, 1, none, {.with_state = false}) == x);  // nothing to draw
}

namespace {
struct Regression {
    Tensor<Shape<6>> x;
    Tensor<Shape<2>> y;
    explicit Regression(std::size_t n) : x(n), y(n) {
        Generator g(3);
        for (auto& v : x.values()) v = static_cast<float>(g.uniform(-1, 1)) * 3 + 2;  // off-centre, so the mean moves
        for (auto& v : y.values()) v = static_cast<float>(g.uniform(-1, 1));
    }
};

std::vector<float> values_of(BnNet& net, std::size_t slot) {
    const auto w = net.layer(1).weights();
    return {w[slot].second.begin(), w[slot].second.end()};
}
}  // namespace

TEST_CASE("BatchNorm in a Sequential: names, counts, and moving statistics that train or stay frozen") {
    Regression data(64);
    BnNet net(1);
    CHECK(net.layer_names() == std::vector<std::string>{"dense", "batch_normalization", "dense_1"});
    CHECK(net.layer(1).weights()[2].first->name == "batch_normalization/moving_mean");
    CHECK_FALSE(net.layer(1).weights()[3].first->trainable);
    std::ostringstream table;
    net.summary(table);
    CHECK(table.str().find("Trainable params: 46\nNon-trainable params: 8\n") != std::string::npos);
    CHECK(values_of(net, 0) == std::vector<float>(4, 1.0f));  // gamma
    CHECK(values_of(net, 3) == std::vector<float>(4, 1.0f));  // moving variance

    SUBCASE("a training backward leaves the moving statistics' gradients at zero") {
        net.forward(data.x.data(), 8, Mode::train);
        auto grads = net.gradients();
        std::fill(grads.begin(), grads.end(), 0.0f);
        std::vector<float> dy(8 * 2, 0.5f);
        dy[3] = -1.0f;
        net.backward(dy.data());
        const std::size_t moving = 6 * 4 + 4 + 2 * 4;
        for (std::size_t i = moving; i < moving + 8; ++i) CHECK(grads[i] == 0.0f);
        CHECK(std::any_of(grads.begin() + 28, grads.begin() + moving, [](float v) { return v != 0.0f; }));
    }
    SUBCASE("fit updates the moving statistics") {
        net.compile(optim::SGD{.lr = 0.01}, loss::MeanSquaredError{});
        net.fit(data.x, data.y, {.epochs = 1, .batch_size = 16, .verbose = Verbosity::silent});
        const auto mean = values_of(net, 2), variance = values_of(net, 3);
        CHECK(std::any_of(mean.begin(), mean.end(), [](float v) { return v != 0.0f; }));
        CHECK(std::any_of(variance.begin(), variance.end(), [](float v) { return v != 1.0f; }));
        CHECK(values_of(net, 0) != std::vector<float>(4, 1.0f));  // gamma trains
    }
    SUBCASE("fit leaves a frozen BatchNorm exactly as it was, while the rest trains") {
        net.layer(1).set_trainable(false);
        CHECK(net.count_trainable_params() == 28 + 10);
        const std::vector<float> before(net.parameters().values().begin(), net.parameters().values().end());
        net.compile(optim::SGD{.lr = 0.01}, loss::MeanSquaredError{});
        net.fit(data.x, data.y, {.epochs = 1, .batch_size = 16, .verbose = Verbosity::silent});
        const std::vector<float> after(net.parameters().values().begin(), net.parameters().values().end());
        CHECK(std::equal(before.begin() + 28, before.begin() + 44, after.begin() + 28));  // all 16 of BatchNorm's
        CHECK(!std::equal(before.begin(), before.begin() + 28, after.begin()));
        CHECK(!std::equal(before.begin() + 44, before.end(), after.begin() + 44));
    }
    SUBCASE("predict does not depend on the batch it runs in") {
        const auto a = net.predict(data.x, 1);
        const auto b = net.predict(data.x, 64);
        CHECK(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
    }
}

TEST_CASE("GaussianNoise in a Sequential: identity in predict, noise in fit once stddev is given") {
    Regression data(32);
    Sequential<Input<6>, GaussianNoise, Dense<2>> net;
    CHECK(net.layer_names()[0] == "gaussian_noise");
    const auto before = net.predict(data.x);  // no stddev needed to infer
    net.compile(optim::SGD{.lr = 0.01}, loss::MeanSquaredError{});
    LATENT_CHECK_ERROR(value_error, net.fit(data.x, data.y, {.epochs = 1, .verbose = Verbosity::silent}),
                       "latent.layers.gaussian_noise.stddev", "stddev was never set");
    net.layer<0>().stddev(0.2);
    net.fit(data.x, data.y, {.epochs = 1, .verbose = Verbosity::silent});
    CHECK(!std::equal(before.values().begin(), before.values().end(), net.predict(data.x).values().begin()));
}

// ---- LayerNormalization, RMSNormalization, GroupNormalization and UnitNormalization --------

TEST_CASE("LayerNormalization normalizes each sample's last axis over itself, then scales and shifts") {
    Sequential<Input<4>, LayerNormalization> net;
    static_assert(decltype(net)::param_count == 8);  // Keras: gamma and beta, 2 * 4
    CHECK(net.parameters().slots()[0].name == "layer_normalization/gamma");
    CHECK(net.parameters().slots()[1].name == "layer_normalization/beta");
    const std::vector<float> weights{1.5f, -1.0f, 0.5f, 2.0f, 0.1f, 0.2f, -0.3f, 0.0f};
    std::copy(weights.begin(), weights.end(), net.parameters().values().begin());
    Tensor<Shape<4>> x(2, {1.0f, -2.0f, 0.5f, 4.0f, 0.1f, 0.1f, 0.1f, 0.1f});  // a constant row: beta
    const auto y = net.predict(x);
    // PyTorch's layer_norm with eps 1e-3 (Keras' default), float64
    const double want[8] = {0.18792188940915483, 1.5481356376070403, -0.38792188940915479, 2.9307296469718267,
                            0.1, 0.2, -0.3, 0.0};
    for (std::size_t i = 0; i < 8; ++i) CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-5));
    // training and inference agree: no batch statistics
    net.forward(x.data(), 2, Mode::train);
    for (std::size_t i = 0; i < 8; ++i) CHECK(net.output(0)[i] == y[i]);

    CHECK(LayerNormalization{}.epsilon() == 1e-3);
    CHECK_THROWS_WITH_AS(LayerNormalization{0.0}, doctest::Contains("LayerNormalization: epsilon"), value_error);
    CHECK_THROWS_WITH_AS(LayerNormalization{"ln"}.epsilon(-1), doctest::Contains("LayerNormalization \"ln\""),
                         value_error);
}

TEST_CASE("RMSNormalization divides each sample's last axis by its root mean square, then scales") {
    Sequential<Input<4>, RMSNormalization> net;
    static_assert(decltype(net)::param_count == 4);  // Keras: scale, ones at first
    CHECK(net.parameters().slots()[0].name == "rms_normalization/scale");
    CHECK(RMSNormalization::params<Shape<4>>[0].init == Init::ones);
    const std::vector<float> scale{1.5f, -1.0f, 0.5f, 2.0f};
    std::copy(scale.begin(), scale.end(), net.parameters().values().begin());
    // A zero row stays zero; in the small row epsilon (Keras' 1e-6) weighs as much as the squares.
    Tensor<Shape<4>> x(3, {1.0f, -2.0f, 0.5f, 4.0f, 0, 0, 0, 0, 1e-3f, -2e-3f, 0.0f, 3e-3f});
    const auto y = net.predict(x);
    // x / sqrt(mean(x^2) + 1e-6) * scale (Keras' ops.rms_normalization), in double
    const double want[12] = {0.6507913122050244, 0.8677217496066991, 0.10846521870083739, 3.4708869984267965, 0, 0,
                             0, 0, 0.7071067811865476, 0.9428090415820635, 0.0, 2.8284271247461903};
    for (std::size_t i = 0; i < 12; ++i) {
        CAPTURE(i);
        CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-5));
    }
    net.forward(x.data(), 3, Mode::train);  // no batch statistics: training gives the same
    for (std::size_t i = 0; i < 12; ++i) CHECK(net.output(0)[i] == y[i]);
    // Per position of a sequence, over its features.
    const auto per_step = Sequential<Input<2, 4>, RMSNormalization>{}.predict(
        Tensor<Shape<2, 4>>(1, {1.0f, -2.0f, 0.5f, 4.0f, 3.0f, 3.0f, -3.0f, 3.0f}));
    CHECK(per_step[0] == doctest::Approx(0.6507913122050244 / 1.5).epsilon(1e-5));
    for (std::size_t i = 4; i < 8; ++i) CHECK(std::abs(per_step[i]) == doctest::Approx(1.0).epsilon(1e-5));

    CHECK(RMSNormalization{}.epsilon() == 1e-6);
    CHECK_THROWS_WITH_AS(RMSNormalization{0.0}, doctest::Contains("RMSNormalization: epsilon"), value_error);
    CHECK_THROWS_WITH_AS(RMSNormalization{"rms"}.epsilon(-1), doctest::Contains("RMSNormalization \"rms\""),
                         value_error);
}

TEST_CASE("GroupNormalization normalizes each sample's groups of channels over all positions") {
    using Net = Sequential<Input<2, 3, 4>, GroupNormalization<2>>;
    static_assert(Net::param_count == 8);  // Keras: gamma and beta per channel
    Net net;
    CHECK(net.parameters().slots()[0].name == "group_normalization/gamma");
    CHECK(net.parameters().slots()[1].name == "group_normalization/beta");
    const std::vector<float> weights{1.5f, -1.0f, 0.5f, 2.0f, 0.1f, 0.2f, -0.3f, 0.0f};
    std::copy(weights.begin(), weights.end(), net.parameters().values().begin());
    std::vector<float> values{1.0f, -2.0f, 0.5f,  4.0f, 0.3f, 0.7f, -1.1f, 2.2f, 3.0f, 0.0f,  -0.5f, 1.5f,
                              -2.0f, 1.0f, 0.25f, 0.75f, 0.9f, -0.4f, 1.6f, -2.5f, 0.05f, 0.6f, 1.2f, -0.8f};
    values.resize(48, 0.1f);  // a second sample, constant: beta
    const auto y = net.predict(Tensor<Shape<2, 3, 4>>(2, values));
    // PyTorch's group_norm (2 groups, eps 1e-3, Keras' default) on the channels-first transpose, float64
    const double want[24] = {0.9548138250753906,  1.9482633032615333,  -0.32801190291128235, 4.166133923896187,
                             0.14346510974959617, -0.138061964719081,  -0.8169469355445758,  1.9659262770463675,
                             3.2729530117205172,  0.4028371788314486,  -0.6335962983070907,  1.110289969938104,
                             -2.5223949548922997, -0.36987588338359373, -0.40440800176023445, 0.1935367837506788,
                             0.8389068657431342,  0.7119224037174655,  0.008130932024106823, -3.7790603563948295,
                             -0.14630228858104466, -0.06079065849757678, -0.11410282613421656, -1.701086467703333};
    for (std::size_t i = 0; i < 24; ++i) {
        CAPTURE(i);
        CHECK(y[i] == doctest::Approx(want[i]).epsilon(1e-5));
        CHECK(y[24 + i] == doctest::Approx(weights[4 + i % 4]).epsilon(1e-5));
    }
    // One group is LayerNormalization over the whole sample; one group per channel, instance norm.
    static_assert(accepts_v<GroupNormalization<4>, Shape<5, 8>> && !accepts_v<GroupNormalization<3>, Shape<5, 8>>);
    static_assert(std::is_same_v<GroupNormalization<3>::requirement, channels_divisible_by<3>>);
    static_assert(GroupNormalization<>::groups == 32);  // Keras' default
    CHECK(GroupNormalization<2>{}.epsilon() == 1e-3);
    CHECK_THROWS_WITH_AS(GroupNormalization<2>{0.0}, doctest::Contains("GroupNormalization: epsilon"), value_error);
    CHECK_THROWS_WITH_AS(GroupNormalization<2>{"gn"}.epsilon(-1), doctest::Contains("GroupNormalization \"gn\""),
                         value_error);
    Sequential<Input<12>, GroupNormalization<1>> whole;
    Sequential<Input<12>, LayerNormalization> layer_norm;
    Tensor<Shape<12>> row(3);
    Generator g(5);
    for (std::size_t i = 0; i < row.size(); ++i) row[i] = static_cast<float>(g.uniform(-2, 2));
    const auto a = whole.predict(row), b = layer_norm.predict(row);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
}

TEST_CASE("UnitNormalization scales each sample's last axis to unit L2 norm") {
    const auto y = Sequential<Input<2, 4>, UnitNormalization>{}.predict(
        Tensor<Shape<2, 4>>(1, {3.0f, -4.0f, 0.0f, 12.0f, 0.0f, 0.0f, 0.0f, 0.0f}));
    // PyTorch's F.normalize; a zero row stays zero (its squared norm is floored at 1e-12)
    const double want[8] = {0.23076923076923078, -0.30769230769230771, 0.0, 0.92307692307692313, 0, 0, 0, 0};
    for (std::size_t i = 0; i < 8; ++i) CHECK(y[i] == doctest::Approx(want[i]));
    static_assert(Sequential<Input<2, 4>, UnitNormalization>::param_count == 0);
}

TEST_CASE("LayerNormalization, RMSNormalization, GroupNormalization and UnitNormalization gradients") {
    CHECK(check_layer_gradients<Shape<5>>(LayerNormalization{}, {.batch = 3, .mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4>>(LayerNormalization{1e-2}, {.batch = 2, .mode = Mode::infer}) > 0);
    CHECK(check_layer_gradients<Shape<6>>(UnitNormalization{}, {.batch = 3}) > 0);
    CHECK(check_layer_gradients<Shape<5>>(RMSNormalization{}, {.batch = 3}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4>>(RMSNormalization{1e-2}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<3, 2, 6>>(GroupNormalization<3>{}, {.batch = 2, .mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<4, 4>>(GroupNormalization<1>{1e-2}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<5, 4>>(GroupNormalization<4>{}, {.batch = 3}) > 0);  // instance norm
    CHECK(check_layer_gradients<Shape<2, 4>>(UnitNormalization{}, {.batch = 2}) > 0);
    // A row far below the floor: the norm is the floor, a constant, so the map is linear there.
    CHECK(check_layer_gradients<Shape<3>>(UnitNormalization{}, {.batch = 2, .step = 1e-12, .input_low = -1e-9, .input_high = 1e-9}) > 0);
}

// ---- GaussianDropout, AlphaDropout, SpatialDropout1D and SpatialDropout2D -----------------

TEST_CASE("GaussianDropout multiplies by N(1, rate / (1 - rate)) in training, nothing in inference") {
    Sequential<Input<4000>, GaussianDropout> net(1);
    net.layer<0>().rate(0.2);
    Tensor<Shape<4000>> x(2);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = i % 2 ? 2.0f : -1.0f;
    CHECK(std::equal(x.data(), x.data() + x.size(), net.predict(x).data()));
    Generator rng(3);
    net.forward(x.data(), 2, Mode::train, &rng);
    double sum = 0, squares = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double m = net.output(0)[i] / x[i];  // the multiplier
        sum += m;
        squares += m * m;
    }
    const double mean = sum / 8000, variance = squares / 8000 - mean * mean;
    CHECK(mean == doctest::Approx(1.0).epsilon(0.02));
    CHECK(variance == doctest::Approx(0.25).epsilon(0.1));  // 0.2 / 0.8
    CHECK(check_layer_gradients<Shape<6>>(GaussianDropout{0.3}, {.mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<6>>(GaussianDropout{0.3}, {.mode = Mode::infer}) > 0);
    CHECK_THROWS_WITH_AS(GaussianDropout{1.0}, doctest::Contains("GaussianDropout: rate must be in [0, 1)"),
                         value_error);
}

TEST_CASE("AlphaDropout: kept inputs through a x + b, dropped ones SELU's saturation, mean and variance kept") {
    Sequential<Input<5000>, AlphaDropout> net(1);
    net.layer<0>().rate(0.2);
    Tensor<Shape<5000>> x(4);
    Generator g(6);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.normal());
    CHECK(std::equal(x.data(), x.data() + x.size(), net.predict(x).data()));  // inference: the identity
    Generator rng(3);
    net.forward(x.data(), 4, Mode::train, &rng);
    // Keras' constants: alpha_p = -1.6732632423543772 * 1.0507009873554805,
    // a = ((1 - rate) (1 + rate alpha_p^2))^-1/2, b = -a alpha_p rate.
    const double alpha_p = -1.7580993408473766, rate = 0.2;
    const double a = 1.0 / std::sqrt((1 - rate) * (1 + rate * alpha_p * alpha_p)), b = -a * alpha_p * rate;
    std::size_t dropped = 0;
    double sum = 0, squares = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double y = net.output(0)[i];
        sum += y;
        squares += y * y;
        if (y == doctest::Approx(a * alpha_p + b).epsilon(1e-6) && std::abs(x[i] - alpha_p) > 1e-3) {
            ++dropped;
        } else {
            INFO("element " << i);
            CHECK(y == doctest::Approx(a * x[i] + b).epsilon(1e-5));
        }
    }
    CHECK(static_cast<double>(dropped) / 20000 == doctest::Approx(rate).epsilon(0.05));
    const double mean = sum / 20000, variance = squares / 20000 - mean * mean;
    CHECK(std::abs(mean) < 0.03);  // N(0, 1) in, N(0, 1) out: the point of alpha dropout
    CHECK(variance == doctest::Approx(1.0).epsilon(0.03));
    CHECK(check_layer_gradients<Shape<6>>(AlphaDropout{0.3}, {.mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<6>>(AlphaDropout{0.3}, {.mode = Mode::infer}) > 0);
    CHECK_THROWS_WITH_AS(AlphaDropout{1.0}, doctest::Contains("AlphaDropout: rate must be in [0, 1)"), value_error);
    Sequential<Input<3>, AlphaDropout> no_rng;
    Tensor<Shape<3>> small(1);
    CHECK_THROWS_WITH_AS(no_rng.forward(small.data(), 1, Mode::train), doctest::Contains("needs a random generator"),
                         value_error);
}

TEST_CASE("SpatialDropout drops whole channels: every position of a sample's channel alike") {
    Sequential<Input<5, 4, 40>, SpatialDropout2D> net(1);
    net.layer<0>().rate(0.25);
    Tensor<Shape<5, 4, 40>> x(3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0f + static_cast<float>(i % 7);
    CHECK(std::equal(x.data(), x.data() + x.size(), net.predict(x).data()));
    Generator rng(4);
    net.forward(x.data(), 3, Mode::train, &rng);
    const float* y = net.output(0);
    std::size_t dropped = 0;
    for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t c = 0; c < 40; ++c) {
            const float scale = y[b * 800 + c] / x[b * 800 + c];
            CHECK((scale == 0.0f || scale == doctest::Approx(1 / 0.75)));
            dropped += scale == 0.0f;
            for (std::size_t p = 1; p < 20; ++p) {
                const std::size_t i = b * 800 + p * 40 + c;
                CHECK(y[i] / x[i] == doctest::Approx(scale));
            }
        }
    CHECK(dropped > 15);  // 30 expected of 120
    CHECK(dropped < 45);

    CHECK(check_layer_gradients<Shape<6, 3>>(SpatialDropout1D{0.4}, {.mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<3, 2, 4>>(SpatialDropout2D{0.4}, {.mode = Mode::train}) > 0);
    static_assert(!accepts_v<SpatialDropout1D, Shape<4, 4, 2>> && !accepts_v<SpatialDropout2D, Shape<4, 2>>);
    CHECK_THROWS_WITH_AS(SpatialDropout1D{"sd"}.rate(-0.1),
                         doctest::Contains("SpatialDropout1D \"sd\": rate must be in [0, 1)"), value_error);
}
