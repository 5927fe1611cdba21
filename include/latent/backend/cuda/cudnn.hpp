// Conv2D's and Conv2DTranspose's three passes on latent::cuda through cuDNN (where latent::cuda
// is built with LATENT_CUDNN): channels-last data as it is, deterministic algorithms, no TF32
// unless allowed. CudaContext::use_cudnn(false) runs them as im2col and cuBLAS GEMMs instead.
#pragma once

#if !defined(LATENT_CUDNN)
#error "latent/backend/cuda/cudnn.hpp needs LATENT_CUDNN (CMake defines it on latent::cuda where it finds cuDNN)"
#endif

#include <cstddef>
#include <type_traits>

#include "../../core/spatial.hpp"
#include "../ops.hpp"
#include "context.hpp"
#include "cudnn_state.hpp"
#include "executor.hpp"

namespace latent {
namespace detail {

// Bytes of scratch before a cuDNN workspace that follows `elements` values: cudaMalloc's
// 256-byte alignment kept.
template <class T>
constexpr std::size_t cudnn_workspace_offset(std::size_t elements) {
    return (elements * sizeof(T) + 255) / 256 * 256;
}

// to (cols, rows) = from (rows, cols) transposed, both row-major: latent's kernel (patch,
// filters) and cuDNN's (filters, patch).
template <class T>
void transpose_on(const cuda_executor& exec, std::size_t rows, std::size_t cols, const T* from, T* to) {
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t c = i / rows, r = i % rows;
        to[i] = from[r * cols + c];
    });
}

// One pass's cuDNN call: the context's handle, the convolution's plan, and scratch memory for
// the kernel in cuDNN's layout (patch * filters values) followed by the pass's workspace.
template <class T>
struct cudnn_pass {
    cudnnHandle_t handle;
    const cudnn_convolution& conv;
    T* kernel_krsc;
    void* workspace;
};
template <class T>
cudnn_pass<T> prepare_cudnn_pass(const cuda_executor& exec, const Window2D& w, std::size_t batch, std::size_t filters,
                                 std::size_t (cudnn_convolution::*workspace_bytes)() const noexcept) {
    CudaContext& context = exec.context();
    cudnn_state& dnn = context.cudnn();
    const cudnn_convolution& conv = dnn.convolution<T>(w, batch, filters, context.tf32_allowed());
    const std::size_t offset = cudnn_workspace_offset<T>(w.patch_size() * filters);
    T* kernel_krsc = exec.scratch<T>((offset + (conv.*workspace_bytes)()) / sizeof(T) + 1);
    return {dnn.handle(), conv, kernel_krsc, reinterpret_cast<char*>(kernel_krsc) + offset};
}

}  // namespace detail

// The hooks ops::conv2d, conv2d_kernel_gradient and conv2d_input_gradient look for
// (backend/backend.hpp). A window that symmetric padding reproduces runs through cuDNN, so no
// layer keeps an im2col workspace for it; with use_cudnn(false) these hooks compose im2col and
// cuBLAS in the context's scratch memory instead.
template <class T>
constexpr bool conv2d_implicit(const cuda&, const Window2D& w, std::size_t, const T*) {
    return (std::is_same_v<T, float> || std::is_same_v<T, double>) && symmetric_padding_suffices(w);
}
template <class T>
constexpr bool conv2d_input_gradient_implicit(const cuda& b, const Window2D& w, std::size_t filters, const T* p) {
    return conv2d_implicit(b, w, filters, p);
}

template <class T>
void conv2d_kernel(const cuda&, const Window2D& w, std::size_t batch, const T* x, const T* kernel, std::size_t filters,
                   T* y) {
    const detail::cuda_executor exec;
    const std::size_t patch = w.patch_size();
    CudaContext& context = exec.context();
    if (!context.uses_cudnn()) {
        T* cols = exec.scratch<T>(batch * w.positions() * patch);
        ops::im2col<cuda>(w, batch, x, cols);
        ops::gemm<cuda>(false, false, batch * w.positions(), filters, patch, T(1), cols, patch, kernel, filters, T(0), y,
                        filters);
        return;
    }
    const auto pass = detail::prepare_cudnn_pass<T>(exec, w, batch, filters, &detail::cudnn_convolution::forward_bytes);
    detail::transpose_on(exec, patch, filters, kernel, pass.kernel_krsc);
    // cuDNN queues on the stream itself: the recorded kernels held back go first (a recorded
    // step's stretch ends here, as at a copy).
    context.flush();
    pass.conv.forward(pass.handle, x, pass.kernel_krsc, y, pass.workspace);
}

template <class T>
void conv2d_kernel_gradient_kernel(const cuda&, const Window2D& w, std::size_t batch, const T* x, const T* dy,
                                   std::size_t filters, T* dkernel) {
    const detail::cuda_executor exec;
    const std::size_t patch = w.patch_size();
    CudaContext& context = exec.context();
    if (!context.uses_cudnn()) {
        T* cols = exec.scratch<T>(batch * w.positions() * patch);
        ops::im2col<cuda>(w, batch, x, cols);
        ops::gemm<cuda>(true, false, patch, filters, batch * w.positions(), T(1), cols, patch, dy, filters, T(1), dkernel,
                        filters);
        return;
    }
    const auto pass = detail::prepare_cudnn_pass<T>(exec, w, batch, filters, &detail::cudnn_convolution::filter_bytes);
    T* gradient_krsc = pass.kernel_krsc;
    context.flush();
    pass.conv.backward_filter(pass.handle, x, dy, gradient_krsc, pass.workspace);
    // dkernel (patch, filters) += the gradient (filters, patch) transposed.
    exec.for_each(patch * filters, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t p = i / filters, f = i % filters;
        dkernel[i] += gradient_krsc[f * patch + p];
    });
}

template <class T>
void conv2d_input_gradient_kernel(const cuda&, const Window2D& w, std::size_t batch, const T* dy, const T* kernel,
                                  std::size_t filters, T* dx) {
    const detail::cuda_executor exec;
    const std::size_t patch = w.patch_size();
    CudaContext& context = exec.context();
    if (!context.uses_cudnn()) {
        T* dcols = exec.scratch<T>(batch * w.positions() * patch);
        ops::gemm<cuda>(false, true, batch * w.positions(), patch, filters, T(1), dy, filters, kernel, filters, T(0), dcols,
                        patch);
        ops::col2im<cuda>(w, batch, dcols, dx);
        return;
    }
    const auto pass = detail::prepare_cudnn_pass<T>(exec, w, batch, filters, &detail::cudnn_convolution::data_bytes);
    detail::transpose_on(exec, patch, filters, kernel, pass.kernel_krsc);
    context.flush();
    pass.conv.backward_data(pass.handle, pass.kernel_krsc, dy, dx, pass.workspace);
}

}  // namespace latent
