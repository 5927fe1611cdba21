// The 1-D (temporal) forms of the image layers, as Keras': Conv1D, Conv1DTranspose, MaxPooling1D,
// AveragePooling1D, UpSampling1D, ZeroPadding1D and Cropping1D over sequences (steps, channels).
// Each runs its 2-D form on the sequence as an image one pixel high, (1, steps, channels): the
// same kernels on every backend.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "../core/spatial.hpp"
#include "conv.hpp"
#include "layer.hpp"
#include "padding.hpp"
#include "pool.hpp"
#include "upsample.hpp"

namespace latent {

namespace detail {
// A sequence (steps, channels) as an image one pixel high; a (1, 1, 1) stand-in for any other
// shape, so that a wrong input gives one error.
template <class S>
struct row_image {
    using type = Shape<1, 1, 1>;
};
template <std::size_t Steps, std::size_t Channels>
struct row_image<Shape<Steps, Channels>> {
    using type = Shape<1, Steps, Channels>;
};
template <class S>
struct without_row {
    using type = Shape<1, 1>;
};
template <std::size_t W, std::size_t C>
struct without_row<Shape<1, W, C>> {
    using type = Shape<W, C>;
};

// Image layer L's parameters over row image In, with a kernel's leading height of 1 dropped:
// Keras' Conv1D kernel is (k, in, filters) where Conv2D's is (kh, kw, in, filters); the fans, and
// so the initialization, are the same.
template <class L, class In>
constexpr auto params_along_row() {
    auto specs = L::template params<In>;
    for (auto& s : specs)
        if (s.rank == 4 && s.dims[0] == 1) {
            s.dims = {s.dims[1], s.dims[2], s.dims[3], 0};
            s.rank = 3;
        }
    return specs;
}

// Derived, a 1-D layer, as image layer Image run over the sequence as a row image.
template <class Derived, class Image>
class along_steps : public Layer<Derived> {
public:
    using Layer<Derived>::Layer;

    template <class In>
    using image = typename row_image<In>::type;
    template <class In>
    static constexpr bool accepts = In::rank == 2 && Image::template accepts<image<In>>;
    template <class In>
    using output_shape = typename without_row<typename Image::template output_shape<image<In>>>::type;
    template <class In>
    static constexpr auto params = params_along_row<Image, image<In>>();
    template <class In>
    static constexpr std::size_t flops_per_sample = Image::template flops_per_sample<image<In>>;
    template <class In>
    static constexpr std::size_t workspace_per_sample = Image::template workspace_per_sample<image<In>>;
    template <class In, class B>
    static constexpr std::size_t workspace_per_sample_on = workspace_per_sample_on_v<Image, image<In>, B>;
    template <class In>
    static constexpr std::size_t workspace_fixed = Image::template workspace_fixed<image<In>>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        image_.template forward<image<In>, B, T>(a);
    }
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        image_.template backward<image<In>, B, T>(a);
    }

private:
    Image image_{};
};
}  // namespace detail

namespace detail {
// The dilation a 1-D convolution gives its row-image layer: 1 where the 1-D layer itself refuses
// the dilation (zero, or beside a stride), so that mistake is reported once, naming it.
constexpr std::size_t row_dilation(std::size_t stride, std::size_t dilation) {
    return dilation == 0 || stride > 1 ? 1 : dilation;
}
// Conv1D's row-image convolution.
template <std::size_t Filters, std::size_t Kernel, Padding P, std::size_t Stride, std::size_t Dilation>
using conv1d_image =
    Conv2D<Filters, Size2<1, Kernel>, P, Size2<1, Stride>, Size2<1, row_dilation(Stride, Dilation)>>;
}  // namespace detail

// Conv1D<Filters, Kernel, Padding = valid, Stride = 1, Dilation = 1>: (steps, in) -> (steps',
// Filters) with Keras' output lengths; kernel (Kernel, in, Filters), bias (Filters). Dilation is
// Keras' dilation_rate: the kernel's taps that many steps apart. Padding::causal (Keras'
// "causal") pads only before the first step, so output t reads steps t and earlier: stacked with
// growing dilations, the causal convolutions of WaveNet and temporal convolutional networks.
template <std::size_t Filters, std::size_t Kernel, Padding P = Padding::valid, std::size_t Stride = 1,
          std::size_t Dilation = 1>
