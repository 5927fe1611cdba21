// latent::ops: the one seam layers, losses and optimizers call. Each op forwards to the
// backend's `<op>_kernel` overload (found by ADL on the tag, so derived tags fall back to
// their base's kernels); a backend missing a kernel gets one error naming backend and op.
#pragma once

#include <cstddef>
#include <utility>

#include "../core/random.hpp"
#include "backend.hpp"

namespace latent::ops {

namespace op {
struct gemm {};
struct bias_add {};
struct column_sum {};
struct elementwise {};
struct sum {};
struct softmax {};
struct softmax_backward {};
struct softmax_cross_entropy {};
struct sparse_softmax_cross_entropy {};
struct sigmoid_binary_cross_entropy {};
struct uniform {};
}  // namespace op

template <backend_policy B, class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
          std::size_t lda, const T* Bm, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if constexpr (requires { gemm_kernel(B{}, trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc); })
        gemm_kernel(B{}, trans_a, trans_b, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
    else
        (void)sizeof(missing_kernel<B, op::gemm>);
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

// f(a0[i], a1[i], ...) for every i: the building block of activations and optimizer updates.
template <backend_policy B, class F, class... P>
void elementwise(std::size_t n, F&& f, P*... arrays) {
    if constexpr (requires { elementwise_kernel(B{}, n, std::forward<F>(f), arrays...); })
        elementwise_kernel(B{}, n, std::forward<F>(f), arrays...);
    else
        (void)sizeof(missing_kernel<B, op::elementwise>);
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
T softmax_cross_entropy(std::size_t rows, std::size_t cols, const T* logits, const T* labels, T* dlogits) {
    if constexpr (requires { softmax_cross_entropy_kernel(B{}, rows, cols, logits, labels, dlogits); })
        return softmax_cross_entropy_kernel(B{}, rows, cols, logits, labels, dlogits);
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
T sigmoid_binary_cross_entropy(std::size_t n, const T* logits, const T* labels, T* dlogits) {
    if constexpr (requires { sigmoid_binary_cross_entropy_kernel(B{}, n, logits, labels, dlogits); })
        return sigmoid_binary_cross_entropy_kernel(B{}, n, logits, labels, dlogits);
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

}  // namespace latent::ops
