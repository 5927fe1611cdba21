// The elementwise activation functions (value and derivative) that Activation<F> layers apply
// and that backends may evaluate vectorized (ops::activation).
#pragma once

#include <cmath>

#include "../config.hpp"

namespace latent {

// Elementwise functions for Activation<F>: value(x) and derivative(x, y) with y = value(x),
// callable on the GPU too (a custom F for the cuda backend marks its members LATENT_HOST_DEVICE).
namespace activations {

struct linear {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x; }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T, T) const { return T(1); }
};

struct relu {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x > T(0) ? x : T(0); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : T(0); }
};

struct leaky_relu {
    double negative_slope = 0.3;  // Keras' default for the LeakyReLU layer
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x > T(0) ? x : static_cast<T>(negative_slope) * x; }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : static_cast<T>(negative_slope); }
};

struct sigmoid {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const {
        // Two forms so that exp never overflows.
        return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
    }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T, T y) const { return y * (T(1) - y); }
};

struct tanh {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return std::tanh(x); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T, T y) const { return T(1) - y * y; }
};

// ReLU capped at 6 (Keras' relu6, PyTorch's ReLU6; MobileNet's).
struct relu6 {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x > T(0) ? (x < T(6) ? x : T(6)) : T(0); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const { return x > T(0) && x < T(6) ? T(1) : T(0); }
};

// x for x > 0, alpha (e^x - 1) below (Keras' and PyTorch's default alpha 1).
struct elu {
    double alpha = 1.0;
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x > T(0) ? x : static_cast<T>(alpha) * std::expm1(x); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T y) const { return x > T(0) ? T(1) : y + static_cast<T>(alpha); }
};

// Scaled ELU with the self-normalizing constants of Klambauer et al. (as Keras and PyTorch).
struct selu {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const {
        return x > T(0) ? T(1.0507009873554804934193349852946) * x
                        : T(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717) * std::expm1(x);
    }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T y) const {
        return x > T(0) ? T(1.0507009873554804934193349852946)
                        : y + T(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717);
    }
};

// x * Phi(x), Phi the standard normal CDF: exact by erf (Keras' and PyTorch's default), or
// Hendrycks and Gimpel's tanh form with approximate = true (PyTorch's approximate="tanh").
struct gelu {
    bool approximate = false;
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const {
        if (approximate) return T(0.5) * x * (T(1) + std::tanh(inner(x)));
        return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
    }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const {
        if (approximate) {
            const T t = std::tanh(inner(x));
            return T(0.5) * (T(1) + t) +
                   T(0.5) * x * (T(1) - t * t) * T(0.79788456080286535588) * (T(1) + T(3 * 0.044715) * x * x);
        }
        return T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440))) +
               x * T(0.39894228040143267794) * std::exp(T(-0.5) * x * x);
    }

private:
    template <class T>
    LATENT_HOST_DEVICE static T inner(T x) {  // sqrt(2 / pi) (x + 0.044715 x^3)
        return T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
    }
};

// x * sigmoid(x): Keras' silu (alias swish), PyTorch's SiLU.
struct silu {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x * sigmoid{}.value(x); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const {
        const T s = sigmoid{}.value(x);
        return s * (T(1) + x * (T(1) - s));
    }
};
using swish = silu;

// log(1 + e^x), written so that neither exp overflows nor small values round to 0.
struct softplus {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x))); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const { return sigmoid{}.value(x); }
};

// x / (1 + |x|).
struct softsign {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x / (T(1) + std::abs(x)); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const {
        const T d = T(1) + std::abs(x);
        return T(1) / (d * d);
    }
};

// relu6(x + 3) / 6, Keras 3's hard_sigmoid and PyTorch's Hardsigmoid (Keras 2 used 0.2x + 0.5).
struct hard_sigmoid {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return relu6{}.value(x + T(3)) / T(6); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const { return x > T(-3) && x < T(3) ? T(1) / T(6) : T(0); }
};

// x * hard_sigmoid(x): Keras' hard_silu (alias hard_swish), PyTorch's Hardswish.
struct hard_silu {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x * hard_sigmoid{}.value(x); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const {
        return x <= T(-3) ? T(0) : x >= T(3) ? T(1) : (T(2) * x + T(3)) / T(6);
    }
};
using hard_swish = hard_silu;

// x * tanh(softplus(x)) (Misra 2019).
struct mish {
    template <class T>
    LATENT_HOST_DEVICE T value(T x) const { return x * std::tanh(softplus{}.value(x)); }
    template <class T>
    LATENT_HOST_DEVICE T derivative(T x, T) const {
        const T t = std::tanh(softplus{}.value(x));
        return t + x * (T(1) - t * t) * sigmoid{}.value(x);
    }
};

}  // namespace activations

}  // namespace latent
