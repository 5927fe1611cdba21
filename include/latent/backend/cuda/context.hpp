// CudaContext: the stream, cuBLAS handle and scratch memory that the CUDA kernels run with. A
// CudaContextScope makes one current on its thread (a model would hold one per model); without
// one, each thread gets its own context on first use.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "error.hpp"

namespace latent {

class CudaContext {
public:
    CudaContext() {
        LATENT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        try {
            LATENT_CUDA_CHECK(cublasCreate(&blas_));
            LATENT_CUDA_CHECK(cublasSetStream(blas_, stream_));
            // Full float32 products (no TF32) unless asked: results must agree with the CPU.
            LATENT_CUDA_CHECK(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
        } catch (...) {
            release();
            throw;
        }
    }
    CudaContext(const CudaContext&) = delete;
    CudaContext& operator=(const CudaContext&) = delete;
    ~CudaContext() { release(); }

    cudaStream_t stream() const noexcept { return stream_; }
    cublasHandle_t blas() const noexcept { return blas_; }

    // Lets cuBLAS use TF32 tensor cores for float32 GEMMs (faster, about 1e-3 relative).
    void allow_tf32(bool on) {
        LATENT_CUDA_CHECK(cublasSetMathMode(blas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    }

    void synchronize() const { LATENT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

    // At least `bytes` of device memory for one op's temporaries; the next op may reuse it
    // (ops on one stream run in order). Growing waits for the queued work (cudaFree does).
    void* scratch(std::size_t bytes) {
        if (bytes > scratch_bytes_) {
            const std::size_t grown = bytes > 2 * scratch_bytes_ ? bytes : 2 * scratch_bytes_;
            if (scratch_) LATENT_CUDA_CHECK(cudaFree(scratch_));
            scratch_ = nullptr;
            scratch_bytes_ = 0;
            LATENT_CUDA_CHECK(cudaMalloc(&scratch_, grown));
            scratch_bytes_ = grown;
        }
        return scratch_;
    }

private:
    void release() noexcept {
        // Errors at teardown (the runtime may already be unloading) cannot be reported here.
        if (scratch_) cudaFree(scratch_);
        if (blas_) cublasDestroy(blas_);
        if (stream_) cudaStreamDestroy(stream_);
        scratch_ = nullptr;
        blas_ = nullptr;
        stream_ = nullptr;
    }

    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    void* scratch_ = nullptr;
    std::size_t scratch_bytes_ = 0;
};

namespace detail {
inline CudaContext*& current_cuda_context_slot() noexcept {
    thread_local CudaContext* current = nullptr;
    return current;
}
}  // namespace detail

// The context kernels on this thread run with.
inline CudaContext& current_cuda_context() {
    if (CudaContext* current = detail::current_cuda_context_slot()) return *current;
    thread_local CudaContext per_thread;
    return per_thread;
}

// Makes `context` current on this thread for the scope's lifetime (scopes nest).
class CudaContextScope {
public:
    explicit CudaContextScope(CudaContext& context) noexcept
        : previous_(std::exchange(detail::current_cuda_context_slot(), &context)) {}
    CudaContextScope(const CudaContextScope&) = delete;
    CudaContextScope& operator=(const CudaContextScope&) = delete;
    ~CudaContextScope() { detail::current_cuda_context_slot() = previous_; }

private:
    CudaContext* previous_;
};

}  // namespace latent
