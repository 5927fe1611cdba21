// Plots drawn on the CPU into an Image (save them with write_png): a scatter plot coloured
// by class, a grid of grayscale images, and line plots of training curves. Text uses a
// built-in 5x7 bitmap font, so no font files or plotting libraries are needed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "png.hpp"

namespace latent::io {

// matplotlib's "tab10", so plots look familiar next to Keras tutorials; class i gets colour i % 10.
inline constexpr Rgb tab10[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                  {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                  {188, 189, 34},  {23, 190, 207}};
inline constexpr Rgb palette_colour(std::size_t i) noexcept { return tab10[i % 10]; }

struct ScatterOptions {
    std::size_t width = 640, height = 480;  // the whole picture, 32..16384 pixels a side
    std::string title, x_label, y_label;
    int dot_radius = 2;      // 0 draws single pixels
    double dot_alpha = 1.0;  // below 1 shows density where many points overlap
    int font_scale = 1;      // the title is drawn at twice this
};

struct LinePlotOptions {
    std::size_t width = 640, height = 480;
    std::string title, x_label = "epoch", y_label;
    int line_width = 2;
    std::size_t markers_up_to = 50;  // a dot on every point of curves this short (0: none); an
                                     // isolated point always gets one, so 1 epoch still shows
    int font_scale = 1;
};

// One curve of a line plot; point i is drawn at x = i + 1 (epochs count from 1).
struct LineSeries {
    std::string name;  // empty: left out of the legend
    std::vector<double> ys;
};

struct ImageGridOptions {
    std::size_t scale = 2;    // nearest-neighbour upscaling, so 28x28 digits are visible
    std::size_t padding = 2;  // pixels between tiles and around the grid
    Rgb background = {255, 255, 255};
    std::string title;
    std::vector<std::string> row_captions;  // drawn left of each row ("original", "reconstructed")
    int font_scale = 1;
};

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.

// Width in pixels of `text` drawn at `scale` (7 * scale is its height).
template <class = void>
int text_width(std::string_view text, int scale = 1) noexcept {
    return text.empty() ? 0 : static_cast<int>(text.size()) * 6 * scale - scale;
}

namespace detail::plot {

// ASCII 32..126, five columns per glyph, bit 0 the top row: the classic HD44780-style 5x7
// font, with g j p q y given an eighth row so their descenders do not read as 9 and P.
inline constexpr std::uint8_t font5x7[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x5F, 0x00, 0x00}, {0x00, 0x07, 0x00, 0x07, 0x00},
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, {0x24, 0x2A, 0x7F, 0x2A, 0x12}, {0x23, 0x13, 0x08, 0x64, 0x62},
    {0x36, 0x49, 0x55, 0x22, 0x50}, {0x00, 0x05, 0x03, 0x00, 0x00}, {0x00, 0x1C, 0x22, 0x41, 0x00},
    {0x00, 0x41, 0x22, 0x1C, 0x00}, {0x08, 0x2A, 0x1C, 0x2A, 0x08}, {0x08, 0x08, 0x3E, 0x08, 0x08},
    {0x00, 0x50, 0x30, 0x00, 0x00}, {0x08, 0x08, 0x08, 0x08, 0x08}, {0x00, 0x60, 0x60, 0x00, 0x00},
    {0x20, 0x10, 0x08, 0x04, 0x02}, {0x3E, 0x51, 0x49, 0x45, 0x3E}, {0x00, 0x42, 0x7F, 0x40, 0x00},
    {0x42, 0x61, 0x51, 0x49, 0x46}, {0x21, 0x41, 0x45, 0x4B, 0x31}, {0x18, 0x14, 0x12, 0x7F, 0x10},
    {0x27, 0x45, 0x45, 0x45, 0x39}, {0x3C, 0x4A, 0x49, 0x49, 0x30}, {0x01, 0x71, 0x09, 0x05, 0x03},
    {0x36, 0x49, 0x49, 0x49, 0x36}, {0x06, 0x49, 0x49, 0x29, 0x1E}, {0x00, 0x36, 0x36, 0x00, 0x00},
    {0x00, 0x56, 0x36, 0x00, 0x00}, {0x08, 0x14, 0x22, 0x41, 0x00}, {0x14, 0x14, 0x14, 0x14, 0x14},
    {0x00, 0x41, 0x22, 0x14, 0x08}, {0x02, 0x01, 0x51, 0x09, 0x06}, {0x32, 0x49, 0x79, 0x41, 0x3E},
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, {0x7F, 0x49, 0x49, 0x49, 0x36}, {0x3E, 0x41, 0x41, 0x41, 0x22},
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, {0x7F, 0x49, 0x49, 0x49, 0x41}, {0x7F, 0x09, 0x09, 0x09, 0x01},
    {0x3E, 0x41, 0x49, 0x49, 0x7A}, {0x7F, 0x08, 0x08, 0x08, 0x7F}, {0x00, 0x41, 0x7F, 0x41, 0x00},
    {0x20, 0x40, 0x41, 0x3F, 0x01}, {0x7F, 0x08, 0x14, 0x22, 0x41}, {0x7F, 0x40, 0x40, 0x40, 0x40},
    {0x7F, 0x02, 0x0C, 0x02, 0x7F}, {0x7F, 0x04, 0x08, 0x10, 0x7F}, {0x3E, 0x41, 0x41, 0x41, 0x3E},
    {0x7F, 0x09, 0x09, 0x09, 0x06}, {0x3E, 0x41, 0x51, 0x21, 0x5E}, {0x7F, 0x09, 0x19, 0x29, 0x46},
    {0x46, 0x49, 0x49, 0x49, 0x31}, {0x01, 0x01, 0x7F, 0x01, 0x01}, {0x3F, 0x40, 0x40, 0x40, 0x3F},
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, {0x3F, 0x40, 0x38, 0x40, 0x3F}, {0x63, 0x14, 0x08, 0x14, 0x63},
    {0x07, 0x08, 0x70, 0x08, 0x07}, {0x61, 0x51, 0x49, 0x45, 0x43}, {0x00, 0x7F, 0x41, 0x41, 0x00},
    {0x02, 0x04, 0x08, 0x10, 0x20}, {0x00, 0x41, 0x41, 0x7F, 0x00}, {0x04, 0x02, 0x01, 0x02, 0x04},
    {0x40, 0x40, 0x40, 0x40, 0x40}, {0x00, 0x01, 0x02, 0x04, 0x00}, {0x20, 0x54, 0x54, 0x54, 0x78},
    {0x7F, 0x48, 0x44, 0x44, 0x38}, {0x38, 0x44, 0x44, 0x44, 0x20}, {0x38, 0x44, 0x44, 0x48, 0x7F},
    {0x38, 0x54, 0x54, 0x54, 0x18}, {0x08, 0x7E, 0x09, 0x01, 0x02}, {0x98, 0xA4, 0xA4, 0xA4, 0x7C},
    {0x7F, 0x08, 0x04, 0x04, 0x78}, {0x00, 0x44, 0x7D, 0x40, 0x00}, {0x40, 0x80, 0x84, 0x7D, 0x00},
    {0x7F, 0x10, 0x28, 0x44, 0x00}, {0x00, 0x41, 0x7F, 0x40, 0x00}, {0x7C, 0x04, 0x18, 0x04, 0x78},
    {0x7C, 0x08, 0x04, 0x04, 0x78}, {0x38, 0x44, 0x44, 0x44, 0x38}, {0xFC, 0x24, 0x24, 0x24, 0x18},
    {0x18, 0x24, 0x24, 0x24, 0xFC}, {0x7C, 0x08, 0x04, 0x04, 0x08}, {0x48, 0x54, 0x54, 0x54, 0x20},
    {0x04, 0x3F, 0x44, 0x40, 0x20}, {0x3C, 0x40, 0x40, 0x20, 0x7C}, {0x1C, 0x20, 0x40, 0x20, 0x1C},
    {0x3C, 0x40, 0x30, 0x40, 0x3C}, {0x44, 0x28, 0x10, 0x28, 0x44}, {0x1C, 0xA0, 0xA0, 0xA0, 0x7C},
    {0x44, 0x64, 0x54, 0x4C, 0x44}, {0x00, 0x08, 0x36, 0x41, 0x00}, {0x00, 0x00, 0x7F, 0x00, 0x00},
    {0x00, 0x41, 0x36, 0x08, 0x00}, {0x08, 0x04, 0x08, 0x10, 0x08},
};

// Drawing is clipped to a rectangle [x0, x1) x [y0, y1): the image for text and frames,
// the plot area for data, so dots at the edge do not spill over the tick labels.
struct Canvas {
    Image* image;
    int x0, y0, x1, y1;

    explicit Canvas(Image& img)
        : image(&img), x0(0), y0(0), x1(static_cast<int>(img.width)), y1(static_cast<int>(img.height)) {}
    Canvas(Image& img, int left, int top, int right, int bottom)
        : image(&img), x0(std::max(left, 0)), y0(std::max(top, 0)), x1(std::min(right, static_cast<int>(img.width))),
          y1(std::min(bottom, static_cast<int>(img.height))) {}

    void blend(int x, int y, Rgb c, double alpha) const noexcept {
        if (x < x0 || x >= x1 || y < y0 || y >= y1) return;
        if (alpha >= 1.0) return image->set_pixel(x, y, c);
        const Rgb old = image->pixel(static_cast<std::size_t>(x), static_cast<std::size_t>(y));
        const auto mix = [alpha](std::uint8_t a, std::uint8_t b) {
            return static_cast<std::uint8_t>(std::lround(alpha * a + (1.0 - alpha) * b));
        };
        image->set_pixel(x, y, {mix(c.r, old.r), mix(c.g, old.g), mix(c.b, old.b)});
    }
    void fill_rect(int x, int y, int w, int h, Rgb c) const noexcept {
        for (int yy = std::max(y, y0); yy < std::min(y + h, y1); ++yy)
            for (int xx = std::max(x, x0); xx < std::min(x + w, x1); ++xx) image->set_pixel(xx, yy, c);
    }
    void fill_circle(int cx, int cy, int r, Rgb c, double alpha = 1.0) const noexcept {
        for (int dy = -r; dy <= r; ++dy)
            for (int dx = -r; dx <= r; ++dx)
                if (dx * dx + dy * dy <= r * r + r) blend(cx + dx, cy + dy, c, alpha);
    }
    // Bresenham with a square pen `thickness` pixels wide.
    void line(int xa, int ya, int xb, int yb, Rgb c, int thickness) const noexcept {
        const int dx = std::abs(xb - xa), dy = -std::abs(yb - ya);
        const int sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1;
        const int off = (thickness - 1) / 2;
        int err = dx + dy;
        for (;;) {
            fill_rect(xa - off, ya - off, thickness, thickness, c);
            if (xa == xb && ya == yb) break;
            const int e2 = 2 * err;
            if (e2 >= dy) {
                err += dy;
                xa += sx;
            }
            if (e2 <= dx) {
                err += dx;
                ya += sy;
            }
        }
    }
    // Text in the 5x7 font; `up` turns it a quarter anticlockwise to read bottom to top,
    // (x, y) staying the top-left corner of the box the text covers.
    void text(int x, int y, std::string_view s, Rgb c, int scale, bool up = false) const noexcept {
        const int length = static_cast<int>(s.size()) * 6 * scale - scale;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const unsigned char ch = static_cast<unsigned char>(s[i]);
            const std::uint8_t* glyph = font5x7[(ch >= 32 && ch <= 126 ? ch : '?') - 32];
            for (int col = 0; col < 5; ++col)
                for (int row = 0; row < 8; ++row) {
                    if (((glyph[col] >> row) & 1) == 0) continue;
                    const int u = (static_cast<int>(i) * 6 + col) * scale, v = row * scale;
                    if (up)
                        fill_rect(x + v, y + length - u - scale, scale, scale, c);
                    else
                        fill_rect(x + u, y + v, scale, scale, c);
                }
        }
    }
};

template <class = void>
int to_px(double v) noexcept {
    if (!(v > -1e6)) return -1000000;  // NaN too: far outside any canvas
    if (v > 1e6) return 1000000;
    return static_cast<int>(std::lround(v));
}

[[noreturn]] inline void fail(std::string_view what, const std::string& message) {
    throw value_error("latent.io.plot." + std::string(what), message);
}

template <class = void>
void check_size(const char* caller, std::size_t width, std::size_t height, int font_scale) {
    if (width < 32 || height < 32 || width > 16384 || height > 16384)
        fail("options", std::string(caller) + ": the picture must be 32..16384 pixels a side, options ask for " +
                            std::to_string(width) + "x" + std::to_string(height));
    if (font_scale < 1 || font_scale > 16)
        fail("options", std::string(caller) + ": font_scale must be 1..16, got " + std::to_string(font_scale));
}

// An axis: its limits in data units and round tick values (1, 2 or 5 times a power of ten)
// with labels that show just enough decimals to tell neighbours apart.
struct Axis {
    double lo = 0, hi = 1;
    std::vector<double> ticks;
    std::vector<std::string> labels;
};

template <class = void>
Axis make_axis(double min, double max, bool integer_ticks) {
    Axis a;
    if (!(min <= max)) {  // no finite data
        min = 0;
        max = 1;
    }
    if (max == min) {
        const double half = std::max(0.5, std::abs(min) * 0.05);
        a.lo = min - half;
        a.hi = max + half;
    } else {
        const double pad = 0.05 * (max - min);
        a.lo = min - pad;
        a.hi = max + pad;
    }
    if (!std::isfinite(a.hi - a.lo)) return a;  // no ticks for ranges near the double limit
    const double raw = (a.hi - a.lo) / 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
    if (integer_ticks) step = std::max(step, 1.0);
    if (!(step > 0) || !std::isfinite(step)) return a;
    const double first = std::ceil(a.lo / step - 1e-9), last = std::floor(a.hi / step + 1e-9);
    if (!(last - first < 50)) return a;
    double largest = 0;
    for (double k = first; k <= last; ++k) largest = std::max(largest, std::abs(k * step));
    const bool scientific = largest >= 1e6 || step < 1e-4;
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    for (double k = first; k <= last; ++k) {
        const double t = k == 0 ? 0.0 : k * step;  // never "-0"
        char buf[64];
        if (scientific)
            std::snprintf(buf, sizeof buf, "%.3g", t);
        else
            std::snprintf(buf, sizeof buf, "%.*f", decimals, t);
        a.ticks.push_back(t);
        a.labels.emplace_back(buf);
    }
    return a;
}

struct LegendEntry {
    std::string name;
    Rgb colour;
};

inline constexpr Rgb ink = {0, 0, 0};
inline constexpr Rgb grid_grey = {225, 225, 225};
inline constexpr Rgb frame_grey = {80, 80, 80};

// The frame shared by scatter and line plots: title, axes box, grid, ticks, labels and a
// legend to the right of the axes (outside them, so it never hides data). Data is drawn
// afterwards through `area`, mapped by px/py.
class Frame {
public:
    Frame(Image& image, const std::string& title, const std::string& x_label, const std::string& y_label,
          int font_scale, Axis x, Axis y, std::vector<LegendEntry> legend)
        : image_(image), x_(std::move(x)), y_(std::move(y)), s_(font_scale) {
        const int th = 7 * s_, pad = 10 * s_, tick = 4 * s_, gap = 4 * s_;
        const int w = static_cast<int>(image.width), h = static_cast<int>(image.height);
        int y_label_w = 0;
        for (const auto& l : y_.labels) y_label_w = std::max(y_label_w, text_width(l, s_));
        int legend_w = 0, name_w = 0;
        for (const auto& e : legend) name_w = std::max(name_w, text_width(e.name, s_));
        if (!legend.empty()) legend_w = 2 * gap + th + 2 * s_ + gap + name_w + 2 * gap;

        left_ = pad + (y_label.empty() ? 0 : th + 2 * gap) + y_label_w + gap + tick;
        top_ = pad + (title.empty() ? th / 2 : 2 * th + 2 * gap);
        right_ = w - (legend.empty() ? 2 * pad : legend_w + 2 * pad);
        bottom_ = h - (pad + tick + gap + th + (x_label.empty() ? 0 : 2 * gap + th));
        right_ = std::max(right_, left_ + 2);
        bottom_ = std::max(bottom_, top_ + 2);

        const Canvas all(image);
        const Canvas inside = area();
        for (std::size_t i = 0; i < x_.ticks.size(); ++i) {
            const int tx = px(x_.ticks[i]);
            inside.fill_rect(tx, top_, 1, bottom_ - top_, grid_grey);
            all.fill_rect(tx, bottom_, 1, tick, frame_grey);
            const int lw = text_width(x_.labels[i], s_);
            all.text(tx - lw / 2, bottom_ + tick + gap, x_.labels[i], ink, s_);
        }
        for (std::size_t i = 0; i < y_.ticks.size(); ++i) {
            const int ty = py(y_.ticks[i]);
            inside.fill_rect(left_, ty, right_ - left_, 1, grid_grey);
            all.fill_rect(left_ - tick, ty, tick, 1, frame_grey);
            all.text(left_ - tick - gap - text_width(y_.labels[i], s_), ty - th / 2, y_.labels[i], ink, s_);
        }
        // The box sits just outside the data area, so data never covers it.
        all.fill_rect(left_ - 1, top_ - 1, right_ - left_ + 2, 1, frame_grey);
        all.fill_rect(left_ - 1, bottom_, right_ - left_ + 2, 1, frame_grey);
        all.fill_rect(left_ - 1, top_ - 1, 1, bottom_ - top_ + 2, frame_grey);
        all.fill_rect(right_, top_ - 1, 1, bottom_ - top_ + 2, frame_grey);

        if (!title.empty()) all.text((w - text_width(title, 2 * s_)) / 2, pad, title, ink, 2 * s_);
        if (!x_label.empty())
            all.text((left_ + right_ - text_width(x_label, s_)) / 2, bottom_ + tick + gap + th + 2 * gap, x_label, ink,
                     s_);
        if (!y_label.empty())
            all.text(pad, (top_ + bottom_ - text_width(y_label, s_)) / 2, y_label, ink, s_, /*up=*/true);

        if (!legend.empty()) {
            const int row_h = th + 2 * gap;
            const int lx = right_ + pad, ly = top_;
            const int lh = static_cast<int>(legend.size()) * row_h + 2 * gap;
            all.fill_rect(lx, ly, legend_w, lh, {255, 255, 255});
            all.fill_rect(lx, ly, legend_w, 1, frame_grey);
            all.fill_rect(lx, ly + lh - 1, legend_w, 1, frame_grey);
            all.fill_rect(lx, ly, 1, lh, frame_grey);
            all.fill_rect(lx + legend_w - 1, ly, 1, lh, frame_grey);
            for (std::size_t i = 0; i < legend.size(); ++i) {
                const int ry = ly + gap + static_cast<int>(i) * row_h + gap;
                all.fill_rect(lx + 2 * gap, ry, th + 2 * s_, th, legend[i].colour);
                all.text(lx + 2 * gap + th + 2 * s_ + gap, ry, legend[i].name, ink, s_);
            }
        }
    }

