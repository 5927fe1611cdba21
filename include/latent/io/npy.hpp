// NumPy's .npy arrays and .npz archives of them (zip, stored or deflated, zip64 included): a
// validating reader that never trusts a header or a zip directory (sizes are checked against
// the bytes that are there before anything is allocated), crash-safe writers, and Tensor glue.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"
#include "file.hpp"

namespace latent::io {

// The element types latent reads and writes, stored little-endian ('<f4', '<f8', '|u1', '<i8').
enum class NpyType : std::uint8_t { f32, f64, u8, i64 };

constexpr std::size_t npy_element_size(NpyType type) noexcept {
    switch (type) {
        case NpyType::f32:
            return 4;
        case NpyType::f64:
        case NpyType::i64:
            return 8;
        case NpyType::u8:
            return 1;
    }
    return 0;
}

// NumPy's name of the type: "float32", "float64", "uint8", "int64" (or "invalid").
constexpr std::string_view npy_type_name(NpyType type) noexcept {
    switch (type) {
        case NpyType::f32:
            return "float32";
        case NpyType::f64:
            return "float64";
        case NpyType::u8:
            return "uint8";
        case NpyType::i64:
            return "int64";
    }
    return "invalid";
}

// The header's 'descr' for the type, as NumPy writes it.
constexpr std::string_view npy_descr(NpyType type) noexcept {
    switch (type) {
        case NpyType::f32:
            return "<f4";
        case NpyType::f64:
            return "<f8";
        case NpyType::u8:
            return "|u1";
        case NpyType::i64:
            return "<i8";
    }
    return "invalid";
}

// The C++ types an NpyArray converts to and from.
template <class T>
concept npy_value =
    std::same_as<T, float> || std::same_as<T, double> || std::same_as<T, std::uint8_t> || std::same_as<T, std::int64_t>;

template <npy_value T>
inline constexpr NpyType npy_type_of = std::same_as<T, float>          ? NpyType::f32
                                       : std::same_as<T, double>       ? NpyType::f64
                                       : std::same_as<T, std::uint8_t> ? NpyType::u8
                                                                       : NpyType::i64;

namespace detail::npy {

inline constexpr std::array<unsigned char, 6> magic = {0x93, 'N', 'U', 'M', 'P', 'Y'};

[[noreturn]] inline void fail(std::string_view what, const std::string& label, const std::string& message) {
    throw io_error("latent.io.npy." + std::string(what), label + ": " + message);
}

[[noreturn]] inline void zip_fail(std::string_view what, const std::string& label, const std::string& message) {
    throw io_error("latent.io.npz." + std::string(what), label + ": " + message);
}

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.

// `s` in double quotes with control and non-ASCII bytes escaped, so odd names stay visible.
template <class = void>
std::string quote(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += digits[u >> 4];
            out += digits[u & 15];
        } else {
            out += c;
        }
    }
    return out + '"';
}

template <class = void>
std::string hex(std::uint64_t v, int width) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out = "0x";
    for (int shift = 4 * (width - 1); shift >= 0; shift -= 4) out += digits[(v >> shift) & 15];
    return out;
}

template <class = void>
std::string hex_bytes(std::span<const std::byte> bytes) {
    std::string out;
    for (const std::byte b : bytes) {
        if (!out.empty()) out += ' ';
        out += hex(std::to_integer<unsigned>(b), 2);
    }
    return out.empty() ? "nothing" : out;
}

template <class = void>
std::uint64_t load_u(const std::byte* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
}

template <class T>
T load_le(const std::byte* p) noexcept {
    using U = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint8_t>>;
    U u;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&u, p, sizeof u);
    } else {
        u = static_cast<U>(load_u(p, sizeof u));
    }
    return std::bit_cast<T>(u);
}

template <class T>
void store_le(std::byte* p, T value) noexcept {
    using U = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint8_t>>;
    const U u = std::bit_cast<U>(value);
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &u, sizeof u);
    } else {
        for (std::size_t i = 0; i < sizeof u; ++i) p[i] = static_cast<std::byte>((u >> (8 * i)) & 0xFF);
    }
}

// static_cast, except where static_cast is undefined: floats become integers truncated toward
// zero but clamped to the target's range (NaN becomes 0), and doubles beyond float's range
// become infinities.
template <class To, class From>
To convert(From v) noexcept {
    if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
        if (std::isnan(v)) return 0;
        constexpr From lo = static_cast<From>(std::numeric_limits<To>::min());
        constexpr From hi = static_cast<From>(std::numeric_limits<To>::max() / 2 + 1) * 2;  // max + 1, exactly
        if (v <= lo - 1) return std::numeric_limits<To>::min();
        if (v >= hi) return std::numeric_limits<To>::max();
        return static_cast<To>(v);
    } else if constexpr (std::is_same_v<To, float> && std::is_same_v<From, double>) {
        if (std::isnan(v)) return std::numeric_limits<float>::quiet_NaN();
        constexpr float inf = std::numeric_limits<float>::infinity();
        if (std::fabs(v) >= 0x1.ffffffp127) return v > 0 ? inf : -inf;
        return static_cast<float>(v);
    } else {
        return static_cast<To>(v);
    }
}

// Product of `dims` times `element_size`, or false when it does not fit in 64 bits and size_t.
template <class = void>
bool byte_count(const std::vector<std::size_t>& dims, std::size_t element_size, std::uint64_t& out) noexcept {
    constexpr std::uint64_t limit = std::min<std::uint64_t>(UINT64_MAX, SIZE_MAX);
    std::uint64_t n = element_size;
    for (const std::size_t d : dims) {
        if (d != 0 && n > limit / d) {
            // A later 0 makes the array empty, whatever the other dimensions are.
            if (std::find(dims.begin(), dims.end(), std::size_t{0}) == dims.end()) return false;
            out = 0;
            return true;
        }
        n *= d;
    }
    out = n;
    return true;
}

}  // namespace detail::npy

// One array as stored in an .npy file: type, shape (C order) and the little-endian payload.
struct NpyArray {
    NpyType type = NpyType::f32;
    std::vector<std::size_t> shape;  // () for a scalar, (0, 4) for an empty 2-D array
    std::vector<std::byte> bytes;    // size() elements, little-endian, C (row-major) order

    // The product of shape (1 for a scalar), saturating at SIZE_MAX.
    std::size_t size() const noexcept {
        std::size_t n = 1;
        for (const std::size_t d : shape) {
            if (d == 0) return 0;
            n = n > std::numeric_limits<std::size_t>::max() / d ? std::numeric_limits<std::size_t>::max() : n * d;
        }
        return n;
    }

