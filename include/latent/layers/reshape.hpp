// Flatten and Reshape<D...>: change the sample shape, keep the elements (channels-last order).
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

}  // namespace latent
