// The normalization layers, as Keras': BatchNormalization (alias BatchNorm) normalizes each
// channel over the batch (moving averages in inference); LayerNormalization each sample's last
// axis over itself (RMSNormalization without centring); GroupNormalization each sample's groups
// of channels over all positions; UnitNormalization scales the last axis to unit L2 norm.
#pragma once

#include <cmath>
#include <string>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// The epsilon of a normalization layer, checked: a positive finite number, else value_error `id`.
template <class = void>
double checked_epsilon(double e, const char* id, std::string_view type_name, const std::string& name) {
    if (!(e > 0.0 && std::isfinite(e)))
        throw value_error(id, describe_layer(type_name, name) + ": epsilon must be a positive finite number, got " +
                                  number_text(e));
    return e;
}

// p = dy * x_hat (a function object: what a GPU backend's elementwise kernel can call).
struct product_with_normalized {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& p, const T& dy, const T& x_hat) const {
        p = dy * x_hat;
    }
};
// The gradients of gamma and beta in y = gamma * x_hat + beta over (rows, channels), added to
// dparams (gamma's, then beta's); `product` is scratch of rows * channels.
template <backend_policy B, class T>
void affine_parameter_gradients(std::size_t rows, std::size_t channels, const T* dy, const T* x_hat, T* product,
                                T* dparams) {
    ops::elementwise<B>(rows * channels, product_with_normalized{}, product, dy, x_hat);
    ops::column_sum<B>(rows, channels, product, dparams, true);        // gamma
    ops::column_sum<B>(rows, channels, dy, dparams + channels, true);  // beta
}
}  // namespace detail

