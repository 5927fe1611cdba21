// Hinge and SquaredHinge: the mean of max(1 - y_true * y_pred, 0) (squared), as Keras' "hinge"
// and "squared_hinge", for labels -1 or 1; a label 0 counts as -1, as Keras turns 0/1 labels
// into -1/1 (it does so for a batch of only 0s and 1s; labels -1, 0, 1 together differ there).
#pragma once

#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

namespace detail {
template <class T>
LATENT_HOST_DEVICE T hinge_label(T y) {
    return y == T(0) ? T(-1) : y;
}
}  // namespace detail

struct Hinge {
    static constexpr std::string_view name = "hinge";
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
                const T margin = T(1) - detail::hinge_label(y) * p;
                g = margin > T(0) ? margin : T(0);
            },
            [scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T label = detail::hinge_label(y);
                g = T(1) - label * p > T(0) ? -scale * label : T(0);
            });
    }
};

struct SquaredHinge {
    static constexpr std::string_view name = "squared_hinge";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T scale = T(2) / static_cast<T>(n);
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T margin = T(1) - detail::hinge_label(y) * p;
                g = margin > T(0) ? margin * margin : T(0);
            },
            [scale] LATENT_HOST_DEVICE(T& g, const T& p, const T& y) {
                const T label = detail::hinge_label(y);
                const T margin = T(1) - label * p;
                g = margin > T(0) ? -scale * label * margin : T(0);
            });
    }
};

}  // namespace latent::loss
