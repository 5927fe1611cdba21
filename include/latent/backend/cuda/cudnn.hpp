// cuDNN for latent::cuda's convolutions (where it is built with LATENT_CUDNN): a CudaContext's
// handle and the convolutions it has planned (descriptors, the algorithm of each pass), which
// the executor hands to cuda/conv_library.hpp's hooks; and the check of a cuDNN call.
#pragma once

#if !defined(LATENT_CUDNN)
#error "latent/backend/cuda/cudnn.hpp needs LATENT_CUDNN (CMake defines it on latent::cuda where it finds cuDNN)"
#endif

#include <cuda_runtime.h>
#include <cudnn.h>

#include <climits>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../../core/spatial.hpp"
#include "error.hpp"

namespace latent::detail {

inline void cuda_check(cudnnStatus_t status, const char* call, const char* file, int line) {
    if (status == CUDNN_STATUS_SUCCESS) return;
    throw cuda_error("latent.cuda." + cuda_call_name(call), std::string(call) + " failed at " + file + ":" +
                                                                std::to_string(line) + ": " + cudnnGetErrorString(status));
}

// The most workspace one cuDNN call may take; an algorithm that needs more is passed over.
inline constexpr std::size_t cudnn_workspace_limit = std::size_t{512} << 20;

template <class T>
constexpr cudnnDataType_t cudnn_type() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "latent: cuDNN convolutions take float or double");
    return std::is_same_v<T, float> ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

inline int cudnn_dimension(std::size_t n, const char* what) {
    if (n > static_cast<std::size_t>(INT_MAX))
        throw cuda_error("latent.cuda.cudnn_size", std::string("cuDNN takes 32-bit sizes; ") + what + " is " +
                                                       std::to_string(n));
    return static_cast<int>(n);
}

