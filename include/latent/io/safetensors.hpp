// Weights in the safetensors format (the one Hugging Face and Keras 3 read): validated
// reading and crash-safe writing of whole files, and saving/loading a ParameterArena.
// Validation follows the reference implementation, so files we accept, it accepts too.
#pragma once

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../core/arena.hpp"
#include "../core/errors.hpp"
#include "../core/order.hpp"
#include "../core/shape.hpp"
#include "file.hpp"
#include "json.hpp"

namespace latent::io {

// One tensor as stored: `bytes` holds its elements little-endian, row-major, exactly as in
// the file, so any dtype round-trips untouched.
struct SafetensorsTensor {
    std::string dtype;              // "F32", "BF16", "I64", ...
    std::vector<std::size_t> dims;  // () for a scalar
    std::vector<std::byte> bytes;
};

struct SafetensorsFile {
    std::map<std::string, SafetensorsTensor> tensors;
    std::map<std::string, std::string> metadata;  // the header's "__metadata__"
};

namespace detail {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "latent: safetensors I/O supports little- and big-endian hosts only");

// The reference implementation refuses headers above 100 MB (a garbage length would
// otherwise make us allocate whatever the first 8 bytes say).
inline constexpr std::uint64_t safetensors_max_header = 100'000'000;

struct SafetensorsDtype {
    std::string_view name;
    std::size_t size;  // bytes per element
};

// The byte-sized dtypes of the format (the sub-byte F4/F6 kinds are not supported).
inline constexpr SafetensorsDtype safetensors_dtypes[] = {
    {"BOOL", 1}, {"U8", 1},   {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1}, {"I16", 2}, {"U16", 2},
    {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8},
};

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.

// Bytes per element of `dtype`, or 0 when the format has no such dtype.
template <class = void>
std::size_t safetensors_dtype_size(std::string_view dtype) noexcept {
    for (const auto& d : safetensors_dtypes)
        if (d.name == dtype) return d.size;
    return 0;
}

template <class = void>
std::string safetensors_dtype_list() {
    std::string out;
    for (const auto& d : safetensors_dtypes) {
        if (!out.empty()) out += ' ';
        out += d.name;
    }
    return out;
}

// What messages call the file: its name, which is what the user recognises.
[[noreturn]] inline void safetensors_fail(std::string_view what, const std::string& label, const std::string& message) {
    throw io_error(concat("latent.io.safetensors.", what), concat(label, ": ", message));
}

// A tensor name as JSON would write it, so odd characters stay visible in messages.
template <class = void>
std::string quote(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

// "\"a\", \"b\"" for at most `limit` names, then "and N more".
template <class = void>
std::string quote_list(const std::vector<std::string>& names, std::size_t limit = 8) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
        if (i) out += ", ";
        out += quote(names[i]);
    }
    if (names.size() > limit) out += concat(" and ", std::to_string(names.size() - limit), " more");
    return out;
}

template <class = void>
bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) noexcept {
    if (a != 0 && b > UINT64_MAX / a) return false;
    out = a * b;
    return true;
}

// Element count of `dims` (1 for a scalar), or false on overflow.
template <class = void>
bool element_count(const std::vector<std::size_t>& dims, std::uint64_t& out) noexcept {
    std::uint64_t n = 1;
    for (const std::size_t d : dims)
        if (!checked_mul(n, d, n)) return false;
    out = n;
    return true;
}

template <class = void>
std::uint64_t load_u64_le(const std::byte* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
}

template <class = void>
void store_u64_le(std::byte* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
}

// float <-> little-endian bytes. On little-endian hosts this is a plain copy; elsewhere the
// bytes are assembled explicitly so the file layout never depends on the host.
template <class = void>
void f32_from_le(const std::byte* src, float* dst, std::size_t n) noexcept {
    if (n == 0) return;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(dst, src, n * sizeof(float));
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            std::uint32_t u = 0;
            for (int k = 3; k >= 0; --k)
                u = (u << 8) | std::to_integer<std::uint32_t>(src[4 * i + static_cast<std::size_t>(k)]);
            dst[i] = std::bit_cast<float>(u);
        }
    }
}

template <class = void>
void f32_to_le(const float* src, std::byte* dst, std::size_t n) noexcept {
    if (n == 0) return;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(dst, src, n * sizeof(float));
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            const auto u = std::bit_cast<std::uint32_t>(src[i]);
            for (std::size_t k = 0; k < 4; ++k) dst[4 * i + k] = static_cast<std::byte>((u >> (8 * k)) & 0xFF);
        }
    }
}

