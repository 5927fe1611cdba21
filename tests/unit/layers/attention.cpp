// MultiHeadAttention: Keras' weights and formula (against a direct computation in double),
// the causal mask and attention masks, finite-difference gradients, and learning a task only
// attention can do.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <latent/latent.hpp>

#include "support/gradient_check.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;
using latent::testing::check_merge_gradients;

namespace {
// Keras' MultiHeadAttention(num_heads=H, key_dim=K, value_dim=V)(query, value, key) for one
// sample, written out with the weights in Keras' layout: q[t, h, k] = sum_d x[t, d] Wq[d, h, k] +
// bq[h, k], ...; query (Lq, Dq), value (Lk, Dv), key (Lk, Dk).
std::vector<double> attend(const std::vector<double>& query, const std::vector<double>& value,
                           const std::vector<double>& key, const std::vector<double>& w, std::size_t Lq,
                           std::size_t Lk, std::size_t Dq, std::size_t Dv, std::size_t Dk, std::size_t H, std::size_t K,
                           std::size_t V, bool causal, const double* mask = nullptr) {
    const double* wq = w.data();
    const double* bq = wq + Dq * H * K;
    const double* wk = bq + H * K;
    const double* bk = wk + Dk * H * K;
    const double* wv = bk + H * K;
    const double* bv = wv + Dv * H * V;
    const double* wo = bv + H * V;
    const double* bo = wo + H * V * Dq;
    auto project = [&](const std::vector<double>& x, std::size_t L, std::size_t D, const double* kernel,
                       const double* bias, std::size_t width) {
        std::vector<double> out(L * H * width);
        for (std::size_t t = 0; t < L; ++t)
            for (std::size_t j = 0; j < H * width; ++j) {
                double s = bias[j];
                for (std::size_t d = 0; d < D; ++d) s += x[t * D + d] * kernel[d * H * width + j];
                out[t * H * width + j] = s;
            }
        return out;
    };
    const auto q = project(query, Lq, Dq, wq, bq, K), k = project(key, Lk, Dk, wk, bk, K);
    const auto v = project(value, Lk, Dv, wv, bv, V);
    std::vector<double> heads(Lq * H * V, 0.0), y(Lq * Dq);
    for (std::size_t h = 0; h < H; ++h)
        for (std::size_t i = 0; i < Lq; ++i) {
            std::vector<double> score(Lk);
            double max = -1e300;
            for (std::size_t j = 0; j < Lk; ++j) {
                double s = 0;
                for (std::size_t c = 0; c < K; ++c)
                    s += q[(i * H + h) * K + c] / std::sqrt(double(K)) * k[(j * H + h) * K + c];
                score[j] = (causal && j > i) || (mask && mask[i * Lk + j] == 0.0) ? -1e9 : s;
                max = std::max(max, score[j]);
            }
            double total = 0;
            for (auto& s : score) total += s = std::exp(s - max);
            for (std::size_t j = 0; j < Lk; ++j)
                for (std::size_t c = 0; c < V; ++c)
                    heads[(i * H + h) * V + c] += score[j] / total * v[(j * H + h) * V + c];
        }
    for (std::size_t t = 0; t < Lq; ++t)
        for (std::size_t d = 0; d < Dq; ++d) {
            double s = bo[d];
            for (std::size_t j = 0; j < H * V; ++j) s += heads[t * H * V + j] * wo[j * Dq + d];
            y[t * Dq + d] = s;
        }
    return y;
}
std::vector<double> attend(const std::vector<double>& x, const std::vector<double>& w, std::size_t L, std::size_t D,
                           std::size_t H, std::size_t K, std::size_t V, bool causal) {
    return attend(x, x, x, w, L, L, D, D, D, H, K, V, causal);
}

template <class In, class L>
std::vector<double> run(const L& layer, const std::vector<double>& x, const std::vector<double>& params,
                        std::size_t batch) {
    std::vector<double> y(batch * In::size), ws(workspace_size<L, In>(batch) + 1);
    ForwardArgs<double> a{x.data(), y.data(), params.data(), ws.data(), batch, Mode::infer, nullptr};
    layer.template forward<In, cpu::reference, double>(a);
    return y;
}
// value: 5 steps of (value, one-hot position); query: 2 steps naming a position each (one-hot).
// The target at each query step is the value at the position it names: a lookup across
// sequences, cross-attention's job.
struct LookupData {
    static constexpr std::size_t n = 1024, Lk = 5, Lq = 2;
    Tensor<Shape<Lq, Lk>> queries{n};
    Tensor<Shape<Lk, 1 + Lk>> values{n};
    Tensor<Shape<Lq, 1>> targets{n};
    LookupData() {
        Generator g(9);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t t = 0; t < Lk; ++t) {
                values[(i * Lk + t) * (1 + Lk)] = static_cast<float>(g.uniform(-1.0, 1.0));
                values[(i * Lk + t) * (1 + Lk) + 1 + t] = 1.0f;
            }
            for (std::size_t s = 0; s < Lq; ++s) {
                const std::size_t at = g.below(Lk);
                queries[(i * Lq + s) * Lk + at] = 1.0f;
                targets[i * Lq + s] = values[(i * Lk + at) * (1 + Lk)];
            }
        }
    }
};
// y (batch, lq, dv) against each query step's mix of the value's steps: weight(b, i, j), an
// unnormalized weight (0 for a key it may not attend to), normalized over j.
template <class Weight>
void check_weighted_values(const std::vector<double>& y, const std::vector<double>& v, std::size_t batch,
                           std::size_t lq, std::size_t lk, std::size_t dv, Weight weight) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t i = 0; i < lq; ++i) {
            std::vector<double> w(lk);
            double total = 0;
            for (std::size_t j = 0; j < lk; ++j) total += w[j] = weight(b, i, j);
            for (std::size_t c = 0; c < dv; ++c) {
                double want = 0;
                for (std::size_t j = 0; j < lk; ++j) want += w[j] / total * v[(b * lk + j) * dv + c];
                CHECK(y[(b * lq + i) * dv + c] == doctest::Approx(want).epsilon(1e-12));
            }
        }
}
}  // namespace

