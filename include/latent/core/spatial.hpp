// The vocabulary of 2-D image layers: Padding, sizes given as one number or Size2<h, w>, and
// Window2D, the geometry of a sliding window over a (height, width, channels) image with
// Keras' output-size rules. Layers compute it at compile time; backends' kernels consume it.
#pragma once

#include <cstddef>
#include <type_traits>

#include "shape.hpp"

namespace latent {

// valid: no padding, every window inside the image. same: Keras' "same", an output of
// ceil(in / stride), padded evenly (an odd row or column at the end). causal: Keras' Conv1D
// "causal", the same length with all the padding before, so no output reads a later step.
enum class Padding { valid, same, causal };

// How UpSampling2D fills the pixels between its input's, and how the random image transforms
// read their input between pixels (Keras' `interpolation`).
enum class Interpolation { nearest, bilinear };

// Where a transformed image reads beyond its input's edges (Keras' `fill_mode`): reflect
// (d c b a | a b c d | d c b a), wrap (a b c d | a b c d | a b c d), constant (the fill value)
// or nearest (a a a a | a b c d | d d d d).
enum class FillMode { reflect, wrap, constant, nearest };

// How an image transform samples its input: the interpolation, the fill mode and, for
// FillMode::constant, the value outside the image.
struct ImageSampling {
    Interpolation interpolation = Interpolation::bilinear;
    FillMode fill_mode = FillMode::reflect;
    double fill_value = 0.0;
};

// Two extents (height, width). Written Size2<h, w> in template arguments, where a single
// number n means Size2<n, n>.
struct Extent2 {
    std::size_t h = 0, w = 0;
    friend constexpr bool operator==(const Extent2&, const Extent2&) = default;
};

template <std::size_t H, std::size_t W>
inline constexpr Extent2 Size2{H, W};

namespace detail {
template <class V>
inline constexpr bool is_extent_argument_v =
    std::is_integral_v<std::remove_cvref_t<V>> || std::is_same_v<std::remove_cvref_t<V>, Extent2>;

// Normalizes a template argument that is a number or a Size2 into an Extent2 (0 if negative,
// so the layer's static_assert reports it).
template <class V>
constexpr Extent2 to_extent2(V v) {
    if constexpr (std::is_same_v<V, Extent2>) {
        return v;
    } else {
        const std::size_t n = v < 0 ? 0 : static_cast<std::size_t>(v);
        return Extent2{n, n};
    }
}

// Keras' output length of a window sliding over `in` (conv_output_length); 0 when a valid
// window does not fit.
constexpr std::size_t window_output_length(std::size_t in, std::size_t kernel, std::size_t stride, Padding p) {
    if (stride == 0) return 0;
    if (p != Padding::valid) return (in + stride - 1) / stride;
    return in >= kernel ? (in - kernel) / stride + 1 : 0;
}

// TensorFlow's padding before the first element for `same` (the smaller half of the total);
// for `causal` all of a window but its last element, as Keras' Conv1D pads.
constexpr std::size_t window_padding_before(std::size_t in, std::size_t kernel, std::size_t stride, Padding p) {
    if (p == Padding::valid) return 0;
    if (p == Padding::causal) return kernel > 0 ? kernel - 1 : 0;
    const std::size_t out = window_output_length(in, kernel, stride, p);
    const std::size_t needed = out == 0 ? 0 : (out - 1) * stride + kernel;
    return needed > in ? (needed - in) / 2 : 0;
}

// How the image layers read a sample shape: (height, width, channels) when it has rank 3, and
// otherwise a 1 x 1 image whose channels are its last axis, a stand-in that keeps output shapes
// well-formed while the wiring mistake is reported once.
struct ImageDims {
    std::size_t h = 1, w = 1, channels = 1;
};
template <class In>
inline constexpr ImageDims image_dims = [] {
    if constexpr (In::rank == 3)
        return ImageDims{dim_v<In, 0>, dim_v<In, 1>, dim_v<In, 2>};
    else if constexpr (In::rank > 0)
        return ImageDims{1, 1, dim_v<In, In::rank - 1>};
    else
        return ImageDims{};
}();

// The rows (columns) a kernel of `taps` spans at this dilation, its gaps included: what a valid
// window needs, and what its output size and padding follow.
constexpr std::size_t dilated_span(std::size_t taps, std::size_t dilation) {
    return taps == 0 ? 0 : (taps - 1) * dilation + 1;
}

// A length that a mistake made zero, as 1, so that Shape<...> (which forbids 0) stays valid.
constexpr std::size_t zero_as_one(std::size_t n) { return n == 0 ? 1 : n; }

// A window of an image: `rows` x `columns` pixels from (top, left).
struct CropWindow {
    std::size_t rows, columns, top, left;
    friend constexpr bool operator==(const CropWindow&, const CropWindow&) = default;
};
// Keras' smart_resize window of an h x w image for a height x width target (Resizing's
// crop_to_aspect_ratio, RandomCrop in inference): the largest of the target's aspect ratio,
// centred, the odd row or column cut below and right. int(w * height / width) as Keras computes
// it in float is the integer quotient for any image size a model can hold.
constexpr CropWindow smart_resize_window(std::size_t h, std::size_t w, std::size_t height, std::size_t width) {
    if (height == 0 || width == 0) return {h, w, 0, 0};  // the layers' own static_asserts report it
    std::size_t rows = w * height / width, columns = h * width / height;
    rows = rows < h ? (rows > 0 ? rows : 1) : h;
    columns = columns < w ? (columns > 0 ? columns : 1) : w;
    return {rows, columns, (h - rows) / 2, (w - columns) / 2};
}

}  // namespace detail

// A kernel_h x kernel_w window sliding with stride over an in_h x in_w x channels image that
// is padded by pad_top / pad_left (and whatever the bottom / right need); out_h x out_w
// positions. Images are channels-last and a batch is contiguous: (batch, h, w, channels).
// A dilated window (Keras' dilation_rate) reads every dilation-th row and column: tap (ky, kx)
// of output (oy, ox) is image row oy * stride_h + ky * dilation_h - pad_top, and so on.
struct Window2D {
    std::size_t in_h = 0, in_w = 0, channels = 0;
    std::size_t kernel_h = 0, kernel_w = 0;
    std::size_t stride_h = 1, stride_w = 1;
    std::size_t pad_top = 0, pad_left = 0;
    std::size_t out_h = 0, out_w = 0;
    std::size_t dilation_h = 1, dilation_w = 1;

