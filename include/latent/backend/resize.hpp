// The per-element work of the ops upsample_bilinear2d and its gradient (UpSampling2D's bilinear
// interpolation), written once for every backend's kernels: the CPU backends run it element after
// element, a GPU one element per thread.
#pragma once

#include <cstddef>

#include "../config.hpp"

namespace latent::detail {

// Where output position `out` of an axis upsampled `factor` times reads its input of length `in`:
// (1 - upper_weight) of `lower` plus upper_weight of `upper`. Half-pixel centres, as TensorFlow's
// resize (Keras' UpSampling2D) and PyTorch's align_corners=False: the source coordinate is
// (out + 0.5) / factor - 0.5, held inside [0, in - 1] at the edges.
struct linear_taps {
    std::size_t lower, upper;
    double upper_weight;
};
LATENT_HOST_DEVICE inline linear_taps bilinear_taps(std::size_t out, std::size_t factor, std::size_t in) {
    const double source = (static_cast<double>(out) + 0.5) / static_cast<double>(factor) - 0.5;
    if (source <= 0.0) return {0, 0, 0.0};
    const auto lower = static_cast<std::size_t>(source);  // floor: source > 0
    if (lower + 1 >= in) return {in - 1, in - 1, 0.0};
    return {lower, lower + 1, source - static_cast<double>(lower)};
}
// The weight output position `out` gives input position `i` (0 unless i is one of its taps).
LATENT_HOST_DEVICE inline double bilinear_weight(std::size_t out, std::size_t factor, std::size_t in, std::size_t i) {
    const linear_taps t = bilinear_taps(out, factor, in);
    return (t.lower == i ? 1.0 - t.upper_weight : 0.0) + (t.upper == i ? t.upper_weight : 0.0);
}

// Output element `i` of y (batch, h * factor_h, w * factor_w, channels): the bilinear
// interpolation of x (batch, h, w, channels) at its source coordinates.
template <class T>
LATENT_HOST_DEVICE T upsample_bilinear_output_at(std::size_t h, std::size_t w, std::size_t channels,
                                                 std::size_t factor_h, std::size_t factor_w, const T* x,
                                                 std::size_t i) {
    const std::size_t out_w = w * factor_w, out_h = h * factor_h;
    const std::size_t c = i % channels, ox = (i / channels) % out_w, oy = (i / (channels * out_w)) % out_h,
                      n = i / (channels * out_w * out_h);
    const linear_taps ty = bilinear_taps(oy, factor_h, h), tx = bilinear_taps(ox, factor_w, w);
    const T* first_row = x + ((n * h + ty.lower) * w) * channels + c;
    const T* second_row = x + ((n * h + ty.upper) * w) * channels + c;
    const T wy = static_cast<T>(ty.upper_weight), wx = static_cast<T>(tx.upper_weight);
    const T top = (T(1) - wx) * first_row[tx.lower * channels] + wx * first_row[tx.upper * channels];
    const T bottom = (T(1) - wx) * second_row[tx.lower * channels] + wx * second_row[tx.upper * channels];
    return (T(1) - wy) * top + wy * bottom;
}

// Input-gradient element `i` of dx (batch, h, w, channels): dy summed over the output positions
// that read input (iy, ix), each through its weight there. Only outputs within a factor and a half
// of the pixel read it, so the gather looks at [(iy - 1) * factor, (iy + 2) * factor) rows only.
template <class T>
LATENT_HOST_DEVICE T upsample_bilinear_input_gradient_at(std::size_t h, std::size_t w, std::size_t channels,
                                                         std::size_t factor_h, std::size_t factor_w, const T* dy,
                                                         std::size_t i) {
    const std::size_t out_w = w * factor_w, out_h = h * factor_h;
    const std::size_t c = i % channels, ix = (i / channels) % w, iy = (i / (channels * w)) % h,
                      n = i / (channels * w * h);
    const std::size_t y0 = iy > 0 ? (iy - 1) * factor_h : 0, x0 = ix > 0 ? (ix - 1) * factor_w : 0;
    const std::size_t y1 = (iy + 2) * factor_h < out_h ? (iy + 2) * factor_h : out_h;
    const std::size_t x1 = (ix + 2) * factor_w < out_w ? (ix + 2) * factor_w : out_w;
    const T* grad = dy + n * out_h * out_w * channels;
    T sum = T(0);
    for (std::size_t oy = y0; oy < y1; ++oy) {
        const T wy = static_cast<T>(bilinear_weight(oy, factor_h, h, iy));
        if (wy == T(0)) continue;
        for (std::size_t ox = x0; ox < x1; ++ox) {
            const T wx = static_cast<T>(bilinear_weight(ox, factor_w, w, ix));
            if (wx != T(0)) sum += wy * wx * grad[(oy * out_w + ox) * channels + c];
        }
    }
    return sum;
}

}  // namespace latent::detail