class Conv1D : public detail::along_steps<Conv1D<Filters, Kernel, P, Stride, Dilation>,
                                          detail::conv1d_image<Filters, Kernel, P, Stride, Dilation>> {
    static_assert(Filters > 0 && Kernel > 0 && Stride > 0 && Dilation > 0,
                  "latent: Conv1D needs at least one filter, and a positive kernel size, stride and dilation");
    using Base = detail::along_steps<Conv1D, detail::conv1d_image<Filters, Kernel, P, Stride, Dilation>>;

public:
    explicit Conv1D(std::string name = {}) : Base(std::move(name)) {
        static_assert(Stride == 1 || Dilation <= 1,
                      "latent: Conv1D cannot both stride and dilate (as in Keras): give a stride of 1 or a dilation "
                      "of 1");
    }
    static constexpr std::string_view type_name = "Conv1D";
    static constexpr std::string_view default_name = "conv1d";
    static constexpr std::size_t filters = Filters;
    static constexpr std::size_t kernel_size = Kernel;
    static constexpr std::size_t stride = Stride;
    static constexpr std::size_t dilation = Dilation;
    static constexpr Padding padding = P;
    using requirement =
        std::conditional_t<P == Padding::valid, sequence_at_least<detail::dilated_span(Kernel, Dilation)>, rank<2>>;
};

namespace detail {
// Conv1DTranspose's row-image layer.
template <std::size_t Filters, std::size_t Kernel, Padding P, std::size_t Stride, std::size_t Dilation>
using conv1d_transpose_image =
    Conv2DTranspose<Filters, Size2<1, Kernel>, P, Size2<1, Stride>, Size2<1, row_dilation(Stride, Dilation)>>;
}  // namespace detail

// Conv1DTranspose<Filters, Kernel, Padding = valid, Stride = 1, Dilation = 1>: the adjoint of a
// Conv1D (learned upsampling of a sequence); kernel (Kernel, Filters, in), as Keras stores it.
template <std::size_t Filters, std::size_t Kernel, Padding P = Padding::valid, std::size_t Stride = 1,
          std::size_t Dilation = 1>
class Conv1DTranspose
    : public detail::along_steps<Conv1DTranspose<Filters, Kernel, P, Stride, Dilation>,
                                 detail::conv1d_transpose_image<Filters, Kernel, P, Stride, Dilation>> {
    static_assert(Filters > 0 && Kernel > 0 && Stride > 0 && Dilation > 0,
                  "latent: Conv1DTranspose needs at least one filter, and a positive kernel size, stride and "
                  "dilation");
    using Base =
        detail::along_steps<Conv1DTranspose, detail::conv1d_transpose_image<Filters, Kernel, P, Stride, Dilation>>;

public:
    explicit Conv1DTranspose(std::string name = {}) : Base(std::move(name)) {
        static_assert(Stride == 1 || Dilation <= 1,
                      "latent: Conv1DTranspose cannot both stride and dilate: give a stride of 1 or a dilation of 1");
    }
    static constexpr std::string_view type_name = "Conv1DTranspose";
    static constexpr std::string_view default_name = "conv1d_transpose";
    static constexpr std::size_t filters = Filters;
    static constexpr std::size_t kernel_size = Kernel;
    static constexpr std::size_t stride = Stride;
    static constexpr std::size_t dilation = Dilation;
    static constexpr Padding padding = P;
    using requirement = rank<2>;
};

// MaxPooling1D<Pool = 2, Stride = Pool, Padding = valid>: the maximum of each window of steps,
// per channel.
template <std::size_t Pool = 2, std::size_t Stride = Pool, Padding P = Padding::valid>
class MaxPooling1D : public detail::along_steps<MaxPooling1D<Pool, Stride, P>,
                                                MaxPooling2D<Size2<1, Pool>, Size2<1, Stride>, P>> {
    static_assert(Pool > 0 && Stride > 0, "latent: MaxPooling1D's pool size and stride must be positive");

public:
    using detail::along_steps<MaxPooling1D, MaxPooling2D<Size2<1, Pool>, Size2<1, Stride>, P>>::along_steps;
    static constexpr std::string_view type_name = "MaxPooling1D";
    static constexpr std::string_view default_name = "max_pooling1d";
    static constexpr std::size_t pool_size = Pool;
    static constexpr std::size_t strides = Stride;
    static constexpr Padding padding = P;
    using requirement = std::conditional_t<P == Padding::valid, sequence_at_least<Pool>, rank<2>>;
};
template <std::size_t Pool = 2, std::size_t Stride = Pool, Padding P = Padding::valid>
using MaxPool1D = MaxPooling1D<Pool, Stride, P>;

