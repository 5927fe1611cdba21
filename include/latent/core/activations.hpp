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

}  // namespace activations

}  // namespace latent
