// Compile-time diagnostics: each wiring mistake instantiates exactly one of these types, whose
// name reads as the diagnosis (input_shape_mismatch<Dense<10>, at_layer<2>, got<Shape<28, 28>>,
// expected<rank<1>>>) and whose single static_assert says how to fix it.
#pragma once

#include <cstddef>
#include <type_traits>

namespace latent {

// Position of a layer in a Sequential, counting from 0 at the first layer after Input.
template <std::size_t I>
struct at_layer {};
// The shape a layer received, and what it needs (rank<R>, elements<N>, min_rank<R>, a Shape).
template <class S>
struct got {};
template <class R>
struct expected {};

namespace detail {
template <class... T>
inline constexpr bool dependent_false = false;
}  // namespace detail

template <class Layer, class At, class Got, class Expected>
struct input_shape_mismatch {
    static_assert(detail::dependent_false<Layer>,
                  "latent: this layer cannot take the shape the layer before it produces; the type "
                  "input_shape_mismatch<Layer, at_layer<I>, got<Shape>, expected<Need>> in this error names the "
                  "layer, its position I (0 = first layer after Input), the shape it got and what it "
                  "needs (rank<R>: R axes; elements<N>: N elements in all; image_at_least<H, W>: a (height, width, "
                  "channels) image of at least H x W pixels; sequence_at_least<N>: a (steps, channels) sequence of at "
                  "least N steps; sequence_at_most<N>: a (steps, features) sequence of at most N steps; "
                  "channels_divisible_by<G>: a last axis (channels) that G divides; permutation_of_axes_1_to<N>: "
                  "Permute's Dims, which must reorder the axes 1..N; each_step<Need>: a sequence (steps, ...) whose "
                  "every step is what Need says). Fix: insert Flatten before a Dense that follows an image, change "
                  "the Reshape/Input shape so the element counts agree, or use a kernel, pool or crop that fits the "
                  "image (Padding::same keeps a convolution's size).");
};

template <class Net>
struct empty_sequential {
    static_assert(detail::dependent_false<Net>,
                  "latent: empty_sequential: a Sequential needs an Input<...> followed by at least one layer, "
                  "e.g. Sequential<Input<784>, Dense<10>>.");
};

template <class Layer, class At>
struct missing_input {
    static_assert(detail::dependent_false<Layer>,
                  "latent: missing_input: this Sequential has no Input<...>, so the first layer's input shape is "
                  "unknown. Fix: start the list with the sample shape, e.g. Sequential<Input<28, 28, 1>, ...>.");
};

template <class Layer, class At>
struct layer_before_input {
    static_assert(detail::dependent_false<Layer>,
                  "latent: layer_before_input: Input<...> must come first in a Sequential (after an optional "
                  "backend), exactly once; this layer stands before it. Fix: move Input<...> to the front.");
};

template <class What, class At>
struct not_a_layer {
    static_assert(detail::dependent_false<What>,
                  "latent: not_a_layer: this entry of the Sequential is not a latent layer (a class deriving from "
                  "latent::LayerBase with type_name, default_name, requirement, accepts, output_shape, forward and "
                  "backward; see latent/layers/layer.hpp). A backend tag may only come first.");
};

template <class Net, class Got, class Expected>
struct label_shape_mismatch {
    static_assert(detail::dependent_false<Net>,
                  "latent: label_shape_mismatch: the labels' sample shape (got) is not what the loss compares with "
                  "the model's output (expected). Fix: one-hot encode class labels for CategoricalCrossentropy, use "
                  "SparseCategoricalCrossentropy for class indices of Shape<1>, or match the output shape.");
};

template <class Net, class Got, class Expected>
struct input_batch_mismatch {
    static_assert(detail::dependent_false<Net>,
                  "latent: input_batch_mismatch: the data's sample shape (got) is not the model's input shape "
                  "(expected). Fix: reshape the data or change Input<...>.");
};

}  // namespace latent
