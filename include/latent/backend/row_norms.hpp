// The per-row work of the ops layer_norm, rms_norm, group_norm, l2_normalize and row_dot and their
// backwards (normalizing a row of `cols` over itself, as LayerNormalization, RMSNormalization
// and UnitNormalization do, or a block of channels over all positions, as GroupNormalization;
// the dot product or cosine of two rows, as Dot and CosineSimilarity), written once for every
// backend's kernels: the CPU backends run it row after row, a GPU one row per thread.
#pragma once

#include <cmath>
#include <cstddef>

#include "../config.hpp"

namespace latent::detail {

// x_hat = (x - mean) * inv_std over one row, the biased variance by two passes; returns inv_std.
template <class T>
LATENT_HOST_DEVICE T layer_norm_row(const T* x, std::size_t cols, T epsilon, T* x_hat) {
    T mean = T(0);
    for (std::size_t c = 0; c < cols; ++c) mean += x[c];
    mean /= static_cast<T>(cols);
    T variance = T(0);
    for (std::size_t c = 0; c < cols; ++c) variance += (x[c] - mean) * (x[c] - mean);
    variance /= static_cast<T>(cols);
    const T inv_std = T(1) / std::sqrt(variance + epsilon);
    for (std::size_t c = 0; c < cols; ++c) x_hat[c] = (x[c] - mean) * inv_std;
    return inv_std;
}

// dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)) over one row, g = dy * gamma (the
// gradient at x_hat of y = gamma * x_hat + beta).
template <class T>
LATENT_HOST_DEVICE void layer_norm_backward_row(const T* x_hat, T inv_std, const T* gamma, const T* dy,
                                                std::size_t cols, T* dx) {
    T s1 = T(0), s2 = T(0);
    for (std::size_t c = 0; c < cols; ++c) {
        const T g = dy[c] * gamma[c];
        s1 += g;
        s2 += g * x_hat[c];
    }
    const T n = static_cast<T>(cols);
    for (std::size_t c = 0; c < cols; ++c) dx[c] = inv_std * (dy[c] * gamma[c] - s1 / n - x_hat[c] * s2 / n);
}

// x_hat = x * inv_rms over one row, inv_rms = 1 / sqrt(mean(x^2) + epsilon) (no centring: RMS
// normalization); returns inv_rms.
template <class T>
LATENT_HOST_DEVICE T rms_norm_row(const T* x, std::size_t cols, T epsilon, T* x_hat) {
    T squares = T(0);
    for (std::size_t c = 0; c < cols; ++c) squares += x[c] * x[c];
    const T inv_rms = T(1) / std::sqrt(squares / static_cast<T>(cols) + epsilon);
    for (std::size_t c = 0; c < cols; ++c) x_hat[c] = x[c] * inv_rms;
    return inv_rms;
}

// dx = inv_rms * (g - x_hat * mean(g * x_hat)) over one row, g = dy * scale (the gradient at
// x_hat of y = scale * x_hat).
template <class T>
LATENT_HOST_DEVICE void rms_norm_backward_row(const T* x_hat, T inv_rms, const T* scale, const T* dy,
                                              std::size_t cols, T* dx) {
    T s = T(0);
    for (std::size_t c = 0; c < cols; ++c) s += dy[c] * scale[c] * x_hat[c];
    const T n = static_cast<T>(cols);
    for (std::size_t c = 0; c < cols; ++c) dx[c] = inv_rms * (dy[c] * scale[c] - x_hat[c] * s / n);
}

// layer_norm_row over a block: the `width` values from x at each of `positions` positions
// `stride` apart (one sample's group of channels in GroupNormalization); x_hat has the layout of
// x. Returns inv_std.
template <class T>
LATENT_HOST_DEVICE T group_norm_block(const T* x, std::size_t positions, std::size_t width, std::size_t stride,
                                      T epsilon, T* x_hat) {
    T mean = T(0);
    for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < width; ++c) mean += x[p * stride + c];
    const T n = static_cast<T>(positions * width);
    mean /= n;
    T variance = T(0);
    for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < width; ++c) {
            const T d = x[p * stride + c] - mean;
            variance += d * d;
        }
    const T inv_std = T(1) / std::sqrt(variance / n + epsilon);
    for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < width; ++c) x_hat[p * stride + c] = (x[p * stride + c] - mean) * inv_std;
    return inv_std;
}

