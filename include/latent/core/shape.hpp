// Shape<D...>: the compile-time shape of one sample (channels-last, batch excluded), and
// the small vocabulary of constexpr shape algebra used everywhere else (rank, size, dims).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

namespace latent {

namespace detail {
template <class = void>
std::string format_dims(const std::vector<std::size_t>& dims) {
    std::string out = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(dims[i]);
    }
    if (dims.size() == 1) out += ",";
    return out + ")";
}
}  // namespace detail

template <std::size_t... D>
struct Shape {
    static_assert(((D > 0) && ...), "latent: every dimension of a Shape must be at least 1");

    static constexpr std::size_t rank = sizeof...(D);
    static constexpr std::size_t size = (std::size_t{1} * ... * D);  // elements per sample
    static constexpr std::array<std::size_t, sizeof...(D)> dims{D...};

    // "(28, 28, 1)": the way Keras and NumPy print a shape.
    static std::string to_string() { return format_dims(std::vector<std::size_t>(dims.begin(), dims.end())); }

    // (one body for every Shape: a message names many shapes, and each would compile its own)
    static std::string format_dims(const std::vector<std::size_t>& dims_) { return detail::format_dims(dims_); }
};

template <class T>
struct is_shape : std::false_type {};
template <std::size_t... D>
struct is_shape<Shape<D...>> : std::true_type {};
template <class T>
inline constexpr bool is_shape_v = is_shape<T>::value;

template <class T>
concept shape_type = is_shape_v<T>;

// Dimension I of S; the last axis is `dim_v<S, S::rank - 1>`.
template <shape_type S, std::size_t I>
inline constexpr std::size_t dim_v = S::dims[I];

// The shape's dimensions as a runtime vector (for messages, summaries and files).
template <shape_type S>
std::vector<std::size_t> dims_of() {
    return std::vector<std::size_t>(S::dims.begin(), S::dims.end());
}

// "(2, 3)" for any runtime list of dimensions.
inline std::string format_shape(const std::vector<std::size_t>& dims) {
    return detail::format_dims(dims);
}

// The length of a shape's last axis (channels, features; 1 for a rank-0 stand-in): what
// layers that work along it (normalizations, channel dropout) use.
template <class S>
inline constexpr std::size_t last_axis_v = S::rank == 0 ? 1 : S::dims[S::rank - 1];

// Descriptions of what a layer needs, used only to spell compile-time diagnostics:
// expected<rank<1>> reads "needs a rank-1 input", expected<elements<784>> "needs 784 elements".
template <std::size_t R>
struct rank {};
template <std::size_t N>
struct elements {};
template <std::size_t R>
struct min_rank {};
struct any_shape {};
// A (height, width, channels) image of at least H x W pixels: what a valid-padded kernel or
// pool of that size, or a crop leaving at least one pixel, needs.
template <std::size_t H, std::size_t W>
struct image_at_least {};
// A sequence (steps, channels) of at least N steps: what a valid-padded Conv1D or pool of size N needs.
template <std::size_t N>
struct sequence_at_least {};
// A sequence (steps, features) of at most N steps: what PositionEmbedding<N> has positions for.
template <std::size_t N>
struct sequence_at_most {};
// A last axis (channels) that G divides: GroupNormalization's groups of channels.
template <std::size_t G>
struct channels_divisible_by {};
// Permute's Dims as they must be: a permutation of the axes 1..N (Keras' numbering, from 1).
template <std::size_t N>
struct permutation_of_axes_1_to {};
// A sequence (steps, ...) whose every step is what Need describes (TimeDistributed's layer).
template <class Need>
struct each_step {};

}  // namespace latent