TEST_CASE("MultiHeadAttention computes Keras' mha(x, x): per head softmax(q k^T / sqrt(key_dim)) v, then projected") {
    constexpr std::size_t L = 5, D = 6, H = 2, K = 3, V = 4, batch = 2;
    using In = Shape<L, D>;
    using Layer = MultiHeadAttention<H, K, V>;
    constexpr auto specs = Layer::params<In>;
    std::size_t count = 0;
    for (const auto& s : specs) count += s.size();
    CHECK(count == 3 * (D * H * K + H * K) - (D * H * K + H * K) + D * H * V + H * V + H * V * D + D);
    Generator g(11);
    std::vector<double> x(batch * L * D), w(count);
    for (auto& v : x) v = g.uniform(-1.0, 1.0);
    for (auto& v : w) v = g.normal() * 0.6;
    for (const bool causal : {false, true}) {
        CAPTURE(causal);
        const auto y = run<In>(Layer{causal}, x, w, batch);
        for (std::size_t b = 0; b < batch; ++b) {
            const std::vector<double> sample(x.begin() + b * L * D, x.begin() + (b + 1) * L * D);
            const auto want = attend(sample, w, L, D, H, K, V, causal);
            for (std::size_t i = 0; i < L * D; ++i) CHECK(y[b * L * D + i] == doctest::Approx(want[i]).epsilon(1e-12));
        }
    }
    // With the causal mask, step 0 sees only itself: changing later steps leaves its output alone.
    auto later = x;
    for (std::size_t i = D; i < L * D; ++i) later[i] += 0.5;
    const auto before = run<In>(Layer{true}, x, w, 1), after = run<In>(Layer{true}, later, w, 1);
    for (std::size_t d = 0; d < D; ++d) CHECK(after[d] == before[d]);
    CHECK(run<In>(Layer{false}, later, w, 1)[0] != before[0]);
}

TEST_CASE("MultiHeadAttention has Keras' weights: names, shapes, initializers and count") {
    using Layer = MultiHeadAttention<4, 8>;
    constexpr auto specs = Layer::params<Shape<10, 16>>;
    CHECK(specs[0].name == "query/kernel");
    CHECK(specs[0].dim_vector() == std::vector<std::size_t>{16, 4, 8});
    CHECK(specs[1].name == "query/bias");
    CHECK(specs[1].dim_vector() == std::vector<std::size_t>{4, 8});
    CHECK(specs[4].name == "value/kernel");
    CHECK(specs[6].name == "attention_output/kernel");
    CHECK(specs[6].dim_vector() == std::vector<std::size_t>{4, 8, 16});
    CHECK(specs[7].dim_vector() == std::vector<std::size_t>{16});
    CHECK(specs[0].init == Init::glorot_uniform);
    CHECK(specs[1].init == Init::zeros);
    // Keras' fans of an EinsumDense kernel (16, 4, 8): fan_in 16 * 4, fan_out 16 * 8
    CHECK(specs[0].fan_in() == 64);
    CHECK(specs[0].fan_out() == 128);
    using Net = Sequential<Input<10, 16>, Layer>;
    static_assert(Net::param_count == 2160);  // Keras' count for MultiHeadAttention(4, 8) on (10, 16)
    Net net;
    CHECK(net.parameters().slots()[0].name == "multi_head_attention/query/kernel");
    CHECK(net.parameters().slots()[7].name == "multi_head_attention/attention_output/bias");
    static_assert(accepts_v<Layer, Shape<10, 16>> && !accepts_v<Layer, Shape<160>>);
    static_assert(std::is_same_v<Layer::requirement, rank<2>>);
    CHECK_FALSE(Layer{}.use_causal_mask());
    CHECK(Layer{true}.use_causal_mask());
    CHECK(Layer{"attn"}.name() == "attn");
}

