// The backend policy concept and the written contract of every op in latent::ops.
// A backend is an empty tag type; kernels are free functions named `<op>_kernel` taking the
// tag first, found by argument-dependent lookup, so a derived tag falls back to its base's kernel.
#pragma once

#include <concepts>
#include <string_view>
#include <type_traits>

namespace latent {

// Where a backend's tensors live; host-device copies are explicit between different spaces.
struct host_memory {};

// A backend policy: an empty tag naming itself and its memory space.
template <class B>
concept backend_policy = std::is_empty_v<B> && std::is_default_constructible_v<B> && requires {
    typename B::memory_space;
    { B::name } -> std::convertible_to<std::string_view>;
};

/* The op contract (every backend implements these as `<op>_kernel(tag, ...)`; all arrays are
   row-major and live in the backend's memory space; T is float or double):

   gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
       C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, op = transpose when asked.
       beta == 0 overwrites C without reading it (NaNs in C do not propagate).
   bias_add(rows, cols, bias, y)            y[r, c] += bias[c]
   column_sum(rows, cols, x, out, accumulate)   out[c] = (accumulate ? out[c] : 0) + sum_r x[r, c]
   elementwise(n, f, a0, a1, ...)           f(a0[i], a1[i], ...) for i in [0, n), f may write through
                                            the references of non-const arrays
   sum(n, x) -> T                            sum of x in index order (deterministic)
   softmax(rows, cols, x, y)                 y = softmax over each row, max-subtracted
   softmax_backward(rows, cols, y, dy, dx)   dx = y * (dy - sum(dy * y)) per row
   softmax_cross_entropy(rows, cols, logits, labels, dlogits) -> T
       sum over rows of -sum_c labels * log_softmax(logits); dlogits = softmax - labels (unscaled)
   sparse_softmax_cross_entropy(rows, cols, logits, classes, dlogits) -> T
       as above with labels given as class indices stored as T
   sigmoid_binary_cross_entropy(n, logits, labels, dlogits) -> T
       sum of max(z,0) - z*y + log(1 + exp(-|z|)); dlogits = sigmoid(z) - y (unscaled)
   uniform(n, out, generator)                out[i] uniform in [0, 1), drawn in index order
*/

// Instantiated when a backend lacks a kernel: the type's name says which backend and op.
template <class Backend, class Op>
struct missing_kernel {
    static_assert(!std::is_same_v<Backend, Backend>,
                  "latent: this backend has no kernel for this op (see missing_kernel<Backend, Op>); derive the "
                  "backend tag from one that has it, e.g. struct my_backend : latent::cpu::reference {}");
};

}  // namespace latent
