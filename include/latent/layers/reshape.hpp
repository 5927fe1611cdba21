// Flatten and Reshape<D...>: change the sample shape, keep the elements (channels-last order);
// RepeatVector<N>: a vector repeated as a sequence of N steps (a sequence decoder's input).
#pragma once

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

}  // namespace latent