// layer_norm_backward_row over such a block; gamma holds the block's `width` channels.
template <class T>
LATENT_HOST_DEVICE void group_norm_backward_block(const T* x_hat, T inv_std, const T* gamma, const T* dy,
                                                  std::size_t positions, std::size_t width, std::size_t stride,
                                                  T* dx) {
    T s1 = T(0), s2 = T(0);
    for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < width; ++c) {
            const T g = dy[p * stride + c] * gamma[c];
            s1 += g;
            s2 += g * x_hat[p * stride + c];
        }
    const T n = static_cast<T>(positions * width);
    for (std::size_t p = 0; p < positions; ++p)
        for (std::size_t c = 0; c < width; ++c) {
            const std::size_t i = p * stride + c;
            dx[i] = inv_std * (dy[i] * gamma[c] - s1 / n - x_hat[i] * s2 / n);
        }
}

// y = x / sqrt(max(sum x^2, 1e-12)) over one row (Keras' l2_normalize); returns 1 / that norm.
template <class T>
LATENT_HOST_DEVICE T l2_normalize_row(const T* x, std::size_t cols, T* y) {
    T squares = T(0);
    for (std::size_t c = 0; c < cols; ++c) squares += x[c] * x[c];
    const T inv_norm = T(1) / std::sqrt(squares > T(1e-12) ? squares : T(1e-12));
    for (std::size_t c = 0; c < cols; ++c) y[c] = x[c] * inv_norm;
    return inv_norm;
}

// dx = inv_norm * (dy - y * sum(dy * y)) over one row; where the floor held the norm (y shorter
// than 1), the norm was a constant and dx = inv_norm * dy.
template <class T>
LATENT_HOST_DEVICE void l2_normalize_backward_row(const T* y, T inv_norm, const T* dy, std::size_t cols, T* dx) {
    T length = T(0), along = T(0);
    for (std::size_t c = 0; c < cols; ++c) {
        length += y[c] * y[c];
        along += dy[c] * y[c];
    }
    if (length < T(0.5)) along = T(0);
    for (std::size_t c = 0; c < cols; ++c) dx[c] = inv_norm * (dy[c] - y[c] * along);
}

// a . b over one row; with `normalize`, the cosine (a / |a|) . (b / |b|), each squared norm
// floored at 1e-12 as in l2_normalize_row (Keras' Dot(normalize=True) and CosineSimilarity).
template <class T>
LATENT_HOST_DEVICE T dot_row(const T* a, const T* b, std::size_t cols, bool normalize) {
    T ab = T(0), aa = T(0), bb = T(0);
    for (std::size_t c = 0; c < cols; ++c) {
        ab += a[c] * b[c];
        aa += a[c] * a[c];
        bb += b[c] * b[c];
    }
    if (!normalize) return ab;
    const T inv_a = T(1) / std::sqrt(aa > T(1e-12) ? aa : T(1e-12));
    const T inv_b = T(1) / std::sqrt(bb > T(1e-12) ? bb : T(1e-12));
    return ab * inv_a * inv_b;
}

// da = dy * d dot_row / da and db = dy * d dot_row / db over one row (a null one is skipped).
// Normalized: da = dy / |a| * (b / |b| - cosine * a / |a|); where the floor held |a|, the norm
// was a constant and da = dy / |a| * b / |b|.
template <class T>
LATENT_HOST_DEVICE void dot_backward_row(const T* a, const T* b, std::size_t cols, bool normalize, T dy, T* da,
                                         T* db) {
    if (!normalize) {
        for (std::size_t c = 0; c < cols; ++c) {
            if (da) da[c] = dy * b[c];
            if (db) db[c] = dy * a[c];
        }
        return;
    }
    T ab = T(0), aa = T(0), bb = T(0);
    for (std::size_t c = 0; c < cols; ++c) {
        ab += a[c] * b[c];
        aa += a[c] * a[c];
        bb += b[c] * b[c];
    }
    const bool a_floored = !(aa > T(1e-12)), b_floored = !(bb > T(1e-12));
    const T inv_a = T(1) / std::sqrt(a_floored ? T(1e-12) : aa);
    const T inv_b = T(1) / std::sqrt(b_floored ? T(1e-12) : bb);
    const T cosine = ab * inv_a * inv_b;
    const T along_a = a_floored ? T(0) : cosine, along_b = b_floored ? T(0) : cosine;
    for (std::size_t c = 0; c < cols; ++c) {
        const T a_hat = a[c] * inv_a, b_hat = b[c] * inv_b;
        if (da) da[c] = dy * inv_a * (b_hat - along_a * a_hat);
        if (db) db[c] = dy * inv_b * (a_hat - along_b * b_hat);
    }
}

}  // namespace latent::detail
