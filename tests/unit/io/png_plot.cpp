// Tests of latent/io/png.hpp and latent/io/plot.hpp: PNG bytes checked chunk by chunk with
// zlib (CRCs, decompressed rows), atomic writes, and the plots' pixels, sizes and errors.
#include <doctest/doctest.h>

#include "support/files.hpp"
#include "support/messages.hpp"

#include <latent/io/plot.hpp>
#include <latent/io/png.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

namespace fs = std::filesystem;
using latent::io::Image;
using latent::io::Rgb;

namespace {

std::uint32_t get_u32_be(const std::vector<std::uint8_t>& b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
           std::uint32_t{b[at + 3]};
}

struct Chunk {
    std::string type;
    std::vector<std::uint8_t> data;
};

// Splits a PNG into chunks, checking the signature and every CRC on the way.
std::vector<Chunk> parse_png(const std::vector<std::uint8_t>& png) {
    const std::vector<std::uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    REQUIRE(png.size() >= 8);
    REQUIRE(std::vector<std::uint8_t>(png.begin(), png.begin() + 8) == signature);
    std::vector<Chunk> chunks;
    std::size_t at = 8;
    while (at < png.size()) {
        REQUIRE(at + 12 <= png.size());
        const std::size_t length = get_u32_be(png, at);
        REQUIRE(at + 12 + length <= png.size());
        Chunk c;
        c.type.assign(reinterpret_cast<const char*>(png.data() + at + 4), 4);
        c.data.assign(png.begin() + static_cast<std::ptrdiff_t>(at + 8),
                      png.begin() + static_cast<std::ptrdiff_t>(at + 8 + length));
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), png.data() + at + 4, static_cast<uInt>(4 + length));
        CHECK_MESSAGE(get_u32_be(png, at + 8 + length) == static_cast<std::uint32_t>(crc), "CRC of " << c.type);
        chunks.push_back(std::move(c));
        at += 12 + length;
    }
    return chunks;
}

// The decoded rows (filter byte + RGB) of a PNG written by encode_png, after checking IHDR.
std::vector<std::uint8_t> png_rows(const std::vector<std::uint8_t>& png, std::size_t width, std::size_t height) {
    const std::vector<Chunk> chunks = parse_png(png);
    REQUIRE(chunks.size() >= 3);
    REQUIRE(chunks.front().type == "IHDR");
    CHECK(chunks.back().type == "IEND");
    CHECK(chunks.back().data.empty());
    const auto& ihdr = chunks.front().data;
    REQUIRE(ihdr.size() == 13);
    CHECK(get_u32_be(ihdr, 0) == width);
    CHECK(get_u32_be(ihdr, 4) == height);
    CHECK(ihdr[8] == 8);   // bit depth
    CHECK(ihdr[9] == 2);   // truecolour
    CHECK(ihdr[10] == 0);  // deflate
    CHECK(ihdr[11] == 0);  // filter method
    CHECK(ihdr[12] == 0);  // no interlace
    std::vector<std::uint8_t> packed;
    for (const auto& c : chunks)
        if (c.type == "IDAT") packed.insert(packed.end(), c.data.begin(), c.data.end());
    const std::size_t expected = height * (1 + 3 * width);
    std::vector<std::uint8_t> rows(expected + 16);
    uLongf size = static_cast<uLongf>(rows.size());
    REQUIRE(uncompress(rows.data(), &size, packed.data(), static_cast<uLong>(packed.size())) == Z_OK);
    REQUIRE(size == expected);
    rows.resize(size);
    return rows;
}

std::size_t count_colour(const Image& image, Rgb colour, std::size_t x_from = 0) {
    std::size_t n = 0;
    for (std::size_t y = 0; y < image.height; ++y)
        for (std::size_t x = x_from; x < image.width; ++x) n += image.pixel(x, y) == colour ? 1 : 0;
    return n;
}

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

}  // namespace

TEST_CASE("png: encode_png writes a structurally valid PNG with the pixels drawn") {
    Image image(3, 2, {10, 20, 30});
    image.set_pixel(0, 0, {255, 0, 0});
    image.set_pixel(2, 1, {1, 2, 3});
    const std::vector<std::uint8_t> png = latent::io::encode_png(image);
    const std::vector<std::uint8_t> rows = png_rows(png, 3, 2);
    const std::vector<std::uint8_t> expected = {0, 255, 0, 0, 10, 20, 30, 10, 20, 30,  //
                                                0, 10,  20, 30, 10, 20, 30, 1,  2,  3};
    CHECK(rows == expected);
}

