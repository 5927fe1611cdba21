// The per-element work of the ops depthwise_conv2d and its gradients (DepthwiseConv2D: each
// input channel convolved with its own depth_multiplier filters), written once for every
// backend's kernels: the CPU backends run it element after element, a GPU one element per thread.
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../core/spatial.hpp"

namespace latent::detail {

// Output element `i` of y (batch, out_h, out_w, channels * m): sum over the window of
// x (batch, in_h, in_w, channels) at channel c times kernel (kernel_h, kernel_w, channels, m)
// at (c, k), where the output channel is c * m + k, as Keras orders them.
template <class T>
LATENT_HOST_DEVICE T depthwise_output_at(const Window2D& g, std::size_t m, const T* x, const T* kernel, std::size_t i) {
    const std::size_t out_c = g.channels * m;
    const std::size_t oc = i % out_c, c = oc / m, k = oc % m;
    const std::size_t pos = i / out_c, ow = pos % g.out_w, oh = (pos / g.out_w) % g.out_h, n = pos / g.positions();
    const T* image = x + n * g.in_size();
    T sum = T(0);
    for (std::size_t a = 0; a < g.kernel_h; ++a) {
        const std::size_t ih = oh * g.stride_h + a * g.dilation_h;  // plus pad_top: compared shifted to stay unsigned
        if (ih < g.pad_top || ih - g.pad_top >= g.in_h) continue;
        for (std::size_t b = 0; b < g.kernel_w; ++b) {
            const std::size_t iw = ow * g.stride_w + b * g.dilation_w;
            if (iw < g.pad_left || iw - g.pad_left >= g.in_w) continue;
            sum += image[((ih - g.pad_top) * g.in_w + (iw - g.pad_left)) * g.channels + c] *
                   kernel[((a * g.kernel_w + b) * g.channels + c) * m + k];
        }
    }
    return sum;
}

// Input-gradient element `i` of dx (batch, in_h, in_w, channels): every output position whose
// window covers it, through the kernel's weights there, for each of the channel's m outputs.
template <class T>
LATENT_HOST_DEVICE T depthwise_input_gradient_at(const Window2D& g, std::size_t m, const T* dy, const T* kernel,
                                                 std::size_t i) {
    const std::size_t c = i % g.channels, pos = i / g.channels;
    const std::size_t iw = pos % g.in_w, ih = (pos / g.in_w) % g.in_h, n = pos / (g.in_h * g.in_w);
    const std::size_t out_c = g.channels * m;
    const T* grad = dy + n * g.positions() * out_c;
    T sum = T(0);
    for (std::size_t a = 0; a < g.kernel_h; ++a) {
        const std::size_t top = ih + g.pad_top, tap = a * g.dilation_h;  // top = oh * stride_h + tap
        if (top < tap || (top - tap) % g.stride_h != 0) continue;
        const std::size_t oh = (top - tap) / g.stride_h;
        if (oh >= g.out_h) continue;
        for (std::size_t b = 0; b < g.kernel_w; ++b) {
            const std::size_t left = iw + g.pad_left, tap_w = b * g.dilation_w;
            if (left < tap_w || (left - tap_w) % g.stride_w != 0) continue;
            const std::size_t ow = (left - tap_w) / g.stride_w;
            if (ow >= g.out_w) continue;
            for (std::size_t k = 0; k < m; ++k)
                sum += grad[(oh * g.out_w + ow) * out_c + c * m + k] *
                       kernel[((a * g.kernel_w + b) * g.channels + c) * m + k];
        }
    }
    return sum;
}

// Kernel-gradient element `i` of (kernel_h, kernel_w, channels, m): its input times the output
// gradient, over every sample and output position.
template <class T>
LATENT_HOST_DEVICE T depthwise_kernel_gradient_at(const Window2D& g, std::size_t m, std::size_t batch, const T* x,
                                                  const T* dy, std::size_t i) {
    const std::size_t k = i % m, c = (i / m) % g.channels, b = (i / (m * g.channels)) % g.kernel_w,
                      a = i / (m * g.channels * g.kernel_w);
    const std::size_t out_c = g.channels * m;
    T sum = T(0);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t oh = 0; oh < g.out_h; ++oh) {
            const std::size_t ih = oh * g.stride_h + a * g.dilation_h;
            if (ih < g.pad_top || ih - g.pad_top >= g.in_h) continue;
            for (std::size_t ow = 0; ow < g.out_w; ++ow) {
                const std::size_t iw = ow * g.stride_w + b * g.dilation_w;
                if (iw < g.pad_left || iw - g.pad_left >= g.in_w) continue;
                sum += x[n * g.in_size() + ((ih - g.pad_top) * g.in_w + (iw - g.pad_left)) * g.channels + c] *
                       dy[(n * g.positions() + oh * g.out_w + ow) * out_c + c * m + k];
            }
        }
    return sum;
}

}  // namespace latent::detail
