// cpu::simd against cpu::reference: every layer's forward output, input gradient and parameter
// gradients on random inputs, in float32, agree to a relative error under 1e-5 (norm-wise:
// ||simd - reference|| / ||reference||), in training and in inference mode.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

#include "support/layer_agreement_cases.hpp"

using namespace latent;

using latent::testing::agreement_modes;
using latent::testing::host_arrays;
using latent::testing::relative_error;

namespace {
constexpr double tolerance = 1e-5;
}  // namespace

TEST_CASE("dense and activation layers agree with the reference backend") {
    // cpu::simd draws as the reference does, so Dropout and GaussianNoise compare in training too.
    testing::check_dense_and_activations<cpu::simd, host_arrays>(tolerance, agreement_modes::both);
}
TEST_CASE("convolutions agree with the reference backend") {
    testing::check_convolutions<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("pooling, resampling and padding layers agree with the reference backend") {
    testing::check_pooling_and_resampling<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("batch normalization agrees with the reference backend") {
    testing::check_batch_norm<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("merge layers agree with the reference backend") { testing::check_merges<cpu::simd, host_arrays>(tolerance); }

TEST_CASE("the blocked GEMM agrees with the reference for every transpose, edge and scale") {
    struct Case {
        bool ta, tb;
        std::size_t M, N, K;
        float alpha, beta;
    };
    // Sizes off the 6 x 32 tile and the 256-deep k blocks; a narrow product (computed through
    // its transpose); a single output column (dot products); beta 0 with NaN in C.
    const Case cases[] = {{false, false, 70, 45, 37, 1.0f, 0.0f},   {true, false, 70, 45, 300, 0.5f, 1.0f},
                          {false, true, 13, 100, 530, 1.0f, 0.25f}, {true, true, 33, 65, 20, -1.0f, 0.0f},
                          {false, false, 500, 8, 72, 1.0f, 0.0f},   {false, true, 500, 3, 40, 2.0f, 1.0f},
                          {false, false, 300, 1, 288, 1.0f, 0.0f},  {false, false, 7, 300, 600, 1.0f, 0.0f}};
    for (const auto& c : cases) {
        INFO("trans " << c.ta << c.tb << ", M N K = " << c.M << " " << c.N << " " << c.K << ", beta " << c.beta);
        Generator g(c.M + c.N + c.K);
        std::vector<float> a(c.M * c.K), b(c.K * c.N), want(c.M * c.N), got;
        for (auto& v : a) v = static_cast<float>(g.uniform(-1.0, 1.0));
        for (auto& v : b) v = static_cast<float>(g.uniform(-1.0, 1.0));
        for (auto& v : want) v = c.beta == 0.0f ? std::nanf("") : static_cast<float>(g.uniform(-1.0, 1.0));
        got = want;
        const std::size_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
        ops::gemm<cpu::reference>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, a.data(), lda, b.data(), ldb, c.beta, want.data(), c.N);
        ops::gemm<cpu::simd>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, a.data(), lda, b.data(), ldb, c.beta, got.data(), c.N);
        CHECK(relative_error(got, want) < 1e-5);
    }
}

TEST_CASE("cpu::simd gives bit-identical results for any thread count") {
    const int before = cpu::threads();
    // Split by rows, by column panels, and along k (few rows and columns, a long sum).
    const std::size_t shapes[][3] = {{400, 70, 300}, {40, 300, 500}, {40, 20, 3000}};
    for (const auto& shape : shapes) {
        const std::size_t M = shape[0], N = shape[1], K = shape[2];
        INFO("M N K = " << M << " " << N << " " << K);
        Generator g(5);
        std::vector<float> a(M * K), b(K * N);
        for (auto& v : a) v = static_cast<float>(g.uniform(-1.0, 1.0));
        for (auto& v : b) v = static_cast<float>(g.uniform(-1.0, 1.0));
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3}) {
            cpu::set_threads(threads);
            for (bool ta : {false, true}) {
                std::vector<float> c(M * N, 0.5f);
                ops::gemm<cpu::simd>(ta, false, M, N, K, 1.0f, a.data(), ta ? M : K, b.data(), N, 0.5f, c.data(), N);
                results.push_back(c);
            }
        }
        cpu::set_threads(before);
        for (std::size_t i = 2; i < results.size(); ++i) CHECK(results[i] == results[i % 2]);
        // and the same as the reference, to rounding
        std::vector<float> want(M * N, 0.5f);
        ops::gemm<cpu::reference>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.5f, want.data(), N);
        CHECK(relative_error(results[0], want) < 1e-5);
    }
}
