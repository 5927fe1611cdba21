// NTXent: SimCLR's normalized temperature-scaled cross-entropy (Chen et al. 2020) over a batch of
// 2N projections, where rows i and i + N are two views of the same example: each view must pick
// its partner out of the other 2N - 1 by cosine similarity / temperature.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../backend/ops.hpp"
#include "../core/errors.hpp"

namespace latent::loss {

class NTXent {
public:
    static constexpr std::string_view name = "nt_xent";
    double temperature = 0.5;

    NTXent() = default;
    NTXent(double temperature_) : temperature(temperature_) {}  // NTXent{0.1}

    void validate() const {
        if (!(temperature > 0.0) || !std::isfinite(temperature))
            throw value_error("latent.loss.nt_xent.temperature",
                              "NTXent: temperature must be a positive finite number, got " + std::to_string(temperature));
    }

    // z: (views, dim) with views = 2N; returns the mean loss over the 2N views and writes
    // grad = d loss / d z. `hits`, when given, gets how many views have their partner as their
    // most similar other view (the contrastive accuracy's numerator).
    template <backend_policy B, class T>
    T compute(const T* z, std::size_t views, std::size_t dim, T* grad, std::size_t* hits = nullptr) const {
        validate();
        if (views < 2 || views % 2 != 0)
            throw shape_error("latent.loss.nt_xent.batch", "NTXent needs an even number of views (two per example, "
                                                           "rows i and i + N), at least 2; got " +
                                                               std::to_string(views));
        const std::size_t half = views / 2;
        const double inv_tau = 1.0 / temperature;
        // u = z / ||z|| (the norm clamped away from 0, as torch.nn.functional.normalize).
        auto& u = scratch<T>().u;
        auto& norms = scratch<T>().norms;
        u.resize(views * dim);
        norms.resize(views);
        for (std::size_t i = 0; i < views; ++i) {
            double sq = 0;
            for (std::size_t d = 0; d < dim; ++d) sq += static_cast<double>(z[i * dim + d]) * z[i * dim + d];
            norms[i] = static_cast<T>(std::max(std::sqrt(sq), 1e-12));
            for (std::size_t d = 0; d < dim; ++d) u[i * dim + d] = z[i * dim + d] / norms[i];
        }
        // s = u u^T / tau, then per row the softmax over the other views minus the partner's
        // indicator, divided by 2N: d loss / d s.
        auto& s = scratch<T>().s;
        auto& g = scratch<T>().g;
        s.resize(views * views);
        g.resize(views * views);
        ops::gemm<B>(false, true, views, views, dim, static_cast<T>(inv_tau), u.data(), dim, u.data(), dim, T(0),
                     s.data(), views);
        double total = 0;
        std::size_t correct = 0;
        for (std::size_t i = 0; i < views; ++i) {
            const std::size_t partner = i < half ? i + half : i - half;
            const T* row = s.data() + i * views;
            double top = -1e300;
            std::size_t best = partner;
            for (std::size_t k = 0; k < views; ++k)
                if (k != i && row[k] > top) {
                    top = row[k];
                    best = k;
                }
            correct += best == partner;
            double sum = 0;
            for (std::size_t k = 0; k < views; ++k)
                if (k != i) sum += std::exp(static_cast<double>(row[k]) - top);
            total += top + std::log(sum) - static_cast<double>(row[partner]);
            T* grow = g.data() + i * views;
            for (std::size_t k = 0; k < views; ++k) {
                const double p = k == i ? 0.0 : std::exp(static_cast<double>(row[k]) - top) / sum;
                grow[k] = static_cast<T>((p - (k == partner ? 1.0 : 0.0)) / static_cast<double>(views));
            }
        }
        // d loss / d u = (G + G^T) u / tau; then through the normalization:
        // dz = (du - u (u . du)) / ||z||.
        for (std::size_t i = 0; i < views; ++i)
            for (std::size_t k = i + 1; k < views; ++k) {
                const T sym = g[i * views + k] + g[k * views + i];
                g[i * views + k] = g[k * views + i] = sym;
            }
        auto& du = scratch<T>().du;
        du.resize(views * dim);
        ops::gemm<B>(false, false, views, dim, views, static_cast<T>(inv_tau), g.data(), views, u.data(), dim, T(0),
                     du.data(), dim);
        for (std::size_t i = 0; i < views; ++i) {
            double along = 0;
            for (std::size_t d = 0; d < dim; ++d) along += static_cast<double>(u[i * dim + d]) * du[i * dim + d];
            for (std::size_t d = 0; d < dim; ++d)
                grad[i * dim + d] = (du[i * dim + d] - u[i * dim + d] * static_cast<T>(along)) / norms[i];
        }
        if (hits) *hits = correct;
        return static_cast<T>(total / static_cast<double>(views));
    }

private:
    // Working arrays kept from call to call (a SimCLR step of 512 views needs 2 MB of them), so
    // that training steps after the first allocate nothing; a copy of the loss starts empty.
    template <class T>
    struct Scratch {
        std::vector<T> u, norms, s, g, du;
    };
    struct Buffers {
        Scratch<float> f;
        Scratch<double> d;
        Buffers() = default;
        Buffers(const Buffers&) {}
        Buffers& operator=(const Buffers&) { return *this; }
    };
    template <class T>
    Scratch<T>& scratch() const {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "latent: NTXent works in float or double");
        if constexpr (std::is_same_v<T, float>)
            return buffers_.f;
        else
            return buffers_.d;
    }
    mutable Buffers buffers_;
};

}  // namespace latent::loss