    Canvas area() const { return Canvas(image_, left_, top_, right_, bottom_); }
    int px(double x) const noexcept {
        return to_px(left_ + (x - x_.lo) / (x_.hi - x_.lo) * static_cast<double>(right_ - left_ - 1));
    }
    int py(double y) const noexcept {
        return to_px(bottom_ - 1 - (y - y_.lo) / (y_.hi - y_.lo) * static_cast<double>(bottom_ - top_ - 1));
    }

private:
    Image& image_;
    Axis x_, y_;
    int s_;
    int left_ = 0, top_ = 0, right_ = 0, bottom_ = 0;
};

template <class = void>
Image scatter(const ScatterOptions& o, std::span<const double> xs, std::span<const double> ys,
              std::span<const int> labels, const std::vector<std::string>& class_names) {
    check_size("scatter_plot", o.width, o.height, o.font_scale);
    if (o.dot_radius < 0 || o.dot_radius > 64)
        fail("options", "scatter_plot: dot_radius must be 0..64, got " + std::to_string(o.dot_radius));
    if (xs.size() != ys.size())
        fail("length", "scatter_plot: expected one y per x, got " + std::to_string(xs.size()) + " xs and " +
                           std::to_string(ys.size()) + " ys");
    if (!labels.empty() && labels.size() != xs.size())
        fail("length", "scatter_plot: expected one label per point (" + std::to_string(xs.size()) +
                           ") or none, got " + std::to_string(labels.size()) + " labels");
    int max_label = labels.empty() ? -1 : 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || (!class_names.empty() && static_cast<std::size_t>(labels[i]) >= class_names.size()))
            fail("label", "scatter_plot: point " + std::to_string(i) + " has label " + std::to_string(labels[i]) +
                              (class_names.empty() ? std::string(", expected a class index >= 0")
                                                   : ", expected 0.." + std::to_string(class_names.size() - 1) +
                                                         " (one per class name)"));
        max_label = std::max(max_label, labels[i]);
    }

    constexpr double inf = std::numeric_limits<double>::infinity();
    double x_min = inf, x_max = -inf, y_min = inf, y_max = -inf;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
        x_min = std::min(x_min, xs[i]);
        x_max = std::max(x_max, xs[i]);
        y_min = std::min(y_min, ys[i]);
        y_max = std::max(y_max, ys[i]);
    }
    std::vector<LegendEntry> legend;
    for (std::size_t c = 0; c < class_names.size(); ++c) legend.push_back({class_names[c], palette_colour(c)});
    if (class_names.empty())
        for (int c = 0; c <= max_label; ++c) legend.push_back({std::to_string(c), palette_colour(static_cast<std::size_t>(c))});

    Image image(o.width, o.height);
    const Frame frame(image, o.title, o.x_label, o.y_label, o.font_scale, make_axis(x_min, x_max, false),
                      make_axis(y_min, y_max, false), std::move(legend));
    const Canvas area = frame.area();
    const double alpha = std::isnan(o.dot_alpha) ? 1.0 : std::clamp(o.dot_alpha, 0.0, 1.0);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
        const Rgb c = palette_colour(labels.empty() ? 0 : static_cast<std::size_t>(labels[i]));
        area.fill_circle(frame.px(xs[i]), frame.py(ys[i]), o.dot_radius, c, alpha);
    }
    return image;
}

}  // namespace detail::plot