    // The rows (columns) one window spans, its gaps included.
    constexpr std::size_t span_h() const { return detail::dilated_span(kernel_h, dilation_h); }
    constexpr std::size_t span_w() const { return detail::dilated_span(kernel_w, dilation_w); }
    constexpr bool dilated() const { return dilation_h != 1 || dilation_w != 1; }
    constexpr std::size_t in_size() const { return in_h * in_w * channels; }
    constexpr std::size_t positions() const { return out_h * out_w; }
    constexpr std::size_t patch_size() const { return kernel_h * kernel_w * channels; }
    friend constexpr bool operator==(const Window2D&, const Window2D&) = default;
};

// The window of a Keras layer with this kernel, stride, padding and dilation over an (h, w, c)
// input; the output sizes and padding are those of the kernel's dilated span, as Keras'.
constexpr Window2D make_window(std::size_t in_h, std::size_t in_w, std::size_t channels, Extent2 kernel,
                               Extent2 stride, Padding padding, Extent2 dilation = Extent2{1, 1}) {
    Window2D g;
    g.in_h = in_h;
    g.in_w = in_w;
    g.channels = channels;
    g.kernel_h = kernel.h;
    g.kernel_w = kernel.w;
    g.stride_h = stride.h;
    g.stride_w = stride.w;
    g.dilation_h = dilation.h;
    g.dilation_w = dilation.w;
    g.out_h = detail::window_output_length(in_h, g.span_h(), stride.h, padding);
    g.out_w = detail::window_output_length(in_w, g.span_w(), stride.w, padding);
    g.pad_top = detail::window_padding_before(in_h, g.span_h(), stride.h, padding);
    g.pad_left = detail::window_padding_before(in_w, g.span_w(), stride.w, padding);
    return g;
}

// Whether padding both sides by pad_top (pad_left) gives this window's output extent: then a
// library that pads symmetrically (cuDNN) computes it. Where Keras pads one more row at the
// bottom (right), no window reaches that row, and the rows the symmetric padding adds are zeros
// either way.
constexpr bool symmetric_padding_suffices(const Window2D& g) {
    const auto same_extent = [](std::size_t in, std::size_t kernel, std::size_t stride, std::size_t pad,
                                std::size_t out) {
        return kernel > 0 && stride > 0 && in + 2 * pad >= kernel && (in + 2 * pad - kernel) / stride + 1 == out;
    };
    return g.channels > 0 && same_extent(g.in_h, g.span_h(), g.stride_h, g.pad_top, g.out_h) &&
           same_extent(g.in_w, g.span_w(), g.stride_w, g.pad_left, g.out_w);
}

}  // namespace latent
