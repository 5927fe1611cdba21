// Keras' preprocessing layers that run inside a model: Rescaling (x * scale + offset, e.g. pixels
// to [0, 1]) and Normalization (each feature to zero mean and unit variance, from statistics that
// adapt() measures on the training data and the model keeps as weights).
#pragma once

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// y = x * scale + offset (function objects: what a GPU backend's elementwise kernel can call).
template <class T>
struct scale_and_shift {
    T scale, offset;
    LATENT_HOST_DEVICE void operator()(T& y, const T& x) const { y = x * scale + offset; }
};
// Normalization's per-feature factors from its weights: scale = 1 / max(sqrt(variance), 1e-7)
// (Keras' backend epsilon) and shift = -mean * scale; inverted, scale = max(sqrt(variance), 1e-7)
// and shift = mean. zero is the backward pass's shift.
template <class T>
struct normalization_factors {
    bool invert;
    LATENT_HOST_DEVICE void operator()(T& scale, T& shift, T& zero, const T& mean, const T& variance) const {
        const T sd = std::sqrt(variance) > T(1e-7) ? std::sqrt(variance) : T(1e-7);
        scale = invert ? sd : T(1) / sd;
        shift = invert ? mean : -mean * scale;
        zero = T(0);
    }
};
}  // namespace detail

// Keras' Rescaling(scale, offset=0.0): y = x * scale + offset, e.g. Rescaling{1.0 / 255} for
// pixels stored as 0..255. Keras requires scale; a model type default-constructs its layers, so
// this one may start without it, and then refuses to run until layer<I>().scale(...) gives it.
class Rescaling : public Layer<Rescaling> {
public:
    Rescaling() = default;
    explicit Rescaling(double scale, double offset = 0.0, std::string name = {}) : Layer(std::move(name)) {
        this->scale(scale);
        this->offset(offset);
    }

    static constexpr std::string_view type_name = "Rescaling";
    static constexpr std::string_view default_name = "rescaling";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t flops_per_sample = 2 * In::size;

    // NaN until set.
    double scale() const noexcept { return scale_; }
    Rescaling& scale(double s) {
        scale_ = detail::finite_setting(s, type_name, name(), "scale", "latent.layers.rescaling.scale");
        return *this;
    }
    double offset() const noexcept { return offset_; }
    Rescaling& offset(double o) {
        offset_ = detail::finite_setting(o, type_name, name(), "offset", "latent.layers.rescaling.offset");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        if (std::isnan(scale_))
            throw value_error("latent.layers.rescaling.scale",
                              detail::describe_layer(type_name, name()) +
                                  ": scale was never set; give it, e.g. layer<I>().scale(1.0 / 255)");
        ops::elementwise<B>(a.batch * In::size,
                            detail::scale_and_shift<T>{static_cast<T>(scale_), static_cast<T>(offset_)}, a.y, a.x);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx)
            ops::elementwise<B>(a.batch * In::size, detail::scale_and_shift<T>{static_cast<T>(scale_), T(0)}, a.dx,
                                a.dy);
    }

private:
    double scale_ = std::nan("");
    double offset_ = 0.0;
};

// Keras' Normalization(axis=-1): each feature (the last axis) x -> (x - mean) / max(sqrt(variance),
// 1e-7), with `invert` the way back, mean + x * sd. mean and variance are non-trainable weights
// (zeros and ones at first: the identity), set by adapt(layer, data) from the training data as
// Keras' layer.adapt(data) does, or by set_weights; they are saved with the model's weights.
class Normalization : public Layer<Normalization> {
public:
    Normalization() = default;
    explicit Normalization(bool invert, std::string name = {}) : Layer(std::move(name)), invert_(invert) {}
    explicit Normalization(std::string name) : Layer(std::move(name)) {}
    explicit Normalization(const char* name) : Layer(std::string(name)) {}  // not Normalization(bool)

    static constexpr std::string_view type_name = "Normalization";
    static constexpr std::string_view default_name = "normalization";
    bool invert() const noexcept { return invert_; }
    Normalization& invert(bool on) noexcept {
        invert_ = on;
        return *this;
    }

    using requirement = min_rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank >= 1;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t features = last_axis_v<In>;

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{ParamSpec{"mean", {features<In>}, 1, Init::zeros, false},
                                                     ParamSpec{"variance", {features<In>}, 1, Init::ones, false}};
    // each feature's scale and shift, and zeros (backward's shift)
    template <class In>
    static constexpr std::size_t workspace_fixed = 3 * features<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample = 2 * In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = features<In>;
        T* scale = a.workspace;  // (3, C): scale, shift, zeros
        ops::elementwise<B>(C, detail::normalization_factors<T>{invert_}, scale, scale + C, scale + 2 * C, a.params,
                            a.params + C);
        ops::channel_affine<B>(a.batch * (In::size / C), C, a.x, scale, scale + C, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t C = features<In>;
        const T* scale = a.workspace;
        if (a.dx) ops::channel_affine<B>(a.batch * (In::size / C), C, a.dy, scale, scale + 2 * C, a.dx);
    }

private:
    bool invert_ = false;
};

// Keras' layer.adapt(data) for a Normalization in a model (net.layer("normalization"), or
// model.get_layer(...)): its mean and variance become each feature's over every sample and
// position of data (the population variance, as Keras). data's sample must hold whole feature
// vectors and be finite; otherwise nothing changes and the error says what was wrong.
template <class Handle, float_batch X>
void adapt(Handle&& layer, const X& data) {
    const std::string who = "adapt(layer \"" + layer.name() + "\")";
    if (layer.type_name() != Normalization::type_name)
        throw value_error("latent.layers.adapt", who + ": adapt sets a Normalization's statistics; this layer is a " +
                                                     std::string(layer.type_name()));
    auto weights = layer.get_weights();
    const std::size_t features = weights[0].size();
    const auto x = as_const_view(data);
    const std::size_t sample = std::remove_cvref_t<X>::shape::size;
    if (sample % features != 0)
        throw shape_error("latent.layers.adapt", who + ": its " + std::to_string(features) +
                                                     " features do not divide the data's samples of " +
                                                     std::to_string(sample) + " values");
    if (x.batch() == 0) throw value_error("latent.layers.adapt", who + ": the data has no samples");
    const std::size_t rows = x.batch() * (sample / features);
    std::vector<double> mean(features, 0.0), squares(features, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < features; ++c) {
            const double v = x.data()[r * features + c];
            if (!std::isfinite(v))
                throw value_error("latent.layers.adapt", who + ": sample " + std::to_string(r * features / sample) +
                                                             " holds " + std::to_string(v) + " (feature " +
                                                             std::to_string(c) + "); the data must be finite");
            mean[c] += v;
        }
    for (auto& m : mean) m /= static_cast<double>(rows);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < features; ++c) {
            const double d = x.data()[r * features + c] - mean[c];
            squares[c] += d * d;
        }
    for (std::size_t c = 0; c < features; ++c) {
        weights[0][c] = static_cast<float>(mean[c]);
        weights[1][c] = static_cast<float>(squares[c] / static_cast<double>(rows));
    }
    layer.set_weights(weights);
}

}  // namespace latent
