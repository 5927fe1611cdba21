// ZeroPadding2D and Cropping2D: add zero rows and columns around a channels-last image, or cut
// them off, as Keras. The amount is a number (every side), Size2<h, w> (h rows top and bottom,
// w columns left and right) or Edges<top, bottom, left, right>.
#pragma once

#include <cstddef>
#include <type_traits>

#include "../core/spatial.hpp"
#include "layer.hpp"
#include "pool.hpp"  // detail::image_dims, shared by the image layers

namespace latent {

// Rows and columns on each side of an image; written Edges<top, bottom, left, right> in
// template arguments, Keras' ((top, bottom), (left, right)).
struct Edges2D {
    std::size_t top = 0, bottom = 0, left = 0, right = 0;
    friend constexpr bool operator==(const Edges2D&, const Edges2D&) = default;
};

template <std::size_t Top, std::size_t Bottom, std::size_t Left, std::size_t Right>
inline constexpr Edges2D Edges{Top, Bottom, Left, Right};

namespace detail {
template <class V>
inline constexpr bool is_edges_argument_v = is_extent_argument_v<V> || std::is_same_v<V, Edges2D>;

// A negative number would wrap around as a size; the layers refuse it by name instead.
template <class V>
constexpr bool is_negative_argument(V v) {
    if constexpr (std::is_integral_v<V> && std::is_signed_v<V>)
        return v < 0;
    else
        return false;
}

template <class V>
constexpr Edges2D to_edges2d(V v) {
    if constexpr (std::is_same_v<V, Edges2D>) {
        return v;
    } else if constexpr (is_extent_argument_v<V>) {
        const Extent2 e = to_extent2(v);
        return Edges2D{e.h, e.h, e.w, e.w};
    } else {
        return Edges2D{};  // the layer's static_assert has already said what is wrong
    }
}

// What is left of `length` after cutting `cut`; 1 when nothing is, as the stand-in shape.
constexpr std::size_t left_after_cut(std::size_t length, std::size_t cut) { return length > cut ? length - cut : 1; }
}  // namespace detail

// ZeroPadding2D<Pad = 1>: (h, w, c) -> (top + h + bottom, left + w + right, c), zeros around.
template <auto Pad = 1>
class ZeroPadding2D : public Layer<ZeroPadding2D<Pad>> {
    static_assert(detail::is_edges_argument_v<std::remove_cvref_t<decltype(Pad)>> &&
                      !detail::is_negative_argument(Pad),
                  "latent: ZeroPadding2D's padding is a number, Size2<h, w> or Edges<top, bottom, left, right>, "
                  "none of them negative");

public:
    using Layer<ZeroPadding2D<Pad>>::Layer;
    static constexpr std::string_view type_name = "ZeroPadding2D";
    static constexpr std::string_view default_name = "zero_padding2d";
    static constexpr Edges2D padding = detail::to_edges2d(Pad);

    using requirement = rank<3>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = Shape<padding.top + detail::image_dims<In>.h + padding.bottom,
                               padding.left + detail::image_dims<In>.w + padding.right,
                               detail::image_dims<In>.channels>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        ops::pad2d<B>(a.batch, image.h, image.w, image.channels, padding.top, padding.bottom, padding.left,
                      padding.right, a.x, a.y);  // (batch, h + top + bottom, w + left + right, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        using Out = output_shape<In>;
        if (a.dx)  // (batch, h, w, c): the inside of dy
            ops::crop2d<B>(a.batch, dim_v<Out, 0>, dim_v<Out, 1>, dim_v<Out, 2>, padding.top, padding.bottom,
                           padding.left, padding.right, a.dy, a.dx);
    }
};

// Cropping2D<Crop = 0>: (h, w, c) -> (h - top - bottom, w - left - right, c); at least one
// pixel must be left.
template <auto Crop = 0>
class Cropping2D : public Layer<Cropping2D<Crop>> {
    static_assert(detail::is_edges_argument_v<std::remove_cvref_t<decltype(Crop)>> &&
                      !detail::is_negative_argument(Crop),
                  "latent: Cropping2D's cropping is a number, Size2<h, w> or Edges<top, bottom, left, right>, "
                  "none of them negative");

public:
    using Layer<Cropping2D<Crop>>::Layer;
    static constexpr std::string_view type_name = "Cropping2D";
    static constexpr std::string_view default_name = "cropping2d";
    static constexpr Edges2D cropping = detail::to_edges2d(Crop);

    using requirement = image_at_least<cropping.top + cropping.bottom + 1, cropping.left + cropping.right + 1>;
    template <class In>
    static constexpr bool accepts = In::rank == 3 && detail::image_dims<In>.h > cropping.top + cropping.bottom &&
                                    detail::image_dims<In>.w > cropping.left + cropping.right;
    template <class In>
    using output_shape = Shape<detail::left_after_cut(detail::image_dims<In>.h, cropping.top + cropping.bottom),
                               detail::left_after_cut(detail::image_dims<In>.w, cropping.left + cropping.right),
                               detail::image_dims<In>.channels>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        ops::crop2d<B>(a.batch, image.h, image.w, image.channels, cropping.top, cropping.bottom, cropping.left,
                       cropping.right, a.x, a.y);  // (batch, h - top - bottom, w - left - right, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        using Out = output_shape<In>;
        if (a.dx)  // (batch, h, w, c): dy where the crop kept pixels, zeros where it cut them
            ops::pad2d<B>(a.batch, dim_v<Out, 0>, dim_v<Out, 1>, dim_v<Out, 2>, cropping.top, cropping.bottom,
                          cropping.left, cropping.right, a.dy, a.dx);
    }
};

}  // namespace latent
