// tf.image.resize written out in double as TensorFlow's kernels compute it (half-pixel centres, no
// antialiasing), on a window of one image: what Keras' Resizing(crop_to_aspect_ratio=True) and
// RandomCrop's inference (smart resize) give, to check ours against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <latent/core/spatial.hpp>

namespace latent::testing {

// image[top:top + rows, left:left + columns] of an image `w` pixels wide, resized to height x
// width: bilinear, or nearest as TensorFlow's nearest with half-pixel centres (floor of the
// source coordinate + 0.5, computed in whole numbers here so ties cannot round either way).
inline std::vector<double> tf_resize_window(const std::vector<double>& image, std::size_t w, std::size_t channels,
                                            detail::CropWindow window, std::size_t height, std::size_t width,
                                            bool nearest = false) {
    struct Taps {
        std::size_t low, high;
        double fraction;
    };
    auto taps = [](std::size_t out, std::size_t in, std::size_t size) {
        const double scale = static_cast<double>(in) / static_cast<double>(size);
        const double source = (static_cast<double>(out) + 0.5) * scale - 0.5;
        const double lower = std::floor(source);
        return Taps{static_cast<std::size_t>(std::max(lower, 0.0)),
                    static_cast<std::size_t>(std::min(std::ceil(source), static_cast<double>(in - 1))),
                    source - lower};
    };
    std::vector<double> y;
    for (std::size_t oy = 0; oy < height; ++oy)
        for (std::size_t ox = 0; ox < width; ++ox)
            for (std::size_t c = 0; c < channels; ++c) {
                auto at = [&](std::size_t r, std::size_t col) {
                    return image[((window.top + r) * w + window.left + col) * channels + c];
                };
                if (nearest) {
                    y.push_back(at((2 * oy + 1) * window.rows / (2 * height),
                                   (2 * ox + 1) * window.columns / (2 * width)));
                    continue;
                }
                const Taps ty = taps(oy, window.rows, height), tx = taps(ox, window.columns, width);
                const double top = at(ty.low, tx.low) + (at(ty.low, tx.high) - at(ty.low, tx.low)) * tx.fraction;
                const double bottom =
                    at(ty.high, tx.low) + (at(ty.high, tx.high) - at(ty.high, tx.low)) * tx.fraction;
                y.push_back(top + (bottom - top) * ty.fraction);
            }
    return y;
}

}  // namespace latent::testing