TEST_CASE("png: a larger image round-trips through zlib row by row") {
    Image image(37, 23);
    for (std::size_t y = 0; y < 23; ++y)
        for (std::size_t x = 0; x < 37; ++x)
            image.set_pixel(static_cast<std::ptrdiff_t>(x), static_cast<std::ptrdiff_t>(y),
                            {static_cast<std::uint8_t>(x * 7), static_cast<std::uint8_t>(y * 11),
                             static_cast<std::uint8_t>(x ^ y)});
    const std::vector<std::uint8_t> rows = png_rows(latent::io::encode_png(image), 37, 23);
    for (std::size_t y = 0; y < 23; ++y) {
        CHECK(rows[y * (1 + 3 * 37)] == 0);
        for (std::size_t x = 0; x < 37; ++x) {
            const std::size_t at = y * (1 + 3 * 37) + 1 + 3 * x;
            const Rgb p = image.pixel(x, y);
            CHECK(Rgb{rows[at], rows[at + 1], rows[at + 2]} == p);
        }
    }
}

TEST_CASE("png: Image clips drawing outside it and refuses to read outside it") {
    Image image(2, 2, {0, 0, 0});
    image.set_pixel(-1, 0, {9, 9, 9});
    image.set_pixel(0, 2, {9, 9, 9});
    image.set_pixel(2, 0, {9, 9, 9});
    CHECK(count_colour(image, {0, 0, 0}) == 4);
    LATENT_CHECK_ERROR(latent::value_error, image.pixel(2, 0), "latent.io.image.pixel", "outside the 2x2 image");
}

TEST_CASE("png: encode_png rejects empty and inconsistent images") {
    LATENT_CHECK_ERROR(latent::value_error, latent::io::encode_png(Image(0, 5)), "latent.io.png.size", "0x5");
    Image torn(4, 4);
    torn.rgb.pop_back();
    LATENT_CHECK_ERROR(latent::value_error, latent::io::encode_png(torn), "latent.io.png.size", "expected 48");
}

TEST_CASE("png: write_png writes the encoded bytes and leaves no temporary") {
    const fs::path dir = latent::testing::fresh_dir("png", "write");
    const fs::path path = dir / "picture.png";
    Image first(5, 4, {1, 2, 3});
    latent::io::write_png(path, first);
    Image second(6, 2, {200, 100, 0});
    latent::io::write_png(path, second);  // replaces the first
    const std::vector<std::byte> bytes = latent::testing::read_all(path);
    const std::vector<std::uint8_t> expected = latent::io::encode_png(second);
    REQUIRE(bytes.size() == expected.size());
    CHECK(std::equal(expected.begin(), expected.end(), bytes.begin(),
                     [](std::uint8_t a, std::byte b) { return a == std::to_integer<std::uint8_t>(b); }));
    CHECK(entries(dir) == std::vector<std::string>{"picture.png"});
}

TEST_CASE("png: write_png into a missing directory throws io_error and leaves nothing behind") {
    const fs::path dir = latent::testing::fresh_dir("png", "missing");
    const fs::path path = dir / "no_such_dir" / "plot.png";
    LATENT_CHECK_ERROR(latent::io_error, latent::io::write_png(path, Image(2, 2)), "latent.io.png.write",
                       "plot.png: cannot write \"" + path.string() + "\"");
    const std::string message =
        latent::testing::message_of<latent::io_error>([&] { latent::io::write_png(path, Image(2, 2)); });
    CHECK_MESSAGE(latent::testing::contains(message, std::generic_category().message(ENOENT)), message);
    CHECK(entries(dir).empty());
}

