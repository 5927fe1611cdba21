// cpu::simd: the fast CPU backend. It derives from cpu::reference, so every op without a SIMD
// kernel here falls back to the reference one. Its GEMM is Eigen's (vectorized for the target's
// instruction set, multithreaded when built with OpenMP), where the training time goes.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include <Eigen/Core>

#include "../../core/activations.hpp"
#include "reference.hpp"

namespace latent::cpu {

struct simd : reference {
    using memory_space = host_memory;
    static constexpr std::string_view name = "cpu::simd";
};

namespace detail {
// Sixteen floats as one value (GCC/Clang vector extension): one AVX-512 register, or two AVX
// or four SSE registers on narrower targets.
typedef float float16 __attribute__((vector_size(64)));

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MatrixMap = Eigen::Map<RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
}  // namespace detail

// Straight loops for products too small to repay Eigen's blocking and dispatch (a batch-1
// pass through a small network): the inner loops run over contiguous rows and vectorize.
template <class T>
void small_gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
                const T* __restrict A, std::size_t lda, const T* __restrict B, std::size_t ldb, T beta,
                T* __restrict C, std::size_t ldc) {
    const std::size_t a_row = trans_a ? 1 : lda, a_col = trans_a ? lda : 1;  // A(m, k) = A[m * a_row + k * a_col]
    for (std::size_t m = 0; m < M; ++m) {
        T* __restrict c = C + m * ldc;
        const T* __restrict a = A + m * a_row;
        if (beta == T(0))
            for (std::size_t n = 0; n < N; ++n) c[n] = T(0);
        else if (beta != T(1))
            for (std::size_t n = 0; n < N; ++n) c[n] *= beta;
        if (!trans_b) {
            // Sixteen columns at a time, summed in registers over k (not through c in memory).
            std::size_t n0 = 0;
            if constexpr (std::is_same_v<T, float>) {
                using Vec = detail::float16;
                constexpr std::size_t W = sizeof(Vec) / sizeof(float);
                for (; n0 + W <= N; n0 += W) {
                    Vec acc = {};
                    for (std::size_t k = 0; k < K; ++k) {
                        Vec b;
                        std::memcpy(&b, B + k * ldb + n0, sizeof b);
                        acc += a[k * a_col] * b;
                    }
                    Vec out;
                    std::memcpy(&out, c + n0, sizeof out);
                    out += alpha * acc;
                    std::memcpy(c + n0, &out, sizeof out);
                }
            }
            for (T* out = c + n0; out != c + N; ++out) {  // the last columns: dot products, 4 partial sums
                const T* __restrict b = B + (out - c);
                T part[4] = {};
                std::size_t k = 0;
                for (; k + 4 <= K; k += 4)
                    for (std::size_t j = 0; j < 4; ++j) part[j] += a[(k + j) * a_col] * b[(k + j) * ldb];
                T acc = (part[0] + part[1]) + (part[2] + part[3]);
                for (; k < K; ++k) acc += a[k * a_col] * b[k * ldb];
                *out += alpha * acc;
            }
        } else {
            for (std::size_t n = 0; n < N; ++n) {
                const T* __restrict b = B + n * ldb;
                T acc = 0;
                for (std::size_t k = 0; k < K; ++k) acc += a[k * a_col] * b[k];
                c[n] += alpha * acc;
            }
        }
    }
}

template <class T>
void gemm_kernel(const simd&, bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
                 const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if (M * N * K <= 4096 || (M == 1 && !trans_b && N * K <= 65536)) {
        small_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    using Index = Eigen::Index;
    const auto m = static_cast<Index>(M), n = static_cast<Index>(N), k = static_cast<Index>(K);
    detail::MatrixMap<T> c(C, m, n, Eigen::OuterStride<>(static_cast<Index>(ldc)));
    if (beta == T(0))
        c.setZero();  // never read C: NaNs there must not propagate
    else if (beta != T(1))
        c *= beta;
    if (M == 0 || N == 0 || K == 0) return;
    // A stored row-major as (M, K), or as (K, M) when transposed; likewise B.
    const detail::ConstMatrixMap<T> a(A, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(static_cast<Index>(lda)));
    const detail::ConstMatrixMap<T> b(B, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(static_cast<Index>(ldb)));
    if (!trans_a && !trans_b)
        c.noalias() += alpha * a * b;
    else if (trans_a && !trans_b)
        c.noalias() += alpha * a.transpose() * b;
    else if (!trans_a && trans_b)
        c.noalias() += alpha * a * b.transpose();
    else
        c.noalias() += alpha * a.transpose() * b.transpose();
}

// tanh and sigmoid through Eigen's vectorized float implementations (within a few ulp of the
// standard library's); the other functions (ReLU's max, ...) vectorize as written.
template <class F, class T>
void activation_kernel(const simd&, std::size_t n, const F& f, const T* x, T* y) {
    using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
    const Eigen::Map<const Array> in(x, static_cast<Eigen::Index>(n));
    Eigen::Map<Array> out(y, static_cast<Eigen::Index>(n));
    if constexpr (std::is_same_v<F, activations::tanh>)
        out = in.tanh();
    else if constexpr (std::is_same_v<F, activations::sigmoid>)
        out = in.logistic();
    else
        for (std::size_t i = 0; i < n; ++i) y[i] = f.value(x[i]);
}

// The number of threads the GEMM uses (Eigen's setting; 1 unless built with OpenMP).
inline void set_threads(int threads) { Eigen::setNbThreads(threads); }
inline int threads() { return Eigen::nbThreads(); }

}  // namespace latent::cpu