TEST_CASE("MultiHeadAttention gradients, with and without the causal mask") {
    CHECK(check_layer_gradients<Shape<4, 5>>(MultiHeadAttention<2, 3>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 5>>(MultiHeadAttention<2, 3>{true}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4>>(MultiHeadAttention<3, 2, 5>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<1, 3>>(MultiHeadAttention<1, 2>{}) > 0);  // one step: weight 1
}

TEST_CASE("MultiHeadAttention learns the product of two flagged steps' values, which pooling steps alone cannot") {
    // Each sample: 6 steps of (value, flag a, flag b), two steps flagged; the target is the
    // product of their values. A sum over steps of any per-step function has no term in both.
    constexpr std::size_t L = 6, n = 1024;
    Tensor<Shape<L, 3>> x(n);
    Tensor<Shape<1>> y(n);
    Generator g(5);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t a = static_cast<std::size_t>(g.uniform(0.0, double(L))) % L;
        const std::size_t b = (a + 1 + static_cast<std::size_t>(g.uniform(0.0, double(L - 1))) % (L - 1)) % L;
        for (std::size_t t = 0; t < L; ++t) {
            x[(i * L + t) * 3] = static_cast<float>(g.uniform(-1.0, 1.0));
            x[(i * L + t) * 3 + 1] = t == a ? 1.0f : 0.0f;
            x[(i * L + t) * 3 + 2] = t == b ? 1.0f : 0.0f;
        }
        y[i] = x[(i * L + a) * 3] * x[(i * L + b) * 3];
    }
    const FitOptions options{.epochs = 60, .batch_size = 32, .seed = 3, .verbose = Verbosity::silent};
    Sequential<Input<L, 3>, MultiHeadAttention<2, 8>, GlobalAveragePooling1D, Dense<1>> attention(1);
    attention.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    const double with_attention = attention.fit(x, y, options)["loss"].back();
    Sequential<Input<L, 3>, TimeDistributed<Dense<16>>, ReLU, GlobalAveragePooling1D, Dense<1>> pooled(1);
    pooled.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    const double without = pooled.fit(x, y, options)["loss"].back();
    MESSAGE("MSE with attention " << with_attention << ", pooling only " << without);
    CHECK(without > 0.09);  // about the targets' variance, 1/9
    CHECK(with_attention < 0.1 * without);
}

TEST_CASE("MultiHeadAttention's dropout drops attention weights in training only, as Keras' dropout") {
    constexpr std::size_t L = 6, D = 4;
    using In = Shape<L, D>;
    using Layer = MultiHeadAttention<2, 3>;
    CHECK(Layer{}.dropout() == 0.0);
    Layer layer;
    layer.dropout(0.5);
    CHECK(layer.dropout() == 0.5);
    CHECK_THROWS_WITH_AS(Layer{"attn"}.dropout(1.0),
                         doctest::Contains("MultiHeadAttention \"attn\": rate must be in [0, 1)"),
                         value_error);
    constexpr auto specs = Layer::params<In>;
    std::size_t count = 0;
    for (const auto& s : specs) count += s.size();
    Generator g(3);
    std::vector<double> x(2 * L * D), w(count);
    for (auto& v : x) v = g.uniform(-1.0, 1.0);
    for (auto& v : w) v = g.normal() * 0.6;
    auto forward = [&](const Layer& l, Mode mode, std::uint64_t seed) {
        std::vector<double> y(x.size()), ws(workspace_size<Layer, In>(2) + 1);
        Generator rng(seed);
        ForwardArgs<double> a{x.data(), y.data(), w.data(), ws.data(), 2, mode, &rng};
        l.forward<In, cpu::reference, double>(a);
        return y;
    };
    const Layer plain;
    CHECK(forward(layer, Mode::infer, 1) == forward(plain, Mode::infer, 1));  // inference: no dropout
    CHECK(forward(layer, Mode::train, 1) != forward(plain, Mode::train, 1));
    CHECK(forward(layer, Mode::train, 1) == forward(layer, Mode::train, 1));  // the generator decides
    CHECK(forward(layer, Mode::train, 1) != forward(layer, Mode::train, 2));
    // The gradient through the dropped weights (the same draws each evaluation).
    CHECK(check_layer_gradients<In>(Layer{}.dropout(0.3)) > 0);
    CHECK(check_layer_gradients<In>(Layer{true}.dropout(0.3)) > 0);
    CHECK(check_layer_gradients<In>(Layer{}.dropout(0.3), {.mode = Mode::infer}) > 0);  // no dropout there
}

TEST_CASE("MultiHeadAttention on several inputs is Keras' cross-attention mha(query, value[, key])") {
    constexpr std::size_t Lq = 3, Lk = 5, Dq = 4, Dv = 6, Dk = 2, H = 2, K = 3, V = 4, batch = 2;
    using Q = Shape<Lq, Dq>;
    using Val = Shape<Lk, Dv>;
    using Key = Shape<Lk, Dk>;
    using Layer = MultiHeadAttention<H, K, V>;
    // Keras' shapes: each projection reads its own input's features; the output has the query's shape
    constexpr auto specs = Layer::params<Q, Val, Key>;
    CHECK(specs[0].dim_vector() == std::vector<std::size_t>{Dq, H, K});
    CHECK(specs[2].dim_vector() == std::vector<std::size_t>{Dk, H, K});
    CHECK(specs[4].dim_vector() == std::vector<std::size_t>{Dv, H, V});
    CHECK(specs[6].dim_vector() == std::vector<std::size_t>{H, V, Dq});
    static_assert(std::is_same_v<Layer::output_shape<Q, Val, Key>, Q>);
    static_assert(Layer::accepts_inputs<Q, Val> && Layer::accepts_inputs<Q, Val, Key>);
    static_assert(!Layer::accepts_inputs<Q, Val, Shape<4, Dk>>);  // the key needs the value's steps
    static_assert(!Layer::accepts_inputs<Q, Shape<30>>);
    static_assert(std::is_same_v<Layer::requirement_for<Q, Shape<30>>, query_value_key_sequences>);

    std::size_t count = 0;
    for (const auto& s : specs) count += s.size();
    Generator g(17);
    std::vector<double> q(batch * Lq * Dq), v(batch * Lk * Dv), k(batch * Lk * Dk), w(count);
    for (auto* x : {&q, &v, &k})
        for (auto& e : *x) e = g.uniform(-1.0, 1.0);
    for (auto& e : w) e = g.normal() * 0.6;
    for (const bool causal : {false, true}) {
        CAPTURE(causal);
        std::vector<double> y(batch * Lq * Dq), ws(batch * Layer::workspace_per_sample<Q, Val, Key> + 1);
        const double* xs[3] = {q.data(), v.data(), k.data()};
        Layer{causal}.forward<cpu::reference, double, Q, Val, Key>(
            MergeForwardArgs<double>{xs, 3, y.data(), batch, w.data(), ws.data(), Mode::infer, nullptr});
        for (std::size_t b = 0; b < batch; ++b) {
            auto part = [&](const std::vector<double>& x, std::size_t n) {
                return std::vector<double>(x.begin() + b * n, x.begin() + (b + 1) * n);
            };
            const auto want = attend(part(q, Lq * Dq), part(v, Lk * Dv), part(k, Lk * Dk), w, Lq, Lk, Dq, Dv, Dk, H,
                                     K, V, causal);
            for (std::size_t i = 0; i < Lq * Dq; ++i)
                CHECK(y[b * Lq * Dq + i] == doctest::Approx(want[i]).epsilon(1e-12));
        }
    }
    CHECK(check_merge_gradients<Q, Val, Key>(Layer{}) > 0);
    CHECK(check_merge_gradients<Q, Val, Key>(Layer{true}.dropout(0.25)) > 0);
    // two inputs: the value is the key too, and its gradient has both parts
    CHECK(check_merge_gradients<Q, Shape<Lk, Dk>>(Layer{}) > 0);
    CHECK(check_merge_gradients<Shape<4, 3>, Shape<4, 3>>(MultiHeadAttention<1, 2>{true}, {.batch = 2}) > 0);
}

namespace {
// Zeros and ones, (batch, Lq, Lk): sample 0's query step 1 masked from every key.
std::vector<double> attention_mask(std::size_t batch, std::size_t Lq, std::size_t Lk, std::uint64_t seed) {
    Generator g(seed);
    std::vector<double> mask(batch * Lq * Lk);
    for (auto& m : mask) m = g.uniform_float() < 0.6 ? 1.0 : 0.0;
    for (std::size_t j = 0; j < Lk; ++j) mask[1 * Lk + j] = 0.0;
    return mask;
}
}  // namespace

TEST_CASE("MultiHeadAttention takes Keras' attention_mask as a fourth input: 0 keeps a query step from a key step") {
    constexpr std::size_t Lq = 3, Lk = 5, Dq = 4, Dv = 6, Dk = 2, H = 2, K = 3, V = 4, batch = 2;
    using Q = Shape<Lq, Dq>;
    using Val = Shape<Lk, Dv>;
    using Key = Shape<Lk, Dk>;
    using Mask = Shape<Lq, Lk>;
    using Layer = MultiHeadAttention<H, K, V>;
    static_assert(Layer::accepts_inputs<Q, Val, Key, Mask> && Layer::accepts_inputs<Q, Val, Val, Mask>);
    static_assert(!Layer::accepts_inputs<Q, Val, Key, Shape<Lk, Lq>>);  // (query steps, key steps)
    static_assert(!Layer::accepts_inputs<Q, Val, Key, Shape<Lq * Lk>>);
    static_assert(
        std::is_same_v<Layer::requirement_for<Q, Val, Key, Shape<Lk, Lq>>, query_value_key_and_attention_mask>);
    static_assert(std::is_same_v<Layer::output_shape<Q, Val, Key, Mask>, Q>);
    static_assert(Layer::params<Q, Val, Key, Mask>[2].size() == Layer::params<Q, Val, Key>[2].size());

    std::size_t count = 0;
    for (const auto& s : Layer::params<Q, Val, Key>) count += s.size();
    Generator g(23);
    std::vector<double> q(batch * Lq * Dq), v(batch * Lk * Dv), k(batch * Lk * Dk), w(count);
    for (auto* x : {&q, &v, &k})
        for (auto& e : *x) e = g.uniform(-1.0, 1.0);
    for (auto& e : w) e = g.normal() * 0.6;
    const std::vector<double> mask = attention_mask(batch, Lq, Lk, 3);
    auto forward = [&](const Layer& layer, const double* m) {
        std::vector<double> y(batch * Lq * Dq), ws(batch * Layer::workspace_per_sample<Q, Val, Key, Mask> + 1);
        const double* xs[4] = {q.data(), v.data(), k.data(), m};
        if (m)
            layer.forward<cpu::reference, double, Q, Val, Key, Mask>(
                MergeForwardArgs<double>{xs, 4, y.data(), batch, w.data(), ws.data(), Mode::infer, nullptr});
        else
            layer.forward<cpu::reference, double, Q, Val, Key>(
                MergeForwardArgs<double>{xs, 3, y.data(), batch, w.data(), ws.data(), Mode::infer, nullptr});
        return y;
    };
    for (const bool causal : {false, true}) {
        CAPTURE(causal);
        const auto y = forward(Layer{causal}, mask.data());
        for (std::size_t b = 0; b < batch; ++b) {
            auto part = [&](const std::vector<double>& x, std::size_t n) {
                return std::vector<double>(x.begin() + b * n, x.begin() + (b + 1) * n);
            };
            const auto want = attend(part(q, Lq * Dq), part(v, Lk * Dv), part(k, Lk * Dk), w, Lq, Lk, Dq, Dv, Dk, H,
                                     K, V, causal, mask.data() + b * Lq * Lk);
            for (std::size_t i = 0; i < Lq * Dq; ++i)
                CHECK(y[b * Lq * Dq + i] == doctest::Approx(want[i]).epsilon(1e-12));
        }
    }
    // A mask of ones is no mask; a lower-triangular one is use_causal_mask.
    const std::vector<double> ones(batch * Lq * Lk, 1.0);
    CHECK(forward(Layer{}, ones.data()) == forward(Layer{}, nullptr));
    std::vector<double> lower(batch * Lq * Lk);
    for (std::size_t i = 0; i < lower.size(); ++i) lower[i] = (i % Lk) <= (i / Lk) % Lq ? 1.0 : 0.0;
    CHECK(forward(Layer{}, lower.data()) == forward(Layer{true}, nullptr));

    // Gradients: the mask's own is zero (it only selects); the fully masked query step has none
    // through its scores.
    const testing::GradientCheck with_mask{.prepare_merge_input = [](std::size_t input, std::vector<double>& x) {
        if (input == 3) x = attention_mask(x.size() / (Lq * Lk), Lq, Lk, 5);
    }};
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Layer{}, with_mask) > 0);
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Layer{true}, with_mask) > 0);  // rows masked by both together
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Layer{true}.dropout(0.25), with_mask) > 0);
    CHECK(check_merge_gradients<Q, Val, Val, Mask>(Layer{}, with_mask) > 0);
}