// One convolution's descriptors (the window, batch and filters fixed) and the algorithm chosen
// for each pass, made on first use and kept by the context.
class cudnn_convolution {
public:
    cudnn_convolution(cudnnHandle_t handle, const Window2D& w, std::size_t batch, std::size_t filters,
                      cudnnDataType_t type, bool tf32)
        : window_(w), batch_(batch), filters_(filters), type_(type), tf32_(tf32) {
        try {
            LATENT_CUDA_CHECK(cudnnCreateTensorDescriptor(&x_));
            LATENT_CUDA_CHECK(cudnnCreateTensorDescriptor(&y_));
            LATENT_CUDA_CHECK(cudnnCreateFilterDescriptor(&kernel_));
            LATENT_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&conv_));
            const int n = cudnn_dimension(batch, "the batch");
            LATENT_CUDA_CHECK(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NHWC, type, n, cudnn_dimension(w.channels, "C"),
                                                         cudnn_dimension(w.in_h, "H"), cudnn_dimension(w.in_w, "W")));
            LATENT_CUDA_CHECK(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NHWC, type, n, cudnn_dimension(filters, "K"),
                                                         cudnn_dimension(w.out_h, "P"), cudnn_dimension(w.out_w, "Q")));
            // NHWC filters are (K, R, S, C): latent's kernel (R, S, C, K) transposed.
            LATENT_CUDA_CHECK(cudnnSetFilter4dDescriptor(kernel_, type, CUDNN_TENSOR_NHWC, cudnn_dimension(filters, "K"),
                                                         cudnn_dimension(w.channels, "C"), cudnn_dimension(w.kernel_h, "R"),
                                                         cudnn_dimension(w.kernel_w, "S")));
            LATENT_CUDA_CHECK(cudnnSetConvolution2dDescriptor(
                conv_, cudnn_dimension(w.pad_top, "pad"), cudnn_dimension(w.pad_left, "pad"),
                cudnn_dimension(w.stride_h, "stride"), cudnn_dimension(w.stride_w, "stride"),
                cudnn_dimension(w.dilation_h, "dilation"), cudnn_dimension(w.dilation_w, "dilation"),
                CUDNN_CROSS_CORRELATION, type));
            // Full float32 (FMA) unless TF32 is allowed: results must agree with the CPU.
            LATENT_CUDA_CHECK(cudnnSetConvolutionMathType(conv_, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
            int n_out = 0, c_out = 0, h_out = 0, w_out = 0;
            LATENT_CUDA_CHECK(cudnnGetConvolution2dForwardOutputDim(conv_, x_, kernel_, &n_out, &c_out, &h_out, &w_out));
            if (static_cast<std::size_t>(h_out) != w.out_h || static_cast<std::size_t>(w_out) != w.out_w)
                throw cuda_error("latent.cuda.cudnn_window",
                                 "cuDNN computes a " + std::to_string(h_out) + "x" + std::to_string(w_out) +
                                     " output for a window latent computes as " + std::to_string(w.out_h) + "x" +
                                     std::to_string(w.out_w) + " (symmetric_padding_suffices let it through)");
            choose_algorithms(handle);
        } catch (...) {
            release();
            throw;
        }
    }
    cudnn_convolution(const cudnn_convolution&) = delete;
    cudnn_convolution& operator=(const cudnn_convolution&) = delete;
    ~cudnn_convolution() { release(); }

    bool is(const Window2D& w, std::size_t batch, std::size_t filters, cudnnDataType_t type, bool tf32) const {
        return w == window_ && batch == batch_ && filters == filters_ && type == type_ && tf32 == tf32_;
    }

    // y = x (*) kernel; kernel is cuDNN's (K, R, S, C).
    template <class T>
    void forward(cudnnHandle_t h, const T* x, const T* kernel, T* y, void* workspace) const {
        const T one = 1, zero = 0;
        LATENT_CUDA_CHECK(cudnnConvolutionForward(h, &one, x_, x, kernel_, kernel, conv_, *forward_, workspace,
                                                  forward_bytes_, &zero, y_, y));
    }
    // dx = the adjoint of forward applied to dy (overwrites dx).
    template <class T>
    void backward_data(cudnnHandle_t h, const T* kernel, const T* dy, T* dx, void* workspace) const {
        const T one = 1, zero = 0;
        LATENT_CUDA_CHECK(cudnnConvolutionBackwardData(h, &one, kernel_, kernel, y_, dy, conv_, *data_, workspace,
                                                       data_bytes_, &zero, x_, dx));
    }
    // dkernel = the kernel gradient, cuDNN's (K, R, S, C) (overwrites dkernel).
    template <class T>
    void backward_filter(cudnnHandle_t h, const T* x, const T* dy, T* dkernel, void* workspace) const {
        const T one = 1, zero = 0;
        LATENT_CUDA_CHECK(cudnnConvolutionBackwardFilter(h, &one, x_, x, y_, dy, conv_, *filter_, workspace,
                                                         filter_bytes_, &zero, kernel_, dkernel));
    }

    // Whether a pass has an algorithm that qualifies (else it runs as im2col and GEMM), and the
    // workspace it takes.
    bool has_forward() const noexcept { return forward_.has_value(); }
    bool has_backward_data() const noexcept { return data_.has_value(); }
    bool has_backward_filter() const noexcept { return filter_.has_value(); }
    std::size_t forward_bytes() const noexcept { return forward_bytes_; }
    std::size_t data_bytes() const noexcept { return data_bytes_; }
    std::size_t filter_bytes() const noexcept { return filter_bytes_; }

    // "in 28x28x32, kernel 3x3, stride 1x1, pad 1x1, 64 filters, batch 512: forward algorithm 1
    // (... B of workspace), input gradient 1 (...), kernel gradient 1 (...)", in cuDNN's enum
    // values; "im2col" for a pass without one.
    std::string description() const {
        const auto pass = [](const char* name, auto algo, std::size_t bytes) {
            return std::string(name) +
                   (algo ? " " + std::to_string(static_cast<int>(*algo)) + " (" + std::to_string(bytes) + " B of workspace)"
                         : std::string(" im2col"));
        };
        const Window2D& w = window_;
        return "in " + std::to_string(w.in_h) + "x" + std::to_string(w.in_w) + "x" + std::to_string(w.channels) +
               ", kernel " + std::to_string(w.kernel_h) + "x" + std::to_string(w.kernel_w) + ", stride " +
               std::to_string(w.stride_h) + "x" + std::to_string(w.stride_w) +
               (w.dilated() ? ", dilation " + std::to_string(w.dilation_h) + "x" + std::to_string(w.dilation_w) : "") +
               ", pad " + std::to_string(w.pad_top) + "x" +
               std::to_string(w.pad_left) + ", " + std::to_string(filters_) + " filters, batch " + std::to_string(batch_) +
               (tf32_ ? ", TF32" : "") + ": " + pass("forward algorithm", forward_, forward_bytes_) + ", " +
               pass("input gradient", data_, data_bytes_) + ", " + pass("kernel gradient", filter_, filter_bytes_);
    }

