// SpectralNormalization<L>: parameters and shapes, one training step's kernel and vector_u
// against Keras' formula worked in double, convergence to the largest singular value, what
// is left alone (inference, frozen, an all-zero kernel), gradients, settings, and a network
// that trains with it and saves its vector_u.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include <latent/latent.hpp>

#include "support/gradient_check.hpp"
#include "support/messages.hpp"
#include "support/three_classes.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;

namespace {

using SnDense = SpectralNormalization<Dense<3>>;

// Runs one forward pass of `layer` on double data as a model does: `params` doubles as the
// writable state (when `with_state`), so a training pass may change it.
template <class In, class L>
std::vector<double> run(const L& layer, const std::vector<double>& x, std::size_t batch, std::vector<double>& params,
                        Mode mode, bool trainable = true, bool with_state = true) {
    using Out = typename L::template output_shape<In>;
    std::vector<double> y(batch * Out::size), workspace(workspace_size<L, In>(batch));
    ForwardArgs<double> a{x.data(), y.data(), params.data(), workspace.data(), batch, mode};
    a.trainable = trainable;
    a.state = with_state ? params.data() : nullptr;
    layer.template forward<In, cpu::reference, double>(a);
    return y;
}

std::vector<double> random_values(std::size_t n, std::uint64_t seed) {
    Generator g(seed);
    std::vector<double> v(n);
    for (auto& e : v) e = g.normal();
    return v;
}

// The largest singular value of a (rows, cols) row-major matrix, by 2000 power iterations on
// W^T W in double: an estimate independent of the layer's.
double largest_singular_value(const double* w, std::size_t rows, std::size_t cols) {
    std::vector<double> u(cols, 1.0), wu(rows);
    double sigma = 0;
    for (int it = 0; it < 2000; ++it) {
        for (std::size_t r = 0; r < rows; ++r) {
            wu[r] = 0;
            for (std::size_t c = 0; c < cols; ++c) wu[r] += w[r * cols + c] * u[c];
        }
        double norm = 0;
        for (std::size_t c = 0; c < cols; ++c) {
            u[c] = 0;
            for (std::size_t r = 0; r < rows; ++r) u[c] += w[r * cols + c] * wu[r];
            norm += u[c] * u[c];
        }
        norm = std::sqrt(norm);
        for (auto& e : u) e /= norm;
        sigma = std::sqrt(norm);  // |W^T W u| -> sigma^2
    }
    return sigma;
}

double norm_of(const std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e * e;
    return std::sqrt(s);
}

}  // namespace

// L's parameters, then vector_u (1, kernel columns), non-trainable; shapes and requirements are L's.
static_assert(SnDense::params<Shape<4>>.size() == 3);
static_assert(SnDense::params<Shape<4>>[2].name == "vector_u");
static_assert(SnDense::params<Shape<4>>[2].size() == 3 && !SnDense::params<Shape<4>>[2].trainable);
static_assert(SnDense::params<Shape<4>>[2].init == Init::truncated_normal);
static_assert(std::is_same_v<SnDense::output_shape<Shape<4>>, Shape<3>>);
static_assert(!accepts_v<SnDense, Shape<2, 2>> && accepts_v<SnDense, Shape<4>>);
static_assert(SnDense::kernel_rows<Shape<4>> == 4 && SnDense::kernel_cols<Shape<4>> == 3);
static_assert(Sequential<Input<4>, SnDense>::param_count == 4 * 3 + 3 + 3);
static_assert(Sequential<Input<4>, SnDense>::non_trainable_param_count == 3);
// A Conv2D's kernel (3, 3, 2, 5) is a (18, 5) matrix, as Keras reshapes it; an Embedding's is its table.
using SnConv = SpectralNormalization<Conv2D<5, 3>>;
static_assert(SnConv::kernel_rows<Shape<6, 6, 2>> == 18 && SnConv::kernel_cols<Shape<6, 6, 2>> == 5);
static_assert(SnConv::kernel_offset<Shape<6, 6, 2>> == 0 && SnConv::u_offset<Shape<6, 6, 2>> == 18 * 5 + 5);
using SnEmbedding = SpectralNormalization<Embedding<7, 4>>;
static_assert(SnEmbedding::kernel_rows<Shape<3>> == 7 && SnEmbedding::kernel_cols<Shape<3>> == 4);
static_assert(std::is_same_v<SnEmbedding::output_shape<Shape<3>>, Shape<3, 4>>);

