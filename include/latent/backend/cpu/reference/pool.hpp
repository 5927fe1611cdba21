// cpu::reference kernels for the pooling, nearest-upsampling, zero-padding and cropping ops
// (see backend/backend.hpp for their contract).
#pragma once

#include <algorithm>
#include <cstddef>

#include "../../../core/spatial.hpp"
#include "../reference.hpp"

namespace latent::cpu {

namespace detail {
// The in-image rows (or columns) [first, last) under window position `out` along one axis:
// pooling treats padded positions as absent, so a window hanging over the edge shrinks.
struct ImageSpan {
    std::size_t first = 0, last = 0;
    constexpr std::size_t size() const { return last - first; }
};
constexpr ImageSpan image_span(std::size_t out, std::size_t stride, std::size_t kernel, std::size_t pad,
                               std::size_t in) {
    // In padded coordinates the window covers [out * stride, out * stride + kernel) and the
    // image [pad, pad + in).
    const std::size_t lo = std::max(out * stride, pad);
    const std::size_t hi = std::min(out * stride + kernel, pad + in);
    return hi > lo ? ImageSpan{lo - pad, hi - pad} : ImageSpan{};
}
}  // namespace detail

template <class T>
void max_pool2d_kernel(const reference&, const Window2D& g, std::size_t batch, const T* x, T* y) {
    const std::size_t c = g.channels;
    for (std::size_t n = 0; n < batch; ++n) {
        const T* image = x + n * g.in_size();        // (in_h, in_w, c)
        T* out = y + n * g.positions() * c;          // (out_h, out_w, c)
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            const auto rows = detail::image_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
            for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                const auto cols = detail::image_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
                T* dst = out + (oy * g.out_w + ox) * c;  // (c)
                if (rows.size() == 0 || cols.size() == 0) {  // only padding under the window
                    std::fill(dst, dst + c, T(0));
                    continue;
                }
                const T* first = image + (rows.first * g.in_w + cols.first) * c;
                std::copy(first, first + c, dst);
                for (std::size_t iy = rows.first; iy < rows.last; ++iy)
                    for (std::size_t ix = cols.first; ix < cols.last; ++ix) {
                        const T* src = image + (iy * g.in_w + ix) * c;  // (c)
                        // Written so that a NaN wins: a diverging input shows in the output.
                        for (std::size_t ch = 0; ch < c; ++ch)
                            if (!(src[ch] <= dst[ch])) dst[ch] = src[ch];
                    }
            }
        }
    }
}

template <class T>
void max_pool2d_backward_kernel(const reference&, const Window2D& g, std::size_t batch, const T* x, const T* y,
                                const T* dy, T* dx) {
    const std::size_t c = g.channels;
    std::fill(dx, dx + batch * g.in_size(), T(0));
    for (std::size_t n = 0; n < batch; ++n) {
        const T* image = x + n * g.in_size();  // (in_h, in_w, c)
        T* dimage = dx + n * g.in_size();      // (in_h, in_w, c)
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            const auto rows = detail::image_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
            for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                const auto cols = detail::image_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
                const std::size_t at = ((n * g.out_h + oy) * g.out_w + ox) * c;
                for (std::size_t ch = 0; ch < c; ++ch) {
                    // The first maximum in scan order takes the whole gradient, so ties do not
                    // split it (as TensorFlow).
                    bool routed = false;
                    for (std::size_t iy = rows.first; iy < rows.last && !routed; ++iy)
                        for (std::size_t ix = cols.first; ix < cols.last && !routed; ++ix) {
                            const std::size_t i = (iy * g.in_w + ix) * c + ch;
                            if (image[i] == y[at + ch]) {
                                dimage[i] += dy[at + ch];
                                routed = true;
                            }
                        }
                }
            }
        }
    }
}

