// Conv2D, Conv2DTranspose, DepthwiseConv2D and SeparableConv2D over channels-last images, as
// Keras' (Glorot-uniform kernels, zero bias, `valid`/`same` padding with Keras' output sizes).
// The heavy work is the backend's convolution or GEMM (an im2col/col2im pass plus one GEMM where
// it has no convolution kernel); a depthwise convolution is its own op.
#pragma once

#include <string>
#include <utility>

#include "../core/spatial.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// The window of a layer over image In (a 1x1 stand-in when In is not an image).
template <class In>
constexpr Window2D window_over(Extent2 kernel, Extent2 stride, Padding padding, Extent2 dilation = Extent2{1, 1}) {
    return make_window(image_dims<In>.h, image_dims<In>.w, image_dims<In>.channels, kernel, stride, padding, dilation);
}
// Keras refuses a dilated window that also strides (its base convolution's check).
constexpr bool strides_or_dilates(Extent2 strides, Extent2 dilation) {
    return (strides.h == 1 && strides.w == 1) || (dilation.h == 1 && dilation.w == 1);
}
// The padding a layer that refuses Padding::causal computes with after reporting it, so that the
// mistake stays one error.
constexpr Padding valid_if_causal(Padding p) { return p == Padding::causal ? Padding::valid : p; }
}  // namespace detail

// Conv2D<Filters, Kernel, Padding = valid, Stride = 1, Dilation = 1>: Kernel, Stride and Dilation
// (Keras' dilation_rate: the kernel's taps that many rows and columns apart) are a number or
// Size2<h, w>. Kernel of shape (kh, kw, in_channels, filters), as Keras stores it.
template <std::size_t Filters, auto Kernel, Padding P = Padding::valid, auto Stride = 1, auto Dilation = 1>
class Conv2D : public Layer<Conv2D<Filters, Kernel, P, Stride, Dilation>> {
    static_assert(detail::is_extent_argument_v<decltype(Kernel)> && detail::is_extent_argument_v<decltype(Stride)> &&
                      detail::is_extent_argument_v<decltype(Dilation)>,
                  "latent: Conv2D's kernel size, stride and dilation are a number or Size2<h, w>");
    static constexpr Extent2 kernel_size = detail::to_extent2(Kernel);
    static constexpr Extent2 strides = detail::to_extent2(Stride);
    static constexpr Extent2 dilation_rate = detail::to_extent2(Dilation);
    static_assert(Filters > 0, "latent: Conv2D needs at least one filter");
    static_assert(kernel_size.h > 0 && kernel_size.w > 0, "latent: Conv2D's kernel size must be positive");
    static_assert(strides.h > 0 && strides.w > 0, "latent: Conv2D's stride must be positive");
    static_assert(dilation_rate.h > 0 && dilation_rate.w > 0, "latent: Conv2D's dilation must be positive");

public:
    // The settings' rules are checked here rather than in the class, so that clang, which gives up
    // on a class whose own static_assert fails, reports only the rule.
    explicit Conv2D(std::string name = {}) : Layer<Conv2D>(std::move(name)) {
        static_assert(detail::strides_or_dilates(strides, dilation_rate),
                      "latent: Conv2D cannot both stride and dilate (as in Keras): give a stride of 1 or a dilation "
                      "of 1");
        static_assert(P != Padding::causal || kernel_size.h == 1,
                      "latent: Padding::causal is Conv1D's, as in Keras: a Conv2D takes it only with a kernel one "
                      "row high (the form Conv1D runs on); use Padding::valid or Padding::same");
    }
    static constexpr std::string_view type_name = "Conv2D";
    static constexpr std::string_view default_name = "conv2d";
    static constexpr std::size_t filters = Filters;
    static constexpr Extent2 kernel = kernel_size;
    static constexpr Extent2 stride = strides;
    static constexpr Extent2 dilation = dilation_rate;
    static constexpr Padding padding = P;