private:
    // cuDNN's heuristic ranking (no timing runs, so every run picks the same), keeping the first
    // algorithm that is deterministic (every run gives the same bits, as everywhere in latent),
    // neither FFT nor Winograd (their rounding can exceed the 1e-4 agreement with the CPU), on
    // tensor cores only where TF32 is allowed, and within the workspace limit. None: the pass
    // runs as im2col and GEMM.
    template <class Perf, class Algo>
    std::optional<Algo> first_fit(const Perf* perf, int count, std::initializer_list<Algo> excluded,
                                  std::size_t& bytes) const {
        for (int i = 0; i < count; ++i) {
            const Perf& p = perf[i];
            const bool tensor_cores = p.mathType == CUDNN_TENSOR_OP_MATH || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
            bool skip = p.status != CUDNN_STATUS_SUCCESS || p.determinism != CUDNN_DETERMINISTIC ||
                        p.memory > cudnn_workspace_limit || (tensor_cores && !tf32_);
            for (Algo a : excluded) skip = skip || p.algo == a;
            if (!skip) {
                bytes = p.memory;
                return p.algo;
            }
        }
        return std::nullopt;
    }

    // A heuristic query that fails (a configuration cuDNN does not take) leaves its pass without
    // an algorithm, as an empty ranking does.
    void choose_algorithms(cudnnHandle_t h) {
        int count = 0;
        cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        if (cudnnGetConvolutionForwardAlgorithm_v7(h, x_, kernel_, conv_, y_, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count,
                                                   fwd) == CUDNN_STATUS_SUCCESS)
            forward_ = first_fit(fwd, count,
                                 {CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING,
                                  CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED},
                                 forward_bytes_);
        cudnnConvolutionBwdDataAlgoPerf_t data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        count = 0;
        if (cudnnGetConvolutionBackwardDataAlgorithm_v7(h, kernel_, y_, conv_, x_, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                        &count, data) == CUDNN_STATUS_SUCCESS)
            data_ = first_fit(data, count,
                              {CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING,
                               CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED},
                              data_bytes_);
        cudnnConvolutionBwdFilterAlgoPerf_t filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        count = 0;
        if (cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x_, y_, conv_, kernel_, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                                                          &count, filter) == CUDNN_STATUS_SUCCESS)
            filter_ = first_fit(filter, count,
                                {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING,
                                 CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED},
                                filter_bytes_);
    }

    void release() noexcept {
        if (conv_) cudnnDestroyConvolutionDescriptor(conv_);
        if (kernel_) cudnnDestroyFilterDescriptor(kernel_);
        if (y_) cudnnDestroyTensorDescriptor(y_);
        if (x_) cudnnDestroyTensorDescriptor(x_);
        conv_ = nullptr;
        kernel_ = nullptr;
        y_ = x_ = nullptr;
    }

    Window2D window_;
    std::size_t batch_ = 0, filters_ = 0;
    cudnnDataType_t type_;
    bool tf32_ = false;
    cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
    cudnnFilterDescriptor_t kernel_ = nullptr;
    cudnnConvolutionDescriptor_t conv_ = nullptr;
    std::optional<cudnnConvolutionFwdAlgo_t> forward_;
    std::optional<cudnnConvolutionBwdDataAlgo_t> data_;
    std::optional<cudnnConvolutionBwdFilterAlgo_t> filter_;
    std::size_t forward_bytes_ = 0, data_bytes_ = 0, filter_bytes_ = 0;
};

// A context's cuDNN handle (on the context's stream) and the convolutions it has run.
class cudnn_state {
public:
    explicit cudnn_state(cudaStream_t stream) {
        LATENT_CUDA_CHECK(cudnnCreate(&handle_));
        if (const cudnnStatus_t set = cudnnSetStream(handle_, stream); set != CUDNN_STATUS_SUCCESS) {
            cudnnDestroy(handle_);
            LATENT_CUDA_CHECK(set);
        }
    }
    cudnn_state(const cudnn_state&) = delete;
    cudnn_state& operator=(const cudnn_state&) = delete;
    ~cudnn_state() {
        convolutions_.clear();
        cudnnDestroy(handle_);  // errors at teardown cannot be reported from a destructor
    }

    cudnnHandle_t handle() const noexcept { return handle_; }

    template <class T>
    const cudnn_convolution& convolution(const Window2D& w, std::size_t batch, std::size_t filters, bool tf32) {
        for (const auto& c : convolutions_)
            if (c->is(w, batch, filters, cudnn_type<T>(), tf32)) return *c;
        // A model fed many batch sizes keeps the plans it made last (no call holds one past its end).
        if (convolutions_.size() >= max_convolutions) convolutions_.erase(convolutions_.begin());
        convolutions_.push_back(std::make_unique<cudnn_convolution>(handle_, w, batch, filters, cudnn_type<T>(), tf32));
        return *convolutions_.back();
    }

    // The plans made so far, one a line (CudaContext::cudnn_plans).
    std::string description() const {
        std::string lines;
        for (const auto& c : convolutions_) lines += c->description() + "\n";
        return lines;
    }

private:
    static constexpr std::size_t max_convolutions = 64;
    cudnnHandle_t handle_ = nullptr;
    std::vector<std::unique_ptr<cudnn_convolution>> convolutions_;
};

}  // namespace latent::detail
