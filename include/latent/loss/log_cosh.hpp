// LogCosh: the mean of log(cosh(y_pred - y_true)), as Keras' "log_cosh": about e^2 / 2 near the
// target and |e| - log 2 far from it; written as e + softplus(-2e) - log 2 so cosh never overflows.
#pragma once

#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct LogCosh {
    static constexpr std::string_view name = "log_cosh";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T scale = T(1) / static_cast<T>(n);
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T e = std::abs(p - y);  // log cosh is even: |e| + log1p(exp(-2|e|)) - log 2
                g = e + std::log1p(std::exp(T(-2) * e)) - T(0.69314718055994530942);
            },
            [scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) { g = scale * std::tanh(p - y); });
    }
};

}  // namespace latent::loss