    // Valid padding needs the image to hold the kernel's (dilated) span; same padding fits any image.
    using requirement = std::conditional_t<P == Padding::valid,
                                           image_at_least<detail::dilated_span(kernel_size.h, dilation_rate.h),
                                                          detail::dilated_span(kernel_size.w, dilation_rate.w)>,
                                           rank<3>>;
    template <class In>
    static constexpr Window2D window = detail::window_over<In>(kernel_size, strides, P, dilation_rate);
    template <class In>
    static constexpr bool accepts = In::rank == 3 && window<In>.out_h > 0 && window<In>.out_w > 0;
    template <class In>
    using output_shape =
        Shape<detail::zero_as_one(window<In>.out_h), detail::zero_as_one(window<In>.out_w), Filters>;

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{
        ParamSpec{"kernel", {kernel_size.h, kernel_size.w, detail::image_dims<In>.channels, Filters}, 4, Init::glorot_uniform,
                  true},
        ParamSpec{"bias", {Filters}, 1, Init::zeros, true}};
    // The im2col patches, kept for the kernel gradient (backward reuses the space for the
    // patch gradients); none on a backend that convolves the images themselves.
    template <class In>
    static constexpr std::size_t workspace_per_sample = window<In>.positions() * window<In>.patch_size();
    template <class In, class B>
    static constexpr std::size_t workspace_per_sample_on =
        ops::conv2d_needs_no_patches<B, float>(window<In>, Filters) ? 0 : workspace_per_sample<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample = window<In>.positions() * Filters * (2 * window<In>.patch_size() + 1);

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        const std::size_t rows = a.batch * g.positions();
        ops::conv2d<B>(g, a.batch, a.x, a.params, Filters, a.y, a.workspace);  // (rows, filters)
        ops::bias_add<B>(rows, Filters, a.params + g.patch_size() * Filters, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        const std::size_t rows = a.batch * g.positions();
        T* cols = a.workspace;
        if (a.dparams) {
            ops::conv2d_kernel_gradient<B>(g, a.batch, a.x, a.dy, Filters, a.dparams, cols);  // (patch, filters)
            ops::column_sum<B>(rows, Filters, a.dy, a.dparams + g.patch_size() * Filters, true);
        }
        // The patches are no longer needed: their gradients may take their place.
        if (a.dx) ops::conv2d_input_gradient<B>(g, a.batch, a.dy, a.params, Filters, a.dx, cols);
    }
};

// Conv2DTranspose<Filters, Kernel, Padding = valid, Stride = 1, Dilation = 1>: the adjoint of a
// Conv2D (learned upsampling). Output size as Keras, from the kernel's dilated span k': valid
// h*s + max(k' - s, 0), same h*s. Kernel of shape (kh, kw, filters, in_channels), as Keras stores it.
template <std::size_t Filters, auto Kernel, Padding P = Padding::valid, auto Stride = 1, auto Dilation = 1>
class Conv2DTranspose : public Layer<Conv2DTranspose<Filters, Kernel, P, Stride, Dilation>> {
    static_assert(detail::is_extent_argument_v<decltype(Kernel)> && detail::is_extent_argument_v<decltype(Stride)> &&
                      detail::is_extent_argument_v<decltype(Dilation)>,
                  "latent: Conv2DTranspose's kernel size, stride and dilation are a number or Size2<h, w>");
    static constexpr Extent2 kernel_size = detail::to_extent2(Kernel);
    static constexpr Extent2 strides = detail::to_extent2(Stride);
    static constexpr Extent2 dilation_rate = detail::to_extent2(Dilation);
    static_assert(Filters > 0, "latent: Conv2DTranspose needs at least one filter");
    static_assert(kernel_size.h > 0 && kernel_size.w > 0, "latent: Conv2DTranspose's kernel size must be positive");
    static_assert(strides.h > 0 && strides.w > 0, "latent: Conv2DTranspose's stride must be positive");
    static_assert(dilation_rate.h > 0 && dilation_rate.w > 0, "latent: Conv2DTranspose's dilation must be positive");
    static constexpr Padding padding_used = detail::valid_if_causal(P);

    static constexpr std::size_t output_length(std::size_t in, std::size_t k, std::size_t s, std::size_t d) {
        const std::size_t span = detail::dilated_span(k, d);
        return padding_used == Padding::same ? in * s : in * s + (span > s ? span - s : 0);
    }

public:
    explicit Conv2DTranspose(std::string name = {}) : Layer<Conv2DTranspose>(std::move(name)) {
        static_assert(P != Padding::causal,
                      "latent: Padding::causal is Conv1D's alone, as in Keras: a transposed convolution takes "
                      "Padding::valid or Padding::same");
        static_assert(detail::strides_or_dilates(strides, dilation_rate),
                      "latent: Conv2DTranspose cannot both stride and dilate: give a stride of 1 or a dilation of 1");
    }
    static constexpr std::string_view type_name = "Conv2DTranspose";
    static constexpr std::string_view default_name = "conv2d_transpose";
    static constexpr std::size_t filters = Filters;
    static constexpr Extent2 kernel = kernel_size;
    static constexpr Extent2 stride = strides;
    static constexpr Extent2 dilation = dilation_rate;
    static constexpr Padding padding = P;

