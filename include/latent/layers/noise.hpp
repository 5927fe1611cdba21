// GaussianNoise: in training, adds zero-mean normal noise of a given standard deviation to every
// input (a regularizer, and the corruption of a denoising autoencoder); in inference it is the
// identity, as Keras' GaussianNoise.
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

}  // namespace latent
