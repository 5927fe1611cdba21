// cpu::reference kernels for UpSampling2D's bilinear interpolation and its gradient (see
// backend/backend.hpp for their contract; the math is backend/resize.hpp's).
#pragma once

#include <cstddef>

#include "../../resize.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void upsample_bilinear2d_kernel(const reference&, std::size_t batch, std::size_t h, std::size_t w,
                                std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* x, T* y) {
    const std::size_t n = batch * h * factor_h * w * factor_w * channels;
    for (std::size_t i = 0; i < n; ++i)
        y[i] = latent::detail::upsample_bilinear_output_at(h, w, channels, factor_h, factor_w, x, i);
}

template <class T>
void upsample_bilinear2d_backward_kernel(const reference&, std::size_t batch, std::size_t h, std::size_t w,
                                         std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* dy,
                                         T* dx) {
    const std::size_t n = batch * h * w * channels;
    for (std::size_t i = 0; i < n; ++i)
        dx[i] = latent::detail::upsample_bilinear_input_gradient_at(h, w, channels, factor_h, factor_w, dy, i);
}

}  // namespace latent::cpu