    using requirement = rank<3>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = Shape<output_length(detail::image_dims<In>.h, kernel_size.h, strides.h, dilation_rate.h),
                               output_length(detail::image_dims<In>.w, kernel_size.w, strides.w, dilation_rate.w),
                               Filters>;
    // The convolution this layer is the transpose of runs over the output image and has the
    // input's extent as its positions.
    template <class In>
    static constexpr Window2D window = make_window(dim_v<output_shape<In>, 0>, dim_v<output_shape<In>, 1>, Filters,
                                                   kernel_size, strides, padding_used, dilation_rate);

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{
        ParamSpec{"kernel", {kernel_size.h, kernel_size.w, Filters, detail::image_dims<In>.channels}, 4, Init::glorot_uniform,
                  true},
        ParamSpec{"bias", {Filters}, 1, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t workspace_per_sample = window<In>.positions() * window<In>.patch_size();
    template <class In, class B>
    static constexpr std::size_t workspace_per_sample_on =
        ops::conv2d_needs_no_patches<B, float>(window<In>, detail::image_dims<In>.channels) ? 0
                                                                                            : workspace_per_sample<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample =
        2 * window<In>.positions() * window<In>.patch_size() * detail::image_dims<In>.channels + output_shape<In>::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        constexpr std::size_t channels = detail::image_dims<In>.channels;
        static_assert(g.positions() == detail::image_dims<In>.h * detail::image_dims<In>.w);
        // y = col2im(x W^T): the input gradient of the convolution this layer transposes.
        ops::conv2d_input_gradient<B>(g, a.batch, a.x, a.params, channels, a.y, a.workspace);
        ops::bias_add<B>(a.batch * output_shape<In>::size / Filters, Filters, a.params + g.patch_size() * channels, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        constexpr std::size_t channels = detail::image_dims<In>.channels;
        T* dcols = a.workspace;  // the patches of dy under each input position, unless implicit
        // dx (rows, channels) = patches(dy) W: the convolution this layer transposes.
        if (a.dx)
            ops::conv2d<B>(g, a.batch, a.dy, a.params, channels, a.dx, dcols);
        else if (a.dparams && !ops::conv2d_is_implicit<B, T>(g, channels))
            ops::im2col<B>(g, a.batch, a.dy, dcols);
        if (a.dparams) {
            // (patch, channels) += patches(dy)^T x
            ops::conv2d_kernel_gradient<B>(g, a.batch, a.dy, a.x, channels, a.dparams, dcols);
            ops::column_sum<B>(a.batch * output_shape<In>::size / Filters, Filters, a.dy,
                               a.dparams + g.patch_size() * channels, true);
        }
    }
};

// DepthwiseConv2D<Kernel, Padding = valid, Stride = 1, DepthMultiplier = 1, Dilation = 1>: each
// input channel convolved with its own DepthMultiplier filters, (h, w, c) -> (h', w', c *
// DepthMultiplier), output channel c * DepthMultiplier + k from input channel c, as Keras'
// DepthwiseConv2D (the first half of a separable convolution, MobileNet's building block).
// Kernel of shape (kh, kw, c, DepthMultiplier), Glorot-uniform as Keras' (fans from that
// shape); bias zeros. Dilation as Conv2D's.
template <auto Kernel, Padding P = Padding::valid, auto Stride = 1, std::size_t DepthMultiplier = 1,
          auto Dilation = 1>
class DepthwiseConv2D : public Layer<DepthwiseConv2D<Kernel, P, Stride, DepthMultiplier, Dilation>> {
    static_assert(detail::is_extent_argument_v<decltype(Kernel)> && detail::is_extent_argument_v<decltype(Stride)> &&
                      detail::is_extent_argument_v<decltype(Dilation)>,
                  "latent: DepthwiseConv2D's kernel size, stride and dilation are a number or Size2<h, w>");
    static constexpr Extent2 kernel_size = detail::to_extent2(Kernel);
    static constexpr Extent2 strides = detail::to_extent2(Stride);
    static constexpr Extent2 dilation_rate = detail::to_extent2(Dilation);
    static_assert(kernel_size.h > 0 && kernel_size.w > 0, "latent: DepthwiseConv2D's kernel size must be positive");
    static_assert(strides.h > 0 && strides.w > 0, "latent: DepthwiseConv2D's stride must be positive");
    static_assert(DepthMultiplier > 0, "latent: DepthwiseConv2D's depth multiplier must be positive");
    static_assert(dilation_rate.h > 0 && dilation_rate.w > 0, "latent: DepthwiseConv2D's dilation must be positive");

public:
    explicit DepthwiseConv2D(std::string name = {}) : Layer<DepthwiseConv2D>(std::move(name)) {
        static_assert(detail::strides_or_dilates(strides, dilation_rate),
                      "latent: DepthwiseConv2D cannot both stride and dilate (as in Keras): give a stride of 1 or a "
                      "dilation of 1");
        static_assert(P != Padding::causal,
                      "latent: Padding::causal is Conv1D's alone, as in Keras: a depthwise or separable "
                      "convolution takes Padding::valid or Padding::same");
    }
    static constexpr std::string_view type_name = "DepthwiseConv2D";
    static constexpr std::string_view default_name = "depthwise_conv2d";
    static constexpr Extent2 kernel = kernel_size;
    static constexpr Extent2 stride = strides;
    static constexpr Extent2 dilation = dilation_rate;
    static constexpr Padding padding = P;
    static constexpr std::size_t depth_multiplier = DepthMultiplier;

    using requirement = std::conditional_t<P == Padding::valid,
                                           image_at_least<detail::dilated_span(kernel_size.h, dilation_rate.h),
                                                          detail::dilated_span(kernel_size.w, dilation_rate.w)>,
                                           rank<3>>;
    template <class In>
    static constexpr Window2D window = detail::window_over<In>(kernel_size, strides, P, dilation_rate);
    template <class In>
    static constexpr bool accepts = In::rank == 3 && window<In>.out_h > 0 && window<In>.out_w > 0;
    template <class In>
    static constexpr std::size_t out_channels = detail::image_dims<In>.channels * DepthMultiplier;
    template <class In>
    using output_shape =
        Shape<detail::zero_as_one(window<In>.out_h), detail::zero_as_one(window<In>.out_w), out_channels<In>>;

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{
        ParamSpec{"kernel", {kernel_size.h, kernel_size.w, detail::image_dims<In>.channels, DepthMultiplier}, 4,
                  Init::glorot_uniform, true},
        ParamSpec{"bias", {out_channels<In>}, 1, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample =
        window<In>.positions() * out_channels<In> * (2 * kernel_size.h * kernel_size.w + 1);

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        constexpr std::size_t kernel_elements = kernel_size.h * kernel_size.w * out_channels<In>;
        ops::depthwise_conv2d<B>(g, a.batch, DepthMultiplier, a.x, a.params, a.y);
        ops::bias_add<B>(a.batch * g.positions(), out_channels<In>, a.params + kernel_elements, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        constexpr std::size_t kernel_elements = kernel_size.h * kernel_size.w * out_channels<In>;
        if (a.dparams) {
            ops::depthwise_conv2d_kernel_gradient<B>(g, a.batch, DepthMultiplier, a.x, a.dy, a.dparams);
            ops::column_sum<B>(a.batch * g.positions(), out_channels<In>, a.dy, a.dparams + kernel_elements, true);
        }
        if (a.dx) ops::depthwise_conv2d_input_gradient<B>(g, a.batch, DepthMultiplier, a.dy, a.params, a.dx);
    }
};

// SeparableConv2D<Filters, Kernel, Padding = valid, Stride = 1, DepthMultiplier = 1, Dilation = 1>:
// a DepthwiseConv2D (no bias) then a 1x1 convolution to Filters channels, and the bias, as Keras'
// SeparableConv2D: far fewer weights than a Conv2D of the same kernel. Weights as Keras names and
// shapes them: depthwise_kernel (kh, kw, in, multiplier), pointwise_kernel (1, 1, in *
// multiplier, Filters), both Glorot-uniform, bias (Filters) zeros. Dilation as Conv2D's.
template <std::size_t Filters, auto Kernel, Padding P = Padding::valid, auto Stride = 1,
          std::size_t DepthMultiplier = 1, auto Dilation = 1>
class SeparableConv2D : public Layer<SeparableConv2D<Filters, Kernel, P, Stride, DepthMultiplier, Dilation>> {
    using Depthwise = DepthwiseConv2D<Kernel, P, Stride, DepthMultiplier, Dilation>;
    static_assert(Filters > 0, "latent: SeparableConv2D needs at least one filter");

public:
    using Layer<SeparableConv2D<Filters, Kernel, P, Stride, DepthMultiplier, Dilation>>::Layer;
    static constexpr std::string_view type_name = "SeparableConv2D";
    static constexpr std::string_view default_name = "separable_conv2d";
    static constexpr std::size_t filters = Filters;
    static constexpr Extent2 kernel = Depthwise::kernel;
    static constexpr Extent2 stride = Depthwise::stride;
    static constexpr Extent2 dilation = Depthwise::dilation;
    static constexpr Padding padding = P;
    static constexpr std::size_t depth_multiplier = DepthMultiplier;
    static constexpr auto kernel_argument = Kernel;  // as given: a number or Size2<h, w>
    static constexpr auto stride_argument = Stride;
    static constexpr auto dilation_argument = Dilation;

    using requirement = typename Depthwise::requirement;
    template <class In>
    static constexpr Window2D window = Depthwise::template window<In>;
    template <class In>
    static constexpr bool accepts = Depthwise::template accepts<In>;
    template <class In>
    static constexpr std::size_t middle = Depthwise::template out_channels<In>;  // in * multiplier
    template <class In>
    using output_shape =
        Shape<detail::zero_as_one(window<In>.out_h), detail::zero_as_one(window<In>.out_w), Filters>;

    template <class In>
    static constexpr std::array<ParamSpec, 3> params{
        ParamSpec{"depthwise_kernel", {kernel.h, kernel.w, detail::image_dims<In>.channels, DepthMultiplier}, 4,
                  Init::glorot_uniform, true},
        ParamSpec{"pointwise_kernel", {1, 1, middle<In>, Filters}, 4, Init::glorot_uniform, true},
        ParamSpec{"bias", {Filters}, 1, Init::zeros, true}};
    // The depthwise output (kept for the pointwise kernel's gradient), then room for its gradient.
    template <class In>
    static constexpr std::size_t workspace_per_sample = 2 * window<In>.positions() * middle<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample =
        window<In>.positions() * (middle<In> * 2 * kernel.h * kernel.w + Filters * (2 * middle<In> + 1));

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        constexpr std::size_t mid = middle<In>, depthwise_size = kernel.h * kernel.w * mid;
        const std::size_t rows = a.batch * g.positions();
        const T* pointwise = a.params + depthwise_size;  // (mid, Filters)
        T* between = a.workspace;                        // (rows, mid)
        ops::depthwise_conv2d<B>(g, a.batch, DepthMultiplier, a.x, a.params, between);
        ops::gemm<B>(false, false, rows, Filters, mid, T(1), between, mid, pointwise, Filters, T(0), a.y, Filters);
        ops::bias_add<B>(rows, Filters, pointwise + mid * Filters, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr Window2D g = window<In>;
        constexpr std::size_t mid = middle<In>, depthwise_size = kernel.h * kernel.w * mid;
        const std::size_t rows = a.batch * g.positions();
        const T* pointwise = a.params + depthwise_size;
        const T* between = a.workspace;
        T* d_between = a.workspace + rows * mid;
        ops::gemm<B>(false, true, rows, mid, Filters, T(1), a.dy, Filters, pointwise, Filters, T(0), d_between, mid);
        if (a.dparams) {
            ops::depthwise_conv2d_kernel_gradient<B>(g, a.batch, DepthMultiplier, a.x, d_between, a.dparams);
            ops::gemm<B>(true, false, mid, Filters, rows, T(1), between, mid, a.dy, Filters, T(1),
                         a.dparams + depthwise_size, Filters);
            ops::column_sum<B>(rows, Filters, a.dy, a.dparams + depthwise_size + mid * Filters, true);
        }
        if (a.dx) ops::depthwise_conv2d_input_gradient<B>(g, a.batch, DepthMultiplier, d_between, a.params, a.dx);
    }
};

}  // namespace latent