// Draws `text` with its top-left corner at (x, y), clipped to the image; characters outside
// printable ASCII show as '?'.
template <class = void>
void draw_text(Image& image, int x, int y, std::string_view text, Rgb colour, int scale = 1) {
    detail::plot::Canvas(image).text(x, y, text, colour, std::max(scale, 1));
}

// The same, turned to read bottom to top (a y-axis label); (x, y) is the top-left corner of
// the 7*scale wide, text_width tall box it covers.
template <class = void>
void draw_text_up(Image& image, int x, int y, std::string_view text, Rgb colour, int scale = 1) {
    detail::plot::Canvas(image).text(x, y, text, colour, std::max(scale, 1), /*up=*/true);
}

// A scatter plot of (xs[i], ys[i]), each point coloured by its class labels[i] (tab10), with
// a legend naming each class (class_names, or the class numbers when none are given). Labels
// may be empty: every point is then class 0. Points with a non-finite coordinate are skipped.
// Throws value_error: "latent.io.plot.length" when xs, ys and labels disagree in length,
// "latent.io.plot.label" for a label outside class_names, "latent.io.plot.options".
template <class = void>
Image scatter_plot(const ScatterOptions& options, std::span<const double> xs, std::span<const double> ys,
                   std::span<const int> labels = {}, const std::vector<std::string>& class_names = {}) {
    return detail::plot::scatter(options, xs, ys, labels, class_names);
}