    // Every element converted to T in C order. Conversions follow static_cast, except that
    // float-to-integer ones clamp to T's range (NaN becomes 0) instead of being undefined.
    // Throws value_error "latent.io.npy.array" when bytes does not hold size() elements.
    template <npy_value T>
    std::vector<T> values() const {
        std::vector<T> out(checked_size());
        values_into(std::span<T>(out));
        return out;
    }
    // The same into caller-owned memory of exactly size() elements (shape_error
    // "latent.io.npy.shape" otherwise).
    template <npy_value T>
    void values_into(std::span<T> out) const {
        const std::size_t n = checked_size();
        if (out.size() != n)
            throw shape_error("latent.io.npy.shape", "NpyArray of shape " + format_shape(shape) + " has " +
                                                         std::to_string(n) + " elements, the destination holds " +
                                                         std::to_string(out.size()));
        copy_to(out.data(), n);
    }

    // The elements in place, without a copy: T must be the stored type (value_error
    // "latent.io.npy.type" names both otherwise; values<T>() converts). Little-endian hosts only.
    template <npy_value T>
    std::span<const T> data() const {
        static_assert(std::endian::native == std::endian::little || sizeof(T) == 1,
                      "latent: NpyArray::data<T>() views little-endian bytes; use values<T>() on this host");
        if (npy_type_of<T> != type)
            throw value_error("latent.io.npy.type", "NpyArray::data<" + std::string(npy_type_name(npy_type_of<T>)) +
                                                        ">() on an array of " + std::string(npy_type_name(type)) +
                                                        " (values<" + std::string(npy_type_name(npy_type_of<T>)) +
                                                        ">() converts)");
        const std::size_t n = checked_size();
        // The vector's storage comes from operator new, so it is aligned for any T here.
        return {n ? reinterpret_cast<const T*>(bytes.data()) : nullptr, n};
    }

    // size(), after checking that bytes holds exactly that many elements of type.
    std::size_t checked_size() const {
        const std::size_t esize = npy_element_size(type);
        if (esize == 0)
            throw value_error("latent.io.npy.array",
                              "NpyArray has the invalid type code " + std::to_string(static_cast<unsigned>(type)));
        std::uint64_t need = 0;
        const bool fits = detail::npy::byte_count(shape, esize, need);
        if (!fits || need != bytes.size())
            throw value_error("latent.io.npy.array", "NpyArray of " + std::string(npy_type_name(type)) +
                                                         " with shape " + format_shape(shape) + " needs " +
                                                         (fits ? std::to_string(need) : std::string("too many")) +
                                                         " bytes, it holds " + std::to_string(bytes.size()));
        return static_cast<std::size_t>(need / esize);
    }

private:
    template <npy_value T>
    void copy_to(T* out, std::size_t n) const {
        const std::byte* p = bytes.data();
        if constexpr (std::endian::native == std::endian::little) {
            if (npy_type_of<T> == type) {
                if (n) std::memcpy(out, p, n * sizeof(T));
                return;
            }
        }
        using detail::npy::convert;
        using detail::npy::load_le;
        switch (type) {
            case NpyType::f32:
                for (std::size_t i = 0; i < n; ++i) out[i] = convert<T>(load_le<float>(p + 4 * i));
                break;
            case NpyType::f64:
                for (std::size_t i = 0; i < n; ++i) out[i] = convert<T>(load_le<double>(p + 8 * i));
                break;
            case NpyType::u8:
                for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(std::to_integer<std::uint8_t>(p[i]));
                break;
            case NpyType::i64:
                for (std::size_t i = 0; i < n; ++i) out[i] = convert<T>(load_le<std::int64_t>(p + 8 * i));
                break;
        }
    }
};

// An array of `shape` holding `values` (C order). Throws shape_error "latent.io.npy.shape"
// when the count of values is not the product of shape.
template <npy_value T>
NpyArray make_npy(std::vector<std::size_t> shape, std::span<const T> values) {
    NpyArray out;
    out.type = npy_type_of<T>;
    out.shape = std::move(shape);
    std::uint64_t need = 0;
    const bool fits = detail::npy::byte_count(out.shape, sizeof(T), need);
    if (!fits || need != values.size() * sizeof(T))
        throw shape_error("latent.io.npy.shape",
                          "shape " + format_shape(out.shape) + " needs " +
                              (fits ? std::to_string(need / sizeof(T)) : std::string("too many")) + " values, got " +
                              std::to_string(values.size()));
    out.bytes.resize(values.size() * sizeof(T));
    if constexpr (std::endian::native == std::endian::little) {
        if (!values.empty()) std::memcpy(out.bytes.data(), values.data(), out.bytes.size());
    } else {
        for (std::size_t i = 0; i < values.size(); ++i)
            detail::npy::store_le(out.bytes.data() + i * sizeof(T), values[i]);
    }
    return out;
}

namespace detail::npy {

// Where the header text sits, from the fixed-size start of the file.
struct Preamble {
    int major = 1;
    std::size_t text_offset = 0;
    std::size_t text_size = 0;
};

// Checks magic, version and header length; `head` is the first min(12, file_size) bytes.
template <class = void>
Preamble check_preamble(std::span<const std::byte> head, std::uint64_t file_size, const std::string& label) {
    const std::size_t k = std::min<std::size_t>(head.size(), magic.size());
    for (std::size_t i = 0; i < k; ++i)
        if (std::to_integer<unsigned char>(head[i]) != magic[i])
            fail("magic", label,
                 "expected an .npy file, which starts with 0x93 \"NUMPY\", found " + hex_bytes(head.first(k)) +
                     " (is this really an .npy file?)");
    const auto too_short = [&](std::size_t need, const char* what) {
        if (file_size < need)
            fail("truncated", label,
                 "file has " + std::to_string(file_size) + " bytes, too short for the " + what + " (" +
                     std::to_string(need) + " bytes)");
    };
    too_short(8, "magic and format version");
    Preamble p;
    p.major = std::to_integer<int>(head[6]);
    const int minor = std::to_integer<int>(head[7]);
    if (p.major < 1 || p.major > 3 || minor != 0)
        fail("version", label,
             "format version " + std::to_string(p.major) + "." + std::to_string(minor) +
                 " is not supported, expected 1.0, 2.0 or 3.0");
    const std::size_t length_bytes = p.major == 1 ? 2 : 4;
    p.text_offset = 8 + length_bytes;
    too_short(p.text_offset, p.major == 1 ? "version 1.0 preamble" : "version 2.0/3.0 preamble");
    const std::uint64_t text_size = load_u(head.data() + 8, length_bytes);
    if (text_size > file_size - p.text_offset)
        fail("truncated", label,
             "the preamble declares a " + std::to_string(text_size) + "-byte header, but only " +
                 std::to_string(file_size - p.text_offset) + " bytes follow it");
    p.text_size = static_cast<std::size_t>(text_size);
    return p;
}

struct Header {
    NpyType type = NpyType::f32;
    std::vector<std::size_t> shape;
    std::uint64_t data_size = 0;  // bytes the shape needs
};

// The header is a Python dict literal, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
// padded with spaces and a newline. This reads the subset of Python literal syntax NumPy and
// other writers produce: either quote, any whitespace, trailing commas, keys in any order. A class
// template for the reason the functions here are templates.
template <class = void>
class HeaderParser {
public:
    HeaderParser(std::string_view text, const std::string& label) : s_(text), label_(label) {}