class BatchNormalization : public Layer<BatchNormalization> {
public:
    explicit BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, std::string name = {})
        : Layer(std::move(name)) {
        this->momentum(momentum);
        this->epsilon(epsilon);
    }
    explicit BatchNormalization(std::string name) : Layer(std::move(name)) {}

    static constexpr std::string_view type_name = "BatchNormalization";
    static constexpr std::string_view default_name = "batch_normalization";

    using requirement = min_rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank >= 1;
    template <class In>
    using output_shape = In;

    // The normalized axis is the last one: features of a vector, channels of an image.
    template <class In>
    static constexpr std::size_t channels = last_axis_v<In>;

    // Keras' order and initializers; the moving statistics are state, never touched by an optimizer.
    template <class In>
    static constexpr std::array<ParamSpec, 4> params{
        ParamSpec{"gamma", {channels<In>}, 1, Init::ones, true},
        ParamSpec{"beta", {channels<In>}, 1, Init::zeros, true},
        ParamSpec{"moving_mean", {channels<In>}, 1, Init::zeros, false},
        ParamSpec{"moving_variance", {channels<In>}, 1, Init::ones, false}};
    // x_hat per element; then the mean and inv_std forward used, and whether they were the batch's.
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size;
    template <class In>
    static constexpr std::size_t workspace_fixed = 2 * channels<In> + 1;
    // Normalize (subtract, multiply) and scale-shift (multiply, add) each element.
    template <class In>
    static constexpr std::size_t flops_per_sample = 4 * In::size;

    double momentum() const noexcept { return momentum_; }
    BatchNormalization& momentum(double m) {
        if (!(m >= 0.0 && m <= 1.0))
            throw value_error("latent.layers.batch_normalization.momentum",
                              detail::describe_layer(type_name, name()) + ": momentum must be in [0, 1], got " +
                                  detail::number_text(m));
        momentum_ = m;
        return *this;
    }

    double epsilon() const noexcept { return epsilon_; }
    BatchNormalization& epsilon(double e) {
        epsilon_ = detail::checked_epsilon(e, "latent.layers.batch_normalization.epsilon", type_name, name());
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t rows = a.batch * (In::size / C);
        const T* gamma = a.params;                    // (C)
        const T* beta = a.params + C;                 // (C)
        const T* moving_mean = a.params + 2 * C;      // (C)
        const T* moving_variance = a.params + 3 * C;  // (C)
        T* x_hat = a.workspace;                       // (rows, C)
        T* batch_mean = x_hat + a.batch * In::size;   // (C)
        T* inv_std = batch_mean + C;                  // (C)
        T* batch_stats = inv_std + C;                 // (1): 1 when normalized with the batch's statistics
        const T eps = static_cast<T>(epsilon_);
        const T* mean = moving_mean;

        // Keras runs a frozen BatchNorm in inference mode even while the model trains, so that a
        // fine-tuned base sees the statistics it was trained with.
        if (a.mode == Mode::train && a.trainable) {
            T* batch_variance = inv_std;  // (C), turned into inv_std below
            ops::channel_moments<B>(rows, C, a.x, batch_mean, batch_variance);
            if (a.state) {
                // The moving variance follows the biased batch variance, the one used to normalize:
                // Keras 3 (ops.moments) and tf.keras 2.x's non-fused path (tf.nn.moments, every input
                // that is not 4-D/5-D) do so. tf.keras 2.x's fused path for 4-D/5-D inputs (images)
                // feeds it TensorFlow's fused_batch_norm batch variance, which carries Bessel's
                // correction n / (n - 1); with n = batch * height * width that differs by under 0.1%.
                const T keep = static_cast<T>(momentum_);
                const T take = static_cast<T>(1.0 - momentum_);
                ops::elementwise<B>(
                    C,
                    [keep, take] LATENT_HOST_DEVICE(T& mm, T& mv, const T& bm, const T& bv) {
                        mm = mm * keep + bm * take;
                        mv = mv * keep + bv * take;
                    },
                    a.state + 2 * C, a.state + 3 * C, batch_mean, batch_variance);
            }
            ops::elementwise<B>(C, [eps] LATENT_HOST_DEVICE(T& s) { s = T(1) / std::sqrt(s + eps); }, inv_std);
            ops::elementwise<B>(1, [] LATENT_HOST_DEVICE(T& f) { f = T(1); }, batch_stats);
            mean = batch_mean;
        } else {
            ops::elementwise<B>(
                C, [eps] LATENT_HOST_DEVICE(T& s, const T& v) { s = T(1) / std::sqrt(v + eps); }, inv_std,
                                moving_variance);
            ops::fill_zero<B>(1, batch_stats);
        }
        ops::channel_normalize<B>(rows, C, a.x, mean, inv_std, x_hat);  // (rows, C)
        ops::channel_affine<B>(rows, C, x_hat, gamma, beta, a.y);       // (rows, C)
    }

    // Through the batch statistics when forward used them; otherwise the statistics were inputs,
    // and their exact gradients go to the moving-statistics slots (no optimizer reads those).
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx && !a.dparams) return;
        constexpr std::size_t C = channels<In>;
        const std::size_t rows = a.batch * (In::size / C);
        const T* x_hat = a.workspace;                            // (rows, C)
        const T* inv_std = a.workspace + a.batch * In::size + C;  // (C)
        const T* batch_stats = inv_std + C;                      // (1)
        T* d = a.dparams;  // (4, C): gamma, beta, moving_mean, moving_variance
        ops::batch_norm_backward<B>(rows, C, x_hat, a.dy, a.params, inv_std, batch_stats, a.dx, d,
                                    d ? d + C : nullptr, d ? d + 2 * C : nullptr, d ? d + 3 * C : nullptr);
    }

private:
    double momentum_ = 0.99;
    double epsilon_ = 1e-3;
};

using BatchNorm = BatchNormalization;

// Keras' LayerNormalization(axis=-1): each position's last axis normalized over itself (the same
// in training and inference; no batch statistics), then scaled by gamma and shifted by beta.
class LayerNormalization : public Layer<LayerNormalization> {
public:
    explicit LayerNormalization(double epsilon = 1e-3, std::string name = {}) : Layer(std::move(name)) {
        this->epsilon(epsilon);
    }
    explicit LayerNormalization(std::string name) : Layer(std::move(name)) {}

    static constexpr std::string_view type_name = "LayerNormalization";
    static constexpr std::string_view default_name = "layer_normalization";

    using requirement = min_rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank >= 1;
    template <class In>
    using output_shape = In;

