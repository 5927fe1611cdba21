// MeanSquaredLogarithmicError: the mean of (log(1 + y_pred) - log(1 + y_true))^2 with both
// clipped below at 1e-7 first, as Keras' "msle" (for targets spanning orders of magnitude).
#pragma once

#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct MeanSquaredLogarithmicError {
    static constexpr std::string_view name = "mean_squared_logarithmic_error";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T eps = static_cast<T>(epsilon), scale = T(2) / static_cast<T>(n);
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [eps] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T d = std::log1p(p > eps ? p : eps) - std::log1p(y > eps ? y : eps);
                g = d * d;
            },
            [eps, scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                // the clip has zero gradient below it
                g = p > eps ? scale * (std::log1p(p) - std::log1p(y > eps ? y : eps)) / (T(1) + p) : T(0);
            });
    }
};

}  // namespace latent::loss