TEST_CASE("An attention mask in a functional model: padded steps change nothing the mask keeps from them") {
    // A padding mask: sequences of 6 steps, the last 2 padding that no step may attend to.
    constexpr std::size_t L = 6, D = 3, n = 64;
    auto tokens = input<L, D>("tokens");
    auto allowed = input<L, L>("attention_mask");
    auto attended = MultiHeadAttention<2, 4>{"self"}(tokens, tokens, tokens, allowed);
    auto out = TimeDistributed<Dense<1>>{}(attended);
    Model model(std::tuple{tokens, allowed}, out);
    Tensor<Shape<L, D>> x(n);
    Tensor<Shape<L, L>> mask(n);
    Tensor<Shape<L, 1>> y(n);
    Generator g(8);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-1.0, 1.0));
    for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = (i % L) < L - 2 ? 1.0f : 0.0f;
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = x[i * D];
    const auto before = model.predict(std::tuple{x, mask});
    Tensor<Shape<L, D>> repadded = x;
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t t = L - 2; t < L; ++t)
            for (std::size_t d = 0; d < D; ++d)
                repadded[(s * L + t) * D + d] = static_cast<float>(g.uniform(-5.0, 5.0));
    const auto after = model.predict(std::tuple{repadded, mask});
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t t = 0; t < L - 2; ++t) REQUIRE(after[s * L + t] == before[s * L + t]);
    CHECK(after[L - 1] != before[L - 1]);  // a padded step's own query changed
    model.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    const auto history =
        model.fit(std::tuple{x, mask}, y, {.epochs = 3, .batch_size = 16, .seed = 1, .verbose = Verbosity::silent});
    CHECK(history["loss"].back() < history["loss"].front());
}

