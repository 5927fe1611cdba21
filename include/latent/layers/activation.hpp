// Activation layers: Activation<F> applies an elementwise function F; ReLU, LeakyReLU, Sigmoid,
// Tanh, ELU, GELU, SiLU, ... are its named forms, and Softmax normalizes over the last axis.
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
class ReLU6 : public Activation<activations::relu6, ReLU6> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "ReLU6";
    static constexpr std::string_view default_name = "re_lu6";
};

class ELU : public Activation<activations::elu, ELU> {
public:
    ELU() = default;
    explicit ELU(double alpha, std::string name = {}) : Activation(activations::elu{alpha}, std::move(name)) {}
    explicit ELU(std::string name) : Activation(std::move(name)) {}
    static constexpr std::string_view type_name = "ELU";
    static constexpr std::string_view default_name = "elu";

    double alpha() const noexcept { return function().alpha; }
    ELU& alpha(double value) {
        function().alpha = value;
        return *this;
    }
};

class SELU : public Activation<activations::selu, SELU> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "SELU";
    static constexpr std::string_view default_name = "selu";
};

// GELU{} is the exact form (Keras' and PyTorch's default); GELU{true} the tanh approximation.
class GELU : public Activation<activations::gelu, GELU> {
public:
    GELU() = default;
    explicit GELU(bool approximate, std::string name = {})
        : Activation(activations::gelu{approximate}, std::move(name)) {}
    explicit GELU(std::string name) : Activation(std::move(name)) {}
    explicit GELU(const char* name) : Activation(std::string(name)) {}  // not GELU(bool) by pointer conversion
    static constexpr std::string_view type_name = "GELU";
    static constexpr std::string_view default_name = "gelu";

    bool approximate() const noexcept { return function().approximate; }
    GELU& approximate(bool value) {
        function().approximate = value;
        return *this;
    }
};

class SiLU : public Activation<activations::silu, SiLU> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "SiLU";
    static constexpr std::string_view default_name = "silu";
};
using Swish = SiLU;

class Softplus : public Activation<activations::softplus, Softplus> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "Softplus";
    static constexpr std::string_view default_name = "softplus";
};

class Softsign : public Activation<activations::softsign, Softsign> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "Softsign";
    static constexpr std::string_view default_name = "softsign";
};

class HardSigmoid : public Activation<activations::hard_sigmoid, HardSigmoid> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "HardSigmoid";
    static constexpr std::string_view default_name = "hard_sigmoid";
};

class HardSiLU : public Activation<activations::hard_silu, HardSiLU> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "HardSiLU";
    static constexpr std::string_view default_name = "hard_silu";
};
using HardSwish = HardSiLU;

class Mish : public Activation<activations::mish, Mish> {
public:
    using Activation::Activation;
    static constexpr std::string_view type_name = "Mish";
    static constexpr std::string_view default_name = "mish";
};

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