    Header parse() {
        std::string_view descr;
        bool fortran = false, have_descr = false, have_fortran = false, have_shape = false;
        Header h;
        skip_space();
        expect('{', "the header to start with '{' (a Python dict)");
        skip_space();
        while (peek() != '}') {
            const std::size_t key_at = pos_;
            const std::string_view key = string("a quoted key");
            skip_space();
            expect(':', "':' after the key");
            skip_space();
            const auto once = [&](bool& seen) {
                if (seen) error_at(key_at, "the key " + quote(key) + " appears twice");
                seen = true;
            };
            if (key == "descr") {
                once(have_descr);
                if (peek() == '[')
                    fail("dtype", label_,
                         "structured dtypes (a list of fields as 'descr') are not supported, expected one of " +
                             supported());
                descr = string("a quoted dtype for 'descr'");
            } else if (key == "fortran_order") {
                once(have_fortran);
                fortran = boolean();
            } else if (key == "shape") {
                once(have_shape);
                h.shape = tuple();
            } else {
                error_at(key_at, "unexpected key " + quote(key) +
                                     " (an .npy header has exactly 'descr', 'fortran_order' and 'shape')");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
            } else if (peek() != '}') {
                error("expected ',' or '}' after the value of " + quote(key));
            }
        }
        ++pos_;
        skip_space();
        if (pos_ != s_.size()) error("unexpected text after the closing '}'");
        if (!have_descr || !have_fortran || !have_shape)
            error(std::string("the header has no ") +
                  (!have_descr     ? "'descr'"
                   : !have_fortran ? "'fortran_order'"
                                   : "'shape'") +
                  " (an .npy header has exactly 'descr', 'fortran_order' and 'shape')");

        h.type = dtype(descr);
        if (fortran)
            fail("fortran", label_,
                 "'fortran_order' is True (column-major data), only C order is supported; save "
                 "np.ascontiguousarray(a) instead");
        if (!byte_count(h.shape, npy_element_size(h.type), h.data_size))
            fail("size", label_,
                 "shape " + format_shape(h.shape) + " of " + std::string(npy_type_name(h.type)) +
                     " is too large to address (its byte count overflows)");
        return h;
    }

private:
    static std::string supported() { return "'<f4' (float32), '<f8' (float64), '|u1' (uint8) or '<i8' (int64)"; }

    NpyType dtype(std::string_view d) const {
        const std::string_view body = d.size() == 3 ? d.substr(1) : std::string_view{};
        const char order = d.empty() ? '\0' : d[0];
        if (body == "u1" && (order == '|' || order == '<' || order == '>' || order == '='))
            return NpyType::u8;  // one byte has no byte order
        const bool known = body == "f4" || body == "f8" || body == "i8";
        if (known && order == '<') return body == "f4" ? NpyType::f32 : body == "f8" ? NpyType::f64 : NpyType::i64;
        if (known && order == '>')
            fail("byteorder", label_,
                 "dtype " + quote(d) + " is big-endian, only little-endian data is supported; save a.astype('<" +
                     std::string(body) + "') instead");
        std::string hint;
        if (!d.empty() && d.back() == 'O')
            hint = " (an object array holds pickled Python objects, which latent never reads)";
        fail("dtype", label_, "unsupported dtype " + quote(d) + ", expected " + supported() + hint);
    }

    char peek() const noexcept { return pos_ < s_.size() ? s_[pos_] : '\0'; }

    // Python's whitespace between tokens; newlines count too inside the braces.
    void skip_space() noexcept {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\f'))
            ++pos_;
    }

    [[noreturn]] void error_at(std::size_t at, const std::string& message) const {
        constexpr std::size_t shown = 160;
        std::string text = quote(s_.substr(0, shown));
        if (s_.size() > shown) text += "...";
        fail("header", label_,
             "malformed header at byte " + std::to_string(at) + " of " + std::to_string(s_.size()) + ": " + message +
                 "; the header is " + text);
    }
    [[noreturn]] void error(const std::string& message) const { error_at(pos_, message); }
    std::string found() const { return pos_ < s_.size() ? quote(s_.substr(pos_, 1)) : "the end of the header"; }

    void expect(char c, const char* what) {
        if (peek() != c || pos_ >= s_.size()) error(std::string("expected ") + what + ", found " + found());
        ++pos_;
    }

    std::string_view string(const char* what) {
        const char q = peek();
        if (pos_ >= s_.size() || (q != '\'' && q != '"')) error(std::string("expected ") + what + ", found " + found());
        const std::size_t begin = ++pos_;
        while (pos_ < s_.size() && s_[pos_] != q) {
            if (s_[pos_] == '\\' || s_[pos_] == '\n') error("escapes and line breaks in strings are not supported");
            ++pos_;
        }
        if (pos_ >= s_.size()) error_at(begin - 1, "the string never ends");
        return s_.substr(begin, pos_++ - begin);
    }

    bool boolean() {
        for (const std::string_view word : {std::string_view("True"), std::string_view("False")})
            if (s_.substr(pos_, word.size()) == word) {
                const std::size_t end = pos_ + word.size();
                if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) break;
                pos_ = end;
                return word == "True";
            }
        error("expected True or False for 'fortran_order'");
    }

    std::vector<std::size_t> tuple() {
        expect('(', "a tuple such as (2, 3) for 'shape'");
        std::vector<std::size_t> dims;
        bool comma = false;
        skip_space();
        while (peek() != ')') {
            dims.push_back(dimension());
            skip_space();
            comma = peek() == ',';
            if (comma) {
                ++pos_;
                skip_space();
            } else if (peek() != ')') {
                error("expected ',' or ')' in the shape tuple");
            }
        }
        ++pos_;
        if (dims.size() == 1 && !comma)
            error("'shape' (" + std::to_string(dims[0]) + ") is a number, not a tuple; a 1-D shape is (" +
                  std::to_string(dims[0]) + ",)");
        return dims;
    }