// One tensor entry of a header, validated; offsets are relative to the data buffer.
struct SafetensorsEntry {
    std::string name;
    std::string dtype;
    std::vector<std::size_t> dims;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
};

struct SafetensorsHeader {
    std::vector<SafetensorsEntry> entries;  // sorted by data offsets
    std::map<std::string, std::string> metadata;
};

// Checks the 8-byte length prefix against the file size and returns the header length.
template <class = void>
std::uint64_t check_safetensors_prefix(const std::string& label, const std::byte* prefix,
                                       std::uint64_t file_size) {
    if (file_size < 8)
        safetensors_fail(
            "truncated", label,
            concat("file has ", std::to_string(file_size), " bytes, too short for the 8-byte header length"));
    const std::uint64_t n = load_u64_le(prefix);
    if (n > safetensors_max_header)
        safetensors_fail("header", label,
                         concat("header length ", std::to_string(n), " exceeds the limit of ",
                                std::to_string(safetensors_max_header), " bytes (not a safetensors file?)"));
    if (n > file_size - 8)
        safetensors_fail("truncated", label,
                         concat("file has ", std::to_string(file_size), " bytes, header says ", std::to_string(n),
                                " bytes follow the 8-byte length"));
    return n;
}

template <class = void>
std::size_t header_size_value(const std::string& label, const JsonValue& v, const std::string& what) {
    std::uint64_t u = 0;
    bool ok = v.as_u64(u);
    if constexpr (sizeof(std::size_t) < sizeof(std::uint64_t)) ok = ok && u <= SIZE_MAX;
    if (!ok)
        safetensors_fail("header", label,
                         concat(what, " must be non-negative integers, found ", json_kind_name(v.kind),
                                (v.kind == JsonValue::Kind::integer ? " out of range" : "")));
    return static_cast<std::size_t>(u);
}

template <class = void>
SafetensorsEntry parse_safetensors_entry(const std::string& label, const std::string& name, const JsonValue& v) {
    const std::string where = concat("tensor ", quote(name));
    if (!v.is_object())
        safetensors_fail("header", label,
                         concat("header entry ", quote(name), " is ", json_kind_name(v.kind),
                                ", expected an object with dtype, shape and data_offsets"));
    SafetensorsEntry e;
    e.name = name;

    const JsonValue* dtype = v.find("dtype");
    if (!dtype || !dtype->is_string()) safetensors_fail("header", label, concat(where, " has no string \"dtype\""));
    if (safetensors_dtype_size(dtype->text) == 0)
        safetensors_fail("dtype", label,
                         concat(where, " has unsupported dtype ", quote(dtype->text),
                                " (supported: ", safetensors_dtype_list(), ")"));
    e.dtype = dtype->text;

    const JsonValue* shape = v.find("shape");
    if (!shape || !shape->is_array()) safetensors_fail("header", label, concat(where, " has no \"shape\" array"));
    e.dims.reserve(shape->items.size());
    for (const auto& d : shape->items) e.dims.push_back(header_size_value(label, d, concat(where, ": shape entries")));

    const JsonValue* offsets = v.find("data_offsets");
    if (!offsets || !offsets->is_array() || offsets->items.size() != 2)
        safetensors_fail("header", label, concat(where, " has no \"data_offsets\" array of two integers [begin, end]"));
    e.begin = header_size_value(label, offsets->items[0], concat(where, ": data_offsets"));
    e.end = header_size_value(label, offsets->items[1], concat(where, ": data_offsets"));
    return e;
}

template <class = void>
std::string offsets_text(const SafetensorsEntry& e) {
    return concat("[", std::to_string(e.begin), ", ", std::to_string(e.end), "]");
}

