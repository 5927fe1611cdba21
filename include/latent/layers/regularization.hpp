// ActivityRegularization: the identity that adds l1 * sum|x| + l2 * sum x^2 of what flows
// through it to the training loss (Keras' ActivityRegularization, and what Keras'
// activity_regularizer= does after a layer): put it after a code layer for a sparse autoencoder.
#pragma once

#include <string>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

class ActivityRegularization : public Layer<ActivityRegularization> {
public:
    // Keras' defaults: no penalty until l1/l2 are given.
    ActivityRegularization() = default;
    explicit ActivityRegularization(double l1, double l2 = 0.0, std::string name = {}) : Layer(std::move(name)) {
        this->l1(l1);
        this->l2(l2);
    }

    static constexpr std::string_view type_name = "ActivityRegularization";
    static constexpr std::string_view default_name = "activity_regularization";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t flops_per_sample = 4 * In::size;
    // The penalty's terms, summed when the loss asks for them (loss_term).
    template <class In>
    static constexpr std::size_t workspace_per_sample = In::size;

    double l1() const noexcept { return l1_; }
    double l2() const noexcept { return l2_; }
    ActivityRegularization& l1(double v) {
        l1_ = checked(v, "l1");
        return *this;
    }
    ActivityRegularization& l2(double v) {
        l2_ = checked(v, "l2");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::elementwise<B>(a.batch * In::size, [] LATENT_HOST_DEVICE(T& y, const T& x) { y = x; }, a.y, a.x);
    }

    // d/dx of (l1 |x| + l2 x^2) / batch, added to what comes from above (Keras divides an
    // activity penalty by the batch size, so that it weighs the same whatever the batch).
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        const T s1 = static_cast<T>(l1_ / static_cast<double>(a.batch));
        const T s2 = static_cast<T>(2.0 * l2_ / static_cast<double>(a.batch));
        ops::elementwise<B>(
            a.batch * In::size,
            [s1, s2] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& x) {
                const T sign = x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
                dx = dy + s1 * sign + s2 * x;
            },
            a.dx, a.dy, a.x);
    }

    // The penalty of the last forward pass, whose input was x: what the training loop adds to
    // the loss it reports (the gradient is backward's).
    template <class In, backend_policy B, class T>
    double loss_term(const T* x, T* workspace, std::size_t batch) const {
        if (batch == 0 || (l1_ == 0.0 && l2_ == 0.0)) return 0.0;
        const T l1 = static_cast<T>(l1_), l2 = static_cast<T>(l2_);
        const std::size_t n = batch * In::size;
        ops::elementwise<B>(
            n, [l1, l2] LATENT_HOST_DEVICE(T& w, const T& v) { w = l1 * (v < T(0) ? -v : v) + l2 * v * v; }, workspace,
            x);
        return static_cast<double>(ops::sum<B>(n, workspace)) / static_cast<double>(batch);
    }

private:
    double checked(double v, const char* which) const {
        return detail::non_negative_setting(v, type_name, name(), which, "latent.layers.activity_regularization");
    }

    double l1_ = 0.0, l2_ = 0.0;
};

}  // namespace latent
