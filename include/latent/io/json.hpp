// A small strict JSON reader and string writer, just enough for safetensors headers.
// Written by hand instead of using nlohmann-json so that the always-included umbrella
// header stays cheap to compile; it is bounds-checked everywhere and safe on any input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/order.hpp"

namespace latent::io::detail {

// Nesting deeper than this is rejected: it bounds the parser's recursion (and so its stack)
// on hostile input, while safetensors headers never nest deeper than 3.
inline constexpr std::size_t json_default_max_depth = 64;

// Documents with more values than this are rejected. Each value costs about 60 times the two
// bytes ("1,") it can take in the text, so without a bound the 100 MB a safetensors header may
// have could make a tree of several gigabytes; this keeps a hostile header near 250 MB while a
// real one (about 7 values per tensor) can still describe over 100,000 tensors.
inline constexpr std::size_t json_default_max_values = std::size_t{1} << 20;

using latent::detail::concat;

// A malformed document. `offset()` is the byte offset into the parsed text.
class JsonError : public io_error {
public:
    JsonError(std::size_t offset, std::string reason)
        : io_error("latent.io.json", concat("invalid JSON at byte ", std::to_string(offset), ": ", reason)),
          offset_(offset),
          reason_(std::move(reason)) {}
    std::size_t offset() const noexcept { return offset_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::size_t offset_;
    std::string reason_;
};

struct JsonValue {
    enum class Kind { null, boolean, integer, number, string, array, object };

    Kind kind = Kind::null;
    std::size_t offset = 0;         // where the value starts in the text, for error messages
    bool boolean = false;           // Kind::boolean
    bool negative = false;          // Kind::integer: the value is -magnitude
    std::uint64_t magnitude = 0;    // Kind::integer
    std::string text;               // Kind::string (decoded UTF-8); Kind::number: the literal
    std::vector<JsonValue> items;   // Kind::array elements, or Kind::object member values
    std::vector<std::string> keys;  // Kind::object: keys[i] names items[i], in document order

    bool is_null() const noexcept { return kind == Kind::null; }
    bool is_object() const noexcept { return kind == Kind::object; }
    bool is_array() const noexcept { return kind == Kind::array; }
    bool is_string() const noexcept { return kind == Kind::string; }

    // True and sets `out` when the value is an integer in [0, 2^64).
    bool as_u64(std::uint64_t& out) const noexcept {
        if (kind != Kind::integer || negative) return false;
        out = magnitude;
        return true;
    }

    // The member named `key` of an object, or nullptr (keys are unique: the parser checks).
    const JsonValue* find(std::string_view key) const noexcept {
        if (kind != Kind::object) return nullptr;
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key) return &items[i];
        return nullptr;
    }
};

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.

// "an object", "a string", ...: for messages that say what was found instead.
template <class = void>
const char* json_kind_name(JsonValue::Kind kind) noexcept {
    switch (kind) {
        case JsonValue::Kind::null: return "null";
        case JsonValue::Kind::boolean: return "a boolean";
        case JsonValue::Kind::integer: return "an integer";
        case JsonValue::Kind::number: return "a non-integer number";
        case JsonValue::Kind::string: return "a string";
        case JsonValue::Kind::array: return "an array";
        case JsonValue::Kind::object: return "an object";
    }
    return "a value";
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 if it is malformed or cut off.
template <class = void>
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    if (i >= s.size()) return 0;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) return 1;
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - i < len) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    return len;
}

template <class = void>
bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

template <class = void>
void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Appends `s` (valid UTF-8, which the caller checks) as a quoted JSON string. Only what
// JSON requires is escaped, so names read back byte for byte by any JSON reader.
template <class = void>
void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out += hex[u >> 4];
                    out += hex[u & 0xF];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

// A class template for the reason the functions above are templates.
template <class = void>
class JsonParser {
public:
    JsonParser(std::string_view text, std::size_t max_depth, std::size_t max_values = json_default_max_values)
        : s_(text), max_depth_(max_depth), max_values_(max_values) {}

