// cpu::reference kernels for im2col and col2im, the two halves of convolution as a GEMM
// (see backend/backend.hpp for their contract).
#pragma once

#include <algorithm>

#include "../../../core/spatial.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void im2col_kernel(const reference&, const Window2D& g, std::size_t batch, const T* x, T* cols) {
    const std::size_t c = g.channels;
    for (std::size_t n = 0; n < batch; ++n) {
        const T* image = x + n * g.in_size();  // (in_h, in_w, c)
        for (std::size_t oy = 0; oy < g.out_h; ++oy)
            for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                T* row = cols + ((n * g.out_h + oy) * g.out_w + ox) * g.patch_size();  // (kh, kw, c)
                for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
                    // Signed arithmetic: the window may start above or left of the image.
                    const auto iy = static_cast<std::ptrdiff_t>(oy * g.stride_h + ky * g.dilation_h) -
                                    static_cast<std::ptrdiff_t>(g.pad_top);
                    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                        const auto ix =
                            static_cast<std::ptrdiff_t>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<std::ptrdiff_t>(g.pad_left);
                        T* dst = row + (ky * g.kernel_w + kx) * c;
                        if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(g.in_h) ||
                            ix >= static_cast<std::ptrdiff_t>(g.in_w)) {
                            std::fill(dst, dst + c, T(0));
                        } else {
                            const T* src = image + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * c;
                            std::copy(src, src + c, dst);
                        }
                    }
                }
            }
    }
}

template <class T>
void col2im_kernel(const reference&, const Window2D& g, std::size_t batch, const T* cols, T* x) {
    const std::size_t c = g.channels;
    std::fill(x, x + batch * g.in_size(), T(0));
    for (std::size_t n = 0; n < batch; ++n) {
        T* image = x + n * g.in_size();
        for (std::size_t oy = 0; oy < g.out_h; ++oy)
            for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                const T* row = cols + ((n * g.out_h + oy) * g.out_w + ox) * g.patch_size();
                for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
                    const auto iy = static_cast<std::ptrdiff_t>(oy * g.stride_h + ky * g.dilation_h) -
                                    static_cast<std::ptrdiff_t>(g.pad_top);
                    if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.in_h)) continue;
                    for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                        const auto ix =
                            static_cast<std::ptrdiff_t>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<std::ptrdiff_t>(g.pad_left);
                        if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.in_w)) continue;
                        const T* src = row + (ky * g.kernel_w + kx) * c;
                        T* dst = image + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * c;
                        for (std::size_t ch = 0; ch < c; ++ch) dst[ch] += src[ch];
                    }
                }
            }
    }
}

}  // namespace latent::cpu
