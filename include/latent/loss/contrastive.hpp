// Contrastive: the margin loss of Siamese metric learning (Hadsell, Chopra and LeCun 2006;
// TensorFlow Addons' ContrastiveLoss): y_pred is the distance between a pair's two embeddings,
// y_true 1 for a similar pair and 0 for a dissimilar one; y d^2 + (1 - y) max(margin - d, 0)^2.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "../backend/ops.hpp"
#include "../core/errors.hpp"
#include "loss.hpp"

namespace latent::loss {

// Similar pairs are pulled together; dissimilar ones pushed apart until `margin`, then left
// alone. A cosine distance for it is Rescaling{-1.0, 1.0}(Dot<>{true}(a, b)) (1 - cosine).
struct Contrastive {
    static constexpr std::string_view name = "contrastive";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;
    double margin = 1.0;

    void validate() const {
        if (!(margin > 0.0) || !std::isfinite(margin))
            throw value_error("latent.loss.contrastive.margin",
                              "Contrastive: margin must be a positive finite number, got " + std::to_string(margin));
    }

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t /*last*/,
              T* grad) const {
        const std::size_t n = batch * size;
        const T m = static_cast<T>(margin), scale = T(1) / static_cast<T>(n);
        return detail::mean_over_elements<B>(
            n, y_pred, y_true, grad,
            [m] LATENT_HOST_DEVICE(T& g, const T& d, const T& y) {
                const T gap = m - d > T(0) ? m - d : T(0);
                g = y * d * d + (T(1) - y) * gap * gap;
            },
            [m, scale] LATENT_HOST_DEVICE(T& g, const T& d, const T& y) {
                const T gap = m - d > T(0) ? m - d : T(0);
                g = scale * T(2) * (y * d - (T(1) - y) * gap);
            });
    }
};

}  // namespace latent::loss