// The same for float coordinates (a latent code straight from a Tensor).
template <class = void>
Image scatter_plot(const ScatterOptions& options, std::span<const float> xs, std::span<const float> ys,
                   std::span<const int> labels = {}, const std::vector<std::string>& class_names = {}) {
    const std::vector<double> x(xs.begin(), xs.end()), y(ys.begin(), ys.end());
    return detail::plot::scatter(options, x, y, labels, class_names);
}

// Curves against x = 1..n (epochs), one tab10 colour per series in order, with a legend of
// the named ones. Non-finite values leave a gap in their curve.
// Throws value_error "latent.io.plot.options" for unusable options.
template <class = void>
Image line_plot(const LinePlotOptions& options, const std::vector<LineSeries>& series) {
    using namespace detail::plot;
    check_size("line_plot", options.width, options.height, options.font_scale);
    if (options.line_width < 1 || options.line_width > 64)
        fail("options", "line_plot: line_width must be 1..64, got " + std::to_string(options.line_width));
    std::size_t n = 0;
    double y_min = std::numeric_limits<double>::infinity(), y_max = -y_min;
    std::vector<LegendEntry> legend;
    for (std::size_t s = 0; s < series.size(); ++s) {
        n = std::max(n, series[s].ys.size());
        for (const double v : series[s].ys)
            if (std::isfinite(v)) {
                y_min = std::min(y_min, v);
                y_max = std::max(y_max, v);
            }
        if (!series[s].name.empty()) legend.push_back({series[s].name, palette_colour(s)});
    }
    Image image(options.width, options.height);
    const Frame frame(image, options.title, options.x_label, options.y_label, options.font_scale,
                      make_axis(1.0, n == 0 ? 1.0 : static_cast<double>(n), true), make_axis(y_min, y_max, false),
                      std::move(legend));
    const Canvas area = frame.area();
    const int marker = options.line_width + 1;
    for (std::size_t s = 0; s < series.size(); ++s) {
        const Rgb c = palette_colour(s);
        const std::vector<double>& ys = series[s].ys;
        const auto at = [&](std::size_t i) {
            return std::pair{frame.px(static_cast<double>(i + 1)), frame.py(ys[i])};
        };
        for (std::size_t i = 0; i < ys.size(); ++i) {
            if (!std::isfinite(ys[i])) continue;
            const auto [x, y] = at(i);
            if (i + 1 < ys.size() && std::isfinite(ys[i + 1])) {
                const auto [x2, y2] = at(i + 1);
                area.line(x, y, x2, y2, c, options.line_width);
            }
            const bool alone = (i == 0 || !std::isfinite(ys[i - 1])) && (i + 1 == ys.size() || !std::isfinite(ys[i + 1]));
            if (ys.size() <= options.markers_up_to || alone) area.fill_circle(x, y, marker, c);
        }
    }
    return image;
}

