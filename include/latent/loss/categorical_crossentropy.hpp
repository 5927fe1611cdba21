// CategoricalCrossentropy: -sum(y log p) over the last axis, averaged over the batch, with
// one-hot (or soft) labels, as Keras; after a final Softmax it works from the logits. With
// label_smoothing s, the labels are y (1 - s) + s / classes first, as Keras.
#pragma once

#include <algorithm>
#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

namespace detail {
// Keras' probability path: p = o / sum(o), clipped to [eps, 1 - eps], then -sum(y log p), the
// labels smoothed by `smoothing`. The gradient goes through the normalization and is zero where
// the clip is active.
template <class T>
T crossentropy_of_probabilities(const T* out, const T* labels, std::size_t cols, T* grad, T scale,
                                T smoothing = T(0)) {
    const T eps = static_cast<T>(epsilon);
    const T keep = T(1) - smoothing, spread = smoothing / static_cast<T>(cols);
    T total = 0;
    for (std::size_t c = 0; c < cols; ++c) total += out[c];
    T loss = 0, weighted = 0;
    for (std::size_t c = 0; c < cols; ++c) {
        const T y = labels[c] * keep + spread;
        const T p = out[c] / total;
        const T q = std::clamp(p, eps, T(1) - eps);
        loss -= y * std::log(q);
        grad[c] = (p > eps && p < T(1) - eps) ? -y / q : T(0);  // d loss / d p
        weighted += grad[c] * p;
    }
    for (std::size_t c = 0; c < cols; ++c) grad[c] = scale * (grad[c] - weighted) / total;  // d loss / d out
    return loss;
}
}  // namespace detail

struct CategoricalCrossentropy {
    bool from_logits = false;
    double label_smoothing = 0.0;  // 0 to 1, as Keras: 0.1 is a common choice

    void validate() const { detail::check_label_smoothing(label_smoothing, "CategoricalCrossentropy"); }

    static constexpr std::string_view name = "categorical_crossentropy";
    static constexpr fusion fuses_with = fusion::softmax;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        if (from_logits) return compute_from_logits<B>(y_pred, y_true, batch, size, last, grad);
        const std::size_t rows = batch * size / last;
        const T scale = T(1) / static_cast<T>(rows), smoothing = static_cast<T>(label_smoothing);
        return detail::on_host<B>(batch * size, y_pred, batch * size, y_true, grad,
                                  [&](const T* pred, const T* labels, T* g) {
                                      T loss = 0;
                                      for (std::size_t r = 0; r < rows; ++r)
                                          loss += detail::crossentropy_of_probabilities(
                                              pred + r * last, labels + r * last, last, g + r * last, scale, smoothing);
                                      return loss * scale;
                                  });
    }

    template <backend_policy B, class T>
    T compute_from_logits(const T* logits, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
                          T* dlogits) const {
        const std::size_t rows = batch * size / last;
        const T total =
            ops::softmax_cross_entropy<B>(rows, last, logits, y_true, static_cast<T>(label_smoothing), dlogits);
        const T scale = T(1) / static_cast<T>(rows);
        ops::elementwise<B>(batch * size, [scale] LATENT_HOST_DEVICE(T& g) { g *= scale; }, dlogits);
        return total * scale;
    }
};

}  // namespace latent::loss
