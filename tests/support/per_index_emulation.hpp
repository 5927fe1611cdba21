// A host executor for the CUDA backend's per-index kernels (backend/cuda/kernels.hpp): the same
// bodies and reductions the GPU runs, run in a loop, so the tests check them on any machine.
#pragma once

#include <cstddef>
#include <limits>
#include <string_view>
#include <vector>

#include <latent/backend/cuda/kernels.hpp>

namespace latent::testing {

class host_executor {
public:
    template <class Body>
    void for_each(std::size_t n, const Body& body) const {
        for (std::size_t i = 0; i < n; ++i) body(i);
    }

    // Fresh memory per op, filled with NaN so that a body reading scratch it never wrote shows.
    template <class T>
    T* scratch(std::size_t n) {
        scratch_.assign((n * sizeof(T) + sizeof(double) - 1) / sizeof(double) + 1, std::numeric_limits<double>::quiet_NaN());
        T* p = reinterpret_cast<T*>(scratch_.data());
        for (std::size_t i = 0; i < n; ++i) p[i] = std::numeric_limits<T>::quiet_NaN();
        return p;
    }

    template <class T>
    T read(const T* p) const {
        return *p;
    }

    // BLAS' column-major GEMM, as cuBLAS computes it (beta == 0 does not read C).
    template <class T>
    void gemm_col_major(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) const {
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t i = 0; i < m; ++i) {
                T acc = T(0);
                for (std::size_t p = 0; p < k; ++p)
                    acc += (trans_a ? A[i * lda + p] : A[p * lda + i]) * (trans_b ? B[p * ldb + j] : B[j * ldb + p]);
                T& c = C[j * ldc + i];
                c = beta == T(0) ? alpha * acc : alpha * acc + beta * c;
            }
    }
    template <class T>
    void gemm_batched_col_major(std::size_t count, bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                                std::size_t k, T alpha, const T* A, std::size_t lda, std::size_t stride_a, const T* B,
                                std::size_t ldb, std::size_t stride_b, T beta, T* C, std::size_t ldc,
                                std::size_t stride_c) const {
        for (std::size_t i = 0; i < count; ++i)
            gemm_col_major(trans_a, trans_b, m, n, k, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta,
                           C + i * stride_c, ldc);
    }

private:
    std::vector<double> scratch_;
};

// The CUDA backend's kernels on host memory.
struct per_index_emulation : detail::per_index_backend<host_executor> {
    using memory_space = host_memory;
    static constexpr std::string_view name = "cuda kernels on the host";
};

}  // namespace latent::testing