    std::size_t dimension() {
        const std::size_t begin = pos_;
        if (peek() == '-') error("negative dimension in 'shape'");
        if (peek() < '0' || peek() > '9') error("expected a non-negative integer in 'shape', found " + found());
        if (peek() == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
            error("a dimension with a leading zero is not a Python integer");
        std::uint64_t v = 0;
        bool overflow = false;
        while (peek() >= '0' && peek() <= '9') {
            const auto digit = static_cast<std::uint64_t>(peek() - '0');
            if (v > (std::min<std::uint64_t>(UINT64_MAX, SIZE_MAX) - digit) / 10) overflow = true;
            v = v * 10 + digit;
            ++pos_;
        }
        if (peek() == 'L') ++pos_;  // Python 2 wrote longs with a suffix; NumPy still reads them
        if (overflow)
            fail("size", label_,
                 "dimension " + std::string(s_.substr(begin, pos_ - begin)) + " in 'shape' is too large to address");
        return static_cast<std::size_t>(v);
    }

    std::string_view s_;
    const std::string& label_;
    std::size_t pos_ = 0;
};

template <class = void>
Header parse_header(std::string_view text, const std::string& label) {
    return HeaderParser<>(text, label).parse();
}

[[noreturn]] inline void length_error(const Header& h, std::size_t header_end, std::uint64_t have,
                                      const std::string& label, const std::string& why = "") {
    fail("length", label,
         "shape " + format_shape(h.shape) + " of " + std::string(npy_type_name(h.type)) + " needs " +
             std::to_string(h.data_size) + " bytes of data after the " + std::to_string(header_end) +
             "-byte header, the file has " + std::to_string(have) +
             (why.empty()
                  ? (have < h.data_size ? " (truncated, or a wrong shape)" : " (trailing bytes, or a wrong shape)")
                  : why));
}

// Parses a whole .npy image. `storage`, when given, is the vector `file` views: its header
// is cut off in place rather than the data copied.
template <class = void>
NpyArray parse(std::span<const std::byte> file, const std::string& label,
               std::vector<std::byte>* storage = nullptr) {
    const Preamble p = check_preamble(file.first(std::min<std::size_t>(file.size(), 12)), file.size(), label);
    const Header h =
        parse_header(std::string_view(reinterpret_cast<const char*>(file.data()) + p.text_offset, p.text_size), label);
    const std::size_t header_end = p.text_offset + p.text_size;
    const std::uint64_t have = file.size() - header_end;
    if (have != h.data_size) length_error(h, header_end, have, label);
    NpyArray out;
    out.type = h.type;
    out.shape = h.shape;
    if (storage) {
        storage->erase(storage->begin(), storage->begin() + static_cast<std::ptrdiff_t>(header_end));
        out.bytes = std::move(*storage);
    } else {
        out.bytes.assign(file.begin() + static_cast<std::ptrdiff_t>(header_end), file.end());
    }
    return out;
}

// The preamble and header NumPy would write: version 1.0 unless the header needs more than
// 65535 bytes (then 2.0), padded with spaces and a newline so the data starts 64-byte aligned.
template <class = void>
std::vector<std::byte> header_bytes(const NpyArray& a) {
    std::string dict = "{'descr': '" + std::string(npy_descr(a.type)) + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < a.shape.size(); ++i) {
        if (i) dict += ", ";
        dict += std::to_string(a.shape[i]);
    }
    dict += a.shape.size() == 1 ? ",), }" : "), }";
    std::size_t preamble = 10;
    std::size_t text = dict.size() + 1;
    text += (64 - (preamble + text) % 64) % 64;
    if (text > 0xFFFF) {
        preamble = 12;
        text = dict.size() + 1;
        text += (64 - (preamble + text) % 64) % 64;
    }
    std::vector<std::byte> out(preamble + text, std::byte{' '});
    for (std::size_t i = 0; i < magic.size(); ++i) out[i] = std::byte{magic[i]};
    out[6] = std::byte{static_cast<unsigned char>(preamble == 10 ? 1 : 2)};
    out[7] = std::byte{0};
    for (std::size_t i = 0; i < preamble - 8; ++i) out[8 + i] = static_cast<std::byte>((text >> (8 * i)) & 0xFF);
    std::memcpy(out.data() + preamble, dict.data(), dict.size());
    out.back() = std::byte{'\n'};
    return out;
}

// Appends to a vector; AtomicFile is the other sink the writers take.
struct VectorSink {
    std::vector<std::byte>& out;
    void write(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::byte*>(data);
        out.insert(out.end(), p, p + n);
    }
};

template <class Sink>
void write_npy(Sink& sink, const NpyArray& a) {
    (void)a.checked_size();
    const std::vector<std::byte> header = header_bytes(a);
    sink.write(header.data(), header.size());
    sink.write(a.bytes.data(), a.bytes.size());
}

// ---- .npz: a zip archive of <name>.npy members -------------------------------------------

inline constexpr std::uint32_t sig_local = 0x04034b50, sig_central = 0x02014b50, sig_end = 0x06054b50,
                               sig_end64 = 0x06064b50, sig_locator64 = 0x07064b50;
inline constexpr std::uint64_t max32 = 0xFFFFFFFFu;

struct ZipEntry {
    std::string name;
    std::uint16_t flags = 0, method = 0;
    std::uint32_t crc = 0;
    std::uint64_t packed = 0, size = 0, local = 0;
};

template <class = void>
std::uint32_t crc32_of(std::uint32_t crc, std::span<const std::byte> data) {
    while (!data.empty()) {
        const std::size_t take = std::min<std::size_t>(data.size(), UINT_MAX);
        crc = static_cast<std::uint32_t>(
            ::crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(take)));
        data = data.subspan(take);
    }
    return crc;
}