// Parses and validates a header the way the reference implementation does: a JSON object
// starting with '{'; an optional string->string "__metadata__"; tensor entries whose byte
// ranges, sorted, tile [0, data_size) exactly: no holes, no overlaps, no spare bytes.
template <class = void>
[[gnu::cold]]
SafetensorsHeader parse_safetensors_header(const std::string& label, std::string_view text,
                                           std::uint64_t data_size) {
    if (!is_valid_utf8(text)) safetensors_fail("header", label, "header is not valid UTF-8");
    if (text.empty() || text.front() != '{')
        safetensors_fail("header", label, "header does not start with '{' (not a safetensors file?)");
    JsonValue root;
    try {
        root = parse_json(text);
    } catch (const JsonError& e) {
        safetensors_fail("header", label,
                         concat("header is not valid JSON: ", e.reason(), " (byte ", std::to_string(e.offset()),
                                " of the header, ", std::to_string(e.offset() + 8), " of the file)"));
    }
    if (!root.is_object()) safetensors_fail("header", label, "header is not a JSON object");

    SafetensorsHeader header;
    for (std::size_t i = 0; i < root.keys.size(); ++i) {
        const std::string& key = root.keys[i];
        const JsonValue& value = root.items[i];
        if (key == "__metadata__") {
            if (value.is_null()) continue;
            if (!value.is_object())
                safetensors_fail(
                    "header", label,
                    concat("\"__metadata__\" is ", json_kind_name(value.kind), ", expected an object of strings"));
            for (std::size_t k = 0; k < value.keys.size(); ++k) {
                if (!value.items[k].is_string())
                    safetensors_fail("header", label,
                                     concat("\"__metadata__\" value ", quote(value.keys[k]), " is ",
                                            json_kind_name(value.items[k].kind), ", expected a string"));
                header.metadata.emplace(value.keys[k], value.items[k].text);
            }
            continue;
        }
        header.entries.push_back(parse_safetensors_entry(label, key, value));
    }

    auto& entries = header.entries;
    const auto by_offset = latent::detail::sorted_order(entries.size(), [&](std::size_t i, std::size_t j) {
        const SafetensorsEntry &a = entries[i], &b = entries[j];
        if (a.begin != b.begin) return a.begin < b.begin;
        if (a.end != b.end) return a.end < b.end;
        return a.name < b.name;
    });
    latent::detail::apply_order(entries, by_offset);
    std::uint64_t next = 0;  // where the next tensor must begin
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const SafetensorsEntry& e = entries[i];
        const std::string where = concat("tensor ", quote(e.name));
        if (e.end < e.begin)
            safetensors_fail("offsets", label,
                             concat(where, " has data_offsets ", offsets_text(e), " that end before they begin"));
        if (e.begin < next)
            safetensors_fail("offsets", label,
                             concat(where, " data_offsets ", offsets_text(e), " overlap tensor ",
                                    quote(entries[i - 1].name), " ", offsets_text(entries[i - 1])));
        if (e.begin > next)
            safetensors_fail("offsets", label,
                             concat("bytes [", std::to_string(next), ", ", std::to_string(e.begin),
                                    ") of the data belong to no tensor (a hole before ", where, ")"));
        std::uint64_t count = 0, bytes = 0;
        if (!element_count(e.dims, count) || !checked_mul(count, safetensors_dtype_size(e.dtype), bytes))
            safetensors_fail("header", label,
                             concat(where, " has a shape too large to address: ", format_shape(e.dims)));
        if (e.end - e.begin != bytes)
            safetensors_fail("offsets", label,
                             concat(where, " has data_offsets ", offsets_text(e), " (", std::to_string(e.end - e.begin),
                                    " bytes), but ", e.dtype, " ", format_shape(e.dims), " needs ",
                                    std::to_string(bytes), " bytes"));
        if (e.end > data_size)
            safetensors_fail("truncated", label,
                             concat(where, " has data_offsets ", offsets_text(e), ", but the file has only ",
                                    std::to_string(data_size), " bytes of data after the header"));
        next = e.end;
    }
    if (next != data_size)
        safetensors_fail("offsets", label,
                         concat("the last ", std::to_string(data_size - next), " bytes of the data (from ",
                                std::to_string(next), " to ", std::to_string(data_size), ") belong to no tensor"));
    return header;
}

// The same validation as read_safetensors on a file already in memory (for fuzzing and
// for bytes that did not come from disk); `label` stands in for the file name.
template <class = void>
[[gnu::cold]]
SafetensorsFile parse_safetensors_bytes(std::span<const std::byte> file, const std::string& label) {
    const std::uint64_t size = file.size();
    const std::uint64_t header_size = check_safetensors_prefix(label, file.data(), size);
    const std::string_view text(reinterpret_cast<const char*>(file.data()) + 8, static_cast<std::size_t>(header_size));
    SafetensorsHeader header = parse_safetensors_header(label, text, size - 8 - header_size);
    const std::byte* data = file.data() + 8 + header_size;
    SafetensorsFile out;
    out.metadata = std::move(header.metadata);
    for (auto& e : header.entries) {
        SafetensorsTensor t;
        t.dtype = std::move(e.dtype);
        t.dims = std::move(e.dims);
        t.bytes.assign(data + e.begin, data + e.end);
        out.tensors.emplace(std::move(e.name), std::move(t));
    }
    return out;
}

