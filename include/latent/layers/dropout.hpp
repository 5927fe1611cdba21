// Dropout: in training, zeroes each input with probability `rate` and scales the rest by
// 1 / (1 - rate) (inverted dropout, as Keras); in inference it is the identity. SpatialDropout1D
// and SpatialDropout2D do so to whole channels of a sequence or an image, as Keras'.
#pragma once

#include <cmath>
#include <string>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

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
        if (!(r >= 0.0 && r < 1.0))
            throw value_error("latent.layers.dropout.rate",
                              "Dropout" + (name().empty() ? std::string{} : " \"" + name() + "\"") +
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
        if (!a.dx) return;
        ops::elementwise<B>(
            a.batch * In::size, [] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& mask) { dx = dy * mask; }, a.dx,
            a.dy, a.workspace);
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
        set_rate(rate);  // not rate(): it returns Derived&, which is not constructed yet here
    }
    explicit channel_dropout(std::string name) : Layer<Derived>(std::move(name)) {}

    using requirement = latent::rank<Rank>;
    template <class In>
    static constexpr bool accepts = In::rank == Rank;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t channels = In::rank == 0 ? 1 : In::dims[In::rank - 1];
    // The scale applied to each element, then each channel's draw.
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size + channels<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    double rate() const noexcept { return rate_; }
    Derived& rate(double r) {
        set_rate(r);
        return static_cast<Derived&>(*this);
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t n = a.batch * In::size;
        T* mask = a.workspace;  // (batch, In)
        if (a.mode != Mode::train || rate_ == 0.0) {
            ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& y, const T& x) { y = x; }, a.y, a.x);
            if (mask) ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& m) { m = T(1); }, mask);
            return;
        }
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
        if (!a.dx) return;
        ops::elementwise<B>(
            a.batch * In::size, [] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& mask) { dx = dy * mask; }, a.dx,
            a.dy, a.workspace);
    }

private:
    void set_rate(double r) {
        if (!(r >= 0.0 && r < 1.0))
            throw value_error("latent.layers.dropout.rate",
                              std::string(Derived::type_name) +
                                  (this->name().empty() ? std::string{} : " \"" + this->name() + "\"") +
                                  ": rate must be in [0, 1), got " + std::to_string(r));
        rate_ = r;
    }

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

}  // namespace latent