// Tiles `count` grayscale images of height x width floats each (row-major, one after the
// other), `columns` per row, scaled by options.scale; values are clamped to [0, 1] (NaN
// shows as 0). The picture is caption + columns*(width*scale) + (columns+1)*padding wide and
// title + rows*(height*scale) + (rows+1)*padding tall, rows = ceil(count / columns).
// Throws value_error "latent.io.plot.options" for zero sizes or a picture over 32768 pixels a side.
template <class = void>
Image image_grid(const float* images, std::size_t count, std::size_t height, std::size_t width,
                 std::size_t columns, const ImageGridOptions& options = {}) {
    using namespace detail::plot;
    const std::size_t scale = options.scale, padding = options.padding;
    if (height == 0 || width == 0 || columns == 0 || scale == 0)
        fail("options", "image_grid: height, width, columns and scale must be at least 1, got " +
                            std::to_string(height) + ", " + std::to_string(width) + ", " + std::to_string(columns) +
                            ", " + std::to_string(scale));
    if (options.font_scale < 1 || options.font_scale > 16)
        fail("options", "image_grid: font_scale must be 1..16, got " + std::to_string(options.font_scale));
    if (count != 0 && images == nullptr) fail("options", "image_grid: images is null but count is " + std::to_string(count));
    constexpr std::size_t limit = 32768;
    if (height > limit || width > limit || scale > limit || padding > limit || columns > limit || count / columns >= limit)
        fail("options", "image_grid: the picture would be over 32768 pixels a side; show fewer or smaller images");
    const std::size_t rows = (count + columns - 1) / columns;
    const int s = options.font_scale, th = 7 * s, gap = 4 * s;
    int caption_w = 0;
    for (const auto& c : options.row_captions) caption_w = std::max(caption_w, text_width(c, s));
    const std::size_t left = caption_w == 0 ? 0 : static_cast<std::size_t>(caption_w + 2 * gap);
    const std::size_t top = options.title.empty() ? 0 : static_cast<std::size_t>(2 * th + 3 * gap);
    const std::size_t tile_w = width * scale, tile_h = height * scale;
    const std::size_t total_w = left + columns * tile_w + (columns + 1) * padding;
    const std::size_t total_h = top + rows * tile_h + (rows + 1) * padding;
    if (total_w > limit || total_h > limit)
        fail("options", "image_grid: the picture would be " + std::to_string(total_w) + "x" + std::to_string(total_h) +
                            " pixels, over 32768 a side; show fewer or smaller images");

    Image image(std::max<std::size_t>(total_w, 1), std::max<std::size_t>(total_h, 1), options.background);
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t x0 = left + padding + (k % columns) * (tile_w + padding);
        const std::size_t y0 = top + padding + (k / columns) * (tile_h + padding);
        const float* src = images + k * height * width;  // (height, width)
        for (std::size_t r = 0; r < tile_h; ++r)
            for (std::size_t c = 0; c < tile_w; ++c) {
                const float v = src[(r / scale) * width + c / scale];
                const double clamped = std::isnan(v) ? 0.0 : std::clamp(static_cast<double>(v), 0.0, 1.0);
                const auto g = static_cast<std::uint8_t>(std::lround(clamped * 255.0));
                image.set_pixel(static_cast<std::ptrdiff_t>(x0 + c), static_cast<std::ptrdiff_t>(y0 + r), {g, g, g});
            }
    }
    const Canvas all(image);
    if (!options.title.empty())
        all.text((static_cast<int>(total_w) - text_width(options.title, 2 * s)) / 2, 2 * gap, options.title, ink, 2 * s);
    for (std::size_t r = 0; r < rows && r < options.row_captions.size(); ++r) {
        const int y = static_cast<int>(top + padding + r * (tile_h + padding) + tile_h / 2) - th / 2;
        all.text(gap, y, options.row_captions[r], ink, s);
    }
    return image;
}

// The same over a span holding whole images; throws value_error "latent.io.plot.length"
// when its size is not a multiple of height * width.
template <class = void>
Image image_grid(std::span<const float> images, std::size_t height, std::size_t width, std::size_t columns,
                 const ImageGridOptions& options = {}) {
    if (height == 0 || width == 0 || images.size() % (height * width) != 0)
        detail::plot::fail("length", "image_grid: expected whole images of " + std::to_string(height) + "x" +
                                         std::to_string(width) + " values, got " + std::to_string(images.size()) +
                                         " values");
    return image_grid(images.data(), images.size() / (height * width), height, width, columns, options);
}

}  // namespace latent::io