// A tensor to write: borrowed name, shape and little-endian bytes.
struct SafetensorsRecord {
    const std::string* name;
    std::string_view dtype;
    const std::vector<std::size_t>* dims;
    const std::byte* data;
    std::size_t size;  // bytes
};

// The header JSON, padded with spaces so the data starts 8-byte aligned (as the Python
// library does). Records are ordered by element size, largest first, then by name (the
// reference writer likewise puts wide dtypes first), so every tensor's data is aligned
// to its element size for readers that map the file.
template <class = void>
[[gnu::cold]]
std::string build_safetensors_header(const std::string& label, const std::string& target,
                                     std::vector<SafetensorsRecord>& records,
                                     const std::map<std::string, std::string>& metadata) {
    const auto fail = [&](const std::string& why) {
        safetensors_fail("write", label, concat("cannot write \"", target, "\": ", why));
    };
    for (const auto& r : records) {
        const std::string where = concat("tensor ", quote(*r.name));
        if (*r.name == "__metadata__") fail("a tensor may not be named \"__metadata__\"");
        if (!is_valid_utf8(*r.name)) fail(concat(where, " has a name that is not valid UTF-8"));
        const std::size_t elem = safetensors_dtype_size(r.dtype);
        if (elem == 0) fail(concat(where, " has unsupported dtype ", quote(r.dtype)));
        std::uint64_t count = 0, bytes = 0;
        if (!element_count(*r.dims, count) || !checked_mul(count, elem, bytes))
            fail(concat(where, " has a shape too large to address: ", format_shape(*r.dims)));
        if (bytes != r.size)
            fail(concat(where, " has ", std::to_string(r.size), " bytes, but ", r.dtype, " ", format_shape(*r.dims),
                        " needs ", std::to_string(bytes)));
    }
    for (const auto& [key, value] : metadata)
        if (!is_valid_utf8(key) || !is_valid_utf8(value))
            fail(concat("metadata entry ", quote(key), " is not valid UTF-8"));

    // (sorted_order keeps equal records in their order, as a stable sort)
    const auto by_width = latent::detail::sorted_order(records.size(), [&](std::size_t i, std::size_t j) {
        const SafetensorsRecord &a = records[i], &b = records[j];
        const std::size_t sa = safetensors_dtype_size(a.dtype), sb = safetensors_dtype_size(b.dtype);
        return sa != sb ? sa > sb : *a.name < *b.name;
    });
    latent::detail::apply_order(records, by_width);

    std::string h = "{";
    if (!metadata.empty()) {
        h += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [key, value] : metadata) {
            if (!first) h += ',';
            first = false;
            append_json_string(h, key);
            h += ':';
            append_json_string(h, value);
        }
        h += '}';
    }
    std::uint64_t offset = 0;
    for (const auto& r : records) {
        if (h.size() > 1) h += ',';
        append_json_string(h, *r.name);
        h += ":{\"dtype\":";
        append_json_string(h, r.dtype);
        h += ",\"shape\":[";
        for (std::size_t i = 0; i < r.dims->size(); ++i) {
            if (i) h += ',';
            h += std::to_string((*r.dims)[i]);
        }
        h += concat("],\"data_offsets\":[", std::to_string(offset), ",", std::to_string(offset + r.size), "]}");
        offset += r.size;
    }
    h += '}';
    h.append((8 - h.size() % 8) % 8, ' ');
    if (h.size() > safetensors_max_header)
        fail(concat("the header would be ", std::to_string(h.size()), " bytes, above the format's limit of ",
                    std::to_string(safetensors_max_header)));
    return h;
}

// Writes the file crash-safely (AtomicFile: the old file or the new one, never a torn mix).
template <class = void>
[[gnu::cold]]
void write_safetensors_records(const std::filesystem::path& path, std::vector<SafetensorsRecord> records,
                               const std::map<std::string, std::string>& metadata) {
    const std::string label = file_label(path);
    const std::string target = path.string();
    const std::string header = build_safetensors_header(label, target, records, metadata);

    AtomicFile file(path, "latent.io.safetensors.write", label);
    std::byte prefix[8];
    store_u64_le(prefix, header.size());
    file.write(prefix, sizeof prefix);
    file.write(header.data(), header.size());
    for (const auto& r : records) file.write(r.data, r.size);
    file.commit();
}

}  // namespace detail

