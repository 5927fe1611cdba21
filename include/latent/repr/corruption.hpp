// Input corruption for denoising autoencoders (Vincent et al. 2008): additive Gaussian noise,
// masking noise and salt-and-pepper noise at runtime levels, drawn from a seeded Generator. They
// make a corrupted copy of the inputs; the targets stay clean.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>

#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"

namespace latent::repr {

// One kind of corruption and its level: the noise's standard deviation for gaussian, the
// fraction of each sample's values destroyed for masking and salt_and_pepper.
struct Corruption {
    enum class Kind { gaussian, masking, salt_and_pepper };
    Kind kind = Kind::gaussian;
    double level = 0.0;
    // gaussian only: clip the noisy values to [low, high] (images in [0, 1] stay images).
    bool clip = true;
    float low = 0.0f, high = 1.0f;

    static Corruption gaussian(double stddev) { return {Kind::gaussian, stddev}; }
    static Corruption masking(double fraction) { return {Kind::masking, fraction}; }
    static Corruption salt_and_pepper(double fraction) { return {Kind::salt_and_pepper, fraction}; }

    std::string describe() const {
        char text[128];
        switch (kind) {
            case Kind::gaussian:
                std::snprintf(text, sizeof text, "Gaussian noise (stddev %g)", level);
                break;
            case Kind::masking:
                std::snprintf(text, sizeof text, "masking noise (%g of the values set to 0)", level);
                break;
            case Kind::salt_and_pepper:
                std::snprintf(text, sizeof text, "salt-and-pepper noise (%g of the values set to %g or %g)", level,
                              static_cast<double>(low), static_cast<double>(high));
                break;
        }
        return text;
    }

    void check() const {
        const auto number = [](double v) {
            char text[32];
            std::snprintf(text, sizeof text, "%g", v);
            return std::string(text);
        };
        if (kind == Kind::gaussian) {
            if (!(level >= 0.0 && std::isfinite(level)))
                throw value_error("latent.repr.corruption", "Gaussian noise needs a finite stddev >= 0, got " +
                                                                number(level));
        } else if (!(level >= 0.0 && level <= 1.0)) {
            throw value_error("latent.repr.corruption",
                              describe() + ": the fraction of values to corrupt must be in [0, 1], got " +
                                  number(level));
        }
        if (!(low <= high))
            throw value_error("latent.repr.corruption",
                              "the value range [low, high] is empty: [" + number(low) + ", " + number(high) + "]");
    }
};

// A corrupted copy of x. Each value is corrupted independently: masking and salt-and-pepper hit
// every value with probability `level` (salt or pepper with equal odds).
template <float_batch X>
Tensor<typename std::remove_cvref_t<X>::shape> corrupt(const X& x, const Corruption& c, Generator& rng) {
    c.check();
    Tensor<typename std::remove_cvref_t<X>::shape> out(x.batch());
    const float* in = x.data();
    float* y = out.data();
    const std::size_t n = x.size();
    switch (c.kind) {
        case Corruption::Kind::gaussian:
            for (std::size_t i = 0; i < n; ++i) {
                float v = in[i] + static_cast<float>(c.level * rng.normal());
                if (c.clip) v = std::fmin(std::fmax(v, c.low), c.high);
                y[i] = v;
            }
            break;
        case Corruption::Kind::masking:
            for (std::size_t i = 0; i < n; ++i) y[i] = rng.uniform_double() < c.level ? 0.0f : in[i];
            break;
        case Corruption::Kind::salt_and_pepper:
            for (std::size_t i = 0; i < n; ++i) {
                if (rng.uniform_double() < c.level)
                    y[i] = rng.uniform_double() < 0.5 ? c.low : c.high;
                else
                    y[i] = in[i];
            }
            break;
    }
    return out;
}

}  // namespace latent::repr