TEST_CASE("SpectralNormalization: one training pass updates vector_u and the kernel as Keras' formula does") {
    for (int iterations : {1, 3}) {
        INFO("power_iterations " << iterations);
        const SnDense layer(Dense<3>{}, iterations);
        auto params = random_values(4 * 3 + 3 + 3, 5);
        const std::vector<double> before = params;
        const auto x = random_values(2 * 4, 6);
        const auto y = run<Shape<4>>(layer, x, 2, params, Mode::train);

        // Keras' normalized_weights, written out: W (4, 3), u (1, 3).
        std::vector<double> u(before.begin() + 15, before.end()), v(4);
        auto normalize = [](std::vector<double>& e) {
            const double n = norm_of(e);
            for (auto& c : e) c /= n;
        };
        std::vector<double> vw(3);
        for (int it = 0; it < iterations; ++it) {
            for (std::size_t r = 0; r < 4; ++r) {
                v[r] = 0;
                for (std::size_t c = 0; c < 3; ++c) v[r] += u[c] * before[r * 3 + c];
            }
            normalize(v);
            for (std::size_t c = 0; c < 3; ++c) {
                vw[c] = 0;
                for (std::size_t r = 0; r < 4; ++r) vw[c] += v[r] * before[r * 3 + c];
            }
            u = vw;
            normalize(u);
        }
        double sigma = 0;
        for (std::size_t c = 0; c < 3; ++c) sigma += vw[c] * u[c];
        for (std::size_t i = 0; i < 12; ++i) {
            INFO("kernel " << i);
            CHECK(params[i] == doctest::Approx(before[i] / sigma).epsilon(1e-12));
        }
        for (std::size_t i = 12; i < 15; ++i) CHECK(params[i] == before[i]);  // the bias is the optimizer's
        for (std::size_t c = 0; c < 3; ++c) CHECK(params[15 + c] == doctest::Approx(u[c]).epsilon(1e-12));
        // The output is Dense's with the normalized kernel.
        for (std::size_t s = 0; s < 2; ++s)
            for (std::size_t c = 0; c < 3; ++c) {
                double want = params[12 + c];
                for (std::size_t r = 0; r < 4; ++r) want += x[s * 4 + r] * params[r * 3 + c];
                CHECK(y[s * 3 + c] == doctest::Approx(want).epsilon(1e-12));
            }
    }
}

TEST_CASE("SpectralNormalization: enough power iterations divide the kernel by its largest singular value") {
    SUBCASE("Dense") {
        const SnDense layer(Dense<3>{}, 60);
        auto params = random_values(4 * 3 + 3 + 3, 8);
        const double sigma = largest_singular_value(params.data(), 4, 3);
        const std::vector<double> before = params;
        run<Shape<4>>(layer, random_values(4, 9), 1, params, Mode::train);
        for (std::size_t i = 0; i < 12; ++i) CHECK(params[i] == doctest::Approx(before[i] / sigma).epsilon(1e-9));
        CHECK(largest_singular_value(params.data(), 4, 3) == doctest::Approx(1.0).epsilon(1e-9));
        // vector_u is the top right singular vector: |W u| = sigma, and a unit vector.
        std::vector<double> u(params.begin() + 15, params.end()), wu(4, 0.0);
        for (std::size_t r = 0; r < 4; ++r)
            for (std::size_t c = 0; c < 3; ++c) wu[r] += before[r * 3 + c] * u[c];
        CHECK(norm_of(u) == doctest::Approx(1.0).epsilon(1e-12));
        CHECK(norm_of(wu) == doctest::Approx(sigma).epsilon(1e-9));
    }
    SUBCASE("Conv2D: the kernel as (kh * kw * in, filters)") {
        const SnConv layer(Conv2D<5, 3>{}, 60);
        constexpr std::size_t kernel = 3 * 3 * 2 * 5;
        auto params = random_values(kernel + 5 + 5, 10);
        const double sigma = largest_singular_value(params.data(), 18, 5);
        run<Shape<6, 6, 2>>(layer, random_values(72, 11), 1, params, Mode::train);
        CHECK(sigma > 2.0);
        CHECK(largest_singular_value(params.data(), 18, 5) == doctest::Approx(1.0).epsilon(1e-9));
    }
    SUBCASE("Embedding: its table (vocabulary, dimension)") {
        const SnEmbedding layer(Embedding<7, 4>{}, 60);
        auto params = random_values(7 * 4 + 4, 12);
        run<Shape<3>>(layer, {0, 6, 2}, 1, params, Mode::train);
        CHECK(largest_singular_value(params.data(), 7, 4) == doctest::Approx(1.0).epsilon(1e-9));
    }
}

