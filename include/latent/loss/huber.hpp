// Huber: squared error near the target, absolute error beyond `delta` (Keras' Huber and
// PyTorch's HuberLoss, delta 1): 0.5 e^2 where |e| <= delta, delta (|e| - 0.5 delta) beyond.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "../backend/ops.hpp"
#include "../core/errors.hpp"
#include "loss.hpp"

namespace latent::loss {

struct Huber {
    static constexpr std::string_view name = "huber";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;
    double delta = 1.0;

    void validate() const {
        if (!(delta > 0.0) || !std::isfinite(delta))
            throw value_error("latent.loss.huber.delta",
                              "Huber: delta must be a positive finite number, got " + std::to_string(delta));
    }

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T d = static_cast<T>(delta), scale = T(1) / static_cast<T>(n);
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [d] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T e = std::abs(p - y);
                g = e <= d ? T(0.5) * e * e : d * (e - T(0.5) * d);
            },
            [d, scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T e = p - y;
                g = scale * (e > d ? d : (e < -d ? -d : e));
            });
    }
};

}  // namespace latent::loss
