// Dropout: in training, zeroes each input with probability `rate` and scales the rest by
// 1 / (1 - rate) (inverted dropout, as Keras); in inference it is the identity. SpatialDropout1D
// and SpatialDropout2D do so to whole channels of a sequence or an image, as Keras'; GaussianDropout
// multiplies by noise, AlphaDropout keeps a SELU network's mean and variance.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// A dropout rate: in [0, 1), else value_error `id` naming the layer and the value given.
inline double dropout_rate(double r, std::string_view type_name, const std::string& name, const std::string& id) {
    if (!(r >= 0.0 && r < 1.0))
        throw value_error(id, std::string(type_name) + (name.empty() ? std::string{} : " \"" + name + "\"") +
                                  ": rate must be in [0, 1), got " + std::to_string(r));
    return r;
}

// What the dropouts share: in inference (or at rate 0) y = x with a mask of ones, and backward
// dx = dy * mask, the mask being the multiplier forward applied to each element.
template <backend_policy B, class T>
void pass_through(std::size_t n, const T* x, T* y, T* mask) {
    ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& out, const T& in) { out = in; }, y, x);
    if (mask) ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& m) { m = T(1); }, mask);
}
template <backend_policy B, class T>
void backward_through_mask(std::size_t n, const T* dy, const T* mask, T* dx) {
    ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& d, const T& g, const T& m) { d = g * m; }, dx, dy, mask);
}
}  // namespace detail

class Dropout : public Layer<Dropout> {
public:
    explicit Dropout(double rate = 0.5, std::string name = {}) : Layer(std::move(name)) { this->rate(rate); }
    explicit Dropout(std::string name) : Layer(std::move(name)) {}

    static constexpr std::string_view type_name = "Dropout";
    static constexpr std::string_view default_name = "dropout";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size;  // the scale applied to each element
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    double rate() const noexcept { return rate_; }
    Dropout& rate(double r) {
        rate_ = detail::dropout_rate(r, type_name, name(), "latent.layers.dropout.rate");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t n = a.batch * In::size;
        if (a.mode != Mode::train || rate_ == 0.0) return detail::pass_through<B>(n, a.x, a.y, a.workspace);
        if (!a.rng)
            throw value_error("latent.layers.dropout.rng", "Dropout in training mode needs a random generator");
        ops::uniform<B>(n, a.workspace, *a.rng);
        const T rate = static_cast<T>(rate_);
        const T keep_scale = static_cast<T>(1.0 / (1.0 - rate_));
        ops::elementwise<B>(
            n,
            [rate, keep_scale] LATENT_HOST_DEVICE(T& y, T& mask, const T& x) {
                mask = mask >= rate ? keep_scale : T(0);
                y = x * mask;
            },
            a.y, a.workspace, a.x);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) detail::backward_through_mask<B>(a.batch * In::size, a.dy, a.workspace, a.dx);
    }

private:
    double rate_ = 0.5;
};

namespace detail {
// Dropout of whole channels (the last axis) of a sample of rank Rank: one draw per sample and
// channel, the same mask at every position (neighbouring pixels or steps are correlated, so
// dropping them one by one hardly regularizes; Tompson et al. 2015).
template <class Derived, std::size_t Rank>
class channel_dropout : public Layer<Derived> {
public:
    explicit channel_dropout(double rate = 0.5, std::string name = {}) : Layer<Derived>(std::move(name)) {
        rate_ = dropout_rate(rate, Derived::type_name, this->name(), "latent.layers.dropout.rate");
    }
    explicit channel_dropout(std::string name) : Layer<Derived>(std::move(name)) {}

    using requirement = latent::rank<Rank>;
    template <class In>
    static constexpr bool accepts = In::rank == Rank;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t channels = last_axis_v<In>;
    // The scale applied to each element, then each channel's draw.
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size + channels<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    double rate() const noexcept { return rate_; }
    Derived& rate(double r) {
        rate_ = dropout_rate(r, Derived::type_name, this->name(), "latent.layers.dropout.rate");
        return static_cast<Derived&>(*this);
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t n = a.batch * In::size;
        T* mask = a.workspace;  // (batch, In)
        if (a.mode != Mode::train || rate_ == 0.0) return pass_through<B>(n, a.x, a.y, mask);
        if (!a.rng)
            throw value_error("latent.layers.dropout.rng",
                              std::string(Derived::type_name) + " in training mode needs a random generator");
        T* draws = mask + n;  // (batch, C)
        ops::uniform<B>(a.batch * C, draws, *a.rng);
        const T rate = static_cast<T>(rate_);
        const T keep_scale = static_cast<T>(1.0 / (1.0 - rate_));
        ops::elementwise<B>(
            a.batch * C, [rate, keep_scale] LATENT_HOST_DEVICE(T& d) { d = d >= rate ? keep_scale : T(0); }, draws);
        // each sample's (1, 1, C) row of scales repeated over its positions
        ops::upsample_nearest2d<B>(a.batch, 1, 1, C, 1, In::size / C, draws, mask);
        ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x, const T& m) { y = x * m; }, a.y, a.x, mask);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) backward_through_mask<B>(a.batch * In::size, a.dy, a.workspace, a.dx);
    }