// Reads and validates a whole safetensors file. Throws io_error with ids
// latent.io.safetensors.{open, truncated, header, dtype, offsets}; every message starts
// with the file name.
template <class = void>
[[gnu::cold]]
SafetensorsFile read_safetensors(const std::filesystem::path& path) {
    const std::string label = detail::file_label(path);
    const auto fail_open = [&](const std::string& why) {
        detail::safetensors_fail("open", label,
                                 detail::concat("cannot open \"", path.string(), "\" for reading: ", why));
    };
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec) fail_open(ec.message());
    if (std::filesystem::is_directory(status)) fail_open("it is a directory");
    if (!std::filesystem::is_regular_file(status)) fail_open("it is not a regular file");
    const std::uint64_t file_size = std::filesystem::file_size(path, ec);
    if (ec) fail_open(ec.message());
    errno = 0;
    detail::FileHandle file(detail::open_file(path, "rb"));
    if (!file) fail_open(detail::errno_text(errno));

    const auto read_exact = [&](void* dst, std::size_t n, const std::string& what) {
        if (n != 0 && std::fread(dst, 1, n, file.get()) != n) {
            if (std::ferror(file.get()))
                fail_open(detail::concat("reading ", what, " failed (", detail::errno_text(errno), ")"));
            detail::safetensors_fail(
                "truncated", label,
                detail::concat("file ended while reading ", what, " (was it cut short while being read?)"));
        }
    };

    if (file_size < 8)
        detail::safetensors_fail(
            "truncated", label,
            detail::concat("file has ", std::to_string(file_size), " bytes, too short for the 8-byte header length"));
    std::byte prefix[8];
    read_exact(prefix, sizeof prefix, "the header length");
    const std::uint64_t header_size = detail::check_safetensors_prefix(label, prefix, file_size);
    std::string text(static_cast<std::size_t>(header_size), '\0');
    read_exact(text.data(), text.size(), "the header");
    detail::SafetensorsHeader header = detail::parse_safetensors_header(label, text, file_size - 8 - header_size);

    // The entries tile the data in order, so reading them in that order reads the file front to back.
    SafetensorsFile out;
    out.metadata = std::move(header.metadata);
    for (auto& e : header.entries) {
        SafetensorsTensor t;
        t.dtype = std::move(e.dtype);
        t.dims = std::move(e.dims);
        t.bytes.resize(static_cast<std::size_t>(e.end - e.begin));
        read_exact(t.bytes.data(), t.bytes.size(), detail::concat("tensor ", detail::quote(e.name)));
        out.tensors.emplace(std::move(e.name), std::move(t));
    }
    return out;
}

// Writes `file` crash-safely (temporary file, fsync, rename). Tensors are laid out
// largest element size first, then by name; the header is space-padded to 8 bytes.
// Throws io_error "latent.io.safetensors.write"; the previous file is untouched on failure.
template <class = void>
[[gnu::cold]]
void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file) {
    std::vector<detail::SafetensorsRecord> records;
    records.reserve(file.tensors.size());
    for (const auto& [name, t] : file.tensors)
        records.push_back({&name, t.dtype, &t.dims, t.bytes.data(), t.bytes.size()});
    detail::write_safetensors_records(path, std::move(records), file.metadata);
}

