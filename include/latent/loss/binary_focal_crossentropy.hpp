// BinaryFocalCrossentropy (Lin et al., 2017), as Keras 3 computes it: binary cross-entropy scaled
// by (1 - p_t)^gamma, p_t the probability given to the true label, so that examples the model
// already gets right count less; optionally weighted by alpha for class 1 and 1 - alpha for 0.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "../backend/ops.hpp"
#include "../core/activations.hpp"
#include "loss.hpp"

namespace latent::loss {

namespace detail {
// One element's focal loss and its derivative in p, the probability of class 1: Keras'
// weight * focal_factor * bce for the smoothed label, the bce's p clipped to [eps, 1 - eps].
// (A plain function object: what a GPU's kernels can call.)
template <class T>
struct focal_element {
    T keep, spread;  // label smoothing: y = label * keep + spread
    T alpha;
    bool balance;
    T gamma, eps;

    LATENT_HOST_DEVICE T label_of(T label) const { return label * keep + spread; }
    LATENT_HOST_DEVICE T weight(T y) const { return balance ? y * alpha + (T(1) - y) * (T(1) - alpha) : T(1); }
    LATENT_HOST_DEVICE T bce(T y, T p) const {
        const T q = std::clamp(p, eps, T(1) - eps);
        return -(y * std::log(q) + (T(1) - y) * std::log(T(1) - q));
    }
    LATENT_HOST_DEVICE T value(T p, T label) const {
        const T y = label_of(label);
        const T miss = T(1) - (y * p + (T(1) - y) * (T(1) - p));  // 1 - p_t
        return weight(y) * std::pow(miss, gamma) * bce(y, p);
    }
    LATENT_HOST_DEVICE T derivative(T p, T label) const {
        const T y = label_of(label);
        const T q = std::clamp(p, eps, T(1) - eps);
        const T dbce = (p > eps && p < T(1) - eps) ? -y / q + (T(1) - y) / (T(1) - q) : T(0);
        const T miss = T(1) - (y * p + (T(1) - y) * (T(1) - p));
        const T d_miss = T(1) - T(2) * y;  // d(1 - p_t) / dp
        // d miss^gamma / dp; where miss = 0: 0 for gamma > 1 (and gamma = 0), d_miss for gamma = 1
        const T d_factor =
            miss > T(0) ? gamma * std::pow(miss, gamma - T(1)) * d_miss : (gamma == T(1) ? d_miss : T(0));
        return weight(y) * (d_factor * bce(y, p) + std::pow(miss, gamma) * dbce);
    }
};
}  // namespace detail

struct BinaryFocalCrossentropy {
    static constexpr std::string_view name = "binary_focal_crossentropy";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    bool apply_class_balancing = false;  // weight alpha for class 1, 1 - alpha for class 0
    double alpha = 0.25;
    double gamma = 2.0;  // 0: plain binary cross-entropy
    bool from_logits = false;
    double label_smoothing = 0.0;  // y (1 - s) + s / 2, as BinaryCrossentropy's

    void validate() const {
        if (!(gamma >= 0.0) || !std::isfinite(gamma))
            throw value_error("latent.loss.focal.gamma",
                              "BinaryFocalCrossentropy: gamma must be a finite number >= 0, got " +
                                  std::to_string(gamma));
        if (!(alpha >= 0.0 && alpha <= 1.0))
            throw value_error("latent.loss.focal.alpha",
                              "BinaryFocalCrossentropy: alpha must be in [0, 1], got " + std::to_string(alpha));
        detail::check_label_smoothing(label_smoothing, "BinaryFocalCrossentropy");
    }

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T scale = T(1) / static_cast<T>(n);
        const detail::focal_element<T> focal{T(1) - static_cast<T>(label_smoothing),
                                             static_cast<T>(label_smoothing) / T(2),
                                             static_cast<T>(alpha),
                                             apply_class_balancing,
                                             static_cast<T>(gamma),
                                             static_cast<T>(epsilon)};
        if (!from_logits)
            return detail::mean_over_elements<B>(
                n, y_pred, y_true, grad,
                [focal] LATENT_HOST_DEVICE(T& out, const T& p, const T& y) { out = focal.value(p, y); },
                [focal, scale] LATENT_HOST_DEVICE(T& out, const T& p, const T& y) {
                    out = scale * focal.derivative(p, y);
                });
        // Keras' from_logits: the sigmoid's probabilities, then the same (clipped) loss.
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [focal] LATENT_HOST_DEVICE(T& out, const T& z, const T& y) {
                out = focal.value(activations::sigmoid{}.value(z), y);
            },
            [focal, scale] LATENT_HOST_DEVICE(T& out, const T& z, const T& y) {
                const T s = activations::sigmoid{}.value(z);
                out = scale * focal.derivative(s, y) * s * (T(1) - s);
            });
    }
};

}  // namespace latent::loss
