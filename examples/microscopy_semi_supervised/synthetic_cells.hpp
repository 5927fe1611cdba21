// Seeded synthetic stand-ins for super-resolution microscopy crops of dividing bacteria: 40x40
// grayscale, one rod-shaped cell per crop (membrane-stained outline, faint cytoplasm), in three
// division stages told apart by the septum at mid-cell:
//   0  before division: no septum, hardly any constriction;
//   1  septum starting to form: a band growing inward from both sides of the membrane;
//   2  septum formed: the band spans the cell, which is visibly constricted.
// Cells vary in length (they grow towards division), width, orientation, position, brightness;
// the optics blur them (Gaussian PSF), the camera adds background and noise, and a neighbouring
// cell sometimes reaches into the crop.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <vector>

#include <latent/core/random.hpp>

namespace microscopy {

inline constexpr std::size_t side = 40;
inline constexpr std::size_t pixels = side * side;

struct Cell {
    double cx = 20, cy = 20;   // centre, pixels
    double angle = 0;          // long axis, radians
    double length = 24;        // tip to tip
    double radius = 4.5;       // half the width
    double constriction = 0;   // fraction of the radius lost at mid-cell
    double septum = 0;         // 0: none ... 1: spans the cell
    double brightness = 1;
};

// A cell of the given stage, drawn from that stage's ranges.
inline Cell random_cell(int stage, latent::Generator& g) {
    Cell c;
    c.cx = 20 + g.uniform(-3.5, 3.5);
    c.cy = 20 + g.uniform(-3.5, 3.5);
    c.angle = g.uniform(0, std::numbers::pi);
    c.radius = g.uniform(3.6, 5.2);
    c.brightness = g.uniform(0.55, 1.0);
    switch (stage) {
        case 0:
            c.length = g.uniform(14, 26);
            c.constriction = g.uniform(0.0, 0.05);
            c.septum = 0;
            break;
        case 1:
            c.length = g.uniform(18, 30);
            c.constriction = g.uniform(0.03, 0.14);
            c.septum = g.uniform(0.2, 0.7);
            break;
        default:
            c.length = g.uniform(22, 32);
            c.constriction = g.uniform(0.12, 0.3);
            c.septum = 1;
            break;
    }
    c.length = std::max(c.length, 2 * c.radius + 1);
    return c;
}

// Adds the cell's fluorescence at (x, y) (membrane, cytoplasm and septum).
inline double fluorescence(const Cell& c, double x, double y) {
    const double dx = x - c.cx, dy = y - c.cy;
    const double u = dx * std::cos(c.angle) + dy * std::sin(c.angle);   // along the cell
    const double v = -dx * std::sin(c.angle) + dy * std::cos(c.angle);  // across it
    const double half = c.length / 2 - c.radius;                         // the straight part
    // The radius narrows towards mid-cell as the division furrow deepens.
    const double furrow = std::exp(-u * u / (2 * std::pow(0.18 * c.length, 2)));
    const double r = c.radius * (1 - c.constriction * furrow);
    const double along = std::max(std::abs(u) - half, 0.0);
    const double d = std::sqrt(along * along + v * v) - r;  // signed distance to the outline
    const double membrane = std::exp(-d * d / (2 * 0.8 * 0.8));
    const double cytoplasm = 0.28 / (1 + std::exp(d / 0.6));
    double septum = 0;
    if (c.septum > 0 && std::abs(v) < r) {
        // Grows inward from the membrane: present where |v| >= r (1 - completeness).
        const double reach = r * (1 - c.septum);
        const double edge = 1 / (1 + std::exp((reach - std::abs(v)) / 0.35));
        septum = 0.9 * std::exp(-u * u / (2 * 0.75 * 0.75)) * edge;
    }
    return c.brightness * (membrane + cytoplasm + septum);
}

// Separable Gaussian blur of a side x side image, clamped at the borders.
inline void blur(std::array<double, pixels>& image, double sigma) {
    const int radius = static_cast<int>(std::ceil(3 * sigma));
    std::vector<double> kernel(static_cast<std::size_t>(2 * radius + 1));
    double sum = 0;
    for (int k = -radius; k <= radius; ++k) sum += kernel[static_cast<std::size_t>(k + radius)] = std::exp(-k * k / (2 * sigma * sigma));
    for (auto& w : kernel) w /= sum;
    std::array<double, pixels> tmp{};
    const int n = static_cast<int>(side);
    for (int pass = 0; pass < 2; ++pass) {
        for (int y = 0; y < n; ++y)
            for (int x = 0; x < n; ++x) {
                double acc = 0;
                for (int k = -radius; k <= radius; ++k) {
                    const int xx = std::clamp(pass == 0 ? x + k : x, 0, n - 1);
                    const int yy = std::clamp(pass == 0 ? y : y + k, 0, n - 1);
                    acc += kernel[static_cast<std::size_t>(k + radius)] * image[static_cast<std::size_t>(yy * n + xx)];
                }
                tmp[static_cast<std::size_t>(y * n + x)] = acc;
            }
        image = tmp;
    }
}

// One 40x40 crop of a cell of `stage`, as 8-bit grey levels (row-major).
inline std::array<std::uint8_t, pixels> render(int stage, latent::Generator& g) {
    std::vector<Cell> cells{random_cell(stage, g)};
    if (g.uniform_double() < 0.35) {  // a neighbour reaching in from outside the crop
        Cell other = random_cell(static_cast<int>(g.below(3)), g);
        const double a = g.uniform(0, 2 * std::numbers::pi), dist = g.uniform(19, 27);
        other.cx = 20 + dist * std::cos(a);
        other.cy = 20 + dist * std::sin(a);
        cells.push_back(other);
    }
    std::array<double, pixels> image{};
    for (std::size_t y = 0; y < side; ++y)
        for (std::size_t x = 0; x < side; ++x) {
            double value = 0;
            for (double sy : {0.25, 0.75})  // 2x2 supersampling
                for (double sx : {0.25, 0.75})
                    for (const Cell& c : cells) value += fluorescence(c, static_cast<double>(x) + sx, static_cast<double>(y) + sy) / 4;
            image[y * side + x] = value;
        }
    blur(image, g.uniform(0.7, 1.4));
    const double background = g.uniform(0.03, 0.10), noise = g.uniform(0.02, 0.07), gain = g.uniform(0.75, 0.95);
    std::array<std::uint8_t, pixels> out{};
    for (std::size_t i = 0; i < pixels; ++i) {
        // Shot noise grows with the signal; read noise does not.
        const double signal = background + gain * image[i];
        const double v = signal + g.normal() * std::sqrt(noise * noise + 0.01 * signal);
        out[i] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255));
    }
    return out;
}

// Stages drawn with the proportions of a growing culture (most cells are not dividing).
inline int random_stage(latent::Generator& g) {
    const double u = g.uniform_double();
    return u < 0.45 ? 0 : u < 0.75 ? 1 : 2;
}

}  // namespace microscopy