template <class T>
void average_pool2d_kernel(const reference&, const Window2D& g, std::size_t batch, const T* x, T* y) {
    const std::size_t c = g.channels;
    for (std::size_t n = 0; n < batch; ++n) {
        const T* image = x + n * g.in_size();  // (in_h, in_w, c)
        T* out = y + n * g.positions() * c;    // (out_h, out_w, c)
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            const auto rows = detail::image_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
            for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                const auto cols = detail::image_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
                T* dst = out + (oy * g.out_w + ox) * c;  // (c)
                std::fill(dst, dst + c, T(0));
                const std::size_t count = rows.size() * cols.size();
                if (count == 0) continue;
                for (std::size_t iy = rows.first; iy < rows.last; ++iy)
                    for (std::size_t ix = cols.first; ix < cols.last; ++ix) {
                        const T* src = image + (iy * g.in_w + ix) * c;  // (c)
                        for (std::size_t ch = 0; ch < c; ++ch) dst[ch] += src[ch];
                    }
                const T scale = T(1) / static_cast<T>(count);
                for (std::size_t ch = 0; ch < c; ++ch) dst[ch] *= scale;
            }
        }
    }
}

template <class T>
void average_pool2d_backward_kernel(const reference&, const Window2D& g, std::size_t batch, const T* dy, T* dx) {
    const std::size_t c = g.channels;
    std::fill(dx, dx + batch * g.in_size(), T(0));
    for (std::size_t n = 0; n < batch; ++n) {
        T* dimage = dx + n * g.in_size();            // (in_h, in_w, c)
        const T* dout = dy + n * g.positions() * c;  // (out_h, out_w, c)
        for (std::size_t oy = 0; oy < g.out_h; ++oy) {
            const auto rows = detail::image_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
            for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                const auto cols = detail::image_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
                const std::size_t count = rows.size() * cols.size();
                if (count == 0) continue;
                const T* grad = dout + (oy * g.out_w + ox) * c;  // (c)
                const T scale = T(1) / static_cast<T>(count);
                for (std::size_t iy = rows.first; iy < rows.last; ++iy)
                    for (std::size_t ix = cols.first; ix < cols.last; ++ix) {
                        T* dst = dimage + (iy * g.in_w + ix) * c;  // (c)
                        for (std::size_t ch = 0; ch < c; ++ch) dst[ch] += grad[ch] * scale;
                    }
            }
        }
    }
}

template <class T>
void upsample_nearest2d_kernel(const reference&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                               std::size_t factor_h, std::size_t factor_w, const T* x, T* y) {
    const std::size_t out_h = h * factor_h, out_w = w * factor_w;
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t oy = 0; oy < out_h; ++oy)
            for (std::size_t ox = 0; ox < out_w; ++ox) {
                const T* src = x + ((n * h + oy / factor_h) * w + ox / factor_w) * channels;  // (channels)
                std::copy(src, src + channels, y + ((n * out_h + oy) * out_w + ox) * channels);
            }
}

template <class T>
void upsample_nearest2d_backward_kernel(const reference&, std::size_t batch, std::size_t h, std::size_t w,
                                        std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* dy,
                                        T* dx) {
    const std::size_t out_h = h * factor_h, out_w = w * factor_w;
    std::fill(dx, dx + batch * h * w * channels, T(0));
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t oy = 0; oy < out_h; ++oy)
            for (std::size_t ox = 0; ox < out_w; ++ox) {
                const T* src = dy + ((n * out_h + oy) * out_w + ox) * channels;      // (channels)
                T* dst = dx + ((n * h + oy / factor_h) * w + ox / factor_w) * channels;  // (channels)
                for (std::size_t ch = 0; ch < channels; ++ch) dst[ch] += src[ch];
            }
}

template <class T>
void pad2d_kernel(const reference&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                  std::size_t top, std::size_t bottom, std::size_t left, std::size_t right, const T* x, T* y) {
    const std::size_t out_h = h + top + bottom, out_w = w + left + right;
    std::fill(y, y + batch * out_h * out_w * channels, T(0));
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t iy = 0; iy < h; ++iy) {
            const T* src = x + (n * h + iy) * w * channels;                              // (w, channels)
            T* dst = y + ((n * out_h + iy + top) * out_w + left) * channels;             // (w, channels)
            std::copy(src, src + w * channels, dst);
        }
}

template <class T>
void crop2d_kernel(const reference&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                   std::size_t top, std::size_t bottom, std::size_t left, std::size_t right, const T* x, T* y) {
    const std::size_t out_h = h - top - bottom, out_w = w - left - right;
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t oy = 0; oy < out_h; ++oy) {
            const T* src = x + ((n * h + oy + top) * w + left) * channels;  // (out_w, channels)
            std::copy(src, src + out_w * channels, y + (n * out_h + oy) * out_w * channels);
        }
}

}  // namespace latent::cpu
