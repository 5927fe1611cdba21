// The step recorder's CUDA driver: a recorded stretch of a step is a CUDA graph whose kernel
// nodes are added directly (so that they can be updated in place) and whose GEMMs are cuBLAS
// calls captured from the stream into child graphs.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "step_recorder.hpp"

namespace latent::detail {

inline int blas_dimension(std::size_t n, const char* what) {
    if (n > static_cast<std::size_t>(INT_MAX))
        throw cuda_error("latent.cuda.gemm_size", std::string("cuBLAS takes 32-bit sizes; ") + what + " is " +
                                                      std::to_string(n));
    return static_cast<int>(n);
}

inline void run_cublas_gemm(cublasHandle_t blas, const gemm_call& c) {
    const cublasOperation_t op_a = c.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = c.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int M = blas_dimension(c.m, "M"), N = blas_dimension(c.n, "N"), K = blas_dimension(c.k, "K");
    // cuBLAS wants leading dimensions >= 1 even when a matrix is empty.
    const int LDA = blas_dimension(c.lda > 0 ? c.lda : 1, "lda"), LDB = blas_dimension(c.ldb > 0 ? c.ldb : 1, "ldb"),
              LDC = blas_dimension(c.ldc > 0 ? c.ldc : 1, "ldc");
    // One product is a plain GEMM; more are one strided-batched call (one launch for all of them).
    if (c.count == 1) {
        if (c.is_double) {
            const double alpha = c.alpha, beta = c.beta;
            LATENT_CUDA_CHECK(cublasDgemm(blas, op_a, op_b, M, N, K, &alpha, static_cast<const double*>(c.A), LDA,
                                          static_cast<const double*>(c.B), LDB, &beta, static_cast<double*>(c.C), LDC));
        } else {
            const float alpha = static_cast<float>(c.alpha), beta = static_cast<float>(c.beta);
            LATENT_CUDA_CHECK(cublasSgemm(blas, op_a, op_b, M, N, K, &alpha, static_cast<const float*>(c.A), LDA,
                                          static_cast<const float*>(c.B), LDB, &beta, static_cast<float*>(c.C), LDC));
        }
        return;
    }
    const int count = blas_dimension(c.count, "the batch count");
    const auto SA = static_cast<long long>(c.stride_a), SB = static_cast<long long>(c.stride_b),
               SC = static_cast<long long>(c.stride_c);
    if (c.is_double) {
        const double alpha = c.alpha, beta = c.beta;
        LATENT_CUDA_CHECK(cublasDgemmStridedBatched(blas, op_a, op_b, M, N, K, &alpha, static_cast<const double*>(c.A),
                                                    LDA, SA, static_cast<const double*>(c.B), LDB, SB, &beta,
                                                    static_cast<double*>(c.C), LDC, SC, count));
    } else {
        const float alpha = static_cast<float>(c.alpha), beta = static_cast<float>(c.beta);
        LATENT_CUDA_CHECK(cublasSgemmStridedBatched(blas, op_a, op_b, M, N, K, &alpha, static_cast<const float*>(c.A),
                                                    LDA, SA, static_cast<const float*>(c.B), LDB, SB, &beta,
                                                    static_cast<float*>(c.C), LDC, SC, count));
    }
}

class cuda_graph_driver {
public:
    cuda_graph_driver() = default;
    cuda_graph_driver(cudaStream_t stream, cublasHandle_t blas) noexcept : stream_(stream), blas_(blas) {}

    // One stretch: its graph, the nodes in order (each depends on the one before), its executable.
    class graph {
    public:
        graph() = default;
        graph(graph&& other) noexcept
            : graph_(std::exchange(other.graph_, nullptr)), exec_(std::exchange(other.exec_, nullptr)),
              nodes_(std::move(other.nodes_)) {}
        graph& operator=(graph&& other) noexcept {
            graph(std::move(other)).swap(*this);
            return *this;
        }
        graph(const graph&) = delete;
        graph& operator=(const graph&) = delete;
        ~graph() {
            // Errors at teardown cannot be reported from a destructor.
            if (exec_) cudaGraphExecDestroy(exec_);
            if (graph_) cudaGraphDestroy(graph_);
        }
        void swap(graph& other) noexcept {
            std::swap(graph_, other.graph_);
            std::swap(exec_, other.exec_);
            std::swap(nodes_, other.nodes_);
        }

