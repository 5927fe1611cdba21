// Sampling: the reparameterization trick of a variational autoencoder. Its input holds, per
// sample, the means and then the log-variances of D Gaussian code units (one Dense<2 * D> in
// front); in training it outputs z = mean + exp(log_var / 2) * eps with eps ~ N(0, 1), in
// inference the mean. It adds the KL divergence from N(0, 1), times a runtime weight (beta), to
// the loss (Keras' VAE example: Sampling plus add_loss(kl_loss)).
#pragma once

#include <cmath>
#include <string>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

class Sampling : public Layer<Sampling> {
public:
    explicit Sampling(double beta = 1.0, std::string name = {}) : Layer(std::move(name)) { this->beta(beta); }

    static constexpr std::string_view type_name = "Sampling";
    static constexpr std::string_view default_name = "sampling";

    using requirement = rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank == 1 && In::size >= 2 && In::size % 2 == 0;
    template <class In>
    using output_shape = Shape<(In::size / 2 > 0 ? In::size / 2 : 1)>;
    // eps, then scratch for the KL term.
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size;
    template <class In>
    static constexpr std::size_t flops_per_sample = 3 * In::size;

    // The weight of the KL term (1: the VAE's evidence lower bound; other values: a beta-VAE).
    double beta() const noexcept { return beta_; }
    Sampling& beta(double b) {
        beta_ = detail::non_negative_setting(b, type_name, name(), "beta", "latent.layers.sampling.beta");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t d = In::size / 2;
        const bool sample = a.mode == Mode::train;
        if (sample && !a.rng)
            throw value_error("latent.layers.sampling.rng", "Sampling in training mode needs a random generator");
        for (std::size_t b = 0; b < a.batch; ++b) {
            const T* mean = a.x + b * 2 * d;
            const T* log_var = mean + d;
            T* z = a.y + b * d;
            T* eps = a.workspace + b * 2 * d;
            if (sample) {
                ops::normal<B>(d, eps, *a.rng, 0.0, 1.0);
                ops::elementwise<B>(
                    d,
                    [] LATENT_HOST_DEVICE(T& out, const T& m, const T& lv, const T& e) {
                        out = m + std::exp(lv / T(2)) * e;
                    },
                    z, mean, log_var, eps);
            } else {
                ops::elementwise<B>(d, [] LATENT_HOST_DEVICE(T& out, const T& m) { out = m; }, z, mean);
            }
        }
    }

    // dz flows to the mean and, through exp(log_var / 2) * eps, to the log-variance; the KL
    // term adds beta * mean / batch and beta * (exp(log_var) - 1) / (2 batch).
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        constexpr std::size_t d = In::size / 2;
        const T k = static_cast<T>(beta_ / static_cast<double>(a.batch));
        for (std::size_t b = 0; b < a.batch; ++b) {
            const T* mean = a.x + b * 2 * d;
            const T* log_var = mean + d;
            const T* dz = a.dy + b * d;
            const T* eps = a.workspace + b * 2 * d;
            T* d_mean = a.dx + b * 2 * d;
            T* d_log_var = d_mean + d;
            ops::elementwise<B>(
                d, [k] LATENT_HOST_DEVICE(T& g, const T& up, const T& m) { g = up + k * m; }, d_mean, dz, mean);
            ops::elementwise<B>(
                d,
                [k] LATENT_HOST_DEVICE(T& g, const T& up, const T& lv, const T& e) {
                    const T s = std::exp(lv / T(2));
                    g = up * s * e / T(2) + k * (s * s - T(1)) / T(2);
                },
                d_log_var, dz, log_var, eps);
        }
    }

    // beta * KL(N(mean, exp(log_var)) || N(0, 1)), summed over the code units, mean over the batch.
    template <class In, backend_policy B, class T>
    double loss_term(const T* x, T* workspace, std::size_t batch) const {
        if (batch == 0 || beta_ == 0.0) return 0.0;
        constexpr std::size_t d = In::size / 2;
        double total = 0.0;
        for (std::size_t b = 0; b < batch; ++b) {
            const T* mean = x + b * 2 * d;
            T* terms = workspace + b * 2 * d + d;  // after eps, which backward still needs
            ops::elementwise<B>(
                d,
                [] LATENT_HOST_DEVICE(T& t, const T& m, const T& lv) { t = (std::exp(lv) + m * m - T(1) - lv) / T(2); },
                terms, mean,
                mean + d);
            total += static_cast<double>(ops::sum<B>(d, terms));
        }
        return beta_ * total / static_cast<double>(batch);
    }

private:
    double beta_ = 1.0;
};

}  // namespace latent