// Saves every slot of `arena` as an F32 tensor named after the slot. The metadata gets
// "format": "latent" unless the caller gives its own "format" (e.g. "pt" for tools that
// insist on it).
template <class = void>
[[gnu::cold]]
void save_safetensors(const std::filesystem::path& path, const ParameterArena<float>& arena,
                      const std::map<std::string, std::string>& metadata = {}) {
    const std::string label = detail::file_label(path);
    std::map<std::string, std::string> meta = metadata;
    meta.emplace("format", "latent");

    // Little-endian hosts write straight from the arena; others write a converted copy.
    std::vector<std::byte> converted;
    const std::byte* base = reinterpret_cast<const std::byte*>(arena.data());
    if constexpr (std::endian::native != std::endian::little) {
        converted.resize(arena.size() * sizeof(float));
        detail::f32_to_le(arena.data(), converted.data(), arena.size());
        base = converted.data();
    }

    std::vector<detail::SafetensorsRecord> records;
    for (const auto& slot : arena.slots()) {
        std::uint64_t count = 0;
        if (!detail::element_count(slot.dims, count) || count != slot.size || slot.offset > arena.size() ||
            slot.size > arena.size() - slot.offset)
            throw value_error("latent.io.safetensors.arena",
                              detail::concat(label, ": arena slot ", detail::quote(slot.name), " has dims ",
                                             format_shape(slot.dims), " but ", std::to_string(slot.size),
                                             " elements at offset ", std::to_string(slot.offset)));
        records.push_back({&slot.name, "F32", &slot.dims, base ? base + slot.offset * sizeof(float) : nullptr,
                           slot.size * sizeof(float)});
    }
    const auto by_name = latent::detail::sorted_order(
        records.size(), [&](std::size_t i, std::size_t j) { return *records[i].name < *records[j].name; });
    for (std::size_t k = 1; k < by_name.size(); ++k)
        if (*records[by_name[k]].name == *records[by_name[k - 1]].name)
            detail::safetensors_fail("write", label,
                                     detail::concat("cannot write \"", path.string(), "\": two arena slots are named ",
                                                    detail::quote(*records[by_name[k]].name)));
    detail::write_safetensors_records(path, std::move(records), meta);
}

// Loads every slot of `arena` from the file, all or nothing: the whole file is read and
// checked against the arena first (every slot present as F32 with the slot's exact dims,
// nothing extra), and only then are values copied, so on any error the arena is untouched.
// Throws io_error (ids .missing, .dtype, .extra and those of read_safetensors) and
// shape_error "latent.io.safetensors.shape".
template <class = void>
[[gnu::cold]]
void load_safetensors(const std::filesystem::path& path, ParameterArena<float>& arena) {
    const std::string label = detail::file_label(path);
    const SafetensorsFile file = read_safetensors(path);

    std::vector<std::string> missing;
    for (const auto& slot : arena.slots())
        if (!file.tensors.count(slot.name)) missing.push_back(slot.name);
    if (!missing.empty()) {
        std::vector<std::string> present;
        for (const auto& entry : file.tensors) present.push_back(entry.first);
        const std::string has = present.empty() ? "the file has no tensors"
                                : present.size() <= 8
                                    ? detail::concat("the file has ", detail::quote_list(present))
                                    : detail::concat("the file has ", std::to_string(present.size()), " tensors");
        detail::safetensors_fail(
            "missing", label,
            detail::concat((missing.size() == 1 ? "tensor " : "tensors "), detail::quote_list(missing),
                           (missing.size() == 1 ? " is" : " are"), " missing (", has, ")"));
    }

    std::vector<const SafetensorsTensor*> sources;
    sources.reserve(arena.slots().size());
    for (const auto& slot : arena.slots()) {
        const SafetensorsTensor& t = file.tensors.at(slot.name);
        if (t.dtype != "F32")
            detail::safetensors_fail(
                "dtype", label,
                detail::concat("tensor ", detail::quote(slot.name), " has dtype ", t.dtype, ", expected F32"));
        if (t.dims != slot.dims)
            throw shape_error("latent.io.safetensors.shape",
                              detail::concat(label, ": tensor ", detail::quote(slot.name), " expected ",
                                             format_shape(slot.dims), ", file has ", format_shape(t.dims)));
        // The dims match, so only an inconsistent arena can make the sizes differ.
        if (t.bytes.size() != slot.size * sizeof(float) || slot.offset > arena.size() ||
            slot.size > arena.size() - slot.offset)
            throw value_error("latent.io.safetensors.arena",
                              detail::concat(label, ": arena slot ", detail::quote(slot.name), " has dims ",
                                             format_shape(slot.dims), " but ", std::to_string(slot.size),
                                             " elements at offset ", std::to_string(slot.offset)));
        sources.push_back(&t);
    }

    std::set<std::string_view> wanted;
    for (const auto& slot : arena.slots()) wanted.insert(slot.name);
    std::vector<std::string> extra;
    for (const auto& entry : file.tensors)
        if (!wanted.count(entry.first)) extra.push_back(entry.first);
    if (!extra.empty())
        detail::safetensors_fail("extra", label,
                                 detail::concat("the file has ", (extra.size() == 1 ? "a tensor" : "tensors"),
                                                " the model does not: ", detail::quote_list(extra)));

    for (std::size_t i = 0; i < sources.size(); ++i) {
        const auto& slot = arena.slots()[i];
        detail::f32_from_le(sources[i]->bytes.data(), arena.data() + slot.offset, slot.size);
    }
}

}  // namespace latent::io
