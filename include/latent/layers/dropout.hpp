// Dropout: in training, zeroes each input with probability `rate` and scales the rest by
// 1 / (1 - rate) (inverted dropout, as Keras); in inference it is the identity.
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

}  // namespace latent