// AveragePooling1D<Pool = 2, Stride = Pool, Padding = valid>: the mean of each window of steps,
// per channel; with `same` padding a window at the edge averages only the steps it covers.
template <std::size_t Pool = 2, std::size_t Stride = Pool, Padding P = Padding::valid>
class AveragePooling1D : public detail::along_steps<AveragePooling1D<Pool, Stride, P>,
                                                    AveragePooling2D<Size2<1, Pool>, Size2<1, Stride>, P>> {
    static_assert(Pool > 0 && Stride > 0, "latent: AveragePooling1D's pool size and stride must be positive");

public:
    using detail::along_steps<AveragePooling1D, AveragePooling2D<Size2<1, Pool>, Size2<1, Stride>, P>>::along_steps;
    static constexpr std::string_view type_name = "AveragePooling1D";
    static constexpr std::string_view default_name = "average_pooling1d";
    static constexpr std::size_t pool_size = Pool;
    static constexpr std::size_t strides = Stride;
    static constexpr Padding padding = P;
    using requirement = std::conditional_t<P == Padding::valid, sequence_at_least<Pool>, rank<2>>;
};
template <std::size_t Pool = 2, std::size_t Stride = Pool, Padding P = Padding::valid>
using AvgPool1D = AveragePooling1D<Pool, Stride, P>;

// UpSampling1D<Size = 2>: each step repeated Size times, (steps, c) -> (steps * Size, c).
template <std::size_t Size = 2>
class UpSampling1D : public detail::along_steps<UpSampling1D<Size>, UpSampling2D<Size2<1, Size>>> {
    static_assert(Size > 0, "latent: UpSampling1D's size must be positive");

public:
    using detail::along_steps<UpSampling1D, UpSampling2D<Size2<1, Size>>>::along_steps;
    static constexpr std::string_view type_name = "UpSampling1D";
    static constexpr std::string_view default_name = "up_sampling1d";
    static constexpr std::size_t size = Size;
    using requirement = rank<2>;
};

// ZeroPadding1D<Start = 1, End = Start>: zero steps before and after a sequence, (steps, c) ->
// (Start + steps + End, c), as Keras' ZeroPadding1D(padding=(start, end)).
template <std::size_t Start = 1, std::size_t End = Start>
class ZeroPadding1D : public detail::along_steps<ZeroPadding1D<Start, End>, ZeroPadding2D<Edges<0, 0, Start, End>>> {
public:
    using detail::along_steps<ZeroPadding1D, ZeroPadding2D<Edges<0, 0, Start, End>>>::along_steps;
    static constexpr std::string_view type_name = "ZeroPadding1D";
    static constexpr std::string_view default_name = "zero_padding1d";
    static constexpr std::size_t start = Start, end = End;
    using requirement = rank<2>;
};

// Cropping1D<Start = 1, End = Start>: steps cut off the start and end of a sequence, (steps, c)
// -> (steps - Start - End, c), as Keras' Cropping1D(cropping=(start, end)); at least one step
// must be left.
template <std::size_t Start = 1, std::size_t End = Start>
class Cropping1D : public detail::along_steps<Cropping1D<Start, End>, Cropping2D<Edges<0, 0, Start, End>>> {
public:
    using detail::along_steps<Cropping1D, Cropping2D<Edges<0, 0, Start, End>>>::along_steps;
    static constexpr std::string_view type_name = "Cropping1D";
    static constexpr std::string_view default_name = "cropping1d";
    static constexpr std::size_t start = Start, end = End;
    using requirement = sequence_at_least<Start + End + 1>;
};

}  // namespace latent
