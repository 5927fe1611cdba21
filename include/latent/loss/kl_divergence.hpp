// KLDivergence: sum over the last axis of y_true * log(y_true / y_pred), averaged over the rest,
// with both clipped to [1e-7, 1] first, as Keras' KLDivergence (labels are distributions).
#pragma once

#include <algorithm>
#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct KLDivergence {
    static constexpr std::string_view name = "kl_divergence";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;
    static constexpr double epsilon = 1e-7;  // Keras' backend epsilon

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        const std::size_t n = batch * size;
        const T eps = static_cast<T>(epsilon);
        const T scale = static_cast<T>(last) / static_cast<T>(n);  // 1 / (the distributions in the batch)
        // Per element: its term first (summed), then its gradient.
        ops::elementwise<B>(
            n,
            [eps] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T q = std::clamp(y, eps, T(1));
                g = q * std::log(q / std::clamp(p, eps, T(1)));
            },
            grad, y_pred, y_true);
        const T total = ops::sum<B>(n, grad);
        ops::elementwise<B>(
            n,
            [eps, scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const bool inside = p >= eps && p <= T(1);  // the clip has zero gradient outside
                g = inside ? -scale * std::clamp(y, eps, T(1)) / p : T(0);
            },
            grad, y_pred, y_true);
        return total * scale;
    }
};

}  // namespace latent::loss
