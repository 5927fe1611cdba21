// Flatten and Reshape<D...>: change the sample shape, keep the elements (channels-last order);
// Permute<Dims...>: reorder the sample's axes; RepeatVector<N>: a vector repeated as a sequence
// of N steps (a sequence decoder's input).
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "../backend/permute.hpp"
#include "layer.hpp"

namespace latent {

class Flatten : public Layer<Flatten> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "Flatten";
    static constexpr std::string_view default_name = "flatten";

    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = Shape<In::size>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::copy_elements<B>(a.batch * In::size, a.x, a.y);
    }
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::copy_elements<B>(a.batch * In::size, a.dy, a.dx);
    }
};

template <std::size_t... D>
class Reshape : public Layer<Reshape<D...>> {
public:
    using Layer<Reshape<D...>>::Layer;
    static constexpr std::string_view type_name = "Reshape";
    static constexpr std::string_view default_name = "reshape";
    using target_shape = Shape<D...>;

    using requirement = elements<target_shape::size>;
    template <class In>
    static constexpr bool accepts = In::size == target_shape::size;
    template <class In>
    using output_shape = target_shape;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::copy_elements<B>(a.batch * In::size, a.x, a.y);
    }
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::copy_elements<B>(a.batch * In::size, a.dy, a.dx);
    }
};

// RepeatVector<N>: (features) -> (N, features), the same vector at every step, as Keras'
// RepeatVector(n): what an LSTM autoencoder's decoder reads its code from. Its gradient is the
// sum over the steps. (The vector as a 1 x 1 image upsampled N times along its width: the
// backends' nearest-neighbour upsampling and its backward.)
template <std::size_t N>
class RepeatVector : public Layer<RepeatVector<N>> {
    static_assert(N > 0, "latent: RepeatVector needs at least one step");

public:
    using Layer<RepeatVector<N>>::Layer;
    static constexpr std::string_view type_name = "RepeatVector";
    static constexpr std::string_view default_name = "repeat_vector";
    static constexpr std::size_t steps = N;

    using requirement = rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank == 1;
    template <class In>
    using output_shape = Shape<N, In::size>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::upsample_nearest2d<B>(a.batch, 1, 1, In::size, 1, N, a.x, a.y);  // (batch, N, features)
    }
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::upsample_nearest2d_backward<B>(a.batch, 1, 1, In::size, 1, N, a.dy, a.dx);
    }
};

// Permute<Dims...>: the sample's axes reordered, as Keras' Permute(dims): Dims number the axes
// from 1 (the batch is not one of them), and output axis k is input axis Dims[k], so
// Permute<2, 1> turns (steps, features) into (features, steps). Dims must be a permutation of
// 1..N for an input of rank N (at most 8).
namespace detail {
// Whether Dims is a permutation of 1..N, N = sizeof...(Dims), at most max_permute_rank.
template <std::size_t... Dims>
constexpr bool is_axis_permutation() {
    constexpr std::size_t n = sizeof...(Dims);
    if constexpr (n == 0 || n > max_permute_rank) {
        return false;
    } else {
        bool seen[n + 1]{};
        for (std::size_t d : {Dims...}) {
            if (d < 1 || d > n || seen[d]) return false;
            seen[d] = true;
        }
        return true;
    }
}
}  // namespace detail

template <std::size_t... Dims>
class Permute : public Layer<Permute<Dims...>> {
    static constexpr std::size_t N = sizeof...(Dims);
    static constexpr std::array<std::size_t, N> dims{Dims...};

public:
    // Dims that are no permutation of 1..N are reported where the layer is used, as a wiring
    // mistake (expected<permutation_of_axes_1_to<N>>), so that it gives one error.
    static constexpr bool valid = detail::is_axis_permutation<Dims...>();

    // In's dims in the output's order (In's own where that is impossible: the stand-in shape).
    template <class In>
    static constexpr std::size_t taken(std::size_t k) {
        if constexpr (valid && In::rank == N)
            return In::dims[dims[k] - 1];
        else
            return k < In::rank ? In::dims[k] : 1;
    }
    template <class In, std::size_t... K>
    static Shape<taken<In>(K)...> permuted(std::index_sequence<K...>);

    using Layer<Permute<Dims...>>::Layer;
    static constexpr std::string_view type_name = "Permute";
    static constexpr std::string_view default_name = "permute";

    using requirement = std::conditional_t<valid, rank<N>, permutation_of_axes_1_to<N>>;
    template <class In>
    static constexpr bool accepts = valid && In::rank == N;
    template <class In>
    using output_shape = decltype(permuted<In>(std::make_index_sequence<N>{}));

    template <class In>
    static constexpr detail::Permutation permutation = [] {
        detail::Permutation p;
        p.rank = N;
        p.sample = In::size;
        std::array<std::size_t, N> strides{};
        std::size_t stride = 1;
        for (std::size_t axis = N; axis-- > 0;) {
            strides[axis] = stride;
            stride *= axis < In::rank ? In::dims[axis] : 1;
        }
        for (std::size_t k = 0; k < N; ++k) {
            p.out_dims[k] = taken<In>(k);
            p.in_strides[k] = valid ? strides[dims[k] - 1] : 0;
        }
        return p;
    }();

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::permute<B>(a.batch, permutation<In>, a.x, a.y);
    }
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::permute_backward<B>(a.batch, permutation<In>, a.dy, a.dx);
    }
};

}  // namespace latent
