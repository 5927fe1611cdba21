// cpu::reference: plain loops, single-threaded and deterministic. It is the oracle every other
// backend is tested against, so clarity wins over speed here (the loop orders still let the
// compiler vectorize the inner loops).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "../../core/random.hpp"
#include "../backend.hpp"

namespace latent::cpu {

struct reference {
    using memory_space = host_memory;
    static constexpr std::string_view name = "cpu::reference";
};

template <class T>
void gemm_kernel(const reference&, bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K,
                 T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C,
                 std::size_t ldc) {
    for (std::size_t i = 0; i < M; ++i) {
        T* c = C + i * ldc;  // (N)
        if (beta == T(0))
            std::fill(c, c + N, T(0));
        else if (beta != T(1))
            for (std::size_t j = 0; j < N; ++j) c[j] *= beta;
    }
    if (!trans_b) {
        // Rows of op(B) are contiguous: accumulate a * B[k, :] into C[i, :].
        for (std::size_t i = 0; i < M; ++i) {
            T* c = C + i * ldc;
            for (std::size_t k = 0; k < K; ++k) {
                const T a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
                const T* b = B + k * ldb;  // (N)
                for (std::size_t j = 0; j < N; ++j) c[j] += a * b[j];
            }
        }
    } else {
        // op(B)[k, j] = B[j, k]: C[i, j] is a dot product of two rows.
        for (std::size_t i = 0; i < M; ++i) {
            T* c = C + i * ldc;
            for (std::size_t j = 0; j < N; ++j) {
                const T* b = B + j * ldb;  // (K)
                T acc = 0;
                for (std::size_t k = 0; k < K; ++k) acc += (trans_a ? A[k * lda + i] : A[i * lda + k]) * b[k];
                c[j] += alpha * acc;
            }
        }
    }
}

template <class T>
void bias_add_kernel(const reference&, std::size_t rows, std::size_t cols, const T* bias, T* y) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) y[r * cols + c] += bias[c];
}

template <class T>
void column_sum_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, T* out, bool accumulate) {
    if (!accumulate) std::fill(out, out + cols, T(0));
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) out[c] += x[r * cols + c];
}

template <class T>
void sum_of_squares_kernel(const reference&, std::size_t n, const T* x, T* out, bool accumulate) {
    T acc = accumulate ? out[0] : T(0);
    for (std::size_t i = 0; i < n; ++i) acc += x[i] * x[i];
    out[0] = acc;
}

template <class F, class... P>
void elementwise_kernel(const reference&, std::size_t n, F&& f, P*... arrays) {
    for (std::size_t i = 0; i < n; ++i) f(arrays[i]...);
}

template <class F, class T>
void activation_kernel(const reference&, std::size_t n, const F& f, const T* x, T* y) {
    for (std::size_t i = 0; i < n; ++i) y[i] = f.value(x[i]);
}

template <class T>
T sum_kernel(const reference&, std::size_t n, const T* x) {
    T acc = 0;
    for (std::size_t i = 0; i < n; ++i) acc += x[i];
    return acc;
}

namespace detail {
// Rows [begin, end) of softmax and its gradient, each row on its own (cpu::simd runs row ranges
// on its threads with the same arithmetic).
template <class T>
void softmax_rows(std::size_t begin, std::size_t end, std::size_t cols, const T* x, T* y) {
    for (std::size_t r = begin; r < end; ++r) {
        const T* in = x + r * cols;  // (cols)
        T* out = y + r * cols;       // (cols)
        const T max = *std::max_element(in, in + cols);
        T total = 0;
        for (std::size_t c = 0; c < cols; ++c) total += out[c] = std::exp(in[c] - max);
        for (std::size_t c = 0; c < cols; ++c) out[c] /= total;
    }
}
template <class T>
void softmax_backward_rows(std::size_t begin, std::size_t end, std::size_t cols, const T* y, const T* dy, T* dx) {
    for (std::size_t r = begin; r < end; ++r) {
        const T* yr = y + r * cols;
        const T* dyr = dy + r * cols;
        T dot = 0;
        for (std::size_t c = 0; c < cols; ++c) dot += dyr[c] * yr[c];
        for (std::size_t c = 0; c < cols; ++c) dx[r * cols + c] = yr[c] * (dyr[c] - dot);
    }
}
}  // namespace detail

template <class T>
void softmax_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, T* y) {
    detail::softmax_rows(0, rows, cols, x, y);
}

template <class T>
void softmax_backward_kernel(const reference&, std::size_t rows, std::size_t cols, const T* y, const T* dy, T* dx) {
    detail::softmax_backward_rows(0, rows, cols, y, dy, dx);
}

namespace detail {
// log(sum(exp(row))) and softmax(row) -> out, computed with the row maximum subtracted.
template <class T>
T log_softmax_row(const T* z, std::size_t cols, T* softmax_out) {
    const T max = *std::max_element(z, z + cols);
    T total = 0;
    for (std::size_t c = 0; c < cols; ++c) total += softmax_out[c] = std::exp(z[c] - max);
    for (std::size_t c = 0; c < cols; ++c) softmax_out[c] /= total;
    return max + std::log(total);
}
}  // namespace detail

template <class T>
T softmax_cross_entropy_kernel(const reference&, std::size_t rows, std::size_t cols, const T* logits,
                               const T* labels, T smoothing, T* dlogits) {
    const T keep = T(1) - smoothing, spread = smoothing / static_cast<T>(cols);
    T loss = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        const T* z = logits + r * cols;
        const T* y = labels + r * cols;
        T* d = dlogits + r * cols;
        const T lse = detail::log_softmax_row(z, cols, d);
        for (std::size_t c = 0; c < cols; ++c) {
            const T target = y[c] * keep + spread;
            loss -= target * (z[c] - lse);
            d[c] -= target;
        }
    }
    return loss;
}

template <class T>
T sparse_softmax_cross_entropy_kernel(const reference&, std::size_t rows, std::size_t cols, const T* logits,
                                      const T* classes, T* dlogits) {
    T loss = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        const T* z = logits + r * cols;
        T* d = dlogits + r * cols;
        const auto k = static_cast<std::size_t>(classes[r]);
        const T lse = detail::log_softmax_row(z, cols, d);
        loss -= z[k] - lse;
        d[k] -= T(1);
    }
    return loss;
}

template <class T>
T sigmoid_binary_cross_entropy_kernel(const reference&, std::size_t n, const T* logits, const T* labels,
                                      T smoothing, T* dlogits) {
    T loss = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T z = logits[i];
        const T y = labels[i] * (T(1) - smoothing) + smoothing / T(2);
        loss += std::max(z, T(0)) - z * y + std::log1p(std::exp(-std::abs(z)));
        const T s = z >= 0 ? T(1) / (T(1) + std::exp(-z)) : std::exp(z) / (T(1) + std::exp(z));
        dlogits[i] = s - y;
    }
    return loss;
}

template <class T>
void uniform_kernel(const reference&, std::size_t n, T* out, Generator& gen) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(gen.uniform_float());
}

}  // namespace latent::cpu

// The image ops, one family per header.
#include "reference/conv.hpp"
#include "reference/pool.hpp"
#include "reference/norm.hpp"
#include "reference/merge.hpp"
#include "reference/embedding.hpp"
#include "reference/recurrent.hpp"
#include "reference/depthwise.hpp"
#include "reference/resize.hpp"
#include "reference/warp.hpp"
#include "reference/permute.hpp"
#include "reference/prelu.hpp"
#include "reference/attention.hpp"