    private:
        friend class cuda_graph_driver;
        cudaGraph_t graph_ = nullptr;
        cudaGraphExec_t exec_ = nullptr;
        std::vector<cudaGraphNode_t> nodes_;
    };

    graph new_graph() const {
        graph g;
        LATENT_CUDA_CHECK(cudaGraphCreate(&g.graph_, 0));
        return g;
    }

    std::size_t add_kernel(graph& g, const kernel_launch& k) const {
        void* args[2];
        const cudaKernelNodeParams params = node_params(k, args);
        cudaGraphNode_t node = nullptr;
        LATENT_CUDA_CHECK(cudaGraphAddKernelNode(&node, g.graph_, last(g), last(g) ? 1 : 0, &params));
        g.nodes_.push_back(node);
        return g.nodes_.size() - 1;
    }

    // The cuBLAS call, captured from the stream (the handle has a fixed workspace, so the capture
    // allocates nothing), becomes a child graph.
    std::size_t add_gemm(graph& g, const gemm_call& call) const {
        cudaGraph_t child = nullptr;
        LATENT_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
        try {
            run_cublas_gemm(blas_, call);
        } catch (...) {
            if (cudaStreamEndCapture(stream_, &child) == cudaSuccess && child) cudaGraphDestroy(child);
            // An invalidated capture leaves its error as the thread's last error: cleared, so that
            // the next launch's check does not report it as its own.
            (void)cudaGetLastError();
            throw;
        }
        LATENT_CUDA_CHECK(cudaStreamEndCapture(stream_, &child));
        cudaGraphNode_t node = nullptr;
        const cudaError_t added = cudaGraphAddChildGraphNode(&node, g.graph_, last(g), last(g) ? 1 : 0, child);
        cudaGraphDestroy(child);  // the node holds its own copy
        LATENT_CUDA_CHECK(added);
        g.nodes_.push_back(node);
        return g.nodes_.size() - 1;
    }

    void instantiate(graph& g) const { LATENT_CUDA_CHECK(cudaGraphInstantiate(&g.exec_, g.graph_, 0)); }
    void launch(graph& g) const { LATENT_CUDA_CHECK(cudaGraphLaunch(g.exec_, stream_)); }

    // New arguments for a kernel node of an instantiated graph (later launches see them).
    void update_kernel(graph& g, std::size_t node, const kernel_launch& k) const {
        void* args[2];
        const cudaKernelNodeParams params = node_params(k, args);
        LATENT_CUDA_CHECK(cudaGraphExecKernelNodeSetParams(g.exec_, g.nodes_[node], &params));
    }

    void run_kernel(const kernel_launch& k) const {
        void* args[2];
        const cudaKernelNodeParams params = node_params(k, args);
        LATENT_CUDA_CHECK(cudaLaunchKernel(params.func, params.gridDim, params.blockDim, params.kernelParams, 0, stream_));
    }
    void run_gemm(const gemm_call& call) const { run_cublas_gemm(blas_, call); }

private:
    static cudaGraphNode_t* last(graph& g) noexcept { return g.nodes_.empty() ? nullptr : &g.nodes_.back(); }

    // The per-index kernels take (std::size_t n, Body body); `args` points at both.
    static cudaKernelNodeParams node_params(const kernel_launch& k, void* (&args)[2]) {
        args[0] = const_cast<std::size_t*>(&k.n);
        args[1] = const_cast<void*>(k.body_data());
        cudaKernelNodeParams params{};
        params.func = const_cast<void*>(k.function);
        params.gridDim = dim3(k.blocks);
        params.blockDim = dim3(k.threads);
        params.sharedMemBytes = 0;
        params.kernelParams = args;
        params.extra = nullptr;
        return params;
    }

    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
};

}  // namespace latent::detail
