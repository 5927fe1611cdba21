// Adjacent layers a Sequential model runs as one step: Dense and the elementwise activation
// right after it (ReLU, Tanh, ...) become one GEMM and one pass for the bias and the function,
// which still writes both layers' outputs, so backward and every layer's output are unchanged.
#pragma once

#include <cstddef>
#include <type_traits>

#include "activation.hpp"
#include "dense.hpp"

namespace latent::detail {

template <class L>
inline constexpr bool is_dense_v = false;
template <std::size_t Units>
inline constexpr bool is_dense_v<Dense<Units>> = true;

// Activation<F> itself or one of its named forms (ReLU, ...), whose forward is the function
// applied elementwise; a class derived from those may do more, so it is not fused.
template <class L>
constexpr bool is_elementwise_activation() {
    if constexpr (requires { typename L::activation_function; }) {
        using F = typename L::activation_function;
        return std::is_same_v<L, Activation<F, void>> || std::is_base_of_v<Activation<F, L>, L>;
    } else {
        return false;
    }
}

template <class First, class Second>
inline constexpr bool fuses_dense_activation_v = is_dense_v<First> && is_elementwise_activation<Second>();

}  // namespace latent::detail
