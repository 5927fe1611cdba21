// cpu::reference kernels for the normalization and noise ops: per-channel moments, normalize,
// scale-and-shift, batch normalization's backward pass, per-row layer and L2 normalization, and
// normal noise (see backend/backend.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "../../../core/random.hpp"
#include "../../row_norms.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void channel_moments_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, T* mean, T* variance) {
    // Two passes rather than E[x^2] - E[x]^2, which cancels badly when the mean is large.
    for (std::size_t c = 0; c < cols; ++c) mean[c] = T(0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) mean[c] += x[r * cols + c];
    const T inv_rows = T(1) / static_cast<T>(rows);
    for (std::size_t c = 0; c < cols; ++c) {
        mean[c] *= inv_rows;
        variance[c] = T(0);
    }
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const T d = x[r * cols + c] - mean[c];
            variance[c] += d * d;
        }
    for (std::size_t c = 0; c < cols; ++c) variance[c] *= inv_rows;
}

template <class T>
void channel_normalize_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, const T* mean,
                              const T* inv_std, T* x_hat) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) x_hat[r * cols + c] = (x[r * cols + c] - mean[c]) * inv_std[c];
}

template <class T>
void channel_affine_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, const T* scale,
                           const T* shift, T* y) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) y[r * cols + c] = x[r * cols + c] * scale[c] + shift[c];
}

template <class T>
void batch_norm_backward_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x_hat, const T* dy,
                                const T* gamma, const T* inv_std, const T* batch_stats, T* dx, T* dgamma, T* dbeta,
                                T* dmean, T* dvariance) {
    const bool through_stats = *batch_stats != T(0);
    // Row-major passes with per-channel sums, so that every pass reads memory in order.
    std::vector<T> s1(cols, T(0)), s2(cols, T(0));  // (cols): sum of dy, sum of dy * x_hat
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            s1[c] += dy[r * cols + c];
            s2[c] += dy[r * cols + c] * x_hat[r * cols + c];
        }
    for (std::size_t c = 0; c < cols; ++c) {
        if (dgamma) dgamma[c] += s2[c];
        if (dbeta) dbeta[c] += s1[c];
        if (!through_stats) {
            const T scale = gamma[c] * inv_std[c];
            if (dmean) dmean[c] -= scale * s1[c];
            if (dvariance) dvariance[c] -= scale * inv_std[c] * s2[c] / T(2);
        }
    }
    if (!dx) return;
    const T inv_rows = T(1) / static_cast<T>(rows);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const std::size_t i = r * cols + c;
            const T g = through_stats ? dy[i] - (s1[c] + x_hat[i] * s2[c]) * inv_rows : dy[i];
            dx[i] = gamma[c] * inv_std[c] * g;
        }
}

template <class T>
void layer_norm_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, T epsilon, T* x_hat,
                       T* inv_std) {
    for (std::size_t r = 0; r < rows; ++r) inv_std[r] = latent::detail::layer_norm_row(x + r * cols, cols, epsilon, x_hat + r * cols);
}

template <class T>
void layer_norm_backward_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x_hat, const T* inv_std,
                                const T* gamma, const T* dy, T* dx) {
    for (std::size_t r = 0; r < rows; ++r)
        latent::detail::layer_norm_backward_row(x_hat + r * cols, inv_std[r], gamma, dy + r * cols, cols, dx + r * cols);
}

template <class T>
void rms_norm_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, T epsilon, T* x_hat,
                     T* inv_rms) {
    for (std::size_t r = 0; r < rows; ++r)
        inv_rms[r] = latent::detail::rms_norm_row(x + r * cols, cols, epsilon, x_hat + r * cols);
}

template <class T>
void rms_norm_backward_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x_hat, const T* inv_rms,
                              const T* scale, const T* dy, T* dx) {
    for (std::size_t r = 0; r < rows; ++r)
        latent::detail::rms_norm_backward_row(x_hat + r * cols, inv_rms[r], scale, dy + r * cols, cols, dx + r * cols);
}

template <class T>
void group_norm_kernel(const reference&, std::size_t batch, std::size_t positions, std::size_t channels,
                       std::size_t groups, const T* x, T epsilon, T* x_hat, T* inv_std) {
    const std::size_t width = channels / groups, sample = positions * channels;
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t g = 0; g < groups; ++g) {
            const std::size_t at = n * sample + g * width;
            inv_std[n * groups + g] =
                latent::detail::group_norm_block(x + at, positions, width, channels, epsilon, x_hat + at);
        }
}

template <class T>
void group_norm_backward_kernel(const reference&, std::size_t batch, std::size_t positions, std::size_t channels,
                                std::size_t groups, const T* x_hat, const T* inv_std, const T* gamma, const T* dy,
                                T* dx) {
    const std::size_t width = channels / groups, sample = positions * channels;
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t g = 0; g < groups; ++g) {
            const std::size_t at = n * sample + g * width;
            latent::detail::group_norm_backward_block(x_hat + at, inv_std[n * groups + g], gamma + g * width, dy + at,
                                                      positions, width, channels, dx + at);
        }
}

template <class T>
void l2_normalize_kernel(const reference&, std::size_t rows, std::size_t cols, const T* x, T* y, T* inv_norm) {
    for (std::size_t r = 0; r < rows; ++r) inv_norm[r] = latent::detail::l2_normalize_row(x + r * cols, cols, y + r * cols);
}

template <class T>
void l2_normalize_backward_kernel(const reference&, std::size_t rows, std::size_t cols, const T* y, const T* inv_norm,
                                  const T* dy, T* dx) {
    for (std::size_t r = 0; r < rows; ++r)
        latent::detail::l2_normalize_backward_row(y + r * cols, inv_norm[r], dy + r * cols, cols, dx + r * cols);
}

template <class T>
void row_dot_kernel(const reference&, std::size_t rows, std::size_t cols, const T* a, const T* b, bool normalize,
                    T* y) {
    for (std::size_t r = 0; r < rows; ++r) y[r] = latent::detail::dot_row(a + r * cols, b + r * cols, cols, normalize);
}

template <class T>
void row_dot_backward_kernel(const reference&, std::size_t rows, std::size_t cols, const T* a, const T* b,
                             bool normalize, const T* dy, T dy_scale, T* da, T* db) {
    for (std::size_t r = 0; r < rows; ++r)
        latent::detail::dot_backward_row(a + r * cols, b + r * cols, cols, normalize, dy ? dy_scale * dy[r] : dy_scale,
                                         da ? da + r * cols : nullptr, db ? db + r * cols : nullptr);
}

template <class T>
void normal_kernel(const reference&, std::size_t n, T* out, Generator& gen, double mean, double stddev) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(mean + stddev * gen.normal());
}

}  // namespace latent::cpu