    template <class In>
    static constexpr std::size_t channels = last_axis_v<In>;

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{ParamSpec{"gamma", {channels<In>}, 1, Init::ones, true},
                                                     ParamSpec{"beta", {channels<In>}, 1, Init::zeros, true}};
    // x_hat, then room for dy * x_hat in backward, then each row's inv_std.
    template <class In>
    static constexpr std::size_t workspace_per_sample = 2 * In::size + In::size / channels<In>;
    // Moments (3 per element), normalize (2), scale and shift (2).
    template <class In>
    static constexpr std::size_t flops_per_sample = 7 * In::size;

    double epsilon() const noexcept { return epsilon_; }
    LayerNormalization& epsilon(double e) {
        epsilon_ = detail::checked_epsilon(e, "latent.layers.layer_normalization.epsilon", type_name, name());
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t rows = a.batch * (In::size / C);
        T* x_hat = a.workspace;                         // (rows, C)
        T* inv_std = a.workspace + 2 * a.batch * In::size;  // (rows)
        ops::layer_norm<B>(rows, C, a.x, static_cast<T>(epsilon_), x_hat, inv_std);
        ops::channel_affine<B>(rows, C, x_hat, a.params, a.params + C, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t rows = a.batch * (In::size / C);
        const T* x_hat = a.workspace;                             // (rows, C)
        T* product = a.workspace + a.batch * In::size;            // (rows, C)
        const T* inv_std = a.workspace + 2 * a.batch * In::size;  // (rows)
        if (a.dparams) detail::affine_parameter_gradients<B>(rows, C, a.dy, x_hat, product, a.dparams);
        if (a.dx) ops::layer_norm_backward<B>(rows, C, x_hat, inv_std, a.params, a.dy, a.dx);
    }

private:
    double epsilon_ = 1e-3;
};

// Keras' RMSNormalization(axis=-1, epsilon=1e-6): each position's last axis divided by its root
// mean square, x * rsqrt(mean(x^2) + epsilon), then scaled per feature by `scale` (ones at
// first). LayerNormalization without the centring and the shift, as modern Transformers use it.
class RMSNormalization : public Layer<RMSNormalization> {
public:
    explicit RMSNormalization(double epsilon = 1e-6, std::string name = {}) : Layer(std::move(name)) {
        this->epsilon(epsilon);
    }
    explicit RMSNormalization(std::string name) : Layer(std::move(name)) {}

    static constexpr std::string_view type_name = "RMSNormalization";
    static constexpr std::string_view default_name = "rms_normalization";

    using requirement = min_rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank >= 1;
    template <class In>
    using output_shape = In;

    template <class In>
    static constexpr std::size_t channels = last_axis_v<In>;

    template <class In>
    static constexpr std::array<ParamSpec, 1> params{ParamSpec{"scale", {channels<In>}, 1, Init::ones, true}};
    // x_hat, then room for dy * x_hat in backward, then each row's inv_rms; and a zero shift.
    template <class In>
    static constexpr std::size_t workspace_per_sample = 2 * In::size + In::size / channels<In>;
    template <class In>
    static constexpr std::size_t workspace_fixed = channels<In>;
    // Squares and their mean (2 per element), normalize (1), scale (1).
    template <class In>
    static constexpr std::size_t flops_per_sample = 4 * In::size;

