// BinaryCrossentropy: -mean(y log p + (1 - y) log(1 - p)) with p clipped to [1e-7, 1 - 1e-7],
// as Keras; from the logits of a final Sigmoid it is computed stably instead. With
// label_smoothing s, the labels are y (1 - s) + s / 2 first, as Keras.
#pragma once

#include <algorithm>
#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct BinaryCrossentropy {
    bool from_logits = false;  // y_pred are logits rather than probabilities
    double label_smoothing = 0.0;  // 0 to 1, as Keras

    void validate() const { detail::check_label_smoothing(label_smoothing, "BinaryCrossentropy"); }

    static constexpr std::string_view name = "binary_crossentropy";
    static constexpr fusion fuses_with = fusion::sigmoid;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        if (from_logits) return compute_from_logits<B>(y_pred, y_true, batch, size, last, grad);
        const std::size_t n = batch * size;
        const T eps = static_cast<T>(epsilon);
        const T scale = T(1) / static_cast<T>(n);
        const T keep = T(1) - static_cast<T>(label_smoothing), spread = static_cast<T>(label_smoothing) / T(2);
        // Per element: the loss first (summed), then its gradient.
        ops::elementwise<B>(
            n,
            [eps, keep, spread] LATENT_HOST_DEVICE(T& g, const T& p, const T& label) {
                const T y = label * keep + spread;
                const T q = std::clamp(p, eps, T(1) - eps);
                g = -(y * std::log(q) + (T(1) - y) * std::log(T(1) - q));
            },
            grad, y_pred, y_true);
        const T total = ops::sum<B>(n, grad);
        ops::elementwise<B>(
            n,
            [eps, scale, keep, spread] LATENT_HOST_DEVICE(T& g, const T& p, const T& label) {
                const T y = label * keep + spread;
                const bool inside = p > eps && p < T(1) - eps;  // the clip has zero gradient outside
                g = inside ? scale * (-y / p + (T(1) - y) / (T(1) - p)) : T(0);
            },
            grad, y_pred, y_true);
        return total * scale;
    }

    template <backend_policy B, class T>
    T compute_from_logits(const T* logits, const T* y_true, std::size_t batch, std::size_t size, std::size_t,
                          T* dlogits) const {
        const std::size_t n = batch * size;
        const T total =
            ops::sigmoid_binary_cross_entropy<B>(n, logits, y_true, static_cast<T>(label_smoothing), dlogits);
        const T scale = T(1) / static_cast<T>(n);
        ops::elementwise<B>(n, [scale] LATENT_HOST_DEVICE(T& g) { g *= scale; }, dlogits);
        return total * scale;
    }
};

}  // namespace latent::loss
