// MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D and GlobalMaxPooling2D over channels-last
// images (and the global poolings 1D over sequences), as Keras: pool and stride are a number or
// Size2<h, w>, the stride defaults to the pool, and padded positions are left out of the maximum
// and of the mean's count.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/spatial.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// The shape rules MaxPooling2D and AveragePooling2D share.
template <auto Pool, auto Stride, Padding P>
struct sliding_pool {
    static_assert(is_extent_argument_v<std::remove_cvref_t<decltype(Pool)>> &&
                      is_extent_argument_v<std::remove_cvref_t<decltype(Stride)>>,
                  "latent: a pooling layer's pool size and stride are a number or Size2<h, w>");
    static constexpr Extent2 pool = to_extent2(Pool);
    static constexpr Extent2 stride = to_extent2(Stride);
    static_assert(pool.h > 0 && pool.w > 0, "latent: a pooling layer's pool size must be positive");
    static_assert(stride.h > 0 && stride.w > 0, "latent: a pooling layer's stride must be positive");

    // Checked from the layers' constructors, so that the mistake is one error on clang too.
    static constexpr void check_padding() {
        static_assert(P != Padding::causal,
                      "latent: Padding::causal is Conv1D's alone, as in Keras: a pooling layer takes Padding::valid "
                      "or Padding::same");
    }

    // A valid pool must fit in the image; a same-padded one fits any image.
    using requirement = std::conditional_t<P == Padding::valid, image_at_least<pool.h, pool.w>, rank<3>>;
    template <class In>
    static constexpr Window2D window =
        make_window(image_dims<In>.h, image_dims<In>.w, image_dims<In>.channels, pool, stride, P);
    template <class In>
    static constexpr bool accepts = In::rank == 3 && window<In>.out_h > 0 && window<In>.out_w > 0;
    template <class In>
    using output_shape =
        Shape<zero_as_one(window<In>.out_h), zero_as_one(window<In>.out_w), window<In>.channels>;
};
}  // namespace detail

// MaxPooling2D<Pool = 2, Stride = Pool, Padding = valid>: the maximum of each window, per channel.
template <auto Pool = 2, auto Stride = Pool, Padding P = Padding::valid>
class MaxPooling2D : public Layer<MaxPooling2D<Pool, Stride, P>> {
    using rule = detail::sliding_pool<Pool, Stride, P>;

public:
    explicit MaxPooling2D(std::string name = {}) : Layer<MaxPooling2D>(std::move(name)) { rule::check_padding(); }
    static constexpr std::string_view type_name = "MaxPooling2D";
    static constexpr std::string_view default_name = "max_pooling2d";
    static constexpr Extent2 pool_size = rule::pool;
    static constexpr Extent2 strides = rule::stride;
    static constexpr Padding padding = P;

    using requirement = typename rule::requirement;
    template <class In>
    static constexpr Window2D window = rule::template window<In>;
    template <class In>
    static constexpr bool accepts = rule::template accepts<In>;
    template <class In>
    using output_shape = typename rule::template output_shape<In>;
    // Comparisons: each output is the best of its window.
    template <class In>
    static constexpr std::size_t flops_per_sample = output_shape<In>::size * (pool_size.h * pool_size.w - 1);

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::max_pool2d<B>(window<In>, a.batch, a.x, a.y);  // (batch, out_h, out_w, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::max_pool2d_backward<B>(window<In>, a.batch, a.x, a.y, a.dy, a.dx);  // (batch, h, w, c)
    }
};

template <auto Pool = 2, auto Stride = Pool, Padding P = Padding::valid>
using MaxPool2D = MaxPooling2D<Pool, Stride, P>;

// AveragePooling2D<Pool = 2, Stride = Pool, Padding = valid>: the mean of each window, per
// channel; with `same` padding a window at the edge averages only the pixels it covers.
template <auto Pool = 2, auto Stride = Pool, Padding P = Padding::valid>
class AveragePooling2D : public Layer<AveragePooling2D<Pool, Stride, P>> {
    using rule = detail::sliding_pool<Pool, Stride, P>;

public:
    explicit AveragePooling2D(std::string name = {}) : Layer<AveragePooling2D>(std::move(name)) {
        rule::check_padding();
    }
    static constexpr std::string_view type_name = "AveragePooling2D";
    static constexpr std::string_view default_name = "average_pooling2d";
    static constexpr Extent2 pool_size = rule::pool;
    static constexpr Extent2 strides = rule::stride;
    static constexpr Padding padding = P;

