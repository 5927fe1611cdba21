// latent::ops: the one seam layers, losses and optimizers call. Each op forwards to the
// backend's `<op>_kernel` overload (found by ADL on the tag, so derived tags fall back to
// their base's kernels); a backend missing a kernel gets one error naming backend and op.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../config.hpp"
#include "../core/random.hpp"
#include "../core/spatial.hpp"
#include "backend.hpp"
#include "permute.hpp"
#include "prelu.hpp"
#include "recurrent_cells.hpp"
#include "warp.hpp"

namespace latent::ops {

namespace op {
struct gemm {};
struct bias_add {};
struct column_sum {};
struct sum_of_squares {};
struct elementwise {};
struct activation {};
struct sum {};
struct softmax {};
struct softmax_backward {};
struct softmax_cross_entropy {};
struct sparse_softmax_cross_entropy {};
struct sigmoid_binary_cross_entropy {};
struct uniform {};
struct im2col {};
struct col2im {};
struct max_pool2d {};
struct max_pool2d_backward {};
struct average_pool2d {};
struct average_pool2d_backward {};
struct upsample_nearest2d {};
struct upsample_nearest2d_backward {};
struct upsample_bilinear2d {};
struct upsample_bilinear2d_backward {};
struct affine_warp2d {};
struct affine_warp2d_backward {};
struct pad2d {};
struct crop2d {};
struct channel_moments {};
struct channel_normalize {};
struct channel_affine {};
struct batch_norm_backward {};
struct layer_norm {};
struct layer_norm_backward {};
struct rms_norm {};
struct rms_norm_backward {};
struct group_norm {};
struct group_norm_backward {};
struct l2_normalize {};
struct l2_normalize_backward {};
struct row_dot {};
struct row_dot_backward {};
struct normal {};
}  // namespace op

template <backend_policy B, class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
          std::size_t lda, const T* Bm, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if constexpr (requires { gemm_kernel(B{}, trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc); })
        gemm_kernel(B{}, trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
    else
        (void)sizeof(missing_kernel<B, op::gemm>);
}

// Optional: a backend without the kernel gets one gemm per product.
template <backend_policy B, class T>
void gemm_batched(std::size_t count, bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
                  const T* A, std::size_t lda, std::size_t stride_a, const T* Bm, std::size_t ldb, std::size_t stride_b,
                  T beta, T* C, std::size_t ldc, std::size_t stride_c) {
    if constexpr (requires {
                      gemm_batched_kernel(B{}, count, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, Bm, ldb,
                                          stride_b, beta, C, ldc, stride_c);
                  })
        gemm_batched_kernel(B{}, count, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, Bm, ldb, stride_b, beta, C,
                            ldc, stride_c);
    else
        for (std::size_t i = 0; i < count; ++i)
            gemm<B>(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, Bm + i * stride_b, ldb, beta,
                    C + i * stride_c, ldc);
}

template <backend_policy B, class T>
void bias_add(std::size_t rows, std::size_t cols, const T* bias, T* y) {
    if constexpr (requires { bias_add_kernel(B{}, rows, cols, bias, y); })
        bias_add_kernel(B{}, rows, cols, bias, y);
    else
        (void)sizeof(missing_kernel<B, op::bias_add>);
}

template <backend_policy B, class T>
void column_sum(std::size_t rows, std::size_t cols, const T* x, T* out, bool accumulate) {
    if constexpr (requires { column_sum_kernel(B{}, rows, cols, x, out, accumulate); })
        column_sum_kernel(B{}, rows, cols, x, out, accumulate);
    else
        (void)sizeof(missing_kernel<B, op::column_sum>);
}

// out[0] (+)= the sum of x[i]^2, left in the backend's memory: gradient clipping by norm,
// which must not wait for the host (a device step is replayed as a graph).
template <backend_policy B, class T>
void sum_of_squares(std::size_t n, const T* x, T* out, bool accumulate) {
    if constexpr (requires { sum_of_squares_kernel(B{}, n, x, out, accumulate); })
        sum_of_squares_kernel(B{}, n, x, out, accumulate);
    else
        (void)sizeof(missing_kernel<B, op::sum_of_squares>);
}

// f(a0[i], a1[i], ...) for every i: the building block of activations and optimizer updates.
template <backend_policy B, class F, class... P>
void elementwise(std::size_t n, F&& f, P*... arrays) {
    if constexpr (requires { elementwise_kernel(B{}, n, std::forward<F>(f), arrays...); })
        elementwise_kernel(B{}, n, std::forward<F>(f), arrays...);
    else
        (void)sizeof(missing_kernel<B, op::elementwise>);
}

// to[i] = from[i] for i < n, both in the backend's memory: elementwise, so on every backend.
template <backend_policy B, class T>
void copy_elements(std::size_t n, const T* from, T* to) {
    elementwise<B>(n, [] LATENT_HOST_DEVICE(T& out, const T& in) { out = in; }, to, from);
}

// p[i] = 0 for i < n, in the backend's memory: std::fill_n on the host, elementwise elsewhere.
template <backend_policy B, class T>
void fill_zero(std::size_t n, T* p) {
    if constexpr (std::is_same_v<typename B::memory_space, host_memory>)
        std::fill_n(p, n, T(0));
    else
        elementwise<B>(n, [] LATENT_HOST_DEVICE(T& v) { v = T(0); }, p);
}

// y[i] = f.value(x[i]) for an activation function f (layers/activation.hpp): a backend may
// evaluate the functions it knows faster, vectorized, to within 1e-6 relative of f.value.
template <backend_policy B, class F, class T>
void activation(std::size_t n, const F& f, const T* x, T* y) {
    if constexpr (requires { activation_kernel(B{}, n, f, x, y); })
        activation_kernel(B{}, n, f, x, y);
    else
        (void)sizeof(missing_kernel<B, op::activation>);
}

// z[r, c] += bias[c], then y = f.value(z) over rows x cols (Dense's bias and the elementwise
// activation after it): one pass where the backend has the kernel, else bias_add then
// activation. Either way z and y hold what the two ops would have written.
template <backend_policy B, class F, class T>
void bias_add_activation(std::size_t rows, std::size_t cols, const T* bias, T* z, const F& f, T* y) {
    if constexpr (requires { bias_add_activation_kernel(B{}, rows, cols, bias, z, f, y); }) {
        bias_add_activation_kernel(B{}, rows, cols, bias, z, f, y);
    } else {
        bias_add<B>(rows, cols, bias, z);
        activation<B>(rows * cols, f, static_cast<const T*>(z), y);
    }
}

template <backend_policy B, class T>
T sum(std::size_t n, const T* x) {
    if constexpr (requires { sum_kernel(B{}, n, x); })
        return sum_kernel(B{}, n, x);
    else
        return (void)sizeof(missing_kernel<B, op::sum>), T{};
}

template <backend_policy B, class T>
void softmax(std::size_t rows, std::size_t cols, const T* x, T* y) {
    if constexpr (requires { softmax_kernel(B{}, rows, cols, x, y); })
        softmax_kernel(B{}, rows, cols, x, y);
    else
        (void)sizeof(missing_kernel<B, op::softmax>);
}

template <backend_policy B, class T>
void softmax_backward(std::size_t rows, std::size_t cols, const T* y, const T* dy, T* dx) {
    if constexpr (requires { softmax_backward_kernel(B{}, rows, cols, y, dy, dx); })
        softmax_backward_kernel(B{}, rows, cols, y, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::softmax_backward>);
}

template <backend_policy B, class T>
T softmax_cross_entropy(std::size_t rows, std::size_t cols, const T* logits, const T* labels, T smoothing,
                        T* dlogits) {
    if constexpr (requires { softmax_cross_entropy_kernel(B{}, rows, cols, logits, labels, smoothing, dlogits); })
        return softmax_cross_entropy_kernel(B{}, rows, cols, logits, labels, smoothing, dlogits);
    else
        return (void)sizeof(missing_kernel<B, op::softmax_cross_entropy>), T{};
}

template <backend_policy B, class T>
T sparse_softmax_cross_entropy(std::size_t rows, std::size_t cols, const T* logits, const T* classes, T* dlogits) {
    if constexpr (requires { sparse_softmax_cross_entropy_kernel(B{}, rows, cols, logits, classes, dlogits); })
        return sparse_softmax_cross_entropy_kernel(B{}, rows, cols, logits, classes, dlogits);
    else
        return (void)sizeof(missing_kernel<B, op::sparse_softmax_cross_entropy>), T{};
}

template <backend_policy B, class T>
T sigmoid_binary_cross_entropy(std::size_t n, const T* logits, const T* labels, T smoothing, T* dlogits) {
    if constexpr (requires { sigmoid_binary_cross_entropy_kernel(B{}, n, logits, labels, smoothing, dlogits); })
        return sigmoid_binary_cross_entropy_kernel(B{}, n, logits, labels, smoothing, dlogits);
    else
        return (void)sizeof(missing_kernel<B, op::sigmoid_binary_cross_entropy>), T{};
}

template <backend_policy B, class T>
void uniform(std::size_t n, T* out, Generator& gen) {
    if constexpr (requires { uniform_kernel(B{}, n, out, gen); })
        uniform_kernel(B{}, n, out, gen);
    else
        (void)sizeof(missing_kernel<B, op::uniform>);
}

// ---- image ops (Window2D geometry, channels-last) ----------------------------------------

template <backend_policy B, class T>
void im2col(const Window2D& w, std::size_t batch, const T* x, T* cols) {
    if constexpr (requires { im2col_kernel(B{}, w, batch, x, cols); })
        im2col_kernel(B{}, w, batch, x, cols);
    else
        (void)sizeof(missing_kernel<B, op::im2col>);
}

template <backend_policy B, class T>
void col2im(const Window2D& w, std::size_t batch, const T* cols, T* x) {
    if constexpr (requires { col2im_kernel(B{}, w, batch, cols, x); })
        col2im_kernel(B{}, w, batch, cols, x);
    else
        (void)sizeof(missing_kernel<B, op::col2im>);
}

// The convolutions as im2col (col2im) and GEMM, in the scratch `cols` / `dcols` (batch *
// positions * patch elements): what conv2d and its gradients run where a backend has no kernel
// of its own, and what a backend's own kernel may fall back to.
// y (batch * positions, filters) = patches(x) kernel; cols holds the patches on return.
template <backend_policy B, class T>
void conv2d_through_im2col(const Window2D& w, std::size_t batch, const T* x, const T* kernel, std::size_t filters, T* y,
                           T* cols) {
    im2col<B>(w, batch, x, cols);
    gemm<B>(false, false, batch * w.positions(), filters, w.patch_size(), T(1), cols, w.patch_size(), kernel, filters,
            T(0), y, filters);
}
// dkernel (patch, filters) += patches^T dy, `cols` holding the patches of x.
template <backend_policy B, class T>
void conv2d_kernel_gradient_from_patches(const Window2D& w, std::size_t batch, const T* dy, std::size_t filters,
                                         T* dkernel, const T* cols) {
    gemm<B>(true, false, w.patch_size(), filters, batch * w.positions(), T(1), cols, w.patch_size(), dy, filters, T(1),
            dkernel, filters);
}
// dx (batch, in_h, in_w, channels) = col2im(dy kernel^T), overwritten.
template <backend_policy B, class T>
void conv2d_input_gradient_through_col2im(const Window2D& w, std::size_t batch, const T* dy, const T* kernel,
                                          std::size_t filters, T* dx, T* dcols) {
    gemm<B>(false, true, batch * w.positions(), w.patch_size(), filters, T(1), dy, filters, kernel, filters, T(0), dcols,
            w.patch_size());
    col2im<B>(w, batch, dcols, dx);
}

// Whether backend B computes conv2d for this window straight from the image (an implicit
// GEMM): then `cols` is left untouched, and a backward pass that needs the patches (the kernel
// gradient) must call im2col itself.
template <backend_policy B, class T>
constexpr bool conv2d_is_implicit(const Window2D& w, std::size_t filters) {
    if constexpr (requires { conv2d_implicit(B{}, w, filters, static_cast<const T*>(nullptr)); })
        return conv2d_implicit(B{}, w, filters, static_cast<const T*>(nullptr));
    else
        return false;
}

// y (batch * positions, filters) = patches(x) kernel, kernel (patch, filters) row-major.
// `cols` is scratch of batch * positions * patch elements; it holds the patches on return
// unless conv2d_is_implicit. A backend without a convolution kernel runs im2col and gemm.
template <backend_policy B, class T>
void conv2d(const Window2D& w, std::size_t batch, const T* x, const T* kernel, std::size_t filters, T* y, T* cols) {
    if constexpr (requires { conv2d_kernel(B{}, w, batch, x, kernel, filters, y); }) {
        if (conv2d_is_implicit<B, T>(w, filters)) {
            conv2d_kernel(B{}, w, batch, x, kernel, filters, y);
            return;
        }
    }
    conv2d_through_im2col<B>(w, batch, x, kernel, filters, y, cols);
}

// dkernel (patch, filters) += patches(x)^T dy, the kernel gradient of conv2d; `cols` holds
// what conv2d left there: the patches, unless conv2d_is_implicit (then it is scratch, and a
// backend without a kernel for it runs im2col again before its gemm).
template <backend_policy B, class T>
void conv2d_kernel_gradient(const Window2D& w, std::size_t batch, const T* x, const T* dy, std::size_t filters,
                            T* dkernel, T* cols) {
    const bool implicit = conv2d_is_implicit<B, T>(w, filters);
    if constexpr (requires { conv2d_kernel_gradient_kernel(B{}, w, batch, x, dy, filters, dkernel); }) {
        if (implicit) {
            conv2d_kernel_gradient_kernel(B{}, w, batch, x, dy, filters, dkernel);
            return;
        }
    }
    if (implicit) im2col<B>(w, batch, x, cols);
    conv2d_kernel_gradient_from_patches<B>(w, batch, dy, filters, dkernel, cols);
}

// Whether conv2d_input_gradient on backend B computes this window's input gradient without
// its scratch.
template <backend_policy B, class T>
constexpr bool conv2d_input_gradient_is_implicit(const Window2D& w, std::size_t filters) {
    if constexpr (requires { conv2d_input_gradient_implicit(B{}, w, filters, static_cast<const T*>(nullptr)); })
        return conv2d_input_gradient_implicit(B{}, w, filters, static_cast<const T*>(nullptr));
    else
        return false;
}

// Whether conv2d, conv2d_kernel_gradient and conv2d_input_gradient all run on B without their
// scratch `cols` for this window: a layer then needs no workspace for them.
template <backend_policy B, class T>
constexpr bool conv2d_needs_no_patches(const Window2D& w, std::size_t filters) {
    constexpr bool has_kernel_gradient = requires(std::size_t n, const T* p, T* q) {
        conv2d_kernel_gradient_kernel(B{}, w, n, p, p, filters, q);
    };
    return has_kernel_gradient && conv2d_is_implicit<B, T>(w, filters) &&
           conv2d_input_gradient_is_implicit<B, T>(w, filters);
}

// dx (batch, in_h, in_w, channels) = col2im(dy kernel^T), the input gradient of conv2d;
// `dcols` is scratch of batch * positions * patch elements. A backend without a kernel for
// this window runs gemm and col2im.
template <backend_policy B, class T>
void conv2d_input_gradient(const Window2D& w, std::size_t batch, const T* dy, const T* kernel, std::size_t filters,
                           T* dx, T* dcols) {
    if constexpr (requires {
                      conv2d_input_gradient_kernel(B{}, w, batch, dy, kernel, filters, dx);
                  }) {
        if (conv2d_input_gradient_is_implicit<B, T>(w, filters)) {
            conv2d_input_gradient_kernel(B{}, w, batch, dy, kernel, filters, dx);
            return;
        }
    }
    conv2d_input_gradient_through_col2im<B>(w, batch, dy, kernel, filters, dx, dcols);
}

template <backend_policy B, class T>
void max_pool2d(const Window2D& w, std::size_t batch, const T* x, T* y) {
    if constexpr (requires { max_pool2d_kernel(B{}, w, batch, x, y); })
        max_pool2d_kernel(B{}, w, batch, x, y);
    else
        (void)sizeof(missing_kernel<B, op::max_pool2d>);
}

template <backend_policy B, class T>
void max_pool2d_backward(const Window2D& w, std::size_t batch, const T* x, const T* y, const T* dy, T* dx) {
    if constexpr (requires { max_pool2d_backward_kernel(B{}, w, batch, x, y, dy, dx); })
        max_pool2d_backward_kernel(B{}, w, batch, x, y, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::max_pool2d_backward>);
}

template <backend_policy B, class T>
void average_pool2d(const Window2D& w, std::size_t batch, const T* x, T* y) {
    if constexpr (requires { average_pool2d_kernel(B{}, w, batch, x, y); })
        average_pool2d_kernel(B{}, w, batch, x, y);
    else
        (void)sizeof(missing_kernel<B, op::average_pool2d>);
}

template <backend_policy B, class T>
void average_pool2d_backward(const Window2D& w, std::size_t batch, const T* dy, T* dx) {
    if constexpr (requires { average_pool2d_backward_kernel(B{}, w, batch, dy, dx); })
        average_pool2d_backward_kernel(B{}, w, batch, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::average_pool2d_backward>);
}

template <backend_policy B, class T>
void upsample_nearest2d(std::size_t batch, std::size_t h, std::size_t w, std::size_t channels, std::size_t factor_h,
                        std::size_t factor_w, const T* x, T* y) {
    if constexpr (requires { upsample_nearest2d_kernel(B{}, batch, h, w, channels, factor_h, factor_w, x, y); })
        upsample_nearest2d_kernel(B{}, batch, h, w, channels, factor_h, factor_w, x, y);
    else
        (void)sizeof(missing_kernel<B, op::upsample_nearest2d>);
}

template <backend_policy B, class T>
void upsample_nearest2d_backward(std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                                 std::size_t factor_h, std::size_t factor_w, const T* dy, T* dx) {
    if constexpr (requires { upsample_nearest2d_backward_kernel(B{}, batch, h, w, channels, factor_h, factor_w, dy, dx); })
        upsample_nearest2d_backward_kernel(B{}, batch, h, w, channels, factor_h, factor_w, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::upsample_nearest2d_backward>);
}

// y (batch, h * factor_h, w * factor_w, channels) = x interpolated bilinearly at half-pixel
// centres (detail::upsample_bilinear_output_at).
template <backend_policy B, class T>
void upsample_bilinear2d(std::size_t batch, std::size_t h, std::size_t w, std::size_t channels, std::size_t factor_h,
                         std::size_t factor_w, const T* x, T* y) {
    if constexpr (requires { upsample_bilinear2d_kernel(B{}, batch, h, w, channels, factor_h, factor_w, x, y); })
        upsample_bilinear2d_kernel(B{}, batch, h, w, channels, factor_h, factor_w, x, y);
    else
        (void)sizeof(missing_kernel<B, op::upsample_bilinear2d>);
}

// dx (batch, h, w, channels, overwritten) = the adjoint of upsample_bilinear2d applied to dy.
template <backend_policy B, class T>
void upsample_bilinear2d_backward(std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                                  std::size_t factor_h, std::size_t factor_w, const T* dy, T* dx) {
    if constexpr (requires {
                      upsample_bilinear2d_backward_kernel(B{}, batch, h, w, channels, factor_h, factor_w, dy, dx);
                  })
        upsample_bilinear2d_backward_kernel(B{}, batch, h, w, channels, factor_h, factor_w, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::upsample_bilinear2d_backward>);
}

// y (batch, out_h, out_w, channels) = x (batch, h, w, channels) sampled where each sample's
// affine transform sends each pixel (transforms: 6 * batch coefficients,
// detail::affine_warp_output_at), by `sampling`.
template <backend_policy B, class T>
void affine_warp2d(std::size_t batch, const detail::WarpSizes& size, const T* transforms, const ImageSampling& sampling,
                   const T* x, T* y) {
    if constexpr (requires { affine_warp2d_kernel(B{}, batch, size, transforms, sampling, x, y); })
        affine_warp2d_kernel(B{}, batch, size, transforms, sampling, x, y);
    else
        (void)sizeof(missing_kernel<B, op::affine_warp2d>);
}

// dx (batch, h, w, channels, overwritten) = the adjoint of affine_warp2d applied to dy.
template <backend_policy B, class T>
void affine_warp2d_backward(std::size_t batch, const detail::WarpSizes& size, const T* transforms,
                            const ImageSampling& sampling, const T* dy, T* dx) {
    if constexpr (requires { affine_warp2d_backward_kernel(B{}, batch, size, transforms, sampling, dy, dx); })
        affine_warp2d_backward_kernel(B{}, batch, size, transforms, sampling, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::affine_warp2d_backward>);
}

template <backend_policy B, class T>
void pad2d(std::size_t batch, std::size_t h, std::size_t w, std::size_t channels, std::size_t top, std::size_t bottom,
           std::size_t left, std::size_t right, const T* x, T* y) {
    if constexpr (requires { pad2d_kernel(B{}, batch, h, w, channels, top, bottom, left, right, x, y); })
        pad2d_kernel(B{}, batch, h, w, channels, top, bottom, left, right, x, y);
    else
        (void)sizeof(missing_kernel<B, op::pad2d>);
}

template <backend_policy B, class T>
void crop2d(std::size_t batch, std::size_t h, std::size_t w, std::size_t channels, std::size_t top, std::size_t bottom,
            std::size_t left, std::size_t right, const T* x, T* y) {
    if constexpr (requires { crop2d_kernel(B{}, batch, h, w, channels, top, bottom, left, right, x, y); })
        crop2d_kernel(B{}, batch, h, w, channels, top, bottom, left, right, x, y);
    else
        (void)sizeof(missing_kernel<B, op::crop2d>);
}

// ---- normalization and noise ops (per-channel work on (rows, cols), cols = channels) ------

template <backend_policy B, class T>
void channel_moments(std::size_t rows, std::size_t cols, const T* x, T* mean, T* variance) {
    if constexpr (requires { channel_moments_kernel(B{}, rows, cols, x, mean, variance); })
        channel_moments_kernel(B{}, rows, cols, x, mean, variance);
    else
        (void)sizeof(missing_kernel<B, op::channel_moments>);
}

template <backend_policy B, class T>
void channel_normalize(std::size_t rows, std::size_t cols, const T* x, const T* mean, const T* inv_std, T* x_hat) {
    if constexpr (requires { channel_normalize_kernel(B{}, rows, cols, x, mean, inv_std, x_hat); })
        channel_normalize_kernel(B{}, rows, cols, x, mean, inv_std, x_hat);
    else
        (void)sizeof(missing_kernel<B, op::channel_normalize>);
}

template <backend_policy B, class T>
void channel_affine(std::size_t rows, std::size_t cols, const T* x, const T* scale, const T* shift, T* y) {
    if constexpr (requires { channel_affine_kernel(B{}, rows, cols, x, scale, shift, y); })
        channel_affine_kernel(B{}, rows, cols, x, scale, shift, y);
    else
        (void)sizeof(missing_kernel<B, op::channel_affine>);
}

template <backend_policy B, class T>
void batch_norm_backward(std::size_t rows, std::size_t cols, const T* x_hat, const T* dy, const T* gamma,
                         const T* inv_std, const T* batch_stats, T* dx, T* dgamma, T* dbeta, T* dmean, T* dvariance) {
    if constexpr (requires {
                      batch_norm_backward_kernel(B{}, rows, cols, x_hat, dy, gamma, inv_std, batch_stats, dx, dgamma,
                                                 dbeta, dmean, dvariance);
                  })
        batch_norm_backward_kernel(B{}, rows, cols, x_hat, dy, gamma, inv_std, batch_stats, dx, dgamma, dbeta, dmean,
                                   dvariance);
    else
        (void)sizeof(missing_kernel<B, op::batch_norm_backward>);
}

// Per-row normalization of (rows, cols) over each row's own cols (LayerNormalization,
// UnitNormalization); backend/row_norms.hpp has the arithmetic every backend shares.
template <backend_policy B, class T>
void layer_norm(std::size_t rows, std::size_t cols, const T* x, T epsilon, T* x_hat, T* inv_std) {
    if constexpr (requires { layer_norm_kernel(B{}, rows, cols, x, epsilon, x_hat, inv_std); })
        layer_norm_kernel(B{}, rows, cols, x, epsilon, x_hat, inv_std);
    else
        (void)sizeof(missing_kernel<B, op::layer_norm>);
}

template <backend_policy B, class T>
void layer_norm_backward(std::size_t rows, std::size_t cols, const T* x_hat, const T* inv_std, const T* gamma,
                         const T* dy, T* dx) {
    if constexpr (requires { layer_norm_backward_kernel(B{}, rows, cols, x_hat, inv_std, gamma, dy, dx); })
        layer_norm_backward_kernel(B{}, rows, cols, x_hat, inv_std, gamma, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::layer_norm_backward>);
}

// The same without centring (RMSNormalization).
template <backend_policy B, class T>
void rms_norm(std::size_t rows, std::size_t cols, const T* x, T epsilon, T* x_hat, T* inv_rms) {
    if constexpr (requires { rms_norm_kernel(B{}, rows, cols, x, epsilon, x_hat, inv_rms); })
        rms_norm_kernel(B{}, rows, cols, x, epsilon, x_hat, inv_rms);
    else
        (void)sizeof(missing_kernel<B, op::rms_norm>);
}

template <backend_policy B, class T>
void rms_norm_backward(std::size_t rows, std::size_t cols, const T* x_hat, const T* inv_rms, const T* scale,
                       const T* dy, T* dx) {
    if constexpr (requires { rms_norm_backward_kernel(B{}, rows, cols, x_hat, inv_rms, scale, dy, dx); })
        rms_norm_backward_kernel(B{}, rows, cols, x_hat, inv_rms, scale, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::rms_norm_backward>);
}

template <backend_policy B, class T>
void group_norm(std::size_t batch, std::size_t positions, std::size_t channels, std::size_t groups, const T* x,
                T epsilon, T* x_hat, T* inv_std) {
    if constexpr (requires { group_norm_kernel(B{}, batch, positions, channels, groups, x, epsilon, x_hat, inv_std); })
        group_norm_kernel(B{}, batch, positions, channels, groups, x, epsilon, x_hat, inv_std);
    else
        (void)sizeof(missing_kernel<B, op::group_norm>);
}

template <backend_policy B, class T>
void group_norm_backward(std::size_t batch, std::size_t positions, std::size_t channels, std::size_t groups,
                         const T* x_hat, const T* inv_std, const T* gamma, const T* dy, T* dx) {
    if constexpr (requires {
                      group_norm_backward_kernel(B{}, batch, positions, channels, groups, x_hat, inv_std, gamma, dy,
                                                 dx);
                  })
        group_norm_backward_kernel(B{}, batch, positions, channels, groups, x_hat, inv_std, gamma, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::group_norm_backward>);
}

template <backend_policy B, class T>
void l2_normalize(std::size_t rows, std::size_t cols, const T* x, T* y, T* inv_norm) {
    if constexpr (requires { l2_normalize_kernel(B{}, rows, cols, x, y, inv_norm); })
        l2_normalize_kernel(B{}, rows, cols, x, y, inv_norm);
    else
        (void)sizeof(missing_kernel<B, op::l2_normalize>);
}

template <backend_policy B, class T>
void l2_normalize_backward(std::size_t rows, std::size_t cols, const T* y, const T* inv_norm, const T* dy, T* dx) {
    if constexpr (requires { l2_normalize_backward_kernel(B{}, rows, cols, y, inv_norm, dy, dx); })
        l2_normalize_backward_kernel(B{}, rows, cols, y, inv_norm, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::l2_normalize_backward>);
}

template <backend_policy B, class T>
void row_dot(std::size_t rows, std::size_t cols, const T* a, const T* b, bool normalize, T* y) {
    if constexpr (requires { row_dot_kernel(B{}, rows, cols, a, b, normalize, y); })
        row_dot_kernel(B{}, rows, cols, a, b, normalize, y);
    else
        (void)sizeof(missing_kernel<B, op::row_dot>);
}

template <backend_policy B, class T>
void row_dot_backward(std::size_t rows, std::size_t cols, const T* a, const T* b, bool normalize, const T* dy,
                      T dy_scale, T* da, T* db) {
    if constexpr (requires { row_dot_backward_kernel(B{}, rows, cols, a, b, normalize, dy, dy_scale, da, db); })
        row_dot_backward_kernel(B{}, rows, cols, a, b, normalize, dy, dy_scale, da, db);
    else
        (void)sizeof(missing_kernel<B, op::row_dot_backward>);
}

// mean and stddev are doubles so that a call reads the same for float and double tensors.
template <backend_policy B, class T>
void normal(std::size_t n, T* out, Generator& gen, double mean, double stddev) {
    if constexpr (requires { normal_kernel(B{}, n, out, gen, mean, stddev); })
        normal_kernel(B{}, n, out, gen, mean, stddev);
    else
        (void)sizeof(missing_kernel<B, op::normal>);
}

// ---- merge ops ---------------------------------------------------------------------------

namespace op {
struct copy2d {};
}  // namespace op

// A block of rows x cols between two row-major arrays of different widths: how Concatenate
// places each input's slices side by side in its output, and takes the gradient apart again.
template <backend_policy B, class T>
void copy2d(std::size_t rows, std::size_t cols, const T* src, std::size_t src_stride, T* dst, std::size_t dst_stride) {
    if constexpr (requires { copy2d_kernel(B{}, rows, cols, src, src_stride, dst, dst_stride); })
        copy2d_kernel(B{}, rows, cols, src, src_stride, dst, dst_stride);
    else
        (void)sizeof(missing_kernel<B, op::copy2d>);
}

// ---- batches -------------------------------------------------------------------------------

namespace op {
struct gather_rows {};
}  // namespace op

// to[r, :] = from[indices[r], :] for r < rows, rows of row_size: how fit draws a shuffled batch
// from a training set it holds in a device's memory (indices live there too).
template <backend_policy B, class T>
void gather_rows(std::size_t rows, std::size_t row_size, const std::size_t* indices, const T* from, T* to) {
    if constexpr (requires { gather_rows_kernel(B{}, rows, row_size, indices, from, to); })
        gather_rows_kernel(B{}, rows, row_size, indices, from, to);
    else
        (void)sizeof(missing_kernel<B, op::gather_rows>);
}

// ---- embeddings ----------------------------------------------------------------------------

namespace op {
struct embedding_lookup {};
struct embedding_backward {};
}  // namespace op

// y[r, :] = table[x[r], :] for r < rows, rows of `dim` (Embedding): x holds row numbers as
// floats. A number that is not a whole number in [0, vocab) gives a row of NaN (host backends'
// callers check them first and throw; on a device the NaN shows in the loss).
template <backend_policy B, class T>
void embedding_lookup(std::size_t rows, std::size_t dim, std::size_t vocab, const T* x, const T* table, T* y) {
    if constexpr (requires { embedding_lookup_kernel(B{}, rows, dim, vocab, x, table, y); })
        embedding_lookup_kernel(B{}, rows, dim, vocab, x, table, y);
    else
        (void)sizeof(missing_kernel<B, op::embedding_lookup>);
}

// dtable[x[r], :] += dy[r, :] for r < rows, r in increasing order for every column (the same
// sums on every run and backend); rows whose number is not valid (as above) add nothing.
template <backend_policy B, class T>
void embedding_backward(std::size_t rows, std::size_t dim, std::size_t vocab, const T* x, const T* dy, T* dtable) {
    if constexpr (requires { embedding_backward_kernel(B{}, rows, dim, vocab, x, dy, dtable); })
        embedding_backward_kernel(B{}, rows, dim, vocab, x, dy, dtable);
    else
        (void)sizeof(missing_kernel<B, op::embedding_backward>);
}

// ---- permute ------------------------------------------------------------------------------

namespace op {
struct permute {};
struct permute_backward {};
}  // namespace op

// y[i] = x[permuted_source(p, i)] for the batch's every element: the samples' axes reordered.
template <backend_policy B, class T>
void permute(std::size_t batch, const detail::Permutation& p, const T* x, T* y) {
    if constexpr (requires { permute_kernel(B{}, batch, p, x, y); })
        permute_kernel(B{}, batch, p, x, y);
    else
        (void)sizeof(missing_kernel<B, op::permute>);
}

// dx[permuted_source(p, i)] = dy[i]: every element of dx written once (a permutation).
template <backend_policy B, class T>
void permute_backward(std::size_t batch, const detail::Permutation& p, const T* dy, T* dx) {
    if constexpr (requires { permute_backward_kernel(B{}, batch, p, dy, dx); })
        permute_backward_kernel(B{}, batch, p, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::permute_backward>);
}

// ---- attention ---------------------------------------------------------------------------

namespace op {
struct causal_mask {};
struct additive_scores {};
struct additive_scores_backward {};
}  // namespace op

// Bahdanau's scores (Keras' AdditiveAttention): [b, i, j] = sum_d scale[d] tanh(q[b, i, d] + k[b, j, d]).
template <backend_policy B, class T>
void additive_scores(std::size_t batch, std::size_t lq, std::size_t lk, std::size_t dim, const T* q, const T* k,
                     const T* scale, T* scores) {
    if constexpr (requires { additive_scores_kernel(B{}, batch, lq, lk, dim, q, k, scale, scores); })
        additive_scores_kernel(B{}, batch, lq, lk, dim, q, k, scale, scores);
    else
        (void)sizeof(missing_kernel<B, op::additive_scores>);
}

template <backend_policy B, class T>
void additive_scores_backward(std::size_t batch, std::size_t lq, std::size_t lk, std::size_t dim, const T* q,
                              const T* k, const T* scale, const T* d_scores, T* dq, T* dk, T* dscale) {
    if constexpr (requires {
                      additive_scores_backward_kernel(B{}, batch, lq, lk, dim, q, k, scale, d_scores, dq, dk, dscale);
                  })
        additive_scores_backward_kernel(B{}, batch, lq, lk, dim, q, k, scale, d_scores, dq, dk, dscale);
    else
        (void)sizeof(missing_kernel<B, op::additive_scores_backward>);
}

// scores (matrices, rows, cols): the entries above each matrix's diagonal (a query step i
// attending to a later key step j) set to -1e9, Keras' large negative, before a row softmax.
template <backend_policy B, class T>
void causal_mask(std::size_t matrices, std::size_t rows, std::size_t cols, T* scores) {
    if constexpr (requires { causal_mask_kernel(B{}, matrices, rows, cols, scores); })
        causal_mask_kernel(B{}, matrices, rows, cols, scores);
    else
        (void)sizeof(missing_kernel<B, op::causal_mask>);
}

// ---- prelu -------------------------------------------------------------------------------

namespace op {
struct prelu {};
struct prelu_backward {};
}  // namespace op

// y = x where x > 0, alpha * x elsewhere; each element's alpha is alpha[alpha_index(layout, i)].
template <backend_policy B, class T>
void prelu(std::size_t batch, const detail::AlphaLayout& layout, const T* x, const T* alpha, T* y) {
    if constexpr (requires { prelu_kernel(B{}, batch, layout, x, alpha, y); })
        prelu_kernel(B{}, batch, layout, x, alpha, y);
    else
        (void)sizeof(missing_kernel<B, op::prelu>);
}

// dx = dy where x > 0, alpha * dy elsewhere (alpha's own gradient is the layer's: a sum).
template <backend_policy B, class T>
void prelu_backward(std::size_t batch, const detail::AlphaLayout& layout, const T* x, const T* alpha, const T* dy,
                    T* dx) {
    if constexpr (requires { prelu_backward_kernel(B{}, batch, layout, x, alpha, dy, dx); })
        prelu_backward_kernel(B{}, batch, layout, x, alpha, dy, dx);
    else
        (void)sizeof(missing_kernel<B, op::prelu_backward>);
}

// ---- depthwise convolution ----------------------------------------------------------------

namespace op {
struct depthwise_conv2d {};
struct depthwise_conv2d_input_gradient {};
struct depthwise_conv2d_kernel_gradient {};
}  // namespace op

// y (batch, out_h, out_w, channels * m) = x (batch, in_h, in_w, channels) convolved channel by
// channel with kernel (kernel_h, kernel_w, channels, m) over window g (detail::depthwise_output_at).
template <backend_policy B, class T>
void depthwise_conv2d(const Window2D& g, std::size_t batch, std::size_t m, const T* x, const T* kernel, T* y) {
    if constexpr (requires { depthwise_conv2d_kernel(B{}, g, batch, m, x, kernel, y); })
        depthwise_conv2d_kernel(B{}, g, batch, m, x, kernel, y);
    else
        (void)sizeof(missing_kernel<B, op::depthwise_conv2d>);
}

// dx (overwritten) from dy through the kernel.
template <backend_policy B, class T>
void depthwise_conv2d_input_gradient(const Window2D& g, std::size_t batch, std::size_t m, const T* dy,
                                     const T* kernel, T* dx) {
    if constexpr (requires { depthwise_conv2d_input_gradient_kernel(B{}, g, batch, m, dy, kernel, dx); })
        depthwise_conv2d_input_gradient_kernel(B{}, g, batch, m, dy, kernel, dx);
    else
        (void)sizeof(missing_kernel<B, op::depthwise_conv2d_input_gradient>);
}

// dkernel += the kernel's gradient, from x and dy.
template <backend_policy B, class T>
void depthwise_conv2d_kernel_gradient(const Window2D& g, std::size_t batch, std::size_t m, const T* x, const T* dy,
                                      T* dkernel) {
    if constexpr (requires { depthwise_conv2d_kernel_gradient_kernel(B{}, g, batch, m, x, dy, dkernel); })
        depthwise_conv2d_kernel_gradient_kernel(B{}, g, batch, m, x, dy, dkernel);
    else
        (void)sizeof(missing_kernel<B, op::depthwise_conv2d_kernel_gradient>);
}

// ---- recurrent cells ----------------------------------------------------------------------

namespace op {
struct lstm_cell {};
struct lstm_cell_backward {};
struct gru_cell {};
struct gru_cell_backward {};
struct simple_rnn_cell {};
struct simple_rnn_cell_backward {};
}  // namespace op

// One time step's pointwise math of an LSTM over a batch: the gates' pre-activations become the
// activated gates, c and h are written (detail::lstm_cell_at).
template <backend_policy B, class T>
void lstm_cell(const RecurrentStep<T>& step) {
    if constexpr (requires { lstm_cell_kernel(B{}, step); })
        lstm_cell_kernel(B{}, step);
    else
        (void)sizeof(missing_kernel<B, op::lstm_cell>);
}

// Backward through it: the activated gates become their pre-activations' gradients, dc_out the
// gradient reaching c_prev (detail::lstm_cell_backward_at).
template <backend_policy B, class T>
void lstm_cell_backward(const RecurrentStep<T>& step) {
    if constexpr (requires { lstm_cell_backward_kernel(B{}, step); })
        lstm_cell_backward_kernel(B{}, step);
    else
        (void)sizeof(missing_kernel<B, op::lstm_cell_backward>);
}

// One time step's pointwise math of a GRU (Keras' reset_after=True) over a batch
// (detail::gru_cell_at).
template <backend_policy B, class T>
void gru_cell(const RecurrentStep<T>& step) {
    if constexpr (requires { gru_cell_kernel(B{}, step); })
        gru_cell_kernel(B{}, step);
    else
        (void)sizeof(missing_kernel<B, op::gru_cell>);
}

// Backward through it (detail::gru_cell_backward_at).
template <backend_policy B, class T>
void gru_cell_backward(const RecurrentStep<T>& step) {
    if constexpr (requires { gru_cell_backward_kernel(B{}, step); })
        gru_cell_backward_kernel(B{}, step);
    else
        (void)sizeof(missing_kernel<B, op::gru_cell_backward>);
}

// One time step of a SimpleRNN over a batch: h = tanh of the pre-activations
// (detail::simple_rnn_cell_at).
template <backend_policy B, class T>
void simple_rnn_cell(const RecurrentStep<T>& step) {
    if constexpr (requires { simple_rnn_cell_kernel(B{}, step); })
        simple_rnn_cell_kernel(B{}, step);
    else
        (void)sizeof(missing_kernel<B, op::simple_rnn_cell>);
}

// Backward through it (detail::simple_rnn_cell_backward_at).
template <backend_policy B, class T>
void simple_rnn_cell_backward(const RecurrentStep<T>& step) {
    if constexpr (requires { simple_rnn_cell_backward_kernel(B{}, step); })
        simple_rnn_cell_backward_kernel(B{}, step);
    else
        (void)sizeof(missing_kernel<B, op::simple_rnn_cell_backward>);
}

}  // namespace latent::ops
