// Activation layers: Activation<F> applies an elementwise function F; ReLU, LeakyReLU, Sigmoid
// and Tanh are its named forms, and Softmax normalizes over the last axis, as in Keras.
#pragma once

#include <cmath>
#include <string>
#include <type_traits>

#include "../core/activations.hpp"
#include "layer.hpp"

namespace latent {

// Derived names the concrete class (ReLU, ...) so that calling it on symbolic tensors records
// that class; Activation<F> on its own leaves it void.
template <class F, class Derived = void>
class Activation : public Layer<std::conditional_t<std::is_void_v<Derived>, Activation<F, void>, Derived>> {
    using base = Layer<std::conditional_t<std::is_void_v<Derived>, Activation<F, void>, Derived>>;

public:
    using activation_function = F;
    Activation() = default;
    explicit Activation(std::string name) : base(std::move(name)) {}
    explicit Activation(F function, std::string name = {}) : base(std::move(name)), function_(function) {}

    static constexpr std::string_view type_name = "Activation";
    static constexpr std::string_view default_name = "activation";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    const F& function() const noexcept { return function_; }
    F& function() noexcept { return function_; }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::activation<B>(a.batch * In::size, function_, a.x, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        const F f = function_;
        ops::elementwise<B>(
            a.batch * In::size,
            [f] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& x, const T& y) { dx = dy * f.derivative(x, y); },
            a.dx, a.dy, a.x, a.y);
    }

private:
    F function_{};
};

class ReLU : public Activation<activations::relu, ReLU> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "ReLU";
    static constexpr std::string_view default_name = "re_lu";
};

class LeakyReLU : public Activation<activations::leaky_relu, LeakyReLU> {
public:
    LeakyReLU() = default;
    explicit LeakyReLU(double negative_slope, std::string name = {})
        : Activation(activations::leaky_relu{negative_slope}, std::move(name)) {}
    explicit LeakyReLU(std::string name) : Activation(std::move(name)) {}
    static constexpr std::string_view type_name = "LeakyReLU";
    static constexpr std::string_view default_name = "leaky_re_lu";

    double negative_slope() const noexcept { return function().negative_slope; }
    LeakyReLU& negative_slope(double slope) {
        function().negative_slope = slope;
        return *this;
    }
};

class Sigmoid : public Activation<activations::sigmoid, Sigmoid> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "Sigmoid";
    static constexpr std::string_view default_name = "sigmoid";
};

class Tanh : public Activation<activations::tanh, Tanh> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "Tanh";
    static constexpr std::string_view default_name = "tanh";
};

// Softmax over the last axis (Keras' default axis=-1).
class Softmax : public Layer<Softmax> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "Softmax";
    static constexpr std::string_view default_name = "softmax";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t flops_per_sample = 3 * In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t cols = In::dims[In::rank - 1];
        ops::softmax<B>(a.batch * In::size / cols, cols, a.x, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        constexpr std::size_t cols = In::dims[In::rank - 1];
        ops::softmax_backward<B>(a.batch * In::size / cols, cols, a.y, a.dy, a.dx);
    }
};

namespace detail {
// What the training loop may fuse a model's final layer with: a loss computed from the logits
// (the final Softmax's or Sigmoid's input) is exact where the probabilities would saturate.
enum class output_activation { none, softmax, sigmoid };

template <class L>
constexpr output_activation output_activation_of() {
    if constexpr (std::is_base_of_v<Softmax, L>)
        return output_activation::softmax;
    else if constexpr (requires { typename L::activation_function; })
        return std::is_same_v<typename L::activation_function, activations::sigmoid> ? output_activation::sigmoid
                                                                                     : output_activation::none;
    else
        return output_activation::none;
}
}  // namespace detail

}  // namespace latent
