// GaussianNoise: in training, adds zero-mean normal noise of a given standard deviation to every
// input (a regularizer, and the corruption of a denoising autoencoder); GaussianDropout multiplies
// every input by normal noise of mean 1; in inference both are the identity, as Keras'.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

class GaussianNoise : public Layer<GaussianNoise> {
public:
    // Keras requires stddev. A model type default-constructs its layers, so this one may start
    // without it; training then refuses to run until layer<I>().stddev(...) gives it.
    GaussianNoise() = default;
    explicit GaussianNoise(double stddev, std::string name = {}) : Layer(std::move(name)) {
        this->stddev(stddev);
    }

    static constexpr std::string_view type_name = "GaussianNoise";
    static constexpr std::string_view default_name = "gaussian_noise";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    // NaN until set.
    double stddev() const noexcept { return stddev_; }
    GaussianNoise& stddev(double s) {
        stddev_ = detail::non_negative_setting(s, type_name, name(), "stddev", "latent.layers.gaussian_noise.stddev");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t n = a.batch * In::size;
        if (a.mode != Mode::train || stddev_ == 0.0) {  // Keras adds noise whenever training, frozen or not
            ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x) { y = x; }, a.y, a.x);
            return;
        }
        if (std::isnan(stddev_))
            throw value_error("latent.layers.gaussian_noise.stddev",
                              describe() + ": stddev was never set; give it, e.g. layer<I>().stddev(0.1), before training");
        if (!a.rng)
            throw value_error("latent.layers.gaussian_noise.rng",
                              describe() + " in training mode needs a random generator");
        ops::normal<B>(n, a.y, *a.rng, 0.0, stddev_);                               // (batch, In)
        ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x) { y += x; }, a.y, a.x);  // (batch, In)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        ops::elementwise<B>(a.batch * In::size, [] LATENT_HOST_DEVICE(T& dx, const T& dy) { dx = dy; }, a.dx, a.dy);
    }

private:
    std::string describe() const {
        return "GaussianNoise" + (name().empty() ? std::string{} : " \"" + name() + "\"");
    }

    double stddev_ = std::numeric_limits<double>::quiet_NaN();
};

// GaussianDropout: in training, multiplies every input by noise drawn from N(1, rate / (1 - rate)),
// the variance of Dropout's own multiplier at that rate (Srivastava et al. 2014). Keras requires
// the rate; here it is 0.5 by default, as Dropout's.
class GaussianDropout : public Layer<GaussianDropout> {
public:
    explicit GaussianDropout(double rate = 0.5, std::string name = {}) : Layer(std::move(name)) { this->rate(rate); }
    explicit GaussianDropout(std::string name) : Layer(std::move(name)) {}

    static constexpr std::string_view type_name = "GaussianDropout";
    static constexpr std::string_view default_name = "gaussian_dropout";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size;  // the multiplier of each element
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    double rate() const noexcept { return rate_; }
    GaussianDropout& rate(double r) {
        if (!(r >= 0.0 && r < 1.0))
            throw value_error("latent.layers.gaussian_dropout.rate",
                              "GaussianDropout" + (name().empty() ? std::string{} : " \"" + name() + "\"") +
                                  ": rate must be in [0, 1), got " + std::to_string(r));
        rate_ = r;
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t n = a.batch * In::size;
        if (a.mode != Mode::train || rate_ == 0.0) {
            ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x) { y = x; }, a.y, a.x);
            if (a.workspace) ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& m) { m = T(1); }, a.workspace);
            return;
        }
        if (!a.rng)
            throw value_error("latent.layers.gaussian_dropout.rng", "GaussianDropout in training mode needs a random generator");
        ops::normal<B>(n, a.workspace, *a.rng, 1.0, std::sqrt(rate_ / (1.0 - rate_)));
        ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x, const T& m) { y = x * m; }, a.y, a.x,
                            a.workspace);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        ops::elementwise<B>(
            a.batch * In::size, [] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& m) { dx = dy * m; }, a.dx, a.dy,
            a.workspace);
    }

private:
    double rate_ = 0.5;
};

}  // namespace latent
