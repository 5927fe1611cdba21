// The per-element work of the ops affine_warp2d and its gradient (the image transforms' sampling:
// RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Resizing), written once for every
// backend's kernels.
#pragma once

#include <cmath>
#include <cstddef>

#include "../config.hpp"
#include "../core/spatial.hpp"

namespace latent::detail {

// A sample's transform maps an output pixel (ox, oy) to the input point it reads,
//   sx = a0 * ox + a1 * oy + a2,   sy = b0 * ox + b1 * oy + b2,
// in pixel indices (pixel (0, 0) at 0, 0), as Keras' and TensorFlow's affine_transform. The
// transforms of a batch lie coefficient after coefficient: a0 of every sample, then a1, ... b2
// (6 * batch values), so that one elementwise op over the batch writes them all.
inline constexpr std::size_t affine_coefficients = 6;

// Pixel index i of an axis of length len, brought inside it by the fill mode; -1 where the fill
// value stands there (FillMode::constant outside the image).
LATENT_HOST_DEVICE inline long long fill_index(long long i, long long len, FillMode mode) {
    if (i >= 0 && i < len) return i;
    switch (mode) {
    case FillMode::reflect: {  // about the outer edge of the end pixels: -1 -> 0, len -> len - 1
        const long long period = 2 * len;
        long long m = i % period;
        if (m < 0) m += period;
        return m < len ? m : period - 1 - m;
    }
    case FillMode::wrap: {
        long long m = i % len;
        return m < 0 ? m + len : m;
    }
    case FillMode::nearest: return i < 0 ? 0 : len - 1;
    case FillMode::constant: break;
    }
    return -1;
}

// The input pixels output pixel (ox, oy) reads and their weights: the nearest pixel (rounding
// halves away from zero) or the bilinear interpolation's four, each tap brought into the image
// by the fill mode as JAX's map_coordinates (Keras 3's affine_transform) does. A tap's `pixel`
// is y * w + x, or -1 for the fill value.
struct WarpTaps {
    long long pixel[4];
    double weight[4];
    int count;
};
template <class T>
LATENT_HOST_DEVICE WarpTaps warp_taps(const T* transforms, std::size_t batch, std::size_t n, std::size_t oy,
                                      std::size_t ox, std::size_t h, std::size_t w, const ImageSampling& sampling) {
    const auto coefficient = [&](std::size_t k) { return static_cast<double>(transforms[k * batch + n]); };
    const double x = static_cast<double>(ox), y = static_cast<double>(oy);
    const double sx = coefficient(0) * x + coefficient(1) * y + coefficient(2);
    const double sy = coefficient(3) * x + coefficient(4) * y + coefficient(5);
    const auto H = static_cast<long long>(h), W = static_cast<long long>(w);
    const FillMode mode = sampling.fill_mode;
    const auto at = [&](long long iy, long long ix) {
        const long long fy = fill_index(iy, H, mode), fx = fill_index(ix, W, mode);
        return fy < 0 || fx < 0 ? -1LL : fy * W + fx;
    };
    WarpTaps taps{};
    if (sampling.interpolation == Interpolation::nearest) {
        taps.pixel[0] = at(static_cast<long long>(std::round(sy)), static_cast<long long>(std::round(sx)));
        taps.weight[0] = 1.0;
        taps.count = 1;
        return taps;
    }
    const double fy = std::floor(sy), fx = std::floor(sx);
    const double wy = sy - fy, wx = sx - fx;
    const auto y0 = static_cast<long long>(fy), x0 = static_cast<long long>(fx);
    taps.pixel[0] = at(y0, x0);
    taps.weight[0] = (1.0 - wy) * (1.0 - wx);
    taps.pixel[1] = at(y0, x0 + 1);
    taps.weight[1] = (1.0 - wy) * wx;
    taps.pixel[2] = at(y0 + 1, x0);
    taps.weight[2] = wy * (1.0 - wx);
    taps.pixel[3] = at(y0 + 1, x0 + 1);
    taps.weight[3] = wy * wx;
    taps.count = 4;
    return taps;
}

// The input and output sizes of an affine_warp2d.
struct WarpSizes {
    std::size_t h, w, out_h, out_w, channels;
};

// Output element `i` of y (batch, out_h, out_w, channels): x (batch, h, w, channels) sampled
// where the sample's transform sends the pixel.
template <class T>
LATENT_HOST_DEVICE T affine_warp_output_at(std::size_t batch, const WarpSizes& size, const T* transforms,
                                           const ImageSampling& sampling, const T* x, std::size_t i) {
    const std::size_t h = size.h, w = size.w, channels = size.channels;
    const std::size_t out_w = size.out_w, out_h = size.out_h;
    const std::size_t c = i % channels, ox = (i / channels) % out_w, oy = (i / (channels * out_w)) % out_h,
                      n = i / (channels * out_w * out_h);
    const WarpTaps taps = warp_taps(transforms, batch, n, oy, ox, h, w, sampling);
    const T* image = x + n * h * w * channels + c;
    const auto fill = static_cast<T>(sampling.fill_value);
    T sum = T(0);
    for (int k = 0; k < taps.count; ++k)
        if (taps.weight[k] != 0.0)
            sum += static_cast<T>(taps.weight[k]) * (taps.pixel[k] < 0 ? fill : image[taps.pixel[k] * channels]);
    return sum;
}

// Channel c of sample n of dx: the adjoint of the sampling applied to dy, each output's gradient
// added to the pixels it read through their weights, outputs in order (so every backend adds
// them in the same order; a fill tap reads no input). Overwrites that channel of dx.
template <class T>
LATENT_HOST_DEVICE void affine_warp_input_gradient(std::size_t batch, const WarpSizes& size, const T* transforms,
                                                   const ImageSampling& sampling, const T* dy, T* dx, std::size_t n,
                                                   std::size_t c) {
    const std::size_t h = size.h, w = size.w, channels = size.channels;
    const std::size_t in_offset = n * h * w * channels + c, out_offset = n * size.out_h * size.out_w * channels + c;
    for (std::size_t p = 0; p < h * w; ++p) dx[in_offset + p * channels] = T(0);
    for (std::size_t oy = 0; oy < size.out_h; ++oy)
        for (std::size_t ox = 0; ox < size.out_w; ++ox) {
            const T g = dy[out_offset + (oy * size.out_w + ox) * channels];
            const WarpTaps taps = warp_taps(transforms, batch, n, oy, ox, h, w, sampling);
            for (int k = 0; k < taps.count; ++k)
                if (taps.pixel[k] >= 0 && taps.weight[k] != 0.0)
                    dx[in_offset + static_cast<std::size_t>(taps.pixel[k]) * channels] +=
                        static_cast<T>(taps.weight[k]) * g;
        }
}

}  // namespace latent::detail
