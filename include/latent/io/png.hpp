// RGB8 images and a small PNG writer over zlib, so examples can save plots and image grids
// that any viewer opens. Writing only: latent never needs to read PNGs back.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../core/errors.hpp"
#include "file.hpp"

namespace latent::io {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
    friend constexpr bool operator==(Rgb, Rgb) = default;
};

// Row-major pixels, 3 bytes (r, g, b) each. Drawing code calls set_pixel with coordinates
// that may fall outside the image (a dot at the plot's edge), so set_pixel clips.
struct Image {
    std::size_t width = 0, height = 0;
    std::vector<std::uint8_t> rgb;  // (height, width, 3)

    Image() = default;
    Image(std::size_t w, std::size_t h, Rgb fill = {255, 255, 255}) : width(w), height(h), rgb(w * h * 3) {
        for (std::size_t i = 0; i < rgb.size(); i += 3) {
            rgb[i] = fill.r;
            rgb[i + 1] = fill.g;
            rgb[i + 2] = fill.b;
        }
    }

    bool contains(std::ptrdiff_t x, std::ptrdiff_t y) const noexcept {
        return x >= 0 && y >= 0 && static_cast<std::size_t>(x) < width && static_cast<std::size_t>(y) < height;
    }

    // Throws value_error "latent.io.image.pixel" outside the image.
    Rgb pixel(std::size_t x, std::size_t y) const {
        if (x >= width || y >= height)
            throw value_error("latent.io.image.pixel", "pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                                                           ") is outside the " + std::to_string(width) + "x" +
                                                           std::to_string(height) + " image");
        const std::size_t i = (y * width + x) * 3;
        return {rgb[i], rgb[i + 1], rgb[i + 2]};
    }

    // Does nothing outside the image.
    void set_pixel(std::ptrdiff_t x, std::ptrdiff_t y, Rgb c) noexcept {
        if (!contains(x, y)) return;
        const std::size_t i = (static_cast<std::size_t>(y) * width + static_cast<std::size_t>(x)) * 3;
        rgb[i] = c.r;
        rgb[i + 1] = c.g;
        rgb[i + 2] = c.b;
    }
};

namespace detail::png {

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.
template <class = void>
void put_u32_be(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFFu));
}

// Appends one chunk: length, type, data, then the CRC of type and data.
template <class = void>
void put_chunk(std::vector<std::uint8_t>& out, const char (&type)[5], const std::uint8_t* data,
               std::size_t size) {
    put_u32_be(out, static_cast<std::uint32_t>(size));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    if (size != 0) out.insert(out.end(), data, data + size);
    uLong crc = ::crc32(0L, Z_NULL, 0);
    crc = ::crc32(crc, out.data() + start, static_cast<uInt>(out.size() - start));
    put_u32_be(out, static_cast<std::uint32_t>(crc));
}

}  // namespace detail::png

// The whole PNG file for `image`: 8-bit truecolour, no interlace, filter 0 on every row.
// Throws value_error "latent.io.png.size" for an empty image, one over PNG's 2^31-1 limit,
// or one whose rgb buffer does not hold width*height*3 bytes.
template <class = void>
std::vector<std::uint8_t> encode_png(const Image& image) {
    constexpr std::size_t png_max_side = 0x7FFFFFFF;
    const auto fail = [](const std::string& why) { throw value_error("latent.io.png.size", why); };
    const std::string dims = std::to_string(image.width) + "x" + std::to_string(image.height);
    if (image.width == 0 || image.height == 0) fail("a PNG needs at least 1x1 pixels, the image is " + dims);
    if (image.width > png_max_side || image.height > png_max_side)
        fail("the image is " + dims + ", above PNG's limit of 2147483647 pixels a side");
    if (image.width > std::numeric_limits<std::size_t>::max() / 4 / image.height)
        fail("the image " + dims + " has more pixels than memory can address");
    const std::size_t row = 1 + 3 * image.width;
    if (image.rgb.size() != image.width * image.height * 3)
        fail("the image is " + dims + " but holds " + std::to_string(image.rgb.size()) + " bytes, expected " +
             std::to_string(image.width * image.height * 3));

    // Each row is prefixed with its filter type; 0 (none) keeps the writer trivial, and
    // zlib still squeezes the flat areas of a plot well.
    std::vector<std::uint8_t> raw(row * image.height);
    for (std::size_t y = 0; y < image.height; ++y) {
        raw[y * row] = 0;
        const std::uint8_t* src = image.rgb.data() + y * image.width * 3;
        std::copy(src, src + image.width * 3, raw.begin() + static_cast<std::ptrdiff_t>(y * row + 1));
    }
    if (raw.size() > std::numeric_limits<uLong>::max()) fail("the image " + dims + " is too large for zlib");
    uLongf packed_size = ::compressBound(static_cast<uLong>(raw.size()));
    std::vector<std::uint8_t> packed(packed_size);
    const int r = ::compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 6);
    if (r != Z_OK) fail("zlib failed to compress the " + dims + " image (code " + std::to_string(r) + ")");

    std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    out.reserve(out.size() + 3 * 12 + 13 + packed_size);
    std::vector<std::uint8_t> ihdr;
    detail::png::put_u32_be(ihdr, static_cast<std::uint32_t>(image.width));
    detail::png::put_u32_be(ihdr, static_cast<std::uint32_t>(image.height));
    ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // bit depth, colour type RGB, deflate, filter set 0, no interlace
    detail::png::put_chunk(out, "IHDR", ihdr.data(), ihdr.size());
    // PNG caps a chunk at 2^31-1 bytes; splitting also keeps each crc32 call within uInt.
    constexpr std::size_t idat_max = std::size_t{1} << 30;
    for (std::size_t at = 0; at < packed_size; at += idat_max)
        detail::png::put_chunk(out, "IDAT", packed.data() + at, std::min<std::size_t>(idat_max, packed_size - at));
    detail::png::put_chunk(out, "IEND", nullptr, 0);
    return out;
}

// Writes `image` as a PNG through a temporary file in the same directory renamed over
// `path` once complete, so a viewer refreshing the file never sees half a picture.
// Throws io_error "latent.io.png.write" (naming the file and the system's reason) and
// leaves no temporary behind; value_error from encode_png.
template <class = void>
void write_png(const std::filesystem::path& path, const Image& image) {
    const std::vector<std::uint8_t> bytes = encode_png(image);
    const std::string label = detail::file_label(path);
    detail::AtomicFile file(path, "latent.io.png.write", label);
    file.write(bytes.data(), bytes.size());
    file.commit();
}

}  // namespace latent::io
