// CudaContext: the stream, cuBLAS handle, scratch memory and recorded step graphs that the CUDA
// kernels run with. A CudaContextScope makes one current on its thread (each model holds one);
// without one, each thread gets its own context on first use.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "../../core/errors.hpp"
#include "error.hpp"
#include "graph_driver.hpp"
#include "step_recorder.hpp"
#if defined(LATENT_CUDNN)
#include "cudnn.hpp"
#endif

namespace latent {

class CudaContext {
public:
    CudaContext() {
        LATENT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        try {
            LATENT_CUDA_CHECK(cublasCreate(&blas_));
            LATENT_CUDA_CHECK(cublasSetStream(blas_, stream_));
            // A workspace of its own (set after the stream, which resets it): cuBLAS then
            // allocates nothing while a step is captured into a graph. 32 MiB is NVIDIA's
            // recommendation for Hopper.
            LATENT_CUDA_CHECK(cudaMalloc(&blas_workspace_, blas_workspace_bytes));
            LATENT_CUDA_CHECK(cublasSetWorkspace(blas_, blas_workspace_, blas_workspace_bytes));
            // Full float32 products (no TF32) unless asked: results must agree with the CPU.
            LATENT_CUDA_CHECK(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
            recorder_.driver() = detail::cuda_graph_driver(stream_, blas_);
        } catch (...) {
            release();
            throw;
        }
    }
    CudaContext(const CudaContext&) = delete;
    CudaContext& operator=(const CudaContext&) = delete;
    ~CudaContext() { release(); }

    cudaStream_t stream() const noexcept { return stream_; }
    // The stream for work of one's own (copies): the recorded work held back is launched first,
    // so that it runs after the kernels queued before it.
    cudaStream_t flushed_stream() {
        flush();
        return stream_;
    }
    cublasHandle_t blas() const noexcept { return blas_; }

    // Lets cuBLAS use TF32 tensor cores for float32 GEMMs (faster, about 1e-3 relative). Between
    // steps only: recorded GEMMs keep the math mode they were captured with, so the recordings
    // are forgotten and the next steps record anew.
    void allow_tf32(bool on) {
        if (recorder_.in_step())
            throw value_error("latent.cuda.allow_tf32", "allow_tf32 changes how a step's GEMMs run: call it between "
                                                        "steps (outside fit, predict or a step scope), not inside one");
        LATENT_CUDA_CHECK(cublasSetMathMode(blas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
        tf32_ = on;  // cuDNN's convolutions follow (cuda/cudnn.hpp)
        recorder_.forget_recordings();
    }
    bool tf32_allowed() const noexcept { return tf32_; }

    // Whether latent::cuda was built with cuDNN (CMake's LATENT_CUDNN, on where it finds cuDNN).
#if defined(LATENT_CUDNN)
    static constexpr bool has_cudnn = true;
#else
    static constexpr bool has_cudnn = false;
#endif
    // Convolutions through cuDNN (the default where latent::cuda has it) or, with
    // use_cudnn(false), as im2col and cuBLAS GEMMs. Between steps only, as allow_tf32.
    void use_cudnn(bool on) {
        if (on && !has_cudnn)
            throw value_error("latent.cuda.use_cudnn", "use_cudnn(true): this latent::cuda was built without cuDNN "
                                                       "(CMake found no cudnn.h and libcudnn, or LATENT_CUDNN is OFF)");
        if (recorder_.in_step())
            throw value_error("latent.cuda.use_cudnn", "use_cudnn changes how a step's convolutions run: call it "
                                                       "between steps (outside fit, predict or a step scope), not inside one");
        use_cudnn_ = on;
        recorder_.forget_recordings();
    }
    bool uses_cudnn() const noexcept { return has_cudnn && use_cudnn_; }
    // The convolutions this context has planned with cuDNN and the algorithm of each pass, one a
    // line ("" before the first, or without cuDNN).
    std::string cudnn_plans() const {
#if defined(LATENT_CUDNN)
        if (cudnn_) return cudnn_->description();
#endif
        return {};
    }
#if defined(LATENT_CUDNN)
    // The cuDNN handle on this context's stream and the convolutions planned so far, made on
    // first use (loading cuDNN takes a while: a model without convolutions never does).
    detail::cudnn_state& cudnn() {
        if (!cudnn_) cudnn_ = std::make_unique<detail::cudnn_state>(stream_);
        return *cudnn_;
    }
#endif

    // Waits for the work queued so far (recorded work is launched first).
    void synchronize() {
        flush();
        LATENT_CUDA_CHECK(cudaStreamSynchronize(stream_));
        unwaited_copies_ = false;
    }

    // A copy into device memory was queued and not waited for (detail::copy_to_device): this
    // stream orders it before its later work, but other contexts' streams do not, so
    // CudaContextScope synchronizes this context before another one becomes current.
    void note_unwaited_copy() noexcept { unwaited_copies_ = true; }
    bool has_unwaited_copies() const noexcept { return unwaited_copies_; }

    // Launches the recorded work held back so far.
    void flush() { recorder_.flush(); }

    // Steps recorded into CUDA graphs and replayed (see cuda/step_recorder.hpp): the training
    // loop brackets each step, `key` telling kinds of steps and batch sizes apart. On by default;
    // record_steps(false) runs every later step kernel by kernel.
    void begin_step(std::size_t key) { recorder_.begin_step(key); }
    void end_step() { recorder_.end_step(); }
    void record_steps(bool on) { recorder_.enable(on); }
    using step_statistics = typename detail::step_recorder<detail::cuda_graph_driver>::statistics;
    step_statistics step_statistics_so_far() const { return recorder_.stats(); }

    // The executor's launches while a step is recorded or replayed (else it launches directly).
    bool recording_step() const noexcept { return recorder_.active(); }
    template <class Body>
    void record_kernel(const void* function, unsigned blocks, unsigned threads, std::size_t n, const Body& body) {
        recorder_.kernel(function, blocks, threads, n, body);
    }
    void gemm(const detail::gemm_call& call) {
        if (recorder_.active())
            recorder_.gemm(call);
        else
            detail::run_cublas_gemm(blas_, call);
    }

    // At least `bytes` of device memory for one op's temporaries; the next op may reuse it
    // (ops on one stream run in order). Growing waits for the queued work first.
    void* scratch(std::size_t bytes) {
        if (bytes > scratch_bytes_) {
            // The held-back work reads the old scratch: launched, and waited for before the free
            // (cudaFree waits in practice; the runtime's reference does not promise it).
            synchronize();
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
        // Errors at teardown (the runtime may already be unloading) cannot be reported here. The
        // stream's work finishes before the memory it uses is freed.
        recorder_.clear();
        if (stream_) cudaStreamSynchronize(stream_);
#if defined(LATENT_CUDNN)
        cudnn_.reset();
#endif
        if (blas_) cublasDestroy(blas_);
        if (scratch_) cudaFree(scratch_);
        if (blas_workspace_) cudaFree(blas_workspace_);
        if (stream_) cudaStreamDestroy(stream_);
        scratch_ = nullptr;
        blas_workspace_ = nullptr;
        blas_ = nullptr;
        stream_ = nullptr;
    }

    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    static constexpr std::size_t blas_workspace_bytes = std::size_t{32} << 20;
    void* blas_workspace_ = nullptr;
    void* scratch_ = nullptr;
    std::size_t scratch_bytes_ = 0;
    bool unwaited_copies_ = false;
    bool tf32_ = false;
    bool use_cudnn_ = true;
#if defined(LATENT_CUDNN)
    std::unique_ptr<detail::cudnn_state> cudnn_;
#endif
    detail::step_recorder<detail::cuda_graph_driver> recorder_;
};

namespace detail {
inline CudaContext*& current_cuda_context_slot() noexcept {
    thread_local CudaContext* current = nullptr;
    return current;
}
// The thread's own context (current where no scope is), once made.
inline CudaContext*& thread_cuda_context_slot() noexcept {
    thread_local CudaContext* made = nullptr;
    return made;
}
// The context current on this thread, if one is made; makes none.
inline CudaContext* current_cuda_context_if_any() noexcept {
    CudaContext* current = current_cuda_context_slot();
    return current ? current : thread_cuda_context_slot();
}
}  // namespace detail

// The context kernels on this thread run with.
inline CudaContext& current_cuda_context() {
    if (CudaContext* current = detail::current_cuda_context_slot()) return *current;
    struct thread_context {  // known to scopes while it lives (thread_cuda_context_slot)
        CudaContext context;
        thread_context() { detail::thread_cuda_context_slot() = &context; }
        ~thread_context() { detail::thread_cuda_context_slot() = nullptr; }
    };
    thread_local thread_context per_thread;
    return per_thread.context;
}

// Makes `context` current on this thread for the scope's lifetime (scopes nest). A copy the
// context left behind did not wait for (an upload of a batch, of weights) is waited for when
// another context takes over, on entering and on leaving: streams do not wait for each other,
// and the memory copied into may be read there next. A model's step has waited for its loss or
// output by then, so this costs nothing in the training and predict loops.
class CudaContextScope {
public:
    explicit CudaContextScope(CudaContext& context) noexcept {
        wait_for_copies(detail::current_cuda_context_if_any(), &context);
        previous_ = std::exchange(detail::current_cuda_context_slot(), &context);
    }
    CudaContextScope(const CudaContextScope&) = delete;
    CudaContextScope& operator=(const CudaContextScope&) = delete;
    ~CudaContextScope() {
        CudaContext* left = detail::current_cuda_context_slot();
        detail::current_cuda_context_slot() = previous_;
        wait_for_copies(left, detail::current_cuda_context_if_any());
    }

private:
    // Scopes are made in destructors too, so this cannot throw: a failed wait means a failed
    // kernel or copy, an error CUDA keeps and reports at the context's next checked call.
    static void wait_for_copies(CudaContext* left, const CudaContext* next) noexcept {
        if (!left || left == next || !left->has_unwaited_copies()) return;
        try {
            left->synchronize();
        } catch (...) {
        }
    }

    CudaContext* previous_ = nullptr;
};

}  // namespace latent