private:
    double rate_ = 0.5;
};
}  // namespace detail

// SpatialDropout1D: Dropout of whole channels of a sequence (steps, channels).
class SpatialDropout1D : public detail::channel_dropout<SpatialDropout1D, 2> {
public:
    using channel_dropout::channel_dropout;
    static constexpr std::string_view type_name = "SpatialDropout1D";
    static constexpr std::string_view default_name = "spatial_dropout1d";
};

// SpatialDropout2D: Dropout of whole channels (feature maps) of an image (h, w, channels).
class SpatialDropout2D : public detail::channel_dropout<SpatialDropout2D, 3> {
public:
    using channel_dropout::channel_dropout;
    static constexpr std::string_view type_name = "SpatialDropout2D";
    static constexpr std::string_view default_name = "spatial_dropout2d";
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
        rate_ = detail::dropout_rate(r, type_name, name(), "latent.layers.gaussian_dropout.rate");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t n = a.batch * In::size;
        if (a.mode != Mode::train || rate_ == 0.0) return detail::pass_through<B>(n, a.x, a.y, a.workspace);
        if (!a.rng)
            throw value_error("latent.layers.gaussian_dropout.rng",
                              "GaussianDropout in training mode needs a random generator");
        ops::normal<B>(n, a.workspace, *a.rng, 1.0, std::sqrt(rate_ / (1.0 - rate_)));
        ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x, const T& m) { y = x * m; }, a.y, a.x,
                            a.workspace);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) detail::backward_through_mask<B>(a.batch * In::size, a.dy, a.workspace, a.dx);
    }

private:
    double rate_ = 0.5;
};

// Keras' AlphaDropout(rate): dropout for self-normalizing networks (SELU, Klambauer et al.
// 2017). In training each input is kept with probability 1 - rate or set to SELU's negative
// saturation -scale * alpha, then all go through a * x + b, with a and b chosen so that inputs of
// zero mean and unit variance keep them; in inference it is the identity.
class AlphaDropout : public Layer<AlphaDropout> {
public:
    explicit AlphaDropout(double rate = 0.5, std::string name = {}) : Layer(std::move(name)) { this->rate(rate); }
    explicit AlphaDropout(std::string name) : Layer(std::move(name)) {}

    static constexpr std::string_view type_name = "AlphaDropout";
    static constexpr std::string_view default_name = "alpha_dropout";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size;  // d y / d x of each element: a or 0
    template <class In>
    static constexpr std::size_t flops_per_sample = 2 * In::size;

    // SELU's negative saturation, -scale * alpha (Keras' alpha_p).
    static constexpr double saturation = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;

    double rate() const noexcept { return rate_; }
    AlphaDropout& rate(double r) {
        rate_ = detail::dropout_rate(r, type_name, name(), "latent.layers.alpha_dropout.rate");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t n = a.batch * In::size;
        if (a.mode != Mode::train || rate_ == 0.0) return detail::pass_through<B>(n, a.x, a.y, a.workspace);
        if (!a.rng)
            throw value_error("latent.layers.alpha_dropout.rng",
                              "AlphaDropout in training mode needs a random generator");
        ops::uniform<B>(n, a.workspace, *a.rng);
        // Keras' a = ((1 - rate) (1 + rate alpha_p^2))^-1/2 and b = -a alpha_p rate.
        const double scale = 1.0 / std::sqrt((1.0 - rate_) * (1.0 + rate_ * saturation * saturation));
        const T rate = static_cast<T>(rate_), a_scale = static_cast<T>(scale);
        const T kept_shift = static_cast<T>(-scale * saturation * rate_);
        const T dropped = static_cast<T>(scale * saturation - scale * saturation * rate_);
        ops::elementwise<B>(
            n,
            [rate, a_scale, kept_shift, dropped] LATENT_HOST_DEVICE(T& y, T& mask, const T& x) {
                const bool keep = mask >= rate;
                y = keep ? a_scale * x + kept_shift : dropped;
                mask = keep ? a_scale : T(0);
            },
            a.y, a.workspace, a.x);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) detail::backward_through_mask<B>(a.batch * In::size, a.dy, a.workspace, a.dx);
    }

private:
    double rate_ = 0.5;
};

}  // namespace latent
