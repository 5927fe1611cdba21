// IDX files (the format of MNIST and Fashion-MNIST), raw or gzip-compressed: a validating
// reader that never trusts the header (sizes are checked against the data before anything
// large is allocated), and a writer for tests, fuzzing seeds and tools.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "file.hpp"

namespace latent::io {

// The element type code, byte 2 of an IDX header. Elements are stored big-endian.
enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

// Bytes per element of `type`; 0 for a code that is not an IDX type.
constexpr std::size_t idx_element_size(IdxType type) noexcept {
    switch (type) {
        case IdxType::u8:
        case IdxType::i8:
            return 1;
        case IdxType::i16:
            return 2;
        case IdxType::i32:
        case IdxType::f32:
            return 4;
        case IdxType::f64:
            return 8;
    }
    return 0;
}

constexpr bool is_idx_type(std::uint8_t code) noexcept { return idx_element_size(static_cast<IdxType>(code)) != 0; }

// "u8", "i8", "i16", "i32", "f32", "f64" (or "invalid").
constexpr std::string_view idx_type_name(IdxType type) noexcept {
    switch (type) {
        case IdxType::u8:
            return "u8";
        case IdxType::i8:
            return "i8";
        case IdxType::i16:
            return "i16";
        case IdxType::i32:
            return "i32";
        case IdxType::f32:
            return "f32";
        case IdxType::f64:
            return "f64";
    }
    return "invalid";
}

// The most elements read_idx accepts in one array, whatever the byte limit.
inline constexpr std::uint64_t idx_max_elements = std::uint64_t{1} << 31;
// The default limit on the payload size read_idx accepts (decompressed), in bytes.
inline constexpr std::uint64_t idx_default_max_bytes = std::uint64_t{1} << 32;

namespace detail::idx {

[[noreturn]] inline void fail(std::string_view what, const std::string& label, const std::string& message) {
    throw io_error("latent.io.idx." + std::string(what), label + ": " + message);
}


// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.
template <class = void>
std::string hex_byte(std::byte b) {
    static constexpr char digits[] = "0123456789ABCDEF";
    const auto v = std::to_integer<unsigned>(b);
    return std::string("0x") + digits[v >> 4] + digits[v & 15];
}

// Product of dims, or 0 when a dimension is 0 or the product exceeds `limit`.
template <class = void>
std::uint64_t checked_product(const std::vector<std::size_t>& dims, std::uint64_t limit) {
    std::uint64_t product = 1;
    for (const std::size_t d : dims) {
        if (d == 0) return 0;
        if (d > limit / product) return 0;
        product *= d;
    }
    return product;
}

template <class = void>
std::uint64_t load_be(const std::byte* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
}

// double -> float without the undefined behaviour of converting an out-of-range value:
// values that IEEE rounding sends to infinity become infinity.
template <class = void>
float narrow_to_float(double v) noexcept {
    if (std::isnan(v)) return std::numeric_limits<float>::quiet_NaN();
    constexpr float inf = std::numeric_limits<float>::infinity();
    if (std::fabs(v) >= 0x1.ffffffp127) return v > 0 ? inf : -inf;
    return static_cast<float>(v);
}

}  // namespace detail::idx

// One IDX array as stored: element type, dimensions and the big-endian payload.
struct IdxArray {
    IdxType type = IdxType::u8;
    std::vector<std::size_t> dims;
    std::vector<std::byte> bytes;

    // Product of dims (saturating at SIZE_MAX; 1 when dims is empty).
    std::size_t element_count() const noexcept {
        std::size_t product = 1;
        for (const std::size_t d : dims) {
            if (d == 0) return 0;
            if (d > std::numeric_limits<std::size_t>::max() / product) return std::numeric_limits<std::size_t>::max();
            product *= d;
        }
        return product;
    }
    std::size_t element_size() const noexcept { return idx_element_size(type); }