TEST_CASE("MultiHeadAttention in a functional model learns to look a query's position up in another sequence") {
    // (LookupData: a lookup across sequences.)
    constexpr std::size_t Lk = LookupData::Lk, Lq = LookupData::Lq;
    const LookupData data;
    const auto& [queries, values, targets] = data;
    auto query = input<Lq, Lk>("query");
    auto value = input<Lk, 1 + Lk>("value");
    auto attended = MultiHeadAttention<2, 8>{"cross"}(query, value);
    auto out = TimeDistributed<Dense<1>>{}(attended);
    Model model(std::tuple{query, value}, out);
    // Keras: query (5, 2, 8) + (2, 8); key and value read the value's 6 features; output (2, 8, 5) + (5)
    CHECK(model.get_layer("cross").param_count() == (5 * 16 + 16) + 2 * (6 * 16 + 16) + (16 * 5 + 5));
    model.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    const auto history = model.fit(std::tuple{queries, values}, targets,
                                   {.epochs = 40, .batch_size = 32, .seed = 1, .verbose = Verbosity::silent});
    MESSAGE("cross-attention lookup MSE " << history["loss"].back() << " (the values' variance: 1/3)");
    CHECK(history["loss"].back() < 0.02);
}

TEST_CASE("Attention is Keras' dot-product Attention()([query, value, key]): softmax(query . key) weights the value") {
    constexpr std::size_t Lq = 3, Lk = 4, D = 2, Dv = 5, batch = 2;
    using Q = Shape<Lq, D>;
    using Val = Shape<Lk, Dv>;
    using Key = Shape<Lk, D>;
    static_assert(std::is_same_v<Attention::output_shape<Q, Val, Key>, Shape<Lq, Dv>>);
    static_assert(Attention::accepts_inputs<Q, Val, Key> && Attention::accepts_inputs<Q, Shape<Lk, D>>);
    static_assert(!Attention::accepts_inputs<Q, Val>);          // the value is the key: widths differ
    static_assert(!Attention::accepts_inputs<Q, Val, Shape<3, D>>);  // the key needs the value's steps
    static_assert(std::is_same_v<Attention::requirement_for<Q, Val>, query_key_of_one_width>);
    static_assert(Attention::params<Q, Val, Key>.empty());  // no weights (Keras' use_scale=False)
    Generator g(4);
    std::vector<double> q(batch * Lq * D), v(batch * Lk * Dv), k(batch * Lk * D);
    for (auto* x : {&q, &v, &k})
        for (auto& e : *x) e = g.uniform(-2.0, 2.0);
    for (const bool causal : {false, true}) {
        CAPTURE(causal);
        std::vector<double> y(batch * Lq * Dv), ws(batch * Attention::workspace_per_sample<Q, Val, Key> + 1);
        const double* xs[3] = {q.data(), v.data(), k.data()};
        Attention{causal}.forward<cpu::reference, double, Q, Val, Key>(
            MergeForwardArgs<double>{xs, 3, y.data(), batch, nullptr, ws.data(), Mode::infer, nullptr});
        check_weighted_values(y, v, batch, Lq, Lk, Dv, [&](std::size_t b, std::size_t i, std::size_t j) {
            double s = 0;
            for (std::size_t c = 0; c < D; ++c) s += q[(b * Lq + i) * D + c] * k[(b * Lk + j) * D + c];
            return causal && j > i ? 0.0 : std::exp(s);
        });
    }
    CHECK(check_merge_gradients<Q, Val, Key>(Attention{}) > 0);
    CHECK(check_merge_gradients<Q, Val, Key>(Attention{true}.dropout(0.3)) > 0);
    CHECK(check_merge_gradients<Q, Shape<Lk, D>>(Attention{}) > 0);  // the value's gradient has the key's part
    CHECK(check_merge_gradients<Shape<4, 3>, Shape<4, 3>>(Attention{true}, {.batch = 2}) > 0);

    // With an attention mask: masked keys get no weight; a query step masked from every key
    // averages the value's steps alike (sample 0, step 1).
    using Mask = Shape<Lq, Lk>;
    static_assert(Attention::accepts_inputs<Q, Val, Key, Mask>);
    static_assert(!Attention::accepts_inputs<Q, Val, Key, Shape<Lk, Lq>>);
    static_assert(std::is_same_v<Attention::requirement_for<Q, Val, Key, Shape<Lk, Lq>>,
                                 query_value_key_and_attention_mask>);
    static_assert(std::is_same_v<Attention::requirement_for<Q, Val, Val, Mask>, query_key_of_one_width>);
    const std::vector<double> mask = attention_mask(batch, Lq, Lk, 7);
    std::vector<double> y(batch * Lq * Dv), ws(batch * Attention::workspace_per_sample<Q, Val, Key, Mask> + 1);
    const double* xs[4] = {q.data(), v.data(), k.data(), mask.data()};
    Attention{}.forward<cpu::reference, double, Q, Val, Key, Mask>(
        MergeForwardArgs<double>{xs, 4, y.data(), batch, nullptr, ws.data(), Mode::infer, nullptr});
    check_weighted_values(y, v, batch, Lq, Lk, Dv, [&](std::size_t b, std::size_t i, std::size_t j) {
        bool any = false;
        for (std::size_t t = 0; t < Lk; ++t) any = any || mask[(b * Lq + i) * Lk + t] != 0.0;
        double s = 0;
        for (std::size_t c = 0; c < D; ++c) s += q[(b * Lq + i) * D + c] * k[(b * Lk + j) * D + c];
        return !any ? 1.0 : (mask[(b * Lq + i) * Lk + j] == 0.0 ? 0.0 : std::exp(s));
    });
    const testing::GradientCheck with_mask{.prepare_merge_input = [](std::size_t input, std::vector<double>& x) {
        if (input == 3) x = attention_mask(x.size() / (Lq * Lk), Lq, Lk, 9);
    }};
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Attention{}, with_mask) > 0);
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Attention{true}, with_mask) > 0);
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Attention{true}.dropout(0.3), with_mask) > 0);
    CHECK(Attention{}.dropout() == 0.0);
    CHECK_FALSE(Attention{}.use_causal_mask());
    CHECK(Attention{"attn"}.name() == "attn");
    CHECK_THROWS_AS(Attention{}.dropout(1.5), value_error);
}