// The central directory, located through the end record (and the zip64 one when present):
// the sizes there are the only ones to trust, since local headers written with a data
// descriptor (flag bit 3) or zip64 hold zeros or 0xFFFFFFFF instead.
template <class = void>
std::vector<ZipEntry> read_directory(std::span<const std::byte> z, const std::string& label) {
    const std::uint64_t size = z.size();
    const auto u = [&](std::uint64_t at, std::size_t n) { return load_u(z.data() + at, n); };
    if (size < 22) {
        const bool npy = size >= 6 && std::memcmp(z.data(), magic.data(), magic.size()) == 0;
        zip_fail("zip", label,
                 "file has " + std::to_string(size) + " bytes, too short for a zip archive (an .npz file)" +
                     (npy ? "; it is an .npy file, read it with load_npy" : ""));
    }
    std::uint64_t end = size - 22;
    const std::uint64_t lowest = size - 22 > 0xFFFF ? size - 22 - 0xFFFF : 0;
    for (;; --end) {
        if (u(end, 4) == sig_end && end + 22 + u(end + 20, 2) <= size) break;
        if (end == lowest) {
            const bool npy = std::memcmp(z.data(), magic.data(), magic.size()) == 0;
            zip_fail("zip", label,
                     std::string("no zip end-of-central-directory record found (not a zip archive, or truncated)") +
                         (npy ? "; it is an .npy file, read it with load_npy" : ""));
        }
    }
    std::uint64_t disk = u(end + 4, 2), cd_disk = u(end + 6, 2), on_disk = u(end + 8, 2), count = u(end + 10, 2);
    std::uint64_t cd_size = u(end + 12, 4), cd_offset = u(end + 16, 4);
    std::uint64_t cd_limit = end;  // the directory ends before the end record(s)
    if (end >= 20 && u(end - 20, 4) == sig_locator64) {
        const std::uint64_t at = u(end - 12, 8);
        if (at > end - 20 || end - 20 - at < 56 || u(at, 4) != sig_end64)
            zip_fail("zip", label,
                     "the zip64 end-of-central-directory locator points to offset " + std::to_string(at) +
                         ", where there is no zip64 end record");
        disk = u(at + 16, 4);
        cd_disk = u(at + 20, 4);
        on_disk = u(at + 24, 8);
        count = u(at + 32, 8);
        cd_size = u(at + 40, 8);
        cd_offset = u(at + 48, 8);
        cd_limit = at;
    }
    if (disk != 0 || cd_disk != 0 || on_disk != count)
        zip_fail("zip", label, "multi-volume (split) zip archives are not supported");
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
        zip_fail("zip", label,
                 "the central directory (" + std::to_string(cd_size) + " bytes at offset " + std::to_string(cd_offset) +
                     ") lies outside the " + std::to_string(size) + "-byte archive");
    if (count > cd_size / 46)
        zip_fail("zip", label,
                 "the end record declares " + std::to_string(count) + " members, but a " + std::to_string(cd_size) +
                     "-byte central directory holds at most " + std::to_string(cd_size / 46));

    std::vector<ZipEntry> entries;
    entries.reserve(static_cast<std::size_t>(count));
    std::uint64_t at = cd_offset;
    const std::uint64_t cd_end = cd_offset + cd_size;
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto broken = [&](const std::string& why) {
            zip_fail("zip", label,
                     "central directory entry " + std::to_string(i + 1) + " of " + std::to_string(count) + " (offset " +
                         std::to_string(at) + ") " + why);
        };
        if (cd_end - at < 46 || u(at, 4) != sig_central) broken("is not a central directory record");
        ZipEntry e;
        e.flags = static_cast<std::uint16_t>(u(at + 8, 2));
        e.method = static_cast<std::uint16_t>(u(at + 10, 2));
        e.crc = static_cast<std::uint32_t>(u(at + 16, 4));
        e.packed = u(at + 20, 4);
        e.size = u(at + 24, 4);
        std::uint64_t start_disk = u(at + 34, 2);
        e.local = u(at + 42, 4);
        const std::uint64_t name_size = u(at + 28, 2), extra_size = u(at + 30, 2), comment_size = u(at + 32, 2);
        if (cd_end - at - 46 < name_size + extra_size + comment_size) broken("runs past the central directory");
        e.name.assign(reinterpret_cast<const char*>(z.data() + at + 46), static_cast<std::size_t>(name_size));
        const std::string member = "member " + quote(e.name);

        // The zip64 extra field holds, in this order, exactly the values that are 0xFFFFFFFF
        // (0xFFFF for the disk) in the record itself.
        std::uint64_t x = at + 46 + name_size;
        const std::uint64_t x_end = x + extra_size;
        while (x_end - x >= 4) {
            const std::uint64_t id = u(x, 2), n = u(x + 2, 2);
            if (n > x_end - x - 4) zip_fail("zip", label, member + " has an extra field that runs past its end");
            if (id == 0x0001) {
                std::uint64_t p = x + 4;
                const std::uint64_t p_end = p + n;
                const auto take = [&](std::uint64_t& field, std::size_t width) {
                    if (p_end - p < width)
                        zip_fail("zip", label, member + " has a zip64 extra field too short for its sizes and offset");
                    field = u(p, width);
                    p += width;
                };
                if (e.size == max32) take(e.size, 8);
                if (e.packed == max32) take(e.packed, 8);
                if (e.local == max32) take(e.local, 8);
                if (start_disk == 0xFFFF) take(start_disk, 4);
            }
            x += 4 + n;
        }
        if (start_disk != 0) zip_fail("zip", label, member + " starts on another disk of a split archive");
        if (e.flags & 0x0001) zip_fail("zip", label, member + " is encrypted, which is not supported");
        if (e.method != 0 && e.method != 8)
            zip_fail("zip", label,
                     member + " uses compression method " + std::to_string(e.method) +
                         ", expected 0 (stored) or 8 (deflate)");
        if (e.method == 0 && e.packed != e.size)
            zip_fail("zip", label,
                     member + " is stored uncompressed, yet its directory entry gives " + std::to_string(e.packed) +
                         " bytes stored and " + std::to_string(e.size) + " bytes of content");
        entries.push_back(std::move(e));
        at += 46 + name_size + extra_size + comment_size;
    }
    return entries;
}

