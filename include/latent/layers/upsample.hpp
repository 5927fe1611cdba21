// UpSampling2D<Factor = 2, Interpolation = nearest>: a channels-last image Factor times taller and
// wider (Factor is a number or Size2<h, w>), each pixel repeated (Keras' default, "nearest") or
// the pixels interpolated bilinearly at half-pixel centres ("bilinear", as Keras' and PyTorch's
// align_corners=False).
#pragma once

#include <type_traits>

#include "../core/spatial.hpp"
#include "layer.hpp"
#include "pool.hpp"  // detail::image_dims, shared by the image layers

namespace latent {

template <auto Factor = 2, Interpolation Mode = Interpolation::nearest>
class UpSampling2D : public Layer<UpSampling2D<Factor, Mode>> {
    static_assert(detail::is_extent_argument_v<std::remove_cvref_t<decltype(Factor)>>,
                  "latent: UpSampling2D's factor is a number or Size2<h, w>");
    static constexpr Extent2 factor = detail::to_extent2(Factor);
    static_assert(factor.h > 0 && factor.w > 0, "latent: UpSampling2D's factor must be positive");

public:
    using Layer<UpSampling2D<Factor, Mode>>::Layer;
    static constexpr std::string_view type_name = "UpSampling2D";
    static constexpr std::string_view default_name = "up_sampling2d";
    static constexpr Extent2 size = factor;  // Keras' `size`
    static constexpr Interpolation interpolation = Mode;

    using requirement = rank<3>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = Shape<detail::image_dims<In>.h * factor.h, detail::image_dims<In>.w * factor.w,
                               detail::image_dims<In>.channels>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        // (batch, h * factor_h, w * factor_w, c)
        if constexpr (Mode == Interpolation::bilinear)
            ops::upsample_bilinear2d<B>(a.batch, image.h, image.w, image.channels, factor.h, factor.w, a.x, a.y);
        else
            ops::upsample_nearest2d<B>(a.batch, image.h, image.w, image.channels, factor.h, factor.w, a.x, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        if (!a.dx) return;
        // (batch, h, w, c): each pixel gathers the gradient of the outputs made from it
        if constexpr (Mode == Interpolation::bilinear)
            ops::upsample_bilinear2d_backward<B>(a.batch, image.h, image.w, image.channels, factor.h, factor.w, a.dy,
                                                 a.dx);
        else
            ops::upsample_nearest2d_backward<B>(a.batch, image.h, image.w, image.channels, factor.h, factor.w, a.dy,
                                                a.dx);
    }
};

}  // namespace latent