TEST_CASE("plot: axes get round tick values with just enough decimals") {
    const auto a = latent::io::detail::plot::make_axis(0.0, 9.7, false);
    CHECK(a.ticks == std::vector<double>{0, 2, 4, 6, 8, 10});
    CHECK(a.labels == std::vector<std::string>{"0", "2", "4", "6", "8", "10"});
    const auto b = latent::io::detail::plot::make_axis(0.0, 1.0, false);
    CHECK(b.labels == std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
    const auto c = latent::io::detail::plot::make_axis(-0.03, 0.02, false);
    CHECK(c.labels == std::vector<std::string>{"-0.03", "-0.02", "-0.01", "0.00", "0.01", "0.02"});
    const auto epochs = latent::io::detail::plot::make_axis(1.0, 3.0, true);
    CHECK(epochs.labels == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("plot: draw_text inks pixels inside the text's box only") {
    Image image(60, 20);
    latent::io::draw_text(image, 3, 4, "Ab1", {0, 0, 0}, 2);
    const int w = latent::io::text_width("Ab1", 2);
    CHECK(w == 3 * 12 - 2);
    std::size_t inked = 0;
    for (std::size_t y = 0; y < image.height; ++y)
        for (std::size_t x = 0; x < image.width; ++x)
            if (image.pixel(x, y) == Rgb{0, 0, 0}) {
                ++inked;
                CHECK(x >= 3);
                CHECK(x < static_cast<std::size_t>(3 + w));
                CHECK(y >= 4);
                CHECK(y < 4 + 16);
            }
    CHECK(inked > 20);
}

TEST_CASE("plot: scatter_plot colours points by class and lists every class in the legend") {
    const std::vector<double> xs = {0.0, 1.0, 2.0, 3.0}, ys = {0.0, 1.0, 0.5, 2.0};
    const std::vector<int> labels = {0, 0, 1, 1};
    latent::io::ScatterOptions options;
    options.title = "latent space";
    options.x_label = "z0";
    options.y_label = "z1";
    const Image image = latent::io::scatter_plot(options, xs, ys, labels, {"zero", "one", "two"});
    CHECK(image.width == 640);
    CHECK(image.height == 480);
    CHECK(count_colour(image, latent::io::tab10[0]) > 20);
    CHECK(count_colour(image, latent::io::tab10[1]) > 20);
    // No point has class 2: its colour is only the legend's swatch, right of the axes.
    CHECK(count_colour(image, latent::io::tab10[2]) > 20);
    CHECK(count_colour(image, latent::io::tab10[2], image.width * 3 / 4) == count_colour(image, latent::io::tab10[2]));
    CHECK(count_colour(image, latent::io::tab10[3]) == 0);
    CHECK_NOTHROW(png_rows(latent::io::encode_png(image), 640, 480));
}

TEST_CASE("plot: scatter_plot skips non-finite points and accepts empty input") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> xs = {nan, 1.0}, ys = {0.0, std::numeric_limits<double>::infinity()};
    const Image skipped = latent::io::scatter_plot({}, xs, ys);
    CHECK(count_colour(skipped, latent::io::tab10[0]) == 0);
    const Image empty = latent::io::scatter_plot({}, std::span<const double>{}, std::span<const double>{});
    CHECK(empty.width == 640);
    CHECK(count_colour(empty, {0, 0, 0}) > 0);  // tick labels
    const std::vector<float> fx = {1.0f, 2.0f}, fy = {2.0f, 1.0f};
    CHECK(count_colour(latent::io::scatter_plot({}, fx, fy), latent::io::tab10[0]) > 0);
}

TEST_CASE("plot: scatter_plot names mismatched lengths and bad labels") {
    const std::vector<double> xs = {0.0, 1.0, 2.0}, ys = {0.0, 1.0};
    LATENT_CHECK_ERROR(latent::value_error, latent::io::scatter_plot({}, xs, ys), "latent.io.plot.length",
                       "expected one y per x, got 3 xs and 2 ys");
    const std::vector<int> two = {0, 1};
    LATENT_CHECK_ERROR(latent::value_error, latent::io::scatter_plot({}, xs, xs, two), "latent.io.plot.length",
                       "expected one label per point (3) or none, got 2 labels");
    const std::vector<int> labels = {0, 2, 1};
    LATENT_CHECK_ERROR(latent::value_error, latent::io::scatter_plot({}, xs, xs, labels, {"a", "b"}),
                       "latent.io.plot.label", "point 1 has label 2, expected 0..1");
    latent::io::ScatterOptions tiny;
    tiny.width = 8;
    LATENT_CHECK_ERROR(latent::value_error, latent::io::scatter_plot(tiny, xs, xs), "latent.io.plot.options",
                       "8x480");
}

TEST_CASE("plot: image_grid tiles images at the documented size with values * 255") {
    constexpr std::size_t count = 5, h = 3, w = 2;
    std::vector<float> images(count * h * w, 0.0f);
    images[(3 * h + 1) * w + 1] = 0.2f;   // image 3, row 1, column 1
    images[(4 * h + 0) * w + 0] = 1.5f;   // clamped to 1
    images[(4 * h + 0) * w + 1] = -1.0f;  // clamped to 0
    images[(4 * h + 1) * w + 0] = std::numeric_limits<float>::quiet_NaN();
    latent::io::ImageGridOptions options;
    options.scale = 3;
    options.padding = 2;
    const Image grid = latent::io::image_grid(images.data(), count, h, w, 2, options);
    const std::size_t rows = 3;
    CHECK(grid.width == 2 * (w * 3) + 3 * 2);
    CHECK(grid.height == rows * (h * 3) + (rows + 1) * 2);
    // Tile 3 sits in grid row 1, column 1; its pixel (1, 1) covers a 3x3 block.
    const std::size_t x0 = 2 + 1 * (w * 3 + 2), y0 = 2 + 1 * (h * 3 + 2);
    for (std::size_t dy = 0; dy < 3; ++dy)
        for (std::size_t dx = 0; dx < 3; ++dx) CHECK(grid.pixel(x0 + 3 + dx, y0 + 3 + dy) == Rgb{51, 51, 51});
    CHECK(grid.pixel(x0, y0) == Rgb{0, 0, 0});
    CHECK(grid.pixel(0, 0) == Rgb{255, 255, 255});  // padding
    const std::size_t x4 = 2, y4 = 2 + 2 * (h * 3 + 2);
    CHECK(grid.pixel(x4, y4) == Rgb{255, 255, 255});
    CHECK(grid.pixel(x4 + 3, y4) == Rgb{0, 0, 0});
    CHECK(grid.pixel(x4, y4 + 3) == Rgb{0, 0, 0});
    // The empty fifth-row slot (column 1 of grid row 2) stays background.
    CHECK(grid.pixel(2 + w * 3 + 2, y4) == Rgb{255, 255, 255});
}

TEST_CASE("plot: image_grid with captions and a title grows by their size, and checks its input") {
    std::vector<float> images(4 * 4 * 4, 0.5f);
    latent::io::ImageGridOptions options;
    options.row_captions = {"original", "reconstructed"};
    options.title = "digits";
    const Image grid = latent::io::image_grid(std::span<const float>(images), 4, 4, 2, options);
    CHECK(grid.width > 2 * 8 + 3 * 2 + static_cast<std::size_t>(latent::io::text_width("reconstructed")));
    CHECK(grid.height > 2 * 8 + 3 * 2 + 14);
    CHECK(count_colour(grid, {128, 128, 128}) == 4 * 64);
    const Image empty = latent::io::image_grid(nullptr, 0, 28, 28, 8);
    CHECK_NOTHROW(latent::io::encode_png(empty));
    LATENT_CHECK_ERROR(latent::value_error, latent::io::image_grid(images.data(), 4, 4, 4, 0),
                       "latent.io.plot.options", "columns");
    LATENT_CHECK_ERROR(latent::value_error, latent::io::image_grid(std::span<const float>(images), 5, 5, 2),
                       "latent.io.plot.length", "expected whole images of 5x5 values, got 64 values");
}

TEST_CASE("plot: line_plot draws each series in its colour and skips gaps") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    latent::io::LinePlotOptions options;
    options.title = "training";
    options.y_label = "loss";
    const Image image = latent::io::line_plot(options, {{"loss", {1.0, 0.6, 0.4, 0.3}},
                                                        {"val_loss", {1.1, nan, 0.5, 0.45}},
                                                        {"", {0.2}}});
    CHECK(count_colour(image, latent::io::tab10[0]) > 100);
    CHECK(count_colour(image, latent::io::tab10[1]) > 100);
    CHECK(count_colour(image, latent::io::tab10[2]) > 0);  // one point, no legend entry
    CHECK(count_colour(image, latent::io::tab10[3]) == 0);
    const Image empty = latent::io::line_plot({}, {});
    CHECK_NOTHROW(png_rows(latent::io::encode_png(empty), 640, 480));
    const Image all_nan = latent::io::line_plot({}, {{"loss", {nan, nan}}});
    CHECK(count_colour(all_nan, latent::io::tab10[0]) == count_colour(all_nan, latent::io::tab10[0], 560));
}