// Raw deflate (zip method 8) into exactly `size` bytes. The output grows with what the stream
// really produces, so a directory entry that lies about the size costs nothing.
template <class = void>
std::vector<std::byte> inflate_member(std::span<const std::byte> in, std::uint64_t size,
                                      const std::string& label, const std::string& member) {
    const auto broken = [&](const std::string& why) { zip_fail("deflate", label, member + " " + why); };
    // Deflate expands at most 1032:1, so a larger claim is a lie that need not be inflated.
    if (size > std::min<std::uint64_t>(SIZE_MAX - 1, (in.size() + 1) * 1032))
        broken("claims " + std::to_string(size) + " bytes of content from " + std::to_string(in.size()) +
               " compressed bytes, more than deflate can produce");
    z_stream zs{};
    if (inflateInit2(&zs, -15) != Z_OK) broken("cannot be decompressed: zlib failed to start");
    struct End {
        z_stream* z;
        ~End() { inflateEnd(z); }
    } end{&zs};
    std::vector<std::byte> out;
    // One byte beyond `size` catches a stream that inflates to more than it should.
    const std::size_t limit = static_cast<std::size_t>(size) + 1;
    std::size_t have = 0, in_pos = 0;
    for (;;) {
        if (zs.avail_in == 0 && in_pos < in.size()) {
            const std::size_t take = std::min<std::size_t>(in.size() - in_pos, UINT_MAX);
            zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + in_pos));
            zs.avail_in = static_cast<uInt>(take);
            in_pos += take;
        }
        if (have == out.size()) {
            if (out.size() == limit)
                broken("inflates to more than the " + std::to_string(size) + " bytes its directory entry gives");
            out.resize(std::min(limit, std::max<std::size_t>({2 * out.size(), std::size_t{1} << 16, 4 * in.size()})));
        }
        const std::size_t room = std::min<std::size_t>(out.size() - have, UINT_MAX);
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + have);
        zs.avail_out = static_cast<uInt>(room);
        const int r = inflate(&zs, Z_NO_FLUSH);
        have += room - zs.avail_out;
        if (r == Z_STREAM_END) break;
        if (r != Z_OK && r != Z_BUF_ERROR)
            broken(std::string("holds corrupt deflate data (zlib: ") +
                   (zs.msg ? zs.msg : "error " + std::to_string(r)) + ")");
        if (zs.avail_in == 0 && in_pos == in.size() && zs.avail_out != 0)
            broken("ends before its deflate stream does (truncated)");
    }
    if (have != size)
        broken("inflates to " + std::to_string(have) + " bytes, its directory entry gives " + std::to_string(size));
    out.resize(have);
    return out;
}

// The content of one member, checked against its local header and CRC-32.
template <class = void>
std::vector<std::byte> member_content(std::span<const std::byte> z, const ZipEntry& e,
                                      const std::string& label) {
    const std::string member = "member " + quote(e.name);
    const std::uint64_t size = z.size();
    if (e.local > size || size - e.local < 30 || load_u(z.data() + e.local, 4) != sig_local)
        zip_fail("zip", label, member + " has no local header at offset " + std::to_string(e.local));
    const std::uint64_t name_size = load_u(z.data() + e.local + 26, 2), extra_size = load_u(z.data() + e.local + 28, 2);
    const std::uint64_t data = e.local + 30 + name_size + extra_size;
    if (data > size || size - data < e.packed)
        zip_fail("zip", label,
                 member + " has " + std::to_string(e.packed) + " bytes of data at offset " + std::to_string(data) +
                     ", past the end of the " + std::to_string(size) + "-byte archive");
    if (std::string_view(reinterpret_cast<const char*>(z.data() + e.local + 30), static_cast<std::size_t>(name_size)) !=
        e.name)
        zip_fail("zip", label, member + " has another name in its local header than in the central directory");
    const auto packed = z.subspan(static_cast<std::size_t>(data), static_cast<std::size_t>(e.packed));
    std::vector<std::byte> content = e.method == 0 ? std::vector<std::byte>(packed.begin(), packed.end())
                                                   : inflate_member(packed, e.size, label, member);
    const std::uint32_t crc = crc32_of(0, content);
    if (crc != e.crc)
        zip_fail("crc", label,
                 member + " has CRC-32 " + hex(crc, 8) + ", its directory entry says " + hex(e.crc, 8) +
                     " (the archive is damaged)");
    return content;
}

template <class = void>
std::map<std::string, NpyArray> parse_archive(std::span<const std::byte> z, const std::string& label) {
    const std::vector<ZipEntry> entries = read_directory(z, label);
    std::map<std::string, NpyArray> out;
    for (const ZipEntry& e : entries) {
        const std::string member = "member " + quote(e.name);
        if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0)
            zip_fail("member", label, member + " is not an .npy array (its name does not end in .npy)");
        std::string name = e.name.substr(0, e.name.size() - 4);
        if (out.count(name)) zip_fail("member", label, "the archive holds two members named " + quote(e.name));
        std::vector<std::byte> content = member_content(z, e, label);
        if (content.size() < magic.size() || std::memcmp(content.data(), magic.data(), magic.size()) != 0)
            zip_fail("member", label,
                     member + " is not an .npy array: it starts with " +
                         hex_bytes(std::span(content).first(std::min<std::size_t>(content.size(), 6))) +
                         ", expected 0x93 \"NUMPY\"");
        NpyArray a = parse(content, label + ": array " + quote(name), &content);
        out.emplace(std::move(name), std::move(a));
    }
    return out;
}

// Deflates `parts` as one raw stream (zip method 8).
template <class = void>
std::vector<std::byte> deflate_raw(std::initializer_list<std::span<const std::byte>> parts,
                                   const std::string& label) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        zip_fail("write", label, "zlib cannot start compressing");
    struct End {
        z_stream* z;
        ~End() { deflateEnd(z); }
    } end{&zs};
    std::vector<std::byte> out;
    std::array<std::byte, 1 << 16> chunk;
    std::size_t part = 0;
    for (const auto& in : parts) {
        const bool last = ++part == parts.size();
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
                if (r == Z_STREAM_ERROR) zip_fail("write", label, "zlib failed while compressing");
                out.insert(out.end(), chunk.begin(),
                           chunk.begin() + static_cast<std::ptrdiff_t>(chunk.size() - zs.avail_out));
            } while (zs.avail_out == 0 || (finish && r != Z_STREAM_END));
            pos += take - zs.avail_in;
            if (pos == in.size()) break;
        }
    }
    return out;
}

struct Bytes {
    std::vector<std::byte> data;
    void u16(std::uint64_t v) { put(v, 2); }
    void u32(std::uint64_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void text(std::string_view s) {
        const auto* p = reinterpret_cast<const std::byte*>(s.data());
        data.insert(data.end(), p, p + s.size());
    }
    void put(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) data.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
    }
};