    // Every element converted to float and multiplied by `scale` (in double precision), in
    // file order. Throws io_error "latent.io.idx.type"/".length" for an inconsistent array.
    std::vector<float> to_floats(double scale = 1.0) const {
        std::vector<float> out(checked_count());
        to_floats_into(out, scale);
        return out;
    }
    // The same into caller-owned memory of exactly element_count() floats.
    void to_floats_into(std::span<float> out, double scale = 1.0) const {
        const std::size_t n = checked_count();
        if (out.size() != n)
            throw shape_error("latent.io.idx.length", "IdxArray " + format_shape(dims) + " has " + std::to_string(n) +
                                                          " elements, the destination holds " +
                                                          std::to_string(out.size()));
        const std::byte* p = bytes.data();
        switch (type) {
            case IdxType::u8: {
                std::array<float, 256> table;
                for (std::size_t v = 0; v < 256; ++v)
                    table[v] = detail::idx::narrow_to_float(static_cast<double>(v) * scale);
                for (std::size_t i = 0; i < n; ++i) out[i] = table[std::to_integer<std::size_t>(p[i])];
                break;
            }
            case IdxType::i8:
                for (std::size_t i = 0; i < n; ++i)
                    out[i] = detail::idx::narrow_to_float(
                        static_cast<std::int8_t>(std::to_integer<std::uint8_t>(p[i])) * scale);
                break;
            case IdxType::i16:
                for (std::size_t i = 0; i < n; ++i)
                    out[i] = detail::idx::narrow_to_float(
                        static_cast<std::int16_t>(static_cast<std::uint16_t>(detail::idx::load_be(p + 2 * i, 2))) *
                        scale);
                break;
            case IdxType::i32:
                for (std::size_t i = 0; i < n; ++i)
                    out[i] = detail::idx::narrow_to_float(
                        static_cast<std::int32_t>(static_cast<std::uint32_t>(detail::idx::load_be(p + 4 * i, 4))) *
                        scale);
                break;
            case IdxType::f32:
                for (std::size_t i = 0; i < n; ++i) {
                    const auto bits = static_cast<std::uint32_t>(detail::idx::load_be(p + 4 * i, 4));
                    float f;
                    std::memcpy(&f, &bits, sizeof f);
                    out[i] = scale == 1.0 ? f : detail::idx::narrow_to_float(static_cast<double>(f) * scale);
                }
                break;
            case IdxType::f64:
                for (std::size_t i = 0; i < n; ++i) {
                    const std::uint64_t bits = detail::idx::load_be(p + 8 * i, 8);
                    double d;
                    std::memcpy(&d, &bits, sizeof d);
                    out[i] = detail::idx::narrow_to_float(d * scale);
                }
                break;
        }
    }

private:
    std::size_t checked_count() const {
        const std::size_t esize = element_size();
        if (esize == 0)
            throw io_error("latent.io.idx.type",
                           "IdxArray has the invalid element type code " + std::to_string(static_cast<unsigned>(type)));
        const std::size_t n = element_count();
        if (bytes.size() % esize != 0 || bytes.size() / esize != n)
            throw io_error("latent.io.idx.length",
                           "IdxArray dims " + format_shape(dims) + " of " + std::string(idx_type_name(type)) +
                               " need " +
                               (n > bytes.size() ? std::string("more than ") + std::to_string(bytes.size())
                                                 : std::to_string(n * esize)) +
                               " bytes of data, it holds " + std::to_string(bytes.size()));
        return n;
    }
};

namespace detail::idx {

// A forward-only byte source; read() returns fewer than n bytes only at the end.
struct Source {
    virtual ~Source() = default;
    virtual std::size_t read(std::byte* dst, std::size_t n) = 0;
};

struct SpanSource final : Source {
    std::span<const std::byte> data;
    std::size_t pos = 0;
    explicit SpanSource(std::span<const std::byte> d) : data(d) {}
    std::size_t read(std::byte* dst, std::size_t n) override {
        const std::size_t k = std::min(n, data.size() - pos);
        if (k) std::memcpy(dst, data.data() + pos, k);
        pos += k;
        return k;
    }
};

struct FileSource final : Source {
    std::FILE* file;
    const std::string& label;
    FileSource(std::FILE* f, const std::string& l) : file(f), label(l) {}
    std::size_t read(std::byte* dst, std::size_t n) override {
        std::size_t got = 0;
        while (got < n) {
            const std::size_t k = std::fread(dst + got, 1, n - got, file);
            got += k;
            if (k == 0) {
                if (std::ferror(file)) fail("read", label, "reading the file failed (" + errno_text(errno) + ")");
                break;
            }
        }
        return got;
    }
};

// Bytes already taken from `in` (to sniff the format), then the rest of `in`.
struct PeekedSource final : Source {
    Source& in;
    std::array<std::byte, 2> head{};
    std::size_t head_size = 0, head_pos = 0;
    explicit PeekedSource(Source& s) : in(s) { head_size = in.read(head.data(), head.size()); }
    bool is_gzip() const { return head_size == 2 && head[0] == std::byte{0x1f} && head[1] == std::byte{0x8b}; }
    std::size_t read(std::byte* dst, std::size_t n) override {
        std::size_t got = 0;
        while (got < n && head_pos < head_size) dst[got++] = head[head_pos++];
        if (got < n) got += in.read(dst + got, n - got);
        return got;
    }
};

// Streaming gzip decompression of `in` (one or more gzip members, nothing after them).
class GzipSource final : public Source {
public:
    GzipSource(Source& in, const std::string& label) : in_(in), label_(label), buffer_(std::size_t{1} << 16) {
        const int r = inflateInit2(&zs_, 15 + 16);
        if (r != Z_OK) fail("gzip", label_, "zlib cannot start decompressing (" + zlib_text(r) + ")");
    }
    ~GzipSource() override { inflateEnd(&zs_); }
    GzipSource(const GzipSource&) = delete;
    GzipSource& operator=(const GzipSource&) = delete;