TEST_CASE("SpectralNormalization leaves the kernel and vector_u alone in inference, frozen, and when all zero") {
    const SnDense layer;
    const auto x = random_values(4, 13);
    const auto initial = random_values(4 * 3 + 3 + 3, 14);
    std::vector<double> plain_params(initial.begin(), initial.begin() + 15);
    const auto plain = run<Shape<4>>(Dense<3>{}, x, 1, plain_params, Mode::infer, true, false);
    SUBCASE("inference: Dense's output with the kernel as it is") {
        auto params = initial;
        CHECK(run<Shape<4>>(layer, x, 1, params, Mode::infer) == plain);
        CHECK(params == initial);
    }
    SUBCASE("frozen in training, even when handed a writable state") {
        auto params = initial;
        CHECK(run<Shape<4>>(layer, x, 1, params, Mode::train, false) == plain);
        CHECK(params == initial);
    }
    SUBCASE("training without a state (as a model passes none to a frozen layer)") {
        auto params = initial;
        CHECK(run<Shape<4>>(layer, x, 1, params, Mode::train, true, false) == plain);
        CHECK(params == initial);
    }
    SUBCASE("an all-zero kernel: no division by a zero sigma, u kept") {
        auto params = initial;
        for (std::size_t i = 0; i < 12; ++i) params[i] = 0;
        const auto zeroed = params;
        const auto y = run<Shape<4>>(layer, x, 1, params, Mode::train);
        CHECK(params == zeroed);
        for (std::size_t c = 0; c < 3; ++c) CHECK(y[c] == initial[12 + c]);  // the bias alone
    }
}

TEST_CASE("SpectralNormalization gradients are the wrapped layer's at the kernel it runs with") {
    SUBCASE("Dense, inference") {
        CHECK(check_layer_gradients<Shape<4>>(SnDense{}, {.batch = 3, .mode = Mode::infer}) > 0);
    }
    SUBCASE("Conv2D, frozen in training") {
        CHECK(check_layer_gradients<Shape<5, 5, 2>>(SpectralNormalization<Conv2D<2, 3, Padding::same>>{},
                                                    {.batch = 2, .mode = Mode::train, .trainable = false}) > 0);
    }
    SUBCASE("backward adds nothing for vector_u") {
        const SnDense layer;
        auto params = random_values(18, 15);
        const auto x = random_values(8, 16), dy = random_values(6, 17);
        run<Shape<4>>(layer, x, 2, params, Mode::train);
        std::vector<double> dx(8), dparams(18, 0.0), workspace(workspace_size<SnDense, Shape<4>>(2));
        std::vector<double> y(6);
        BackwardArgs<double> b{x.data(), y.data(), dy.data(), dx.data(), params.data(), dparams.data(),
                               workspace.data(), 2};
        layer.backward<Shape<4>, cpu::reference, double>(b);
        CHECK(dparams[15] == 0.0);
        CHECK(dparams[16] == 0.0);
        CHECK(dparams[17] == 0.0);
        CHECK(dparams[0] != 0.0);
    }
}

