// cpu::reference kernels for the random image transforms' affine sampling and its gradient (see
// backend/backend.hpp for their contract; the math is backend/warp.hpp's).
#pragma once

#include <cstddef>

#include "../../warp.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void affine_warp2d_kernel(const reference&, std::size_t batch, const latent::detail::WarpSizes& size,
                          const T* transforms, const ImageSampling& sampling, const T* x, T* y) {
    const std::size_t n = batch * size.out_h * size.out_w * size.channels;
    for (std::size_t i = 0; i < n; ++i)
        y[i] = latent::detail::affine_warp_output_at(batch, size, transforms, sampling, x, i);
}

template <class T>
void affine_warp2d_backward_kernel(const reference&, std::size_t batch, const latent::detail::WarpSizes& size,
                                   const T* transforms, const ImageSampling& sampling, const T* dy, T* dx) {
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t c = 0; c < size.channels; ++c)
            latent::detail::affine_warp_input_gradient(batch, size, transforms, sampling, dy, dx, n, c);
}

}  // namespace latent::cpu