    std::size_t read(std::byte* dst, std::size_t n) override {
        std::size_t got = 0;
        while (got < n && !done_) {
            if (zs_.avail_in == 0) refill();
            const std::size_t want = std::min<std::size_t>(n - got, UINT_MAX);
            zs_.next_out = reinterpret_cast<Bytef*>(dst + got);
            zs_.avail_out = static_cast<uInt>(want);
            const int r = inflate(&zs_, Z_NO_FLUSH);
            got += want - zs_.avail_out;
            if (r == Z_STREAM_END) {
                ++members_;
                if (zs_.avail_in == 0) refill();
                if (zs_.avail_in == 0) {
                    done_ = true;
                    break;
                }
                if (zs_.next_in[0] != 0x1f)
                    fail("gzip", label_,
                         "the gzip stream ends, but " + std::string(input_eof_ ? "" : "at least ") +
                             std::to_string(zs_.avail_in) + " more bytes follow it that are not another gzip member");
                inflateReset(&zs_);
                continue;
            }
            if (r == Z_OK) continue;
            if (r == Z_BUF_ERROR) {
                if (zs_.avail_in == 0 && input_eof_)
                    fail("gzip", label_,
                         "the compressed data ends before the gzip stream does (the file is truncated; download it "
                         "again)");
                continue;  // no progress this call, but more input is available
            }
            const char* why = zs_.msg ? zs_.msg : "unknown error";
            fail("gzip", label_,
                 "corrupt gzip data" + std::string(members_ ? " in gzip member " + std::to_string(members_ + 1) : "") +
                     " (zlib: " + why + "); the file is damaged, download it again");
        }
        return got;
    }

private:
    static std::string zlib_text(int code) {
        switch (code) {
            case Z_MEM_ERROR:
                return "out of memory";
            case Z_VERSION_ERROR:
                return "zlib version mismatch";
            case Z_STREAM_ERROR:
                return "bad parameters";
            default:
                return "zlib error " + std::to_string(code);
        }
    }
    void refill() {
        if (input_eof_) return;
        const std::size_t k = in_.read(buffer_.data(), buffer_.size());
        if (k < buffer_.size()) input_eof_ = true;  // sources return short reads only at their end
        zs_.next_in = reinterpret_cast<Bytef*>(buffer_.data());
        zs_.avail_in = static_cast<uInt>(k);
    }

