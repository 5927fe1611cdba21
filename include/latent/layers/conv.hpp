// Conv2D and Conv2DTranspose over channels-last images, as Keras' (Glorot-uniform kernel,
// zero bias, `valid`/`same` padding with Keras' output sizes). The heavy work is the backend's
// convolution or GEMM (an im2col/col2im pass plus one GEMM where it has no convolution kernel).
#pragma once

#include "../core/spatial.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// The window of a layer over image In (a 1x1 stand-in when In is not an image).
template <class In>
constexpr Window2D window_over(Extent2 kernel, Extent2 stride, Padding padding) {
    return make_window(image_dims<In>.h, image_dims<In>.w, image_dims<In>.channels, kernel, stride, padding);
}
}  // namespace detail

// Conv2D<Filters, Kernel, Padding = valid, Stride = 1>: Kernel and Stride are a number or
// Size2<h, w>. Kernel of shape (kh, kw, in_channels, filters), as Keras stores it.
template <std::size_t Filters, auto Kernel, Padding P = Padding::valid, auto Stride = 1>
class Conv2D : public Layer<Conv2D<Filters, Kernel, P, Stride>> {
    static_assert(detail::is_extent_argument_v<decltype(Kernel)> && detail::is_extent_argument_v<decltype(Stride)>,
                  "latent: Conv2D's kernel size and stride are a number or Size2<h, w>");
    static constexpr Extent2 kernel_size = detail::to_extent2(Kernel);
    static constexpr Extent2 strides = detail::to_extent2(Stride);
    static_assert(Filters > 0, "latent: Conv2D needs at least one filter");
    static_assert(kernel_size.h > 0 && kernel_size.w > 0, "latent: Conv2D's kernel size must be positive");
    static_assert(strides.h > 0 && strides.w > 0, "latent: Conv2D's stride must be positive");

public:
    using Layer<Conv2D<Filters, Kernel, P, Stride>>::Layer;
    static constexpr std::string_view type_name = "Conv2D";
    static constexpr std::string_view default_name = "conv2d";
    static constexpr std::size_t filters = Filters;
    static constexpr Extent2 kernel = kernel_size;
    static constexpr Extent2 stride = strides;
    static constexpr Padding padding = P;

    // Valid padding needs the image to hold the kernel; same padding fits any image.
    using requirement =
        std::conditional_t<P == Padding::valid, image_at_least<kernel_size.h, kernel_size.w>, rank<3>>;
    template <class In>
    static constexpr Window2D window = detail::window_over<In>(kernel_size, strides, P);
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

// Conv2DTranspose<Filters, Kernel, Padding = valid, Stride = 1>: the adjoint of a Conv2D
// (learned upsampling). Output size as Keras: valid h*s + max(k - s, 0), same h*s. Kernel of
// shape (kh, kw, filters, in_channels), as Keras stores it.
template <std::size_t Filters, auto Kernel, Padding P = Padding::valid, auto Stride = 1>
class Conv2DTranspose : public Layer<Conv2DTranspose<Filters, Kernel, P, Stride>> {
    static_assert(detail::is_extent_argument_v<decltype(Kernel)> && detail::is_extent_argument_v<decltype(Stride)>,
                  "latent: Conv2DTranspose's kernel size and stride are a number or Size2<h, w>");
    static constexpr Extent2 kernel_size = detail::to_extent2(Kernel);
    static constexpr Extent2 strides = detail::to_extent2(Stride);
    static_assert(Filters > 0, "latent: Conv2DTranspose needs at least one filter");
    static_assert(kernel_size.h > 0 && kernel_size.w > 0, "latent: Conv2DTranspose's kernel size must be positive");
    static_assert(strides.h > 0 && strides.w > 0, "latent: Conv2DTranspose's stride must be positive");

    static constexpr std::size_t output_length(std::size_t in, std::size_t k, std::size_t s) {
        return P == Padding::same ? in * s : in * s + (k > s ? k - s : 0);
    }

public:
    using Layer<Conv2DTranspose<Filters, Kernel, P, Stride>>::Layer;
    static constexpr std::string_view type_name = "Conv2DTranspose";
    static constexpr std::string_view default_name = "conv2d_transpose";
    static constexpr std::size_t filters = Filters;
    static constexpr Extent2 kernel = kernel_size;
    static constexpr Extent2 stride = strides;
    static constexpr Padding padding = P;

    using requirement = rank<3>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = Shape<output_length(detail::image_dims<In>.h, kernel_size.h, strides.h),
                               output_length(detail::image_dims<In>.w, kernel_size.w, strides.w), Filters>;
    // The convolution this layer is the transpose of runs over the output image and has the
    // input's extent as its positions.
    template <class In>
    static constexpr Window2D window =
        make_window(dim_v<output_shape<In>, 0>, dim_v<output_shape<In>, 1>, Filters, kernel_size, strides, P);

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

}  // namespace latent
