// The ops every per-index backend is checked on against cpu::reference: GEMM in every transpose
// (and batched), reductions over several chunks, the fused losses, batch norm's backward, copy2d,
// gather_rows and the random fills. Memory says where the backend's arrays live (support/layer_agreement.hpp).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/backend/ops.hpp>
#include <latent/core/activations.hpp>
#include <latent/loss/binary_focal_crossentropy.hpp>
#include <latent/loss/categorical_focal_crossentropy.hpp>
#include <latent/loss/cosine_similarity.hpp>
#include <latent/loss/hinge.hpp>
#include <latent/loss/huber.hpp>
#include <latent/loss/kl_divergence.hpp>
#include <latent/loss/log_cosh.hpp>
#include <latent/loss/mean_absolute_error.hpp>
#include <latent/loss/mean_squared_logarithmic_error.hpp>
#include <latent/loss/poisson.hpp>

#include "layer_agreement.hpp"

namespace latent::testing {

inline std::vector<float> random_vector(std::size_t n, std::uint64_t seed, double low = -1.0, double high = 1.0) {
    Generator g(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(g.uniform(low, high));
    return v;
}

template <class B, class Memory>
void check_gemm(double tol) {
    struct Case {
        bool ta, tb;
        std::size_t M, N, K;
        float alpha, beta;
    };
    const Case cases[] = {{false, false, 7, 5, 3, 1.0f, 0.0f}, {true, false, 6, 9, 4, 0.5f, 1.0f},
                          {false, true, 3, 8, 11, 1.0f, 0.25f}, {true, true, 5, 4, 6, -1.0f, 0.0f},
                          {false, false, 1, 13, 2, 2.0f, 0.0f},  {false, true, 9, 1, 7, 1.0f, 1.0f},
                          {false, false, 64, 256, 784, 1.0f, 0.0f}};
    for (const auto& c : cases) {
        INFO("trans " << c.ta << c.tb << ", M N K = " << c.M << " " << c.N << " " << c.K << ", beta " << c.beta);
        const auto a = random_vector(c.M * c.K, 1), b = random_vector(c.K * c.N, 2);
        std::vector<float> want = random_vector(c.M * c.N, 3);
        if (c.beta == 0.0f) want.assign(want.size(), std::nanf(""));  // beta 0 must not read C
        auto got = Memory::upload(want), da = Memory::upload(a), db = Memory::upload(b);
        const std::size_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
        ops::gemm<cpu::reference>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, a.data(), lda, b.data(), ldb, c.beta, want.data(), c.N);
        ops::gemm<B>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, da.data(), lda, db.data(), ldb, c.beta, got.data(), c.N);
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
    // gemm_batched: products at strides with gaps, as attention's per head over a batch; tiny
    // ones, and attention-sized ones (28 steps, 16 wide) that cpu::simd spreads over its threads.
    struct Batched {
        bool ta, tb;
        std::size_t count, M, N, K;
    };
    for (const Batched c : {Batched{false, true, 5, 7, 5, 3}, Batched{true, false, 64, 28, 16, 28},
                            Batched{false, false, 64, 28, 16, 28}, Batched{false, true, 64, 28, 28, 16}}) {
        INFO("batched: trans " << c.ta << c.tb << ", count M N K = " << c.count << " " << c.M << " " << c.N << " "
                               << c.K);
        const std::size_t lda = (c.ta ? c.M : c.K) + 2, ldb = (c.tb ? c.K : c.N) + 1, ldc = c.N + 3;
        const std::size_t sa = (c.ta ? c.K : c.M) * lda + 5, sb = (c.tb ? c.N : c.K) * ldb, sc = c.M * ldc + 1;
        const auto a = random_vector(c.count * sa, 4), b = random_vector(c.count * sb, 5);
        std::vector<float> want = random_vector(c.count * sc, 6);
        auto got = Memory::upload(want), da = Memory::upload(a), db = Memory::upload(b);
        for (std::size_t i = 0; i < c.count; ++i)
            ops::gemm<cpu::reference>(c.ta, c.tb, c.M, c.N, c.K, 0.5f, a.data() + i * sa, lda, b.data() + i * sb, ldb,
                                      0.75f, want.data() + i * sc, ldc);
        ops::gemm_batched<B>(c.count, c.ta, c.tb, c.M, c.N, c.K, 0.5f, da.data(), lda, sa, db.data(), ldb, sb, 0.75f,
                             got.data(), ldc, sc);
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
    {
        INFO("softmax over attention's rows (batch 64 x 4 heads x 28 steps), spread over threads");
        const std::size_t rows = 64 * 4 * 28, cols = 28;
        const auto x = random_vector(rows * cols, 7, -4.0, 4.0), dy = random_vector(rows * cols, 8);
        std::vector<float> y(rows * cols), dx(rows * cols);
        auto d_y = Memory::upload(y), d_dx = Memory::upload(dx);
        const auto d_x = Memory::upload(x), d_dy = Memory::upload(dy);
        ops::softmax<cpu::reference>(rows, cols, x.data(), y.data());
        ops::softmax<B>(rows, cols, d_x.data(), d_y.data());
        CHECK(relative_error(Memory::download(d_y), y) < tol);
        ops::softmax_backward<cpu::reference>(rows, cols, y.data(), dy.data(), dx.data());
        ops::softmax_backward<B>(rows, cols, d_y.data(), d_dy.data(), d_dx.data());
        CHECK(relative_error(Memory::download(d_dx), dx) < tol);
    }
}

template <class B, class Memory>
void check_reductions(double tol) {
    for (std::size_t rows : {1, 255, 256, 257, 1000}) {
        INFO("rows " << rows);
        const std::size_t cols = 7;
        const auto x = random_vector(rows * cols, rows);
        const auto dx = Memory::upload(x);
        std::vector<float> want(cols, 1.0f);
        auto got = Memory::upload(want);
        ops::column_sum<cpu::reference>(rows, cols, x.data(), want.data(), true);
        ops::column_sum<B>(rows, cols, dx.data(), got.data(), true);
        CHECK(relative_error(Memory::download(got), want) < tol);
        ops::column_sum<cpu::reference>(rows, cols, x.data(), want.data(), false);
        ops::column_sum<B>(rows, cols, dx.data(), got.data(), false);
        CHECK(relative_error(Memory::download(got), want) < tol);
        CHECK(ops::sum<B>(x.size(), dx.data()) == doctest::Approx(ops::sum<cpu::reference>(x.size(), x.data())).epsilon(tol));
        // the sum of squares stays in the backend's memory, added to or written over
        std::vector<float> squares_ref{2.0f};
        auto squares = Memory::upload(squares_ref);
        ops::sum_of_squares<cpu::reference>(x.size(), x.data(), squares_ref.data(), true);
        ops::sum_of_squares<B>(x.size(), dx.data(), squares.data(), true);
        CHECK(Memory::download(squares)[0] == doctest::Approx(squares_ref[0]).epsilon(tol));
        ops::sum_of_squares<cpu::reference>(rows, x.data(), squares_ref.data(), false);
        ops::sum_of_squares<B>(rows, dx.data(), squares.data(), false);
        CHECK(Memory::download(squares)[0] == doctest::Approx(squares_ref[0]).epsilon(tol));

        std::vector<float> mean_ref(cols), var_ref(cols);
        auto mean = Memory::upload(mean_ref), var = Memory::upload(var_ref);
        ops::channel_moments<cpu::reference>(rows, cols, x.data(), mean_ref.data(), var_ref.data());
        ops::channel_moments<B>(rows, cols, dx.data(), mean.data(), var.data());
        CHECK(relative_error(Memory::download(mean), mean_ref) < tol);
        CHECK(relative_error(Memory::download(var), var_ref) < tol);
    }
    CHECK(ops::sum<B>(0, static_cast<const float*>(nullptr)) == 0.0f);
}

template <class B, class Memory>
void check_losses(double tol) {
    const std::size_t rows = 300, cols = 10;  // more rows than one reduction chunk
    const auto logits = random_vector(rows * cols, 5, -4.0, 4.0);
    std::vector<float> labels(rows * cols, 0.0f), classes(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        classes[r] = static_cast<float>(r % cols);
        labels[r * cols + r % cols] = 1.0f;
    }
    const auto targets = random_vector(rows * cols, 6, 0.0, 1.0), dy = random_vector(rows * cols, 7);
    const auto d_logits = Memory::upload(logits), d_labels = Memory::upload(labels), d_classes = Memory::upload(classes),
               d_targets = Memory::upload(targets), d_dy = Memory::upload(dy);
    std::vector<float> want(rows * cols);
    auto got = Memory::upload(want);
    {
        INFO("categorical cross-entropy");
        const float l0 =  // labels smoothed by 0.1 (Keras' label_smoothing)
            ops::softmax_cross_entropy<cpu::reference>(rows, cols, logits.data(), labels.data(), 0.1f, want.data());
        const float l1 = ops::softmax_cross_entropy<B>(rows, cols, d_logits.data(), d_labels.data(), 0.1f, got.data());
        CHECK(l1 == doctest::Approx(l0).epsilon(tol));
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
    {
        INFO("sparse categorical cross-entropy");
        const float l0 = ops::sparse_softmax_cross_entropy<cpu::reference>(rows, cols, logits.data(), classes.data(), want.data());
        const float l1 = ops::sparse_softmax_cross_entropy<B>(rows, cols, d_logits.data(), d_classes.data(), got.data());
        CHECK(l1 == doctest::Approx(l0).epsilon(tol));
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
    {
        INFO("binary cross-entropy");
        const float l0 = ops::sigmoid_binary_cross_entropy<cpu::reference>(rows * cols, logits.data(), targets.data(),
                                                                            0.2f, want.data());
        const float l1 =
            ops::sigmoid_binary_cross_entropy<B>(rows * cols, d_logits.data(), d_targets.data(), 0.2f, got.data());
        CHECK(l1 == doctest::Approx(l0).epsilon(tol));
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
    {
        INFO("Kullback-Leibler divergence (ops::elementwise and ops::sum)");
        std::vector<float> probabilities(rows * cols);
        ops::softmax<cpu::reference>(rows, cols, logits.data(), probabilities.data());
        const auto d_probabilities = Memory::upload(probabilities);
        const float l0 = loss::KLDivergence{}.compute<cpu::reference>(probabilities.data(), targets.data(), rows, cols,
                                                                       cols, want.data());
        const float l1 = loss::KLDivergence{}.compute<B>(d_probabilities.data(), d_targets.data(), rows, cols, cols,
                                                          got.data());
        CHECK(l1 == doctest::Approx(l0).epsilon(tol));
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
    {
        // The regression and margin losses (elementwise and sum), predictions against targets in
        // [0, 1] (positive, as the logarithmic ones need), and CosineSimilarity's rows (the op row_dot).
        const auto check = [&](const auto& loss, const char* name) {
            INFO(name);
            const float l0 = loss.template compute<cpu::reference>(targets.data(), logits.data(), rows, cols, cols,
                                                                    want.data());
            const float l1 = loss.template compute<B>(d_targets.data(), d_logits.data(), rows, cols, cols, got.data());
            CHECK(l1 == doctest::Approx(l0).epsilon(tol));
            CHECK(relative_error(Memory::download(got), want) < tol);
        };
        check(loss::MeanAbsoluteError{}, "MeanAbsoluteError");
        check(loss::Huber{}, "Huber");
        check(loss::Contrastive{.margin = 0.7}, "Contrastive");
        check(loss::LogCosh{}, "LogCosh");
        check(loss::Hinge{}, "Hinge");
        check(loss::SquaredHinge{}, "SquaredHinge");
        check(loss::CosineSimilarity{}, "CosineSimilarity");
        const auto check_positive = [&](const auto& loss, const char* name) {  // labels: the targets, reversed
            INFO(name);
            std::vector<float> counts(targets.rbegin(), targets.rend());
            for (auto& c : counts) c *= 3.0f;
            const auto d_counts = Memory::upload(counts);
            const float l0 = loss.template compute<cpu::reference>(targets.data(), counts.data(), rows, cols, cols,
                                                                    want.data());
            const float l1 = loss.template compute<B>(d_targets.data(), d_counts.data(), rows, cols, cols, got.data());
            CHECK(l1 == doctest::Approx(l0).epsilon(tol));
            CHECK(relative_error(Memory::download(got), want) < tol);
        };
        check_positive(loss::MeanSquaredLogarithmicError{}, "MeanSquaredLogarithmicError");
        check_positive(loss::Poisson{}, "Poisson");
        // The focal loss on probabilities (the targets) and on logits, labels 0 and 1.
        std::vector<float> binary(targets.rbegin(), targets.rend());
        for (auto& b : binary) b = b > 0.5f ? 1.0f : 0.0f;
        const auto d_binary = Memory::upload(binary);
        for (const bool from_logits : {false, true}) {
            INFO("BinaryFocalCrossentropy, from_logits " << from_logits);
            const loss::BinaryFocalCrossentropy focal{
                .apply_class_balancing = true, .from_logits = from_logits, .label_smoothing = 0.1};
            const float l0 = focal.compute<cpu::reference>(from_logits ? logits.data() : targets.data(), binary.data(),
                                                           rows, cols, cols, want.data());
            const float l1 = focal.compute<B>(from_logits ? d_logits.data() : d_targets.data(), d_binary.data(), rows,
                                              cols, cols, got.data());
            CHECK(l1 == doctest::Approx(l0).epsilon(tol));
            CHECK(relative_error(Memory::download(got), want) < tol);
        }
        for (const bool from_logits : {false, true}) {  // row by row on the host, the arrays copied over
            INFO("CategoricalFocalCrossentropy, from_logits " << from_logits);
            const loss::CategoricalFocalCrossentropy focal{.from_logits = from_logits, .label_smoothing = 0.1};
            const float l0 = focal.compute<cpu::reference>(from_logits ? logits.data() : targets.data(), labels.data(),
                                                           rows, cols, cols, want.data());
            const float l1 = focal.compute<B>(from_logits ? d_logits.data() : d_targets.data(), d_labels.data(), rows,
                                              cols, cols, got.data());
            CHECK(l1 == doctest::Approx(l0).epsilon(tol));
            CHECK(relative_error(Memory::download(got), want) < tol);
        }
    }
    {
        INFO("softmax and its backward");
        std::vector<float> y0(rows * cols);
        auto y1 = Memory::upload(y0);
        ops::softmax<cpu::reference>(rows, cols, logits.data(), y0.data());
        ops::softmax<B>(rows, cols, d_logits.data(), y1.data());
        CHECK(relative_error(Memory::download(y1), y0) < tol);
        const auto d_y0 = Memory::upload(y0);
        ops::softmax_backward<cpu::reference>(rows, cols, y0.data(), dy.data(), want.data());
        ops::softmax_backward<B>(rows, cols, d_y0.data(), d_dy.data(), got.data());
        CHECK(relative_error(Memory::download(got), want) < tol);
    }
}

template <class B, class Memory>
void check_batch_norm_backward(double tol) {
    const std::size_t rows = 600, cols = 3;
    const auto x_hat = random_vector(rows * cols, 8), dy = random_vector(rows * cols, 9);
    const auto gamma = random_vector(cols, 10, 0.5, 1.5), inv_std = random_vector(cols, 11, 0.5, 2.0);
    const auto d_x_hat = Memory::upload(x_hat), d_dy = Memory::upload(dy), d_gamma = Memory::upload(gamma),
               d_inv_std = Memory::upload(inv_std);
    for (float through_stats : {0.0f, 1.0f}) {
        INFO("batch statistics " << through_stats);
        const auto d_flag = Memory::upload(std::vector<float>{through_stats});
        std::vector<float> dx0(rows * cols), g0(cols, 0.5f), b0(cols, 0.5f), m0(cols, 0.0f), v0(cols, 0.0f);
        auto dx1 = Memory::upload(dx0), g1 = Memory::upload(g0), b1 = Memory::upload(b0), m1 = Memory::upload(m0),
             v1 = Memory::upload(v0);
        ops::batch_norm_backward<cpu::reference>(rows, cols, x_hat.data(), dy.data(), gamma.data(), inv_std.data(),
                                                 &through_stats, dx0.data(), g0.data(), b0.data(), m0.data(), v0.data());
        ops::batch_norm_backward<B>(rows, cols, d_x_hat.data(), d_dy.data(), d_gamma.data(), d_inv_std.data(),
                                    d_flag.data(), dx1.data(), g1.data(), b1.data(), m1.data(), v1.data());
        CHECK(relative_error(Memory::download(dx1), dx0) < tol);
        CHECK(relative_error(Memory::download(g1), g0) < tol);
        CHECK(relative_error(Memory::download(b1), b0) < tol);
        CHECK(relative_error(Memory::download(m1), m0) < tol);
        CHECK(relative_error(Memory::download(v1), v0) < tol);
        // null outputs are skipped
        float* none = nullptr;
        ops::batch_norm_backward<B>(rows, cols, d_x_hat.data(), d_dy.data(), d_gamma.data(), d_inv_std.data(),
                                    d_flag.data(), none, none, none, none, none);
        CHECK(relative_error(Memory::download(g1), g0) < tol);
    }
}

// affine_warp2d and its adjoint: transforms near the identity (turned, scaled, shifted beyond
// the edges), every fill mode and both interpolations, to an output of the input's size and of
// another.
template <class B, class Memory>
void check_affine_warp(double tol) {
    const std::size_t batch = 5, h = 7, w = 9, channels = 3, n = batch * h * w * channels;
    std::vector<float> transforms(6 * batch);
    Generator g(14);
    for (std::size_t b = 0; b < batch; ++b) {
        const double turn = g.uniform(-1.0, 1.0), zoom = g.uniform(0.6, 1.5);
        const double coefficients[6] = {zoom * std::cos(turn), -std::sin(turn), g.uniform(-6.0, 6.0),
                                        std::sin(turn),        zoom * std::cos(turn), g.uniform(-5.0, 5.0)};
        for (std::size_t k = 0; k < 6; ++k) transforms[k * batch + b] = static_cast<float>(coefficients[k]);
    }
    const auto x = random_vector(n, 15);
    const auto d_t = Memory::upload(transforms), d_x = Memory::upload(x);
    const detail::WarpSizes same_size{h, w, h, w, channels}, other_size{h, w, 4, 11, channels};
    for (const detail::WarpSizes size : {same_size, other_size})
        for (const Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest})
            for (const FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
                INFO("interpolation " << static_cast<int>(interpolation) << ", fill mode " << static_cast<int>(mode)
                                      << ", output " << size.out_h << "x" << size.out_w);
                const ImageSampling sampling{interpolation, mode, 0.75};
                const std::size_t out = batch * size.out_h * size.out_w * channels;
                const auto dy = random_vector(out, 16);
                const auto d_dy = Memory::upload(dy);
                std::vector<float> y0(out, -1.0f), dx0(n, -1.0f);
                auto y1 = Memory::upload(y0), dx1 = Memory::upload(dx0);
                ops::affine_warp2d<cpu::reference>(batch, size, transforms.data(), sampling, x.data(), y0.data());
                ops::affine_warp2d<B>(batch, size, d_t.data(), sampling, d_x.data(), y1.data());
                CHECK(relative_error(Memory::download(y1), y0) < tol);
                ops::affine_warp2d_backward<cpu::reference>(batch, size, transforms.data(), sampling, dy.data(),
                                                            dx0.data());
                ops::affine_warp2d_backward<B>(batch, size, d_t.data(), sampling, d_dy.data(), dx1.data());
                CHECK(relative_error(Memory::download(dx1), dx0) < tol);
            }
}

template <class B, class Memory>
void check_copy2d() {
    const auto src = random_vector(4 * 9, 12);
    std::vector<float> want(4 * 11, -1.0f);
    auto got = Memory::upload(want);
    const auto d_src = Memory::upload(src);
    ops::copy2d<cpu::reference>(4, 6, src.data() + 2, 9, want.data() + 3, 11);
    ops::copy2d<B>(4, 6, d_src.data() + 2, 9, got.data() + 3, 11);
    CHECK(Memory::download(got) == want);
}

// gather_rows: rows picked in any order, repeated, and a row of one element.
template <class B, class Memory>
void check_gather_rows() {
    for (std::size_t row_size : {1, 7}) {
        INFO("row size " << row_size);
        const auto from = random_vector(5 * row_size, 15);
        const std::vector<std::size_t> indices{4, 0, 2, 2, 1};
        std::vector<float> want(indices.size() * row_size, std::nanf(""));
        auto got = Memory::upload(want);
        const auto d_from = Memory::upload(from);
        const auto d_indices = Memory::upload_indices(indices);
        ops::gather_rows<cpu::reference>(indices.size(), row_size, indices.data(), from.data(), want.data());
        ops::gather_rows<B>(indices.size(), row_size, d_indices.data(), d_from.data(), got.data());
        CHECK(Memory::download(got) == want);
        CHECK(want[row_size - 1] == from[4 * row_size + row_size - 1]);  // the reference too: row 4 first
    }
}

// Dense's bias and activation in one pass (bias_add_activation): exactly what bias_add then
// activation write on the same backend, and the reference's values.
template <class B, class Memory, class F>
void check_bias_add_activation_with(const F& f, double tol) {
    const std::size_t rows = 37, cols = 19;
    const auto z0 = random_vector(rows * cols, 13, -3.0, 3.0), bias = random_vector(cols, 14);
    const std::vector<float> unwritten(rows * cols, std::nanf(""));
    const auto d_bias = Memory::upload(bias);
    auto fused_z = Memory::upload(z0), fused_y = Memory::upload(unwritten);
    ops::bias_add_activation<B>(rows, cols, d_bias.data(), fused_z.data(), f, fused_y.data());
    auto z = Memory::upload(z0), y = Memory::upload(unwritten);
    ops::bias_add<B>(rows, cols, d_bias.data(), z.data());
    ops::activation<B>(rows * cols, f, static_cast<const float*>(z.data()), y.data());
    CHECK(Memory::download(fused_z) == Memory::download(z));
    CHECK(Memory::download(fused_y) == Memory::download(y));
    std::vector<float> want_z = z0, want_y(rows * cols);
    ops::bias_add<cpu::reference>(rows, cols, bias.data(), want_z.data());
    ops::activation<cpu::reference>(rows * cols, f, static_cast<const float*>(want_z.data()), want_y.data());
    CHECK(relative_error(Memory::download(fused_y), want_y) < tol);
}
template <class B, class Memory>
void check_bias_add_activation(double tol) {
    check_bias_add_activation_with<B, Memory>(activations::relu{}, tol);
    check_bias_add_activation_with<B, Memory>(activations::leaky_relu{0.2}, tol);
    check_bias_add_activation_with<B, Memory>(activations::tanh{}, tol);
    check_bias_add_activation_with<B, Memory>(activations::sigmoid{}, tol);
}

// Counter-based draws cannot match the reference's sequence: check their distribution, their
// independence from neighbours, and that one fill takes exactly one draw from the generator.
template <class B, class Memory>
void check_random_fills() {
    const std::size_t n = 200000;
    auto d_u = Memory::upload(std::vector<float>(n)), d_z = Memory::upload(std::vector<float>(n));
    Generator g(42);
    ops::uniform<B>(n, d_u.data(), g);
    ops::normal<B>(n, d_z.data(), g, 1.5, 0.5);
    const auto u = Memory::download(d_u), z = Memory::download(d_z);
    double su = 0, su2 = 0, sz = 0, sz2 = 0;
    std::size_t out_of_range = 0;
    for (std::size_t i = 0; i < n; ++i) {
        out_of_range += !(u[i] >= 0.0f && u[i] < 1.0f) + !std::isfinite(z[i]);
        su += u[i];
        su2 += double(u[i]) * u[i];
        sz += z[i];
        sz2 += double(z[i]) * z[i];
    }
    CHECK(out_of_range == 0);
    const double mu = su / n, vu = su2 / n - mu * mu, mz = sz / n, vz = sz2 / n - mz * mz;
    CHECK(mu == doctest::Approx(0.5).epsilon(0.01));
    CHECK(vu == doctest::Approx(1.0 / 12).epsilon(0.02));
    CHECK(mz == doctest::Approx(1.5).epsilon(0.01));
    CHECK(std::sqrt(vz) == doctest::Approx(0.5).epsilon(0.01));
    double cross = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) cross += (u[i] - 0.5) * (u[i + 1] - 0.5);
    CHECK(std::fabs(cross / static_cast<double>(n - 1) / vu) < 0.02);

    Generator a(7), b(7);
    auto first = Memory::upload(std::vector<float>(100)), second = Memory::upload(std::vector<float>(100));
    ops::uniform<B>(100, first.data(), a);
    ops::uniform<B>(100, second.data(), b);
    CHECK(Memory::download(first) == Memory::download(second));
    b.reseed(7);
    b.next_u64();
    CHECK(a.next_u64() == b.next_u64());
}

}  // namespace latent::testing