    Source& in_;
    const std::string& label_;
    std::vector<std::byte> buffer_;
    z_stream zs_{};
    bool input_eof_ = false;
    bool done_ = false;
    std::size_t members_ = 0;
};

// Reads up to n bytes, returning how many there were.
template <class = void>
std::size_t read_up_to(Source& src, std::byte* dst, std::size_t n) { return n ? src.read(dst, n) : 0; }

// Bytes left in `src`, counting at most `cap` (returns cap + 1 when there are more).
template <class = void>
std::uint64_t count_rest(Source& src, std::uint64_t cap) {
    std::array<std::byte, 1 << 14> scratch;
    std::uint64_t total = 0;
    while (total <= cap) {
        const std::size_t k = src.read(scratch.data(), scratch.size());
        total += k;
        if (k < scratch.size()) return total;
    }
    return cap + 1;
}

// Parses one IDX stream. `known_size`, when >= 0, is the size of the whole file (raw files),
// so a wrong payload length is reported before anything large is allocated.
template <class = void>
[[gnu::cold]]
IdxArray parse(Source& src, const std::string& label, std::uint64_t max_bytes, std::int64_t known_size,
               bool gzip) {
    const std::string of_data = gzip ? " (decompressed)" : "";
    std::array<std::byte, 4> head{};
    const std::size_t got_head = read_up_to(src, head.data(), head.size());
    if (got_head < head.size())
        fail("magic", label,
             "expected an IDX file, which starts with a 4-byte header (00 00 type rank), but the file" + of_data +
                 " has only " + std::to_string(got_head) + " byte" + (got_head == 1 ? "" : "s"));
    if (head[0] != std::byte{0} || head[1] != std::byte{0})
        fail("magic", label,
             "expected an IDX file, whose first two bytes are 0x00 0x00, found " + hex_byte(head[0]) + " " +
                 hex_byte(head[1]) + (gzip ? " after decompression" : "") + " (is this really an IDX file?)");
    const auto code = std::to_integer<std::uint8_t>(head[2]);
    if (!is_idx_type(code))
        fail("type", label,
             "expected an element type code of 0x08 (u8), 0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32) or 0x0E "
             "(f64) in byte 2 of the header, found " +
                 hex_byte(head[2]));
    IdxArray out;
    out.type = static_cast<IdxType>(code);
    const std::size_t rank = std::to_integer<std::size_t>(head[3]);
    if (rank == 0) fail("dims", label, "the header declares 0 dimensions (byte 3), expected at least 1");

    std::array<std::byte, 4 * 255> raw_dims{};
    const std::size_t dims_bytes = 4 * rank;
    const std::size_t got_dims = read_up_to(src, raw_dims.data(), dims_bytes);
    if (got_dims < dims_bytes)
        fail("dims", label,
             "the header declares " + std::to_string(rank) + " dimensions (" + std::to_string(dims_bytes) +
                 " bytes after the first 4), but the file" + of_data + " ends " + std::to_string(got_dims) +
                 " bytes into them");
    out.dims.resize(rank);
    for (std::size_t i = 0; i < rank; ++i) out.dims[i] = static_cast<std::size_t>(load_be(raw_dims.data() + 4 * i, 4));
    for (std::size_t i = 0; i < rank; ++i)
        if (out.dims[i] == 0)
            fail("dims", label,
                 "dims " + format_shape(out.dims) + " have a 0 at position " + std::to_string(i) +
                     ", expected every dimension to be at least 1");
    const std::uint64_t elements = checked_product(out.dims, idx_max_elements);
    if (elements == 0)
        fail("dims", label,
             "dims " + format_shape(out.dims) + " hold more than " + std::to_string(idx_max_elements) +
                 " elements, the most read_idx accepts");
    const std::size_t esize = idx_element_size(out.type);
    const std::uint64_t need = elements * esize;
    if (need > max_bytes)
        fail("dims", label,
             "dims " + format_shape(out.dims) + " of " + std::string(idx_type_name(out.type)) + " need " +
                 std::to_string(need) + " bytes of data, more than the limit of " + std::to_string(max_bytes) +
                 " bytes");
    const auto length_error = [&](const std::string& has) {
        fail("length", label,
             "dims " + format_shape(out.dims) + " of " + std::string(idx_type_name(out.type)) + " need " +
                 std::to_string(need) + " bytes of data, file" + of_data + " has " + has);
    };

    const std::uint64_t header_size = 4 + dims_bytes;
    if (known_size >= 0) {
        const std::uint64_t rest = static_cast<std::uint64_t>(known_size) > header_size
                                       ? static_cast<std::uint64_t>(known_size) - header_size
                                       : 0;
        if (rest != need) length_error(std::to_string(rest));
        out.bytes.resize(static_cast<std::size_t>(need));
        const std::size_t got = read_up_to(src, out.bytes.data(), out.bytes.size());
        if (got != need) length_error(std::to_string(got) + " (the file changed while it was read)");
        const std::uint64_t extra = count_rest(src, 0);
        if (extra) length_error("more (the file grew while it was read)");
        return out;
    }

    // Unknown size (gzip): grow as data arrives, so a header that lies costs nothing.
    std::size_t have = 0;
    out.bytes.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(need, std::uint64_t{1} << 24)));
    while (have < need) {
        const std::size_t next =
            static_cast<std::size_t>(std::min<std::uint64_t>(need, std::max<std::uint64_t>(2 * have, 1 << 20)));
        out.bytes.resize(next);
        const std::size_t got = read_up_to(src, out.bytes.data() + have, next - have);
        have += got;
        if (have < next) length_error(std::to_string(have));
    }
    constexpr std::uint64_t count_cap = std::uint64_t{1} << 26;
    const std::uint64_t extra = count_rest(src, count_cap);
    if (extra > count_cap) length_error("more than " + std::to_string(need + count_cap));
    if (extra) length_error(std::to_string(need + extra));
    return out;
}

}  // namespace detail::idx

