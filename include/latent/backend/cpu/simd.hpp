// cpu::simd: the fast CPU backend. It derives from cpu::reference, so every op without a SIMD
// kernel here falls back to the reference one. Its GEMM is Eigen's (vectorized for the target's
// instruction set, multithreaded when built with OpenMP), where the training time goes.
#pragma once

#include <cstddef>

#include <Eigen/Core>

#include "reference.hpp"

namespace latent::cpu {

struct simd : reference {
    using memory_space = host_memory;
    static constexpr std::string_view name = "cpu::simd";
};

namespace detail {
template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MatrixMap = Eigen::Map<RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
}  // namespace detail

template <class T>
void gemm_kernel(const simd&, bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
                 const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
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

// The number of threads the GEMM uses (Eigen's setting; 1 unless built with OpenMP).
inline void set_threads(int threads) { Eigen::setNbThreads(threads); }
inline int threads() { return Eigen::nbThreads(); }

}  // namespace latent::cpu