    using requirement = typename rule::requirement;
    template <class In>
    static constexpr Window2D window = rule::template window<In>;
    template <class In>
    static constexpr bool accepts = rule::template accepts<In>;
    template <class In>
    using output_shape = typename rule::template output_shape<In>;
    // The window's additions and one division per output.
    template <class In>
    static constexpr std::size_t flops_per_sample = output_shape<In>::size * pool_size.h * pool_size.w;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::average_pool2d<B>(window<In>, a.batch, a.x, a.y);  // (batch, out_h, out_w, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::average_pool2d_backward<B>(window<In>, a.batch, a.dy, a.dx);  // (batch, h, w, c)
    }
};

template <auto Pool = 2, auto Stride = Pool, Padding P = Padding::valid>
using AvgPool2D = AveragePooling2D<Pool, Stride, P>;

// GlobalAveragePooling2D: (h, w, c) -> (c), the mean of each channel over the whole image.
class GlobalAveragePooling2D : public Layer<GlobalAveragePooling2D> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "GlobalAveragePooling2D";
    static constexpr std::string_view default_name = "global_average_pooling2d";

    using requirement = rank<3>;
    // One valid window as large as the image, so the backend's average pool does the work.
    template <class In>
    static constexpr Window2D window = [] {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        constexpr Extent2 whole{image.h, image.w};
        return make_window(image.h, image.w, image.channels, whole, whole, Padding::valid);
    }();
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = Shape<detail::image_dims<In>.channels>;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::average_pool2d<B>(window<In>, a.batch, a.x, a.y);  // (batch, 1, 1, c) = (batch, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::average_pool2d_backward<B>(window<In>, a.batch, a.dy, a.dx);  // (batch, h, w, c)
    }
};

// GlobalAveragePooling1D: (steps, c) -> (c), the mean of each channel over the steps (an
// Embedding's vectors averaged over a sequence: a bag of embeddings).
class GlobalAveragePooling1D : public Layer<GlobalAveragePooling1D> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "GlobalAveragePooling1D";
    static constexpr std::string_view default_name = "global_average_pooling1d";

    using requirement = rank<2>;
    // The steps as a 1 x steps image, one valid window over all of it: the backend's average pool.
    template <class In>
    static constexpr Window2D window = [] {
        constexpr std::size_t steps = In::dims[0], channels = In::rank == 2 ? In::dims[1] : 1;
        constexpr Extent2 whole{1, steps};
        return make_window(1, steps, channels, whole, whole, Padding::valid);
    }();
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    template <class In>
    using output_shape = Shape<In::dims[In::rank - 1]>;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::average_pool2d<B>(window<In>, a.batch, a.x, a.y);  // (batch, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::average_pool2d_backward<B>(window<In>, a.batch, a.dy, a.dx);  // (batch, steps, c)
    }
};

// GlobalMaxPooling2D: (h, w, c) -> (c), the maximum of each channel over the whole image.
class GlobalMaxPooling2D : public Layer<GlobalMaxPooling2D> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "GlobalMaxPooling2D";
    static constexpr std::string_view default_name = "global_max_pooling2d";

    using requirement = rank<3>;
    template <class In>
    static constexpr Window2D window = GlobalAveragePooling2D::window<In>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = Shape<detail::image_dims<In>.channels>;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::max_pool2d<B>(window<In>, a.batch, a.x, a.y);  // (batch, 1, 1, c) = (batch, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::max_pool2d_backward<B>(window<In>, a.batch, a.x, a.y, a.dy, a.dx);  // (batch, h, w, c)
    }
};

// GlobalMaxPooling1D: (steps, c) -> (c), the maximum of each channel over the steps (a text
// CNN's features, whatever their position).
class GlobalMaxPooling1D : public Layer<GlobalMaxPooling1D> {
public:
    using Layer::Layer;
    static constexpr std::string_view type_name = "GlobalMaxPooling1D";
    static constexpr std::string_view default_name = "global_max_pooling1d";

    using requirement = rank<2>;
    template <class In>
    static constexpr Window2D window = GlobalAveragePooling1D::window<In>;
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    template <class In>
    using output_shape = Shape<In::dims[In::rank - 1]>;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::max_pool2d<B>(window<In>, a.batch, a.x, a.y);  // (batch, c)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::max_pool2d_backward<B>(window<In>, a.batch, a.x, a.y, a.dy, a.dx);  // (batch, steps, c)
    }
};

}  // namespace latent