// Writes a zip of one <name>.npy member per array. Members are written with their sizes and
// CRC known up front (no data descriptors); zip64 records appear where a size or offset
// needs them, or everywhere with `force_zip64` (which tests use to exercise that path).
template <class Sink>
void write_npz(Sink& sink, const std::map<std::string, NpyArray>& arrays, bool compress, const std::string& label,
               bool force_zip64 = false) {
    for (const auto& [name, a] : arrays) {
        if (name.size() > 0xFFFF - 4)
            throw value_error("latent.io.npz.name", label + ": an array name has " + std::to_string(name.size()) +
                                                        " bytes, a zip member name (<name>.npy) at most 65535");
        (void)a.checked_size();
    }
    constexpr std::uint16_t dos_date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: output independent of the clock
    struct Central {
        std::string name;
        std::uint32_t crc;
        std::uint64_t packed, size, offset;
        bool utf8;
    };
    std::vector<Central> central;
    std::uint64_t offset = 0;
    for (const auto& [name, a] : arrays) {
        const std::string member = name + ".npy";
        const std::vector<std::byte> header = header_bytes(a);
        const std::uint64_t size = header.size() + a.bytes.size();
        const std::uint32_t crc = crc32_of(crc32_of(0, header), a.bytes);
        std::vector<std::byte> packed;
        if (compress)
            packed = deflate_raw({std::span<const std::byte>(header), std::span<const std::byte>(a.bytes)}, label);
        const std::uint64_t packed_size = compress ? packed.size() : size;
        const bool utf8 =
            std::any_of(member.begin(), member.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
        const bool zip64 = force_zip64 || size >= max32 || packed_size >= max32 || offset >= max32;
        Bytes local;
        local.u32(sig_local);
        local.u16(zip64 ? 45 : 20);
        local.u16(utf8 ? 0x0800 : 0);
        local.u16(compress ? 8 : 0);
        local.u16(0);
        local.u16(dos_date);
        local.u32(crc);
        local.u32(zip64 ? max32 : packed_size);
        local.u32(zip64 ? max32 : size);
        local.u16(member.size());
        local.u16(zip64 ? 20 : 0);
        local.text(member);
        if (zip64) {
            local.u16(0x0001);
            local.u16(16);
            local.u64(size);
            local.u64(packed_size);
        }
        sink.write(local.data.data(), local.data.size());
        if (compress) {
            sink.write(packed.data(), packed.size());
        } else {
            sink.write(header.data(), header.size());
            sink.write(a.bytes.data(), a.bytes.size());
        }
        central.push_back({member, crc, packed_size, size, offset, utf8});
        offset += local.data.size() + packed_size;
    }

    Bytes dir;
    for (const Central& c : central) {
        const bool big_size = force_zip64 || c.size >= max32 || c.packed >= max32;
        const bool big_offset = force_zip64 || c.offset >= max32;
        const std::uint64_t extra = (big_size ? 16 : 0) + (big_offset ? 8 : 0);
        dir.u32(sig_central);
        dir.u16(0x0300 | 45);  // made by: Unix (so the permissions below apply), zip 4.5
        dir.u16(extra ? 45 : 20);
        dir.u16(c.utf8 ? 0x0800 : 0);
        dir.u16(compress ? 8 : 0);
        dir.u16(0);
        dir.u16(dos_date);
        dir.u32(c.crc);
        dir.u32(big_size ? max32 : c.packed);
        dir.u32(big_size ? max32 : c.size);
        dir.u16(c.name.size());
        dir.u16(extra ? extra + 4 : 0);
        dir.u16(0);
        dir.u16(0);
        dir.u16(0);
        dir.u32(std::uint32_t{0100644} << 16);  // a regular file, rw-r--r--
        dir.u32(big_offset ? max32 : c.offset);
        dir.text(c.name);
        if (extra) {
            dir.u16(0x0001);
            dir.u16(extra);
            if (big_size) {
                dir.u64(c.size);
                dir.u64(c.packed);
            }
            if (big_offset) dir.u64(c.offset);
        }
    }
    const std::uint64_t cd_size = dir.data.size(), count = central.size();
    if (force_zip64 || count >= 0xFFFF || cd_size >= max32 || offset >= max32) {
        const std::uint64_t end64 = offset + cd_size;
        dir.u32(sig_end64);
        dir.u64(44);
        dir.u16(45);
        dir.u16(45);
        dir.u32(0);
        dir.u32(0);
        dir.u64(count);
        dir.u64(count);
        dir.u64(cd_size);
        dir.u64(offset);
        dir.u32(sig_locator64);
        dir.u32(0);
        dir.u64(end64);
        dir.u32(1);
    }
    dir.u32(sig_end);
    dir.u16(0);
    dir.u16(0);
    dir.u16(std::min<std::uint64_t>(count, 0xFFFF));
    dir.u16(std::min<std::uint64_t>(count, 0xFFFF));
    dir.u32(std::min(cd_size, max32));
    dir.u32(std::min(offset, max32));
    dir.u16(0);
    sink.write(dir.data.data(), dir.data.size());
}

// The whole file, for formats read from memory; its size bounds every allocation after.
template <class = void>
std::vector<std::byte> read_whole(const std::filesystem::path& path, std::string_view id_prefix,
                                  const std::string& label, const char* expected) {
    const auto fail_open = [&](const std::string& why) {
        throw io_error(std::string(id_prefix) + "open",
                       label + ": cannot open \"" + path.string() + "\" for reading: " + why);
    };
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec) fail_open(ec.message());
    if (std::filesystem::is_directory(status)) fail_open(std::string("it is a directory, expected ") + expected);
    if (!std::filesystem::is_regular_file(status)) fail_open("it is not a regular file");
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) fail_open(ec.message());
    if constexpr (sizeof(std::size_t) < sizeof(std::uintmax_t))
        if (size > SIZE_MAX) fail_open("it is too large to read into memory");
    errno = 0;
    FileHandle file(open_file(path, "rb"));
    if (!file) fail_open(errno_text(errno));
    std::vector<std::byte> out(static_cast<std::size_t>(size));
    if (!out.empty() && std::fread(out.data(), 1, out.size(), file.get()) != out.size())
        throw io_error(std::string(id_prefix) + "read",
                       label + ": reading \"" + path.string() + "\" failed (" +
                           (std::ferror(file.get()) ? errno_text(errno) : std::string("it got shorter while read")) +
                           ")");
    if (std::fgetc(file.get()) != EOF)
        throw io_error(std::string(id_prefix) + "read", label + ": \"" + path.string() + "\" grew while it was read");
    return out;
}

}  // namespace detail::npy

// Parses an .npy file held in memory; `label` is what messages call it. Throws io_error
// "latent.io.npy.<magic|truncated|version|header|dtype|byteorder|fortran|size|length>".
template <class = void>
NpyArray parse_npy(std::span<const std::byte> file, const std::string& label = "<memory>") {
    return detail::npy::parse(file, label);
}