TEST_CASE("SpectralNormalization: power_iterations must be at least 1, as Keras requires") {
    CHECK(SnDense{}.power_iterations() == 1);
    CHECK(testing::contains(testing::message_of<value_error>([] { SnDense(Dense<3>{}, 0, "critic"); }),
                            "SpectralNormalization \"critic\": power_iterations must be at least 1, got 0"));
    SnDense layer;
    CHECK_THROWS_AS(layer.power_iterations(-2), value_error);
    CHECK(layer.power_iterations() == 1);  // a refused setting changes nothing
    CHECK(layer.power_iterations(4).power_iterations() == 4);
}

TEST_CASE("a network of spectrally normalized layers trains, keeps its kernels' norms near 1 and saves vector_u") {
    using Net = Sequential<Input<4>, SpectralNormalization<Dense<16>>, ReLU, SpectralNormalization<Dense<3>>, Softmax>;
    Net net(2);
    const testing::ThreeClassData data;
    net.compile(optim::Adam{.lr = 1e-2}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    const History history = net.fit(data.x, data.y, {.epochs = 30, .batch_size = 16, .verbose = Verbosity::silent});
    // (The same network without the wrapper reaches 0.89 here; these classes overlap.)
    CHECK(history.last("accuracy") > 0.8);
    CHECK(history.last("loss") < 0.6 * history.at("loss")[0]);

    const auto& slots = net.parameters().slots();
    REQUIRE(slots.size() == 6);
    CHECK(slots[0].name == "spectral_normalization/kernel");
    CHECK(slots[2].name == "spectral_normalization/vector_u");
    CHECK(slots[5].name == "spectral_normalization_1/vector_u");
    const auto p = net.parameters().values();
    const std::vector<double> first(p.begin(), p.begin() + 4 * 16), second(p.begin() + 64 + 16 + 16,
                                                                            p.begin() + 64 + 16 + 16 + 48);
    // Normalized at each step, then moved by one Adam update of at most about lr per weight.
    CHECK(largest_singular_value(first.data(), 4, 16) == doctest::Approx(1.0).epsilon(0.1));
    CHECK(largest_singular_value(second.data(), 16, 3) == doctest::Approx(1.0).epsilon(0.1));

    const auto path = std::filesystem::path(LATENT_TEST_TMP_DIR) / "spectral_normalization.safetensors";
    net.save_weights(path);
    Net copy;
    copy.load_weights(path);
    const auto loaded = copy.parameters().values();
    CHECK(std::vector<float>(loaded.begin(), loaded.end()) == std::vector<float>(p.begin(), p.end()));
}

TEST_CASE("SpectralNormalization in a functional model: a training step normalizes, predict does not") {
    auto in = input<4>("in");
    auto out = Softmax{}(SpectralNormalization<Dense<3>>{Dense<3>{}, 40, "critic"}(in));
    Model model(in, out);
    auto weights = model.get_layer("critic").get_weights();
    REQUIRE(weights.size() == 3);  // kernel, bias, vector_u
    CHECK(weights[2].size() == 3);
    for (auto& w : weights[0]) w *= 5.0f;  // a kernel far from norm 1
    model.get_layer("critic").set_weights(weights);
    const testing::ThreeClassData data;
    model.predict(data.x);
    CHECK(model.get_layer("critic").get_weights()[0] == weights[0]);  // inference leaves it
    model.compile(optim::SGD{.lr = 1e-6}, loss::SparseCategoricalCrossentropy{});
    Tensor<Shape<4>> x(8);
    Tensor<Shape<1>> y(8);
    std::copy(data.x.data(), data.x.data() + x.size(), x.data());
    model.train_on_batch(x, y);
    const auto after = model.get_layer("critic").get_weights()[0];
    const std::vector<double> kernel(after.begin(), after.end());
    // Normalized, then moved by one step of 1e-6 at most per weight.
    CHECK(largest_singular_value(kernel.data(), 4, 3) == doctest::Approx(1.0).epsilon(1e-4));
}
