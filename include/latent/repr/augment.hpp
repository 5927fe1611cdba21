// Random image augmentations for contrastive learning (SimCLR's recipe, for small grey or colour
// images): a random crop resized back to full size, a horizontal flip, brightness and contrast
// jitter and Gaussian noise, each drawn from a seeded Generator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"

namespace latent::repr {

struct Augmentation {
    // The crop covers a fraction of the image's area drawn from [crop_min_area, 1], with an
    // aspect ratio drawn log-uniformly from [1 / crop_max_aspect, crop_max_aspect]; it is
    // resized back to the full image bilinearly. crop_min_area = 1 and crop_max_aspect = 1: no crop.
    double crop_min_area = 0.35;
    double crop_max_aspect = 4.0 / 3.0;
    double flip_probability = 0.5;  // mirror left-right
    double brightness = 0.2;        // add a shift drawn from [-brightness, brightness]
    double contrast = 0.3;          // scale around the image's mean by [1 - contrast, 1 + contrast]
    double noise_stddev = 0.05;     // add N(0, noise_stddev^2) per value
    bool clip = true;               // keep the values in [0, 1] (images scaled to [0, 1])

    // The views of SimCLR's paper, scaled for 28x28 images; none() changes nothing.
    static Augmentation none() { return {1.0, 1.0, 0.0, 0.0, 0.0, 0.0, false}; }

    void check() const {
        auto fail = [](const std::string& what, double v) {
            throw value_error("latent.repr.augmentation",
                              "Augmentation: " + what + ", got " + std::to_string(v));
        };
        if (!(crop_min_area > 0.0 && crop_min_area <= 1.0)) fail("crop_min_area must be in (0, 1]", crop_min_area);
        if (!(crop_max_aspect >= 1.0 && std::isfinite(crop_max_aspect)))
            fail("crop_max_aspect must be a finite number >= 1", crop_max_aspect);
        if (!(flip_probability >= 0.0 && flip_probability <= 1.0))
            fail("flip_probability must be in [0, 1]", flip_probability);
        if (!(brightness >= 0.0 && std::isfinite(brightness))) fail("brightness must be finite and >= 0", brightness);
        if (!(contrast >= 0.0 && contrast <= 1.0)) fail("contrast must be in [0, 1]", contrast);
        if (!(noise_stddev >= 0.0 && std::isfinite(noise_stddev)))
            fail("noise_stddev must be finite and >= 0", noise_stddev);
    }
};

// One augmented view of one image (H x W x C, channels last) into out (the same size).
template <std::size_t H, std::size_t W, std::size_t C>
void augment_image(const float* image, float* out, const Augmentation& a, Generator& rng) {
    // The crop: its size from the area fraction and aspect ratio, its place uniform.
    const double area = rng.uniform(a.crop_min_area, 1.0);
    const double log_aspect = std::log(a.crop_max_aspect);
    const double aspect = std::exp(rng.uniform(-log_aspect, log_aspect));
    const double crop_w = std::clamp(std::sqrt(area * aspect) * static_cast<double>(W), 1.0, static_cast<double>(W));
    const double crop_h = std::clamp(std::sqrt(area / aspect) * static_cast<double>(H), 1.0, static_cast<double>(H));
    const double x0 = rng.uniform(0.0, static_cast<double>(W) - crop_w);
    const double y0 = rng.uniform(0.0, static_cast<double>(H) - crop_h);
    const bool flip = rng.uniform_double() < a.flip_probability;
    const double shift = a.brightness > 0 ? rng.uniform(-a.brightness, a.brightness) : 0.0;
    const double scale = a.contrast > 0 ? rng.uniform(1.0 - a.contrast, 1.0 + a.contrast) : 1.0;

    // Bilinear resampling with pixel centres at +0.5 (so a full-size crop copies exactly).
    double mean = 0;
    for (std::size_t oy = 0; oy < H; ++oy) {
        const double sy = std::clamp(y0 + (static_cast<double>(oy) + 0.5) * crop_h / H - 0.5, 0.0, H - 1.0);
        const std::size_t y_lo = static_cast<std::size_t>(sy), y_hi = std::min(y_lo + 1, H - 1);
        const double fy = sy - static_cast<double>(y_lo);
        for (std::size_t ox = 0; ox < W; ++ox) {
            const std::size_t tx = flip ? W - 1 - ox : ox;
            const double sx = std::clamp(x0 + (static_cast<double>(tx) + 0.5) * crop_w / W - 0.5, 0.0, W - 1.0);
            const std::size_t x_lo = static_cast<std::size_t>(sx), x_hi = std::min(x_lo + 1, W - 1);
            const double fx = sx - static_cast<double>(x_lo);
            for (std::size_t c = 0; c < C; ++c) {
                auto at = [&](std::size_t y, std::size_t x) { return static_cast<double>(image[(y * W + x) * C + c]); };
                const double v = (1 - fy) * ((1 - fx) * at(y_lo, x_lo) + fx * at(y_lo, x_hi)) +
                                 fy * ((1 - fx) * at(y_hi, x_lo) + fx * at(y_hi, x_hi));
                out[(oy * W + ox) * C + c] = static_cast<float>(v);
                mean += v;
            }
        }
    }
    mean /= static_cast<double>(H * W * C);
    for (std::size_t i = 0; i < H * W * C; ++i) {
        double v = mean + (out[i] - mean) * scale + shift;
        if (a.noise_stddev > 0) v += a.noise_stddev * rng.normal();
        out[i] = static_cast<float>(a.clip ? std::clamp(v, 0.0, 1.0) : v);
    }
}

namespace detail {
template <class S>
struct image_dims;
template <std::size_t H, std::size_t W, std::size_t C>
struct image_dims<Shape<H, W, C>> {
    static void augment(const float* image, float* out, const Augmentation& a, Generator& rng) {
        augment_image<H, W, C>(image, out, a, rng);
    }
};
}  // namespace detail

// A fresh augmented view of every image of x (a batch of H x W x C images).
template <float_batch X>
auto augment(const X& x, const Augmentation& a, Generator& rng) {
    using S = typename std::remove_cvref_t<X>::shape;
    static_assert(S::rank == 3, "latent: augment takes images of shape (height, width, channels)");
    a.check();
    Tensor<S> out(x.batch());
    for (std::size_t i = 0; i < x.batch(); ++i)
        detail::image_dims<S>::augment(x.data() + i * S::size, out.data() + i * S::size, a, rng);
    return out;
}

}  // namespace latent::repr