// Parses an IDX file held in memory (raw, or gzip when it starts with 0x1f 0x8b); `name` is
// what messages call it. Throws io_error "latent.io.idx.<gzip|magic|type|dims|length>".
template <class = void>
[[gnu::cold]]
IdxArray parse_idx(std::span<const std::byte> file, const std::string& name = "<memory>",
                   std::uint64_t max_bytes = idx_default_max_bytes) {
    detail::idx::SpanSource raw(file);
    const bool gzip = file.size() >= 2 && file[0] == std::byte{0x1f} && file[1] == std::byte{0x8b};
    if (!gzip) return detail::idx::parse(raw, name, max_bytes, static_cast<std::int64_t>(file.size()), false);
    detail::idx::GzipSource inflated(raw, name);
    return detail::idx::parse(inflated, name, max_bytes, -1, true);
}

// Reads and validates an IDX file, raw or gzip (detected by its magic bytes, whatever the
// file is called). Messages start with the file's name. Throws io_error with ids
// latent.io.idx.open/.read (file system), .gzip (corrupt or truncated compressed data), .magic,
// .type, .dims (bad header) and .length (payload shorter or longer than the dims say).
template <class = void>
[[gnu::cold]]
IdxArray read_idx(const std::filesystem::path& path, std::uint64_t max_bytes = idx_default_max_bytes) {
    const std::string label = detail::file_label(path);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        detail::idx::fail("open", label,
                          "cannot open \"" + path.string() + "\": it is a directory, expected an IDX file");
    detail::FileHandle file(detail::open_file(path, "rb"));
    if (!file)
        detail::idx::fail("open", label,
                          "cannot open \"" + path.string() + "\" for reading: " + detail::errno_text(errno));
    detail::idx::FileSource raw(file.get(), label);
    detail::idx::PeekedSource peeked(raw);
    if (peeked.is_gzip()) {
        detail::idx::GzipSource inflated(peeked, label);
        return detail::idx::parse(inflated, label, max_bytes, -1, true);
    }
    std::int64_t size = -1;
    if (std::filesystem::is_regular_file(path, ec)) {
        const auto s = std::filesystem::file_size(path, ec);
        if (!ec && s <= static_cast<std::uintmax_t>(std::numeric_limits<std::int64_t>::max()))
            size = static_cast<std::int64_t>(s);
    }
    return detail::idx::parse(peeked, label, max_bytes, size, false);
}