TEST_CASE("AdditiveAttention is Keras': softmax over key steps of sum_d scale[d] tanh(query + key) weights the value") {
    constexpr std::size_t Lq = 3, Lk = 4, D = 2, Dv = 5, batch = 2;
    using Q = Shape<Lq, D>;
    using Val = Shape<Lk, Dv>;
    using Key = Shape<Lk, D>;
    using Layer = AdditiveAttention<>;
    static_assert(std::is_same_v<Layer::output_shape<Q, Val, Key>, Shape<Lq, Dv>>);
    static_assert(Layer::accepts_inputs<Q, Val, Key> && !Layer::accepts_inputs<Q, Val>);
    static_assert(std::is_same_v<Layer::requirement_for<Q, Val>, query_key_of_one_width>);
    // Keras' use_scale=True: one learned scale per feature, Glorot-uniform; use_scale=False: no weights.
    static_assert(Layer::params<Q, Val, Key>.size() == 1 && Layer::params<Q, Val, Key>[0].name == "scale");
    static_assert(Layer::params<Q, Val, Key>[0].size() == D);
    static_assert(Layer::params<Q, Val, Key>[0].init == Init::glorot_uniform);
    static_assert(AdditiveAttention<false>::params<Q, Val, Key>.empty());
    Generator g(4);
    std::vector<double> q(batch * Lq * D), v(batch * Lk * Dv), k(batch * Lk * D);
    for (auto* x : {&q, &v, &k})
        for (auto& e : *x) e = g.uniform(-2.0, 2.0);
    const std::vector<double> scale{0.7, -1.3};
    for (const bool causal : {false, true})
        for (const bool scaled : {true, false}) {
            CAPTURE(causal);
            CAPTURE(scaled);
            std::vector<double> y(batch * Lq * Dv), ws(batch * Layer::workspace_per_sample<Q, Val, Key> + 1);
            const double* xs[3] = {q.data(), v.data(), k.data()};
            const MergeForwardArgs<double> args{xs, 3, y.data(), batch, scale.data(), ws.data(), Mode::infer, nullptr};
            if (scaled)
                AdditiveAttention<>{causal}.forward<cpu::reference, double, Q, Val, Key>(args);
            else
                AdditiveAttention<false>{causal}.forward<cpu::reference, double, Q, Val, Key>(args);
            check_weighted_values(y, v, batch, Lq, Lk, Dv, [&](std::size_t b, std::size_t i, std::size_t j) {
                double s = 0;
                for (std::size_t c = 0; c < D; ++c)
                    s += (scaled ? scale[c] : 1.0) * std::tanh(q[(b * Lq + i) * D + c] + k[(b * Lk + j) * D + c]);
                return causal && j > i ? 0.0 : std::exp(s);
            });
        }
    CHECK(check_merge_gradients<Q, Val, Key>(Layer{}) > 0);
    CHECK(check_merge_gradients<Q, Val, Key>(Layer{true}.dropout(0.3)) > 0);
    CHECK(check_merge_gradients<Q, Shape<Lk, D>>(Layer{}) > 0);  // the value's gradient has the key's part
    CHECK(check_merge_gradients<Q, Val, Key>(AdditiveAttention<false>{true}) > 0);
    using Mask = Shape<Lq, Lk>;
    const testing::GradientCheck with_mask{.prepare_merge_input = [](std::size_t input, std::vector<double>& x) {
        if (input == 3) x = attention_mask(x.size() / (Lq * Lk), Lq, Lk, 9);
    }};
    CHECK(check_merge_gradients<Q, Val, Key, Mask>(Layer{true}, with_mask) > 0);
    CHECK(Layer{}.dropout() == 0.0);
    CHECK(Layer{"bahdanau"}.name() == "bahdanau");
    CHECK_THROWS_AS(Layer{}.dropout(1.5), value_error);
}

TEST_CASE("AdditiveAttention in a functional model learns to look a query's position up in another sequence") {
    // As the MultiHeadAttention lookup above, with Bahdanau's projections of query and key.
    constexpr std::size_t Lk = LookupData::Lk, Lq = LookupData::Lq;
    const LookupData data;
    const auto& [queries, values, targets] = data;
    auto query = input<Lq, Lk>("query");
    auto value = input<Lk, 1 + Lk>("value");
    auto q = TimeDistributed<Dense<8>>{}(query);
    auto k = TimeDistributed<Dense<8>>{}(value);
    auto attended = AdditiveAttention<>{"bahdanau"}(q, value, k);
    auto out = TimeDistributed<Dense<1>>{}(attended);
    Model model(std::tuple{query, value}, out);
    CHECK(model.get_layer("bahdanau").param_count() == 8);
    model.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    const auto history = model.fit(std::tuple{queries, values}, targets,
                                   {.epochs = 40, .batch_size = 32, .seed = 1, .verbose = Verbosity::silent});
    MESSAGE("additive-attention lookup MSE " << history["loss"].back() << " (the values' variance: 1/3)");
    CHECK(history["loss"].back() < 0.02);
}