    double epsilon() const noexcept { return epsilon_; }
    RMSNormalization& epsilon(double e) {
        epsilon_ = detail::checked_epsilon(e, "latent.layers.rms_normalization.epsilon", type_name, name());
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t rows = a.batch * (In::size / C);
        T* x_hat = a.workspace;                             // (rows, C)
        T* inv_rms = a.workspace + 2 * a.batch * In::size;  // (rows)
        T* no_shift = inv_rms + rows;                       // (C)
        ops::rms_norm<B>(rows, C, a.x, static_cast<T>(epsilon_), x_hat, inv_rms);
        ops::fill_zero<B>(C, no_shift);
        ops::channel_affine<B>(rows, C, x_hat, a.params, no_shift, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        const std::size_t rows = a.batch * (In::size / C);
        const T* x_hat = a.workspace;                             // (rows, C)
        T* product = a.workspace + a.batch * In::size;            // (rows, C)
        const T* inv_rms = a.workspace + 2 * a.batch * In::size;  // (rows)
        if (a.dparams) {
            ops::elementwise<B>(rows * C, detail::product_with_normalized{}, product, a.dy, x_hat);
            ops::column_sum<B>(rows, C, product, a.dparams, true);
        }
        if (a.dx) ops::rms_norm_backward<B>(rows, C, x_hat, inv_rms, a.params, a.dy, a.dx);
    }

private:
    double epsilon_ = 1e-6;
};

// Keras' GroupNormalization(groups=Groups, axis=-1, epsilon=1e-3): each sample's channels (the
// last axis) split into Groups blocks of channels / Groups, each block normalized over all its
// positions and channels (biased variance), then scaled and shifted per channel (gamma, beta).
// Independent of the batch, unlike BatchNormalization; Groups = 1 normalizes a sample as a
// whole, Groups = channels is instance normalization.
template <std::size_t Groups = 32>
class GroupNormalization : public Layer<GroupNormalization<Groups>> {
    static_assert(Groups > 0, "latent: GroupNormalization needs at least one group");
    using Base = Layer<GroupNormalization<Groups>>;

public:
    explicit GroupNormalization(double epsilon = 1e-3, std::string name = {}) : Base(std::move(name)) {
        this->epsilon(epsilon);
    }
    explicit GroupNormalization(std::string name) : Base(std::move(name)) {}

    static constexpr std::string_view type_name = "GroupNormalization";
    static constexpr std::string_view default_name = "group_normalization";
    static constexpr std::size_t groups = Groups;

    template <class In>
    static constexpr std::size_t channels = last_axis_v<In>;

    using requirement = channels_divisible_by<Groups>;
    template <class In>
    static constexpr bool accepts = In::rank >= 1 && channels<In> % Groups == 0;
    template <class In>
    using output_shape = In;

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{ParamSpec{"gamma", {channels<In>}, 1, Init::ones, true},
                                                     ParamSpec{"beta", {channels<In>}, 1, Init::zeros, true}};
    // x_hat, then room for dy * x_hat in backward, then each group's inv_std.
    template <class In>
    static constexpr std::size_t workspace_per_sample = 2 * In::size + Groups;
    // Moments (3 per element), normalize (2), scale and shift (2), as LayerNormalization.
    template <class In>
    static constexpr std::size_t flops_per_sample = 7 * In::size;

    double epsilon() const noexcept { return epsilon_; }
    GroupNormalization& epsilon(double e) {
        epsilon_ = detail::checked_epsilon(e, "latent.layers.group_normalization.epsilon", type_name, this->name());
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>, positions = In::size / C;
        T* x_hat = a.workspace;                             // (batch, positions, C)
        T* inv_std = a.workspace + 2 * a.batch * In::size;  // (batch, Groups)
        ops::group_norm<B>(a.batch, positions, C, Groups, a.x, static_cast<T>(epsilon_), x_hat, inv_std);
        ops::channel_affine<B>(a.batch * positions, C, x_hat, a.params, a.params + C, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>, positions = In::size / C;
        const T* x_hat = a.workspace;
        T* product = a.workspace + a.batch * In::size;
        const T* inv_std = a.workspace + 2 * a.batch * In::size;
        if (a.dparams) detail::affine_parameter_gradients<B>(a.batch * positions, C, a.dy, x_hat, product, a.dparams);
        if (a.dx) ops::group_norm_backward<B>(a.batch, positions, C, Groups, x_hat, inv_std, a.params, a.dy, a.dx);
    }

private:
    double epsilon_ = 1e-3;
};

// Keras' UnitNormalization(axis=-1): each position's last axis divided by its L2 norm (a squared
// norm under 1e-12 counts as 1e-12), as an embedding is before a cosine similarity. No weights.
class UnitNormalization : public Layer<UnitNormalization> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "UnitNormalization";
    static constexpr std::string_view default_name = "unit_normalization";

    using requirement = min_rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank >= 1;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t channels = last_axis_v<In>;
    // each row's 1 / norm
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size / channels<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample = 3 * In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t C = channels<In>;
        ops::l2_normalize<B>(a.batch * (In::size / C), C, a.x, a.y, a.workspace);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        constexpr std::size_t C = channels<In>;
        ops::l2_normalize_backward<B>(a.batch * (In::size / C), C, a.y, a.workspace, a.dy, a.dx);
    }
};

}  // namespace latent
