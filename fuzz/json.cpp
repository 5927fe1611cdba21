// libFuzzer target for latent::io::detail::parse_json, the JSON reader behind safetensors
// headers. Any input must either parse or throw JsonError (with an offset inside the input);
// what parses must hold only valid UTF-8 and must read back identically once written out.
#include <latent/io/json.hpp>

#include "check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using latent::io::detail::JsonValue;

// Writes `v` back as JSON (numbers keep their literal, integers their sign and magnitude).
void write(std::string& out, const JsonValue& v) {
    switch (v.kind) {
        case JsonValue::Kind::null: out += "null"; break;
        case JsonValue::Kind::boolean: out += v.boolean ? "true" : "false"; break;
        case JsonValue::Kind::integer:
            if (v.negative) out += '-';
            out += std::to_string(v.magnitude);
            break;
        case JsonValue::Kind::number: out += v.text; break;
        case JsonValue::Kind::string: latent::io::detail::append_json_string(out, v.text); break;
        case JsonValue::Kind::array:
            out += '[';
            for (std::size_t i = 0; i < v.items.size(); ++i) {
                if (i) out += ',';
                write(out, v.items[i]);
            }
            out += ']';
            break;
        case JsonValue::Kind::object:
            out += '{';
            for (std::size_t i = 0; i < v.items.size(); ++i) {
                if (i) out += ',';
                latent::io::detail::append_json_string(out, v.keys[i]);
                out += ':';
                write(out, v.items[i]);
            }
            out += '}';
            break;
    }
}

// Structural equality (offsets aside); also checks the invariants of a parsed value.
bool same(const JsonValue& a, const JsonValue& b) {
    if (a.kind != b.kind || a.items.size() != b.items.size() || a.keys.size() != b.keys.size()) return false;
    switch (a.kind) {
        case JsonValue::Kind::boolean: return a.boolean == b.boolean;
        case JsonValue::Kind::integer: return a.negative == b.negative && a.magnitude == b.magnitude;
        case JsonValue::Kind::number:
        case JsonValue::Kind::string: return a.text == b.text;
        default: break;
    }
    for (std::size_t i = 0; i < a.keys.size(); ++i)
        if (a.keys[i] != b.keys[i]) return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!same(a.items[i], b.items[i])) return false;
    return true;
}

void check_invariants(const JsonValue& v, std::size_t size) {
    FUZZ_CHECK(v.offset < size);
    if (v.kind == JsonValue::Kind::string) FUZZ_CHECK(latent::io::detail::is_valid_utf8(v.text));
    if (v.kind == JsonValue::Kind::object) {
        FUZZ_CHECK(v.keys.size() == v.items.size());
        for (const auto& key : v.keys) {
            FUZZ_CHECK(latent::io::detail::is_valid_utf8(key));
            FUZZ_CHECK(v.find(key) != nullptr);
        }
    } else {
        FUZZ_CHECK(v.keys.empty());
    }
    for (const auto& item : v.items) check_invariants(item, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    JsonValue v;
    try {
        v = latent::io::detail::parse_json(text);
    } catch (const latent::io::detail::JsonError& e) {
        latent::fuzz::check_rejection(e, "latent.io.json", "invalid JSON at byte " + std::to_string(e.offset()));
        FUZZ_CHECK(e.offset() <= size);
        return 0;
    }
    check_invariants(v, size);
    std::string again;
    write(again, v);
    JsonValue w;
    try {
        w = latent::io::detail::parse_json(again);
    } catch (const latent::io::detail::JsonError& e) {
        std::fprintf(stderr, "latent fuzz: written-out JSON does not parse: %s\n", e.what());
        std::abort();
    }
    FUZZ_CHECK(same(v, w));
    return 0;
}
