// CosineSimilarity: minus the cosine similarity of y_pred and y_true along the last axis,
// averaged over the rest, as Keras' CosineSimilarity loss (both L2-normalized with a floor of
// 1e-12 on the squared norm): -1 when the directions agree, 1 when they are opposite.
#pragma once

#include <cmath>
#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct CosineSimilarity {
    static constexpr std::string_view name = "cosine_similarity";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    // Row by row on the host: the norms and dot products are reductions along the last axis,
    // which no op offers; on a device backend one batch of outputs comes over (as
    // CategoricalCrossentropy's probability path does).
    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        const std::size_t n = batch * size, rows = n / last;
        return detail::on_host<B>(n, y_pred, n, y_true, grad, [&](const T* pred, const T* labels, T* g) {
            const double floor = 1e-12;
            double total = 0.0;
            for (std::size_t r = 0; r < rows; ++r) {
                const T* p = pred + r * last;
                const T* y = labels + r * last;
                double pp = 0.0, yy = 0.0, py = 0.0;
                for (std::size_t c = 0; c < last; ++c) {
                    pp += static_cast<double>(p[c]) * p[c];
                    yy += static_cast<double>(y[c]) * y[c];
                    py += static_cast<double>(p[c]) * y[c];
                }
                const bool p_floored = !(pp > floor);
                const double inv_p = 1.0 / std::sqrt(p_floored ? floor : pp);
                const double inv_y = 1.0 / std::sqrt(yy > floor ? yy : floor);
                const double cosine = py * inv_p * inv_y;
                total -= cosine;
                // d(-cos)/dp = -(y_hat - cos * p_hat) / |p|; with |p| floored, the floor is a constant
                for (std::size_t c = 0; c < last; ++c) {
                    const double y_hat = y[c] * inv_y, p_hat = p[c] * inv_p;
                    const double d = p_floored ? -y_hat * inv_p : -(y_hat - cosine * p_hat) * inv_p;
                    g[r * last + c] = static_cast<T>(d / static_cast<double>(rows));
                }
            }
            return static_cast<T>(total / static_cast<double>(rows));
        });
    }
};

}  // namespace latent::loss
