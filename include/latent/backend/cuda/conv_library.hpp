// Conv2D's and Conv2DTranspose's passes through a convolution library the executor of a
// per-index backend offers (cuDNN, for latent::cuda built with LATENT_CUDNN): the seam's
// convolution hooks, with im2col and GEMM where the library is off or has no algorithm.
#pragma once

#include <cstddef>
#include <type_traits>

#include "../../config.hpp"
#include "../../core/spatial.hpp"
#include "../ops.hpp"

namespace latent::detail {

/* A per-index backend's executor E with a convolution library declares `static constexpr bool
   has_convolution_library = true` and offers
     convolution_plan<T>(window, batch, filters) -> const Plan*
                                  the library's plan for this convolution, or nullptr where the
                                  library is switched off; the plan lives until the op returns
       Plan: has_forward(), has_backward_data(), has_backward_filter()  whether the library has
             an algorithm for the pass; forward_bytes(), data_bytes(), filter_bytes() its workspace
     convolve_forward(plan, x, kernel, y, workspace)          y = x (*) kernel
     convolve_backward_data(plan, kernel, dy, dx, workspace)   dx = the adjoint applied to dy
     convolve_backward_filter(plan, x, dy, dkernel, workspace) dkernel = the kernel gradient
   all three overwriting their output, after the kernels queued before them (an executor that
   holds kernels back, as a recorded step does, launches them first), with images channels-last
   as latent stores them, the kernel in the library's (filters, kernel_h, kernel_w, channels)
   order, and the window padded by pad_top / pad_left on both sides. */
template <class B>
concept convolution_library_backend = requires { requires B::executor::has_convolution_library; };

// Bytes of scratch before a library's workspace that follows `elements` values: the 256-byte
// alignment of cudaMalloc kept.
template <class T>
constexpr std::size_t library_workspace_offset(std::size_t elements) {
    return (elements * sizeof(T) + 255) / 256 * 256;
}

// Scratch memory for one library call: the kernel in the library's order (patch * filters
// values), then `workspace_bytes` at library_workspace_offset.
template <class T, class E>
T* library_scratch(E& exec, const Window2D& w, std::size_t filters, std::size_t workspace_bytes) {
    return exec.template scratch<T>((library_workspace_offset<T>(w.patch_size() * filters) + workspace_bytes) / sizeof(T) +
                                    1);
}
template <class T>
void* library_workspace(T* scratch, const Window2D& w, std::size_t filters) {
    return reinterpret_cast<char*>(scratch) + library_workspace_offset<T>(w.patch_size() * filters);
}

// to (filters, patch) = kernel (patch, filters) transposed: latent's order to the library's.
template <class E, class T>
void kernel_in_library_order(E& exec, std::size_t patch, std::size_t filters, const T* kernel, T* to) {
    exec.for_each(patch * filters, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t f = i / patch, p = i % patch;
        to[i] = kernel[p * filters + f];
    });
}

// The hooks ops::conv2d, conv2d_kernel_gradient and conv2d_input_gradient look for
// (backend/backend.hpp). A window that symmetric padding reproduces goes to the library, so no
// layer keeps an im2col workspace for it; where the library is off or has no algorithm for a
// pass, the hook runs the ops' im2col composition in the executor's scratch memory instead.
template <convolution_library_backend B, class T>
constexpr bool conv2d_implicit(const B&, const Window2D& w, std::size_t, const T*) {
    return (std::is_same_v<T, float> || std::is_same_v<T, double>) && symmetric_padding_suffices(w);
}
template <convolution_library_backend B, class T>
constexpr bool conv2d_input_gradient_implicit(const B& b, const Window2D& w, std::size_t filters, const T* p) {
    return conv2d_implicit(b, w, filters, p);
}

// y (batch * positions, filters) = patches(x) kernel, kernel (patch, filters).
template <convolution_library_backend B, class T>
void conv2d_kernel(const B&, const Window2D& w, std::size_t batch, const T* x, const T* kernel, std::size_t filters,
                   T* y) {
    typename B::executor exec;
    const auto* plan = exec.template convolution_plan<T>(w, batch, filters);
    if (!plan || !plan->has_forward()) {
        T* cols = exec.template scratch<T>(batch * w.positions() * w.patch_size());
        ops::conv2d_through_im2col<B>(w, batch, x, kernel, filters, y, cols);
        return;
    }
    T* kernel_there = library_scratch<T>(exec, w, filters, plan->forward_bytes());
    kernel_in_library_order(exec, w.patch_size(), filters, kernel, kernel_there);
    exec.convolve_forward(*plan, x, kernel_there, y, library_workspace(kernel_there, w, filters));
}

// dkernel (patch, filters) += patches(x)^T dy.
template <convolution_library_backend B, class T>
void conv2d_kernel_gradient_kernel(const B&, const Window2D& w, std::size_t batch, const T* x, const T* dy,
                                   std::size_t filters, T* dkernel) {
    typename B::executor exec;
    const std::size_t patch = w.patch_size();
    const auto* plan = exec.template convolution_plan<T>(w, batch, filters);
    if (!plan || !plan->has_backward_filter()) {
        T* cols = exec.template scratch<T>(batch * w.positions() * patch);
        ops::im2col<B>(w, batch, x, cols);
        ops::conv2d_kernel_gradient_from_patches<B>(w, batch, dy, filters, dkernel, cols);
        return;
    }
    T* gradient_there = library_scratch<T>(exec, w, filters, plan->filter_bytes());
    exec.convolve_backward_filter(*plan, x, dy, gradient_there, library_workspace(gradient_there, w, filters));
    exec.for_each(patch * filters, [=] LATENT_HOST_DEVICE(std::size_t i) {  // += (filters, patch) transposed
        const std::size_t p = i / filters, f = i % filters;
        dkernel[i] += gradient_there[f * patch + p];
    });
}

// dx (batch, in_h, in_w, channels) = col2im(dy kernel^T), overwritten.
template <convolution_library_backend B, class T>
void conv2d_input_gradient_kernel(const B&, const Window2D& w, std::size_t batch, const T* dy, const T* kernel,
                                  std::size_t filters, T* dx) {
    typename B::executor exec;
    const auto* plan = exec.template convolution_plan<T>(w, batch, filters);
    if (!plan || !plan->has_backward_data()) {
        T* dcols = exec.template scratch<T>(batch * w.positions() * w.patch_size());
        ops::conv2d_input_gradient_through_col2im<B>(w, batch, dy, kernel, filters, dx, dcols);
        return;
    }
    T* kernel_there = library_scratch<T>(exec, w, filters, plan->data_bytes());
    kernel_in_library_order(exec, w.patch_size(), filters, kernel, kernel_there);
    exec.convolve_backward_data(*plan, kernel_there, dy, dx, library_workspace(kernel_there, w, filters));
}

}  // namespace latent::detail
