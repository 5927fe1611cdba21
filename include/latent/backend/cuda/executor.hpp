// The GPU executor of the per-index kernels (cuda/kernels.hpp) and the latent::cuda tag: each
// body becomes a grid-stride CUDA kernel on the current context's stream, GEMMs go to cuBLAS,
// convolutions to cuDNN where it is built in; inside a recorded or replayed step kernels and
// GEMMs go to the context's step recorder instead.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

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

class cuda_executor {
public:
    cuda_executor() : context_(&current_cuda_context()) {}

    template <class Body>
    void for_each(std::size_t n, const Body& body) const {
        if (n == 0) return;
        constexpr unsigned threads = 256;
        std::size_t blocks = (n + threads - 1) / threads;
        if (blocks > (std::size_t{1} << 20)) blocks = std::size_t{1} << 20;  // the grid-stride loop does the rest
        if (context_->recording_step()) {  // a step being recorded or replayed takes it
            static_assert(alignof(Body) <= alignof(body_word), "latent: a kernel body aligned beyond 16 bytes");
            context_->record_kernel(reinterpret_cast<const void*>(&for_each_index<Body>), static_cast<unsigned>(blocks),
                                    threads, n, body);
            return;
        }
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
        LATENT_CUDA_CHECK(cudaMemcpyAsync(&value, p, sizeof(T), cudaMemcpyDeviceToHost, context_->flushed_stream()));
        context_->synchronize();
        return value;
    }

#if defined(LATENT_CUDNN)
    // Convolutions through cuDNN (cuda/conv_library.hpp): the context's plan, unless use_cudnn(false).
    static constexpr bool has_convolution_library = true;
    template <class T>
    const cudnn_convolution* convolution_plan(const Window2D& w, std::size_t batch, std::size_t filters) const {
        if (!context_->uses_cudnn()) return nullptr;
        return &context_->cudnn().template convolution<T>(w, batch, filters, context_->tf32_allowed());
    }
    // cuDNN queues on the stream itself, so the recorded kernels held back go first: a recorded
    // step's stretch ends here, as at a copy.
    template <class T>
    void convolve_forward(const cudnn_convolution& plan, const T* x, const T* kernel, T* y, void* workspace) const {
        context_->flush();
        plan.forward(context_->cudnn().handle(), x, kernel, y, workspace);
    }
    template <class T>
    void convolve_backward_data(const cudnn_convolution& plan, const T* kernel, const T* dy, T* dx, void* workspace) const {
        context_->flush();
        plan.backward_data(context_->cudnn().handle(), kernel, dy, dx, workspace);
    }
    template <class T>
    void convolve_backward_filter(const cudnn_convolution& plan, const T* x, const T* dy, T* dkernel,
                                  void* workspace) const {
        context_->flush();
        plan.backward_filter(context_->cudnn().handle(), x, dy, dkernel, workspace);
    }
#else
    static constexpr bool has_convolution_library = false;
#endif

    template <class T>
    void gemm_col_major(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) const {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                      "latent: the cuda backend's GEMM takes float or double");
        context_->gemm(make_gemm_call(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc));
    }
    template <class T>
    void gemm_batched_col_major(std::size_t count, bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                                std::size_t k, T alpha, const T* A, std::size_t lda, std::size_t stride_a, const T* B,
                                std::size_t ldb, std::size_t stride_b, T beta, T* C, std::size_t ldc,
                                std::size_t stride_c) const {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                      "latent: the cuda backend's GEMM takes float or double");
        context_->gemm(make_batched_gemm_call(count, trans_a, trans_b, m, n, k, alpha, A, lda, stride_a, B, ldb,
                                              stride_b, beta, C, ldc, stride_c));
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
    // Brackets one training step (or predict call) on the current context: recorded into CUDA
    // graphs on its second run with this key, replayed after (cuda/step_recorder.hpp).
    class step_scope : public detail::step_bracket<CudaContext> {
    public:
        explicit step_scope(std::size_t key) : step_bracket(current_cuda_context(), key) {}
    };
    // Copies on the current context's stream (after the work queued there). upload returns when
    // the host array may be reused (without waiting for the GPU: cuda/memory.hpp), download
    // when the host array holds the values.
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) {
        if (n == 0) return;
        detail::copy_to_device(device, host, n * sizeof(T));
    }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) {
        if (n == 0) return;
        CudaContext& context = current_cuda_context();
        LATENT_CUDA_CHECK(cudaMemcpyAsync(host, device, n * sizeof(T), cudaMemcpyDeviceToHost, context.flushed_stream()));
        context.synchronize();
    }
    // The context current on this thread (a model's inside its calls, else the thread's own):
    // DeviceTensor copies on it.
    static CudaContext& current_context() { return current_cuda_context(); }
    // Bytes of GPU memory free now (cudaMemGetInfo): fit keeps its training set on the GPU when
    // it takes at most half of them (backend/memory.hpp, detail::device_memory_free).
    static std::size_t free_memory() {
        std::size_t free = 0, total = 0;
        LATENT_CUDA_CHECK(cudaMemGetInfo(&free, &total));
        return free;
    }
};

}  // namespace latent
