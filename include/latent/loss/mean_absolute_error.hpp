// MeanAbsoluteError: the mean over all elements of |y_pred - y_true|, as Keras' "mae" (PyTorch's
// L1Loss); its gradient at y_pred == y_true is 0, as TensorFlow's and PyTorch's.
#pragma once

#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct MeanAbsoluteError {
    static constexpr std::string_view name = "mean_absolute_error";
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
            [] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) { g = std::abs(p - y); },
            [scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                g = p > y ? scale : (p < y ? -scale : T(0));
            });
    }
};

}  // namespace latent::loss