// The bytes of an IDX file (gzip-compressed when `gzip`). `big_endian_payload` must hold
// product(dims) elements of `type`, big-endian. Throws value_error "latent.io.idx.dims" for
// dims that IDX cannot store and shape_error "latent.io.idx.length" for a wrong payload size.
template <class = void>
[[gnu::cold]]
std::vector<std::byte> encode_idx(IdxType type, const std::vector<std::size_t>& dims,
                                  std::span<const std::byte> big_endian_payload, bool gzip = false) {
    const std::size_t esize = idx_element_size(type);
    if (esize == 0)
        throw value_error("latent.io.idx.type", "cannot write element type code " +
                                                    std::to_string(static_cast<unsigned>(type)) +
                                                    ", expected u8, i8, i16, i32, f32 or f64");
    if (dims.empty() || dims.size() > 255)
        throw value_error("latent.io.idx.dims",
                          "an IDX file holds 1 to 255 dimensions, got " + std::to_string(dims.size()));
    for (const std::size_t d : dims)
        if (d == 0 || d > 0xFFFFFFFFu)
            throw value_error("latent.io.idx.dims",
                              "dims " + format_shape(dims) + ": every dimension must be in [1, 4294967295]");
    const std::uint64_t elements = detail::idx::checked_product(dims, std::numeric_limits<std::uint64_t>::max() / 8);
    if (elements == 0 || elements * esize != big_endian_payload.size())
        throw shape_error("latent.io.idx.length",
                          "dims " + format_shape(dims) + " of " + std::string(idx_type_name(type)) + " need " +
                              (elements ? std::to_string(elements * esize) : std::string("too many")) +
                              " bytes of data, the payload has " + std::to_string(big_endian_payload.size()));

    std::vector<std::byte> raw;
    raw.reserve(4 + 4 * dims.size() + (gzip ? 0 : big_endian_payload.size()));
    raw.push_back(std::byte{0});
    raw.push_back(std::byte{0});
    raw.push_back(static_cast<std::byte>(type));
    raw.push_back(static_cast<std::byte>(dims.size()));
    for (const std::size_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) raw.push_back(static_cast<std::byte>((d >> shift) & 0xFF));
    if (!gzip) {
        raw.insert(raw.end(), big_endian_payload.begin(), big_endian_payload.end());
        return raw;
    }

    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw io_error("latent.io.idx.gzip", "zlib cannot start compressing");
    struct End {
        z_stream* z;
        ~End() { deflateEnd(z); }
    } end{&zs};
    std::vector<std::byte> out;
    std::array<std::byte, 1 << 16> chunk;
    const auto pump = [&](std::span<const std::byte> in, bool last) {
        std::size_t pos = 0;
        for (;;) {
            const std::size_t take = std::min<std::size_t>(in.size() - pos, UINT_MAX);
            zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + pos));
            zs.avail_in = static_cast<uInt>(take);
            const bool finish = last && pos + take == in.size();
            int r;
            do {
                zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
                zs.avail_out = static_cast<uInt>(chunk.size());
                r = deflate(&zs, finish ? Z_FINISH : Z_NO_FLUSH);
                if (r == Z_STREAM_ERROR) throw io_error("latent.io.idx.gzip", "zlib failed while compressing");
                out.insert(out.end(), chunk.begin(),
                           chunk.begin() + static_cast<std::ptrdiff_t>(chunk.size() - zs.avail_out));
            } while (zs.avail_out == 0 || (finish && r != Z_STREAM_END));
            pos += take - zs.avail_in;
            if (pos == in.size()) break;
        }
    };
    pump(raw, false);
    pump(big_endian_payload, true);
    return out;
}

// Writes an IDX file (see encode_idx). Throws io_error "latent.io.idx.write" when the file
// cannot be written; a partly written file is removed.
template <class = void>
[[gnu::cold]]
void write_idx(const std::filesystem::path& path, IdxType type, const std::vector<std::size_t>& dims,
               std::span<const std::byte> big_endian_payload, bool gzip = false) {
    const std::vector<std::byte> bytes = encode_idx(type, dims, big_endian_payload, gzip);
    const std::string label = detail::file_label(path);
    detail::FileHandle file(detail::open_file(path, "wb"));
    if (!file)
        detail::idx::fail("write", label, "cannot create \"" + path.string() + "\": " + detail::errno_text(errno));
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
    const int write_errno = errno;
    const bool closed = std::fclose(file.release()) == 0;
    if (!ok || !closed) {
        std::error_code ec;
        std::filesystem::remove(path, ec);
        detail::idx::fail(
            "write", label,
            "writing \"" + path.string() + "\" failed: " + detail::errno_text(ok ? errno : write_errno));
    }
}

// write_idx for unsigned bytes (images, labels).
template <class = void>
[[gnu::cold]]
void write_idx_u8(const std::filesystem::path& path, const std::vector<std::size_t>& dims,
                  std::span<const std::uint8_t> values, bool gzip = false) {
    write_idx(path, IdxType::u8, dims, std::as_bytes(values), gzip);
}

}  // namespace latent::io