    JsonValue parse_document() {
        skip_whitespace();
        JsonValue v = parse_value(0);
        skip_whitespace();
        if (pos_ != s_.size()) fail("unexpected data after the top-level value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& reason) const { throw JsonError(pos_, reason); }
    [[noreturn]] void fail_at(std::size_t at, const std::string& reason) const { throw JsonError(at, reason); }

    bool at_end() const noexcept { return pos_ >= s_.size(); }
    char peek() const noexcept { return at_end() ? '\0' : s_[pos_]; }

    // Names a byte in messages: 'x' when printable, else its hex code.
    std::string describe_here() const {
        if (at_end()) return "end of input";
        const auto u = static_cast<unsigned char>(s_[pos_]);
        if (u >= 0x20 && u < 0x7F) return std::string("'") + s_[pos_] + "'";
        static constexpr char hex[] = "0123456789ABCDEF";
        return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xF];
    }

    void skip_whitespace() noexcept {
        while (!at_end()) {
            const char c = s_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    void expect_literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) fail(concat("invalid literal (expected '", word, "')"));
        pos_ += word.size();
    }

    JsonValue parse_value(std::size_t depth) {
        if (at_end()) fail("unexpected end of input, expected a value");
        if (++values_ > max_values_)
            fail(concat("the document has more than ", std::to_string(max_values_),
                        " values, the most this reader accepts"));
        JsonValue v;
        v.offset = pos_;
        switch (s_[pos_]) {
            case '{': parse_object(v, depth + 1); break;
            case '[': parse_array(v, depth + 1); break;
            case '"':
                v.kind = JsonValue::Kind::string;
                v.text = parse_string();
                break;
            case 't':
                expect_literal("true");
                v.kind = JsonValue::Kind::boolean;
                v.boolean = true;
                break;
            case 'f':
                expect_literal("false");
                v.kind = JsonValue::Kind::boolean;
                break;
            case 'n': expect_literal("null"); break;
            default:
                if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) {
                    parse_number(v);
                    break;
                }
                fail(concat("unexpected ", describe_here(), ", expected a value"));
        }
        return v;
    }

    void check_depth(std::size_t depth) const {
        if (depth > max_depth_) fail(concat("nesting deeper than ", std::to_string(max_depth_), " levels"));
    }