// Reads and validates an .npy file (format 1.0, 2.0 or 3.0; float32, float64, uint8 or int64,
// little-endian, C order). Messages start with the file's name. Throws io_error with the ids
// of parse_npy and latent.io.npy.open/.read (file system). The data is read straight into the
// array once the header and the file size agree.
template <class = void>
NpyArray load_npy(const std::filesystem::path& path) {
    namespace d = detail::npy;
    const std::string label = detail::file_label(path);
    const auto fail_open = [&](const std::string& why) {
        d::fail("open", label, "cannot open \"" + path.string() + "\" for reading: " + why);
    };
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec) fail_open(ec.message());
    if (std::filesystem::is_directory(status)) fail_open("it is a directory, expected an .npy file");
    if (!std::filesystem::is_regular_file(status)) fail_open("it is not a regular file");
    const std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) fail_open(ec.message());
    errno = 0;
    detail::FileHandle file(detail::open_file(path, "rb"));
    if (!file) fail_open(detail::errno_text(errno));
    const auto read_exact = [&](void* dst, std::size_t n) {
        if (n != 0 && std::fread(dst, 1, n, file.get()) != n) {
            if (std::ferror(file.get()))
                d::fail("read", label, "reading \"" + path.string() + "\" failed (" + detail::errno_text(errno) + ")");
            return false;
        }
        return true;
    };
    const auto changed = [&] { d::fail("read", label, "\"" + path.string() + "\" changed while it was read"); };

    std::array<std::byte, 12> head{};
    const std::size_t head_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, head.size()));
    if (!read_exact(head.data(), head_size)) changed();
    const d::Preamble p = d::check_preamble(std::span(head).first(head_size), size, label);
    std::string text(p.text_size, '\0');
    if (std::fseek(file.get(), static_cast<long>(p.text_offset), SEEK_SET) != 0 ||
        !read_exact(text.data(), text.size()))
        changed();
    const d::Header h = d::parse_header(text, label);
    const std::size_t header_end = p.text_offset + p.text_size;
    if (size - header_end != h.data_size) d::length_error(h, header_end, size - header_end, label);

    NpyArray out;
    out.type = h.type;
    out.shape = h.shape;
    out.bytes.resize(static_cast<std::size_t>(h.data_size));
    if (!read_exact(out.bytes.data(), out.bytes.size()) || std::fgetc(file.get()) != EOF) changed();
    return out;
}

// Parses an .npz archive held in memory: {name without ".npy": array}. Throws io_error
// "latent.io.npz.<zip|deflate|crc|member>" (archive) and the ids of parse_npy (a member, with
// the array's name in the message).
template <class = void>
std::map<std::string, NpyArray> parse_npz(std::span<const std::byte> file,
                                          const std::string& label = "<memory>") {
    return detail::npy::parse_archive(file, label);
}

// Reads and validates every array of an .npz archive (np.savez or np.savez_compressed), all
// or nothing: any bad member fails the whole load. Each member's CRC-32 is checked. Throws
// the ids of parse_npz and latent.io.npz.open/.read (file system).
template <class = void>
std::map<std::string, NpyArray> load_npz(const std::filesystem::path& path) {
    const std::string label = detail::file_label(path);
    const std::vector<std::byte> bytes = detail::npy::read_whole(path, "latent.io.npz.", label, "an .npz file");
    return detail::npy::parse_archive(bytes, label);
}

// The bytes of an .npy file of `array` (version 1.0, or 2.0 when the header needs it).
// Throws value_error "latent.io.npy.array" when bytes does not hold its shape's elements.
template <class = void>
std::vector<std::byte> encode_npy(const NpyArray& array) {
    std::vector<std::byte> out;
    detail::npy::VectorSink sink{out};
    detail::npy::write_npy(sink, array);
    return out;
}

// The bytes of an .npz archive of `arrays`, each a member <name>.npy, deflated when `compress`.
// Throws value_error "latent.io.npz.name" for a name of more than 65531 bytes.
template <class = void>
std::vector<std::byte> encode_npz(const std::map<std::string, NpyArray>& arrays, bool compress = true) {
    std::vector<std::byte> out;
    detail::npy::VectorSink sink{out};
    detail::npy::write_npz(sink, arrays, compress, "<memory>");
    return out;
}

// Writes an .npy file crash-safely (temporary file, fsync, rename): on any error the previous
// file is untouched. Throws io_error "latent.io.npy.write" and the errors of encode_npy.
template <class = void>
void save_npy(const std::filesystem::path& path, const NpyArray& array) {
    (void)array.checked_size();
    detail::AtomicFile file(path, "latent.io.npy.write", detail::file_label(path));
    detail::npy::write_npy(file, array);
    file.commit();
}

// Writes an .npz archive crash-safely, deflated (as np.savez_compressed) or stored (as
// np.savez). Throws io_error "latent.io.npz.write" and the errors of encode_npz.
template <class = void>
void save_npz(const std::filesystem::path& path, const std::map<std::string, NpyArray>& arrays,
              bool compress = true) {
    const std::string label = detail::file_label(path);
    detail::AtomicFile file(path, "latent.io.npz.write", label);
    detail::npy::write_npz(file, arrays, compress, label);
    file.commit();
}

// ---- Tensor glue ---------------------------------------------------------------------------

// A batch of samples of shape S from an array of shape (n, S...), converted to float (uint8
// stays 0..255, no scaling). When S ends in a 1 the array may leave that axis out, as NumPy
// and Keras store grayscale images ((n, 28, 28) for Shape<28, 28, 1>) and labels ((n,) for
// Shape<1>). Throws shape_error "latent.io.npy.shape" naming `label`, both shapes.
template <shape_type S>
Tensor<S> npy_to_tensor(const NpyArray& array, std::string_view label) {
    (void)array.checked_size();  // before the batch size is trusted with an allocation
    const auto& s = array.shape;
    const auto tail_is = [&](std::size_t rank) {
        return s.size() == rank + 1 && std::equal(s.begin() + 1, s.end(), S::dims.begin());
    };
    constexpr bool ends_in_one = S::rank > 0 && S::dims[S::rank - 1] == 1;
    if (!tail_is(S::rank) && !(ends_in_one && tail_is(S::rank - 1))) {
        std::string want = "(n";
        for (const std::size_t d : S::dims) want += ", " + std::to_string(d);
        throw shape_error("latent.io.npy.shape", std::string(label) + ": expected an array of shape " + want +
                                                     ") for samples of shape " + S::to_string() + ", got " +
                                                     format_shape(s));
    }
    Tensor<S> out(s[0]);
    array.values_into(out.values());
    return out;
}

// load_npy then npy_to_tensor; messages name the file.
template <shape_type S>
Tensor<S> load_npy_tensor(const std::filesystem::path& path) {
    return npy_to_tensor<S>(load_npy(path), detail::file_label(path));
}

// A float32 array of shape (batch, S...) holding the samples of `x` (a Tensor or TensorView).
template <float_batch X>
NpyArray tensor_to_npy(const X& x) {
    using S = typename std::remove_cvref_t<X>::shape;
    std::vector<std::size_t> shape{x.batch()};
    shape.insert(shape.end(), S::dims.begin(), S::dims.end());
    return make_npy<float>(std::move(shape), std::span<const float>(x.data(), x.size()));
}

}  // namespace latent::io
