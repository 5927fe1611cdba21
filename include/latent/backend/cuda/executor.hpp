// The GPU executor of the per-index kernels (cuda/kernels.hpp) and the latent::cuda tag: each
// body becomes a grid-stride CUDA kernel on the current context's stream, GEMMs go to cuBLAS.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "../backend.hpp"
#include "context.hpp"
#include "error.hpp"
#include "kernels.hpp"
#include "memory.hpp"

namespace latent {
namespace detail {

template <class Body>
__global__ void for_each_index(std::size_t n, Body body) {
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) body(i);
}

inline int blas_dimension(std::size_t n, const char* what) {
    if (n > static_cast<std::size_t>(INT_MAX))
        throw cuda_error("latent.cuda.gemm_size", std::string("cuBLAS takes 32-bit sizes; ") + what + " is " +
                                                      std::to_string(n));
    return static_cast<int>(n);
}

class cuda_executor {
public:
    cuda_executor() : context_(&current_cuda_context()) {}

    template <class Body>
    void for_each(std::size_t n, const Body& body) const {
        if (n == 0) return;
        constexpr unsigned threads = 256;
        std::size_t blocks = (n + threads - 1) / threads;
        if (blocks > (std::size_t{1} << 20)) blocks = std::size_t{1} << 20;  // the grid-stride loop does the rest
        for_each_index<<<static_cast<unsigned>(blocks), threads, 0, context_->stream()>>>(n, body);
        LATENT_CUDA_CHECK(cudaGetLastError());
    }

    template <class T>
    T* scratch(std::size_t n) const {
        return static_cast<T*>(context_->scratch(n * sizeof(T)));
    }

    template <class T>
    T read(const T* p) const {
        T value{};
        LATENT_CUDA_CHECK(cudaMemcpyAsync(&value, p, sizeof(T), cudaMemcpyDeviceToHost, context_->stream()));
        context_->synchronize();
        return value;
    }

    template <class T>
    void gemm_col_major(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) const {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                      "latent: the cuda backend's GEMM takes float or double");
        const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
        const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
        const int M = blas_dimension(m, "M"), N = blas_dimension(n, "N"), K = blas_dimension(k, "K");
        // cuBLAS wants leading dimensions >= 1 even when a matrix is empty.
        const int LDA = blas_dimension(lda > 0 ? lda : 1, "lda"), LDB = blas_dimension(ldb > 0 ? ldb : 1, "ldb"),
                  LDC = blas_dimension(ldc > 0 ? ldc : 1, "ldc");
        if constexpr (std::is_same_v<T, float>)
            LATENT_CUDA_CHECK(cublasSgemm(context_->blas(), op_a, op_b, M, N, K, &alpha, A, LDA, B, LDB, &beta, C, LDC));
        else
            LATENT_CUDA_CHECK(cublasDgemm(context_->blas(), op_a, op_b, M, N, K, &alpha, A, LDA, B, LDB, &beta, C, LDC));
    }

private:
    CudaContext* context_;
};

}  // namespace detail

// The CUDA backend: arrays in GPU memory (CudaBuffer), kernels on the current context's stream.
struct cuda : detail::per_index_backend<detail::cuda_executor> {
    using memory_space = device_memory;
    static constexpr std::string_view name = "cuda";

    template <class T>
    using buffer = CudaBuffer<T>;
    // Each model computes on a stream of its own.
    using context = CudaContext;
    using context_scope = CudaContextScope;
    // Blocking copies on the current context's stream (after the work queued there).
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) {
        if (n == 0) return;
        CudaContext& context = current_cuda_context();
        LATENT_CUDA_CHECK(cudaMemcpyAsync(device, host, n * sizeof(T), cudaMemcpyHostToDevice, context.stream()));
        context.synchronize();
    }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) {
        if (n == 0) return;
        CudaContext& context = current_cuda_context();
        LATENT_CUDA_CHECK(cudaMemcpyAsync(host, device, n * sizeof(T), cudaMemcpyDeviceToHost, context.stream()));
        context.synchronize();
    }
};

}  // namespace latent