    void parse_array(JsonValue& v, std::size_t depth) {
        check_depth(depth);
        v.kind = JsonValue::Kind::array;
        ++pos_;  // '['
        skip_whitespace();
        if (peek() == ']') {
            ++pos_;
            return;
        }
        for (;;) {
            skip_whitespace();
            v.items.push_back(parse_value(depth));
            skip_whitespace();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() == ']') {
                ++pos_;
                return;
            } else {
                fail(concat("unexpected ", describe_here(), " in array, expected ',' or ']'"));
            }
        }
    }

    void parse_object(JsonValue& v, std::size_t depth) {
        check_depth(depth);
        v.kind = JsonValue::Kind::object;
        std::vector<std::size_t> key_offsets;
        ++pos_;  // '{'
        skip_whitespace();
        if (peek() == '}') {
            ++pos_;
            return;
        }
        for (;;) {
            skip_whitespace();
            if (peek() != '"') fail(concat("unexpected ", describe_here(), " in object, expected a string key"));
            key_offsets.push_back(pos_);
            v.keys.push_back(parse_string());
            skip_whitespace();
            if (peek() != ':') fail(concat("unexpected ", describe_here(), " after object key, expected ':'"));
            ++pos_;
            skip_whitespace();
            v.items.push_back(parse_value(depth));
            skip_whitespace();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() == '}') {
                ++pos_;
                break;
            } else {
                fail(concat("unexpected ", describe_here(), " in object, expected ',' or '}'"));
            }
        }
        reject_duplicate_keys(v, key_offsets);
    }

    // Duplicate keys are legal JSON but ambiguous (readers disagree on which one wins), so a
    // weights header that has them is refused. Sorting keeps this O(n log n) on hostile input.
    void reject_duplicate_keys(const JsonValue& v, const std::vector<std::size_t>& key_offsets) const {
        if (v.keys.size() < 2) return;
        const auto order = latent::detail::sorted_order(
            v.keys.size(), [&](std::size_t a, std::size_t b) { return v.keys[a] < v.keys[b]; });
        for (std::size_t i = 1; i < order.size(); ++i) {
            if (v.keys[order[i]] == v.keys[order[i - 1]]) {
                std::string shown;
                append_json_string(shown, v.keys[order[i]]);
                fail_at(key_offsets[order[i]], concat("duplicate object key ", shown));
            }
        }
    }

    unsigned parse_hex4() {
        if (s_.size() - pos_ < 4) fail("truncated \\u escape");
        unsigned value = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[pos_];
            unsigned d = 0;
            if (c >= '0' && c <= '9')
                d = static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = static_cast<unsigned>(c - 'A' + 10);
            else
                fail(concat("invalid hex digit ", describe_here(), " in \\u escape"));
            value = value * 16 + d;
            ++pos_;
        }
        return value;
    }

    std::string parse_string() {
        const std::size_t start = pos_;
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) fail_at(start, "unterminated string");
            const auto u = static_cast<unsigned char>(s_[pos_]);
            if (u == '"') {
                ++pos_;
                return out;
            }
            if (u < 0x20) fail(concat("unescaped control character (", describe_here(), ") in string"));
            if (u == '\\') {
                parse_escape(out);
                continue;
            }
            const std::size_t n = utf8_sequence_length(s_, pos_);
            if (n == 0) fail("invalid UTF-8 in string");
            out.append(s_.substr(pos_, n));
            pos_ += n;
        }
    }

    void parse_escape(std::string& out) {
        const std::size_t escape_start = pos_;
        ++pos_;  // backslash
        if (at_end()) fail("truncated escape sequence");
        const char c = s_[pos_++];
        switch (c) {
            case '"': out += '"'; return;
            case '\\': out += '\\'; return;
            case '/': out += '/'; return;
            case 'b': out += '\b'; return;
            case 'f': out += '\f'; return;
            case 'n': out += '\n'; return;
            case 'r': out += '\r'; return;
            case 't': out += '\t'; return;
            case 'u': break;
            default: --pos_; fail(concat("invalid escape sequence: backslash followed by ", describe_here()));
        }
        std::uint32_t cp = parse_hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(escape_start, "lone low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low one; together they name
            // one code point above U+FFFF. A lone half has no UTF-8 encoding.
            if (s_.substr(pos_, 2) != "\\u") fail_at(escape_start, "lone high surrogate in \\u escape");
            pos_ += 2;
            const std::uint32_t low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail_at(escape_start, "high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
    }

    static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

    // JSON's number grammar exactly. Integers that fit in 64 bits (plus sign) become
    // Kind::integer; anything with a fraction, an exponent or more digits is Kind::number
    // and keeps its literal, since nothing in a safetensors header is fractional.
    void parse_number(JsonValue& v) {
        const std::size_t start = pos_;
        bool negative = false;
        if (peek() == '-') {
            negative = true;
            ++pos_;
        }
        if (!is_digit(peek())) fail("expected a digit");
        bool overflow = false;
        std::uint64_t magnitude = 0;
        if (peek() == '0') {
            ++pos_;
            if (is_digit(peek())) fail("leading zeros are not allowed in numbers");
        } else {
            while (is_digit(peek())) {
                const auto d = static_cast<std::uint64_t>(peek() - '0');
                if (magnitude > (UINT64_MAX - d) / 10)
                    overflow = true;
                else
                    magnitude = magnitude * 10 + d;
                ++pos_;
            }
        }
        bool integral = true;
        if (peek() == '.') {
            integral = false;
            ++pos_;
            if (!is_digit(peek())) fail("expected a digit after the decimal point");
            while (is_digit(peek())) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!is_digit(peek())) fail("expected a digit in the exponent");
            while (is_digit(peek())) ++pos_;
        }
        if (integral && !overflow) {
            v.kind = JsonValue::Kind::integer;
            v.negative = negative;
            v.magnitude = magnitude;
        } else {
            v.kind = JsonValue::Kind::number;
            v.text = std::string(s_.substr(start, pos_ - start));
        }
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::size_t max_depth_;
    std::size_t max_values_;
    std::size_t values_ = 0;
};

// Parses one complete JSON document (surrounding whitespace allowed). Throws JsonError,
// an io_error with id "latent.io.json" that names the byte offset of the problem.
template <class = void>
JsonValue parse_json(std::string_view text, std::size_t max_depth = json_default_max_depth,
                     std::size_t max_values = json_default_max_values) {
    return JsonParser<>(text, max_depth, max_values).parse_document();
}

}  // namespace latent::io::detail
