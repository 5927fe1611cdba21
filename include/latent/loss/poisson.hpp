// Poisson: the mean of y_pred - y_true * log(y_pred + 1e-7), as Keras' "poisson" (y_pred a
// rate, y_true a count; PyTorch's PoissonNLLLoss(log_input=False) with Keras' epsilon).
#pragma once

#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct Poisson {
    static constexpr std::string_view name = "poisson";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T eps = static_cast<T>(epsilon), scale = T(1) / static_cast<T>(n);
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [eps] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) { g = p - y * std::log(p + eps); },
            [eps, scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) { g = scale * (T(1) - y / (p + eps)); });
    }
};

}  // namespace latent::loss
