// CategoricalFocalCrossentropy (Lin et al., 2017), as Keras 3 computes it: per class,
// alpha (1 - p)^gamma times -y log p, summed over the last axis and averaged over the rest, p
// the predictions normalized to sum to 1 (or the softmax of logits) and clipped to
// [1e-7, 1 - 1e-7]: the classes the model already gets right count less.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct CategoricalFocalCrossentropy {
    static constexpr std::string_view name = "categorical_focal_crossentropy";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    double alpha = 0.25;  // one weight for every class, as Keras' scalar alpha
    double gamma = 2.0;   // 0 (with alpha 1): categorical cross-entropy
    bool from_logits = false;
    double label_smoothing = 0.0;  // y (1 - s) + s / classes, as CategoricalCrossentropy's

    void validate() const {
        if (!(alpha >= 0.0) || !std::isfinite(alpha))
            throw value_error("latent.loss.focal.alpha",
                              "CategoricalFocalCrossentropy: alpha must be a finite number >= 0, got " +
                                  std::to_string(alpha));
        if (!(gamma >= 0.0) || !std::isfinite(gamma))
            throw value_error("latent.loss.focal.gamma",
                              "CategoricalFocalCrossentropy: gamma must be a finite number >= 0, got " +
                                  std::to_string(gamma));
        detail::check_label_smoothing(label_smoothing, "CategoricalFocalCrossentropy");
    }

    // Row by row on the host, as CategoricalCrossentropy's probability path: the normalization
    // is a reduction along the last axis.
    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        const std::size_t n = batch * size, rows = n / last;
        return detail::on_host<B>(n, y_pred, n, y_true, grad, [&](const T* pred, const T* labels, T* g) {
            const double eps = epsilon, scale = 1.0 / static_cast<double>(rows);
            const double keep = 1.0 - label_smoothing, spread = label_smoothing / static_cast<double>(last);
            std::vector<double> p(last), dp(last);
            double total_loss = 0.0;
            for (std::size_t r = 0; r < rows; ++r) {
                const T* o = pred + r * last;
                const T* y = labels + r * last;
                double total = 0.0;
                if (from_logits) {  // softmax, max-subtracted
                    const double top = *std::max_element(o, o + last);
                    for (std::size_t c = 0; c < last; ++c) total += p[c] = std::exp(o[c] - top);
                    for (std::size_t c = 0; c < last; ++c) p[c] /= total;
                } else {
                    for (std::size_t c = 0; c < last; ++c) total += o[c];
                    for (std::size_t c = 0; c < last; ++c) p[c] = o[c] / total;
                }
                double weighted = 0.0;  // sum_c dL/dp_c p_c
                for (std::size_t c = 0; c < last; ++c) {
                    const double label = y[c] * keep + spread;
                    const double q = std::clamp(p[c], eps, 1.0 - eps), miss = 1.0 - q;
                    total_loss -= alpha * std::pow(miss, gamma) * label * std::log(q);
                    // d/dq of -alpha (1 - q)^gamma y log q; the clip has zero gradient outside
                    const bool inside = p[c] > eps && p[c] < 1.0 - eps;
                    dp[c] = inside ? alpha * label *
                                         (gamma * std::pow(miss, gamma - 1.0) * std::log(q) - std::pow(miss, gamma) / q)
                                   : 0.0;
                    weighted += dp[c] * p[c];
                }
                // Through the normalization (p = o / sum o) or the softmax.
                for (std::size_t c = 0; c < last; ++c)
                    g[r * last + c] = static_cast<T>(scale * (from_logits ? p[c] * (dp[c] - weighted)
                                                                          : (dp[c] - weighted) / total));
            }
            return static_cast<T>(total_loss * scale);
        });
    }
};

}  // namespace latent::loss
