// Tests of latent/io/json.hpp and latent/io/safetensors.hpp: round trips, the exact file
// layout, every rejected kind of malformed file, and all-or-nothing loading.
#include <doctest/doctest.h>

#include "support/files.hpp"
#include "support/messages.hpp"

#include <latent/io/json.hpp>
#include <latent/io/safetensors.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using latent::io::SafetensorsFile;
using latent::io::SafetensorsTensor;
using latent::io::detail::JsonValue;
using latent::io::detail::parse_json;

namespace {

using latent::testing::contains;
using latent::testing::message_of;
using latent::testing::starts_with;

// Checks that `expr` throws io_error with the given id and a message containing `fragment`.
#define CHECK_IO_ERROR(expr, id, fragment)                                      \
    do {                                                                        \
        CHECK_THROWS_AS(expr, latent::io_error);                                \
        LATENT_CHECK_ERROR(latent::io_error, expr, id, fragment);               \
    } while (0)

fs::path fresh_dir(const std::string& name) { return latent::testing::fresh_dir("safetensors", name); }

latent::ParameterArena<float> make_arena() {
    latent::ParameterArena<float> arena({latent::ParamSlot{"dense/kernel", {3, 2}, 0, 6, true, 0},
                                         latent::ParamSlot{"dense/bias", {2}, 0, 2, true, 0}});
    const float values[] = {0.5f, -1.25f, 2.0f, 3.5f, -0.75f, 1.0f, 0.25f, -0.5f};
    std::memcpy(arena.data(), values, sizeof values);
    return arena;
}

// An arena of the same layout, filled with a pattern that differs from make_arena's.
latent::ParameterArena<float> make_target() {
    auto arena = make_arena();
    for (std::size_t i = 0; i < arena.size(); ++i) arena.data()[i] = 100.0f + static_cast<float>(i);
    return arena;
}

std::vector<std::byte> bytes_of(const latent::ParameterArena<float>& arena) {
    std::vector<std::byte> out(arena.size() * sizeof(float));
    if (!out.empty()) std::memcpy(out.data(), arena.data(), out.size());
    return out;
}

using latent::testing::read_all;
using latent::testing::write_all;

// A raw file: 8-byte little-endian length, `header` as given (no padding), then `data_size`
// bytes of data (a simple counting pattern).
std::vector<std::byte> raw_file(const std::string& header, std::size_t data_size, std::uint64_t length) {
    std::vector<std::byte> out(8);
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((length >> (8 * i)) & 0xFF);
    for (const char c : header) out.push_back(static_cast<std::byte>(c));
    for (std::size_t i = 0; i < data_size; ++i) out.push_back(static_cast<std::byte>(i & 0xFF));
    return out;
}
std::vector<std::byte> raw_file(const std::string& header, std::size_t data_size) {
    return raw_file(header, data_size, header.size());
}

std::uint64_t header_length(const std::vector<std::byte>& file) {
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint64_t>(file[static_cast<std::size_t>(i)]);
    return n;
}

std::size_t temp_files_in(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        if (contains(entry.path().filename().string(), ".tmp-")) ++n;
    return n;
}

SafetensorsTensor tensor(std::string dtype, std::vector<std::size_t> dims, std::vector<unsigned char> bytes) {
    SafetensorsTensor t;
    t.dtype = std::move(dtype);
    t.dims = std::move(dims);
    for (const unsigned char b : bytes) t.bytes.push_back(static_cast<std::byte>(b));
    return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// json.hpp

TEST_CASE("json: scalars, arrays and objects") {
    JsonValue v = parse_json(R"( {"a": [1, -2, 0, true, false, null, "x"], "b": {}, "c": [] } )");
    REQUIRE(v.is_object());
    REQUIRE(v.keys.size() == 3);
    CHECK(v.keys[0] == "a");
    const JsonValue* a = v.find("a");
    REQUIRE(a);
    REQUIRE(a->items.size() == 7);
    std::uint64_t u = 0;
    CHECK(a->items[0].as_u64(u));
    CHECK(u == 1);
    CHECK(a->items[1].kind == JsonValue::Kind::integer);
    CHECK(a->items[1].negative);
    CHECK(a->items[1].magnitude == 2);
    CHECK_FALSE(a->items[1].as_u64(u));
    CHECK(a->items[2].as_u64(u));
    CHECK(u == 0);
    CHECK(a->items[3].kind == JsonValue::Kind::boolean);
    CHECK(a->items[3].boolean);
    CHECK_FALSE(a->items[4].boolean);
    CHECK(a->items[5].is_null());
    CHECK(a->items[6].text == "x");
    CHECK(v.find("b")->is_object());
    CHECK(v.find("c")->is_array());
    CHECK(v.find("missing") == nullptr);
}

TEST_CASE("json: numbers") {
    std::uint64_t u = 0;
    CHECK(parse_json("18446744073709551615").as_u64(u));
    CHECK(u == UINT64_MAX);
    // Past 64 bits, or with a fraction or exponent: parsed, but not an integer.
    CHECK(parse_json("18446744073709551616").kind == JsonValue::Kind::number);
    CHECK(parse_json("1.5").kind == JsonValue::Kind::number);
    CHECK(parse_json("1.5").text == "1.5");
    CHECK(parse_json("-2e10").kind == JsonValue::Kind::number);
    CHECK(parse_json("2E+3").kind == JsonValue::Kind::number);
    CHECK(parse_json("0.0e-0").kind == JsonValue::Kind::number);
    CHECK(parse_json("-0").kind == JsonValue::Kind::integer);
    for (const char* bad : {"01", "-", "1.", ".5", "1e", "1e+", "+1", "--1", "0x10", "1.e3", "Infinity", "NaN"})
        CHECK_THROWS_AS(parse_json(bad), latent::io_error);
}

TEST_CASE("json: string escapes decode to UTF-8") {
    CHECK(parse_json(R"("a\"b\\c\/d")").text == "a\"b\\c/d");
    CHECK(parse_json(R"("\b\f\n\r\t")").text == "\b\f\n\r\t");
    CHECK(parse_json(R"("\u0041\u00e9\u20AC")").text == "A\xC3\xA9\xE2\x82\xAC");
    CHECK(parse_json(R"("\ud83d\ude00")").text == "\xF0\x9F\x98\x80");
    CHECK(parse_json(R"("\u0000")").text == std::string(1, '\0'));
    CHECK(parse_json("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").text == "caf\xC3\xA9 \xF0\x9F\x98\x80");

    // Lone or mismatched surrogates, bad hex, unknown escapes, raw control characters.
    for (const char* bad : {R"("\ud83d")", R"("\ude00")", R"("\ud83dx")", R"("\ud83d\u0041")", R"("\u12")",
                            R"("\u12G4")", R"("\x41")", R"("\)", "\"a\nb\"", "\"tab\there\""})
        CHECK_THROWS_AS(parse_json(bad), latent::io_error);
    // Malformed UTF-8: a stray continuation byte, an overlong '/', an encoded surrogate,
    // a code point above U+10FFFF, a sequence cut short.
    for (const char* bad : {"\"\x80\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\""})
        CHECK_THROWS_AS(parse_json(bad), latent::io_error);
}

TEST_CASE("json: writing strings round-trips through the parser") {
    const std::string original = std::string("q\"b\\s/\n\r\t\b\f\x01\x1f ok \xC3\xA9") + std::string(1, '\0');
    std::string json;
    latent::io::detail::append_json_string(json, original);
    CHECK(json.find('\n') == std::string::npos);
    CHECK(parse_json(json).text == original);
}

TEST_CASE("json: nesting limit") {
    const auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    CHECK_NOTHROW(parse_json(nested(64)));
    const std::string message = message_of<latent::io_error>([&] { parse_json(nested(65)); });
    CHECK_MESSAGE(starts_with(message, "[latent.io.json] invalid JSON at byte 64: nesting deeper than 64"), message);
    CHECK_THROWS_AS(parse_json(std::string(100000, '[')), latent::io_error);  // no stack overflow
    std::string objects;
    for (int i = 0; i < 100; ++i) objects += "{\"a\":";
    CHECK_THROWS_AS(parse_json(objects), latent::io_error);
    CHECK_NOTHROW(parse_json(nested(3), 3));
    CHECK_THROWS_AS(parse_json(nested(4), 3), latent::io_error);
}

TEST_CASE("json: garbage is rejected with the byte offset") {
    for (const char* bad : {"",
                            " ",
                            "{",
                            "}",
                            "[1,]",
                            "[,1]",
                            "{\"a\"}",
                            "{\"a\":1,}",
                            "{a:1}",
                            "{\"a\" 1}",
                            "tru",
                            "nul",
                            "falsey",
                            "\"abc",
                            "1 2",
                            "[1 2]",
                            "{\"a\":1 \"b\":2}",
                            "\x01",
                            "'a'",
                            "[1]]",
                            "{}{}",
                            "\xEF\xBB\xBF{}"})
        CHECK_THROWS_AS(parse_json(bad), latent::io_error);

    std::string message = message_of<latent::io_error>([] { parse_json("[1, x]"); });
    CHECK(message == "[latent.io.json] invalid JSON at byte 4: unexpected 'x', expected a value");
    message = message_of<latent::io_error>([] { parse_json("{\"a\": 1, \"a\": 2}"); });
    CHECK(message == "[latent.io.json] invalid JSON at byte 9: duplicate object key \"a\"");
    message = message_of<latent::io_error>([] { parse_json("  \"abc"); });
    CHECK(message == "[latent.io.json] invalid JSON at byte 2: unterminated string");
    try {
        parse_json("[1,\n 2,\n ?]");
        FAIL("no exception");
    } catch (const latent::io::detail::JsonError& e) {
        CHECK(e.offset() == 9);
        CHECK(e.id() == "latent.io.json");
    }
}

TEST_CASE("json: random mutations never crash") {
    const std::string seed =
        R"({"__metadata__":{"format":"latent","k\u00e9y":"v\"\\"},"a/b":{"dtype":"F32","shape":[3,2],)"
        R"("data_offsets":[0,24]},"c":{"dtype":"I64","shape":[],"data_offsets":[24,32]},"n":[-1,2.5e3,true,null]})";
    REQUIRE_NOTHROW(parse_json(seed));
    std::mt19937 rng(1234);
    const std::string alphabet = "{}[]\",:\\u0123456789abcdefnrtlsE.-+ \x80\xC3\xED\xF4\xFF";
    std::size_t parsed = 0;
    for (int iteration = 0; iteration < 20000; ++iteration) {
        std::string s = seed;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits && !s.empty(); ++k) {
            const std::size_t at = rng() % s.size();
            switch (rng() % 4) {
                case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
                case 1: s.erase(at, 1 + rng() % 8); break;
                case 2: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
                default: s.resize(at); break;
            }
        }
        try {
            parse_json(s);
            ++parsed;
        } catch (const latent::io_error& e) {
            CHECK(e.id() == "latent.io.json");
        }
    }
    CHECK(parsed > 0);
}

// ---------------------------------------------------------------------------------------
// safetensors.hpp: round trips and layout

TEST_CASE("safetensors: save and load round-trip an arena") {
    const fs::path dir = fresh_dir("roundtrip");
    const fs::path path = dir / "mlp.safetensors";
    const auto arena = make_arena();
    latent::io::save_safetensors(path, arena, {{"epoch", "3"}});

    auto loaded = make_target();
    latent::io::load_safetensors(path, loaded);
    CHECK(bytes_of(loaded) == bytes_of(arena));

    const SafetensorsFile file = latent::io::read_safetensors(path);
    CHECK(file.metadata.at("format") == "latent");
    CHECK(file.metadata.at("epoch") == "3");
    REQUIRE(file.tensors.size() == 2);
    CHECK(file.tensors.at("dense/kernel").dtype == "F32");
    CHECK(file.tensors.at("dense/kernel").dims == std::vector<std::size_t>{3, 2});
    CHECK(file.tensors.at("dense/bias").dims == std::vector<std::size_t>{2});
    CHECK(file.tensors.at("dense/bias").bytes.size() == 8);
    CHECK(temp_files_in(dir) == 0);

    // The caller may name its own format; saving over an existing file replaces it.
    latent::io::save_safetensors(path, make_target(), {{"format", "pt"}});
    CHECK(latent::io::read_safetensors(path).metadata.at("format") == "pt");
    latent::io::load_safetensors(path, loaded);
    CHECK(bytes_of(loaded) == bytes_of(make_target()));
    CHECK(temp_files_in(dir) == 0);
}

TEST_CASE("safetensors: exact file layout, header padded with spaces to 8 bytes") {
    const fs::path path = fresh_dir("layout") / "layout.safetensors";
    latent::io::save_safetensors(path, make_arena());
    const auto file = read_all(path);
    const std::uint64_t n = header_length(file);
    CHECK(n % 8 == 0);
    REQUIRE(file.size() == 8 + n + 32);
    const std::string header(reinterpret_cast<const char*>(file.data()) + 8, static_cast<std::size_t>(n));
    const std::string json = R"({"__metadata__":{"format":"latent"},)"
                             R"("dense/bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("dense/kernel":{"dtype":"F32","shape":[3,2],"data_offsets":[8,32]}})";
    CHECK(header == json + std::string(n - json.size(), ' '));
    CHECK(n - json.size() < 8);

    // Data: bias then kernel, little-endian float32 (0.25f is 0x3E800000).
    const unsigned char quarter[] = {0x00, 0x00, 0x80, 0x3E};
    CHECK(std::memcmp(file.data() + 8 + n, quarter, 4) == 0);

    // A header length already a multiple of 8 gets no padding; every length pads to one.
    for (std::size_t extra = 0; extra < 16; ++extra) {
        SafetensorsFile f;
        f.metadata["k"] = std::string(extra, 'x');
        latent::io::write_safetensors(path, f);
        const auto bytes = read_all(path);
        CHECK(header_length(bytes) % 8 == 0);
        CHECK(bytes.size() == 8 + header_length(bytes));
        CHECK(latent::io::read_safetensors(path).metadata.at("k") == std::string(extra, 'x'));
    }
}

TEST_CASE("safetensors: write and read any dtype, scalars, empty tensors, odd names") {
    const fs::path dir = fresh_dir("dtypes");
    const fs::path path = dir / "mixed.safetensors";
    SafetensorsFile f;
    f.metadata["note"] = "quote \" backslash \\ newline \n caf\xC3\xA9";
    f.tensors["u8"] = tensor("U8", {3}, {1, 2, 255});
    f.tensors["f64"] = tensor("F64", {1}, {0, 0, 0, 0, 0, 0, 0xF0, 0x3F});  // 1.0
    f.tensors["i16"] = tensor("I16", {2}, {0xFF, 0xFF, 0x02, 0x00});        // -1, 2
    f.tensors["scalar"] = tensor("F32", {}, {0, 0, 0xE0, 0x40});            // 7.0
    f.tensors["empty"] = tensor("F32", {0, 3}, {});
    f.tensors["bf16"] = tensor("BF16", {2}, {0x80, 0x3F, 0x40, 0x40});
    f.tensors["we\"ird\\name \xF0\x9F\x98\x80"] = tensor("BOOL", {2, 1}, {1, 0});
    latent::io::write_safetensors(path, f);
    CHECK(temp_files_in(dir) == 0);

    const SafetensorsFile back = latent::io::read_safetensors(path);
    CHECK(back.metadata == f.metadata);
    REQUIRE(back.tensors.size() == f.tensors.size());
    for (const auto& entry : f.tensors) {
        const std::string& name = entry.first;
        const SafetensorsTensor& t = entry.second;
        CAPTURE(name);
        REQUIRE(back.tensors.count(name) == 1);
        CHECK(back.tensors.at(name).dtype == t.dtype);
        CHECK(back.tensors.at(name).dims == t.dims);
        CHECK(back.tensors.at(name).bytes == t.bytes);
    }

    // Largest elements first keeps every tensor aligned to its element size.
    const auto bytes = read_all(path);
    const std::string header(reinterpret_cast<const char*>(bytes.data()) + 8,
                             static_cast<std::size_t>(header_length(bytes)));
    const JsonValue json = parse_json(header);
    CHECK(json.keys[1] == "f64");
    for (std::size_t i = 0; i < json.keys.size(); ++i) {
        if (json.keys[i] == "__metadata__") continue;
        std::uint64_t begin = 0;
        REQUIRE(json.items[i].find("data_offsets")->items[0].as_u64(begin));
        const std::string dtype = json.items[i].find("dtype")->text;
        CHECK(begin % latent::io::detail::safetensors_dtype_size(dtype) == 0);
    }

    // An empty file: no tensors, no metadata.
    latent::io::write_safetensors(path, SafetensorsFile{});
    CHECK(read_all(path).size() == 16);
    CHECK(latent::io::read_safetensors(path).tensors.empty());
}

TEST_CASE("safetensors: an empty arena saves and loads") {
    const fs::path path = fresh_dir("empty") / "empty.safetensors";
    latent::ParameterArena<float> empty;
    latent::io::save_safetensors(path, empty);
    CHECK_NOTHROW(latent::io::load_safetensors(path, empty));
    auto arena = make_arena();
    CHECK_IO_ERROR(latent::io::load_safetensors(path, arena), "latent.io.safetensors.missing",
                   "tensors \"dense/kernel\", \"dense/bias\" are missing (the file has no tensors)");
}

// ---------------------------------------------------------------------------------------
// safetensors.hpp: rejected files; the arena never changes on a failed load

TEST_CASE("safetensors: missing or unreadable files") {
    const fs::path dir = fresh_dir("open");
    auto arena = make_target();
    const auto before = bytes_of(arena);
    CHECK_IO_ERROR(latent::io::read_safetensors(dir / "nope.safetensors"), "latent.io.safetensors.open",
                   "nope.safetensors: cannot open");
    CHECK_IO_ERROR(latent::io::load_safetensors(dir / "nope.safetensors", arena), "latent.io.safetensors.open",
                   "nope.safetensors");
    CHECK_IO_ERROR(latent::io::read_safetensors(dir), "latent.io.safetensors.open", "it is a directory");
    CHECK(bytes_of(arena) == before);
}

TEST_CASE("safetensors: truncated files") {
    const fs::path dir = fresh_dir("truncated");
    const fs::path good = dir / "good.safetensors";
    latent::io::save_safetensors(good, make_arena());
    const auto full = read_all(good);
    const std::size_t header_end = 8 + static_cast<std::size_t>(header_length(full));

    auto arena = make_target();
    const auto before = bytes_of(arena);
    for (const std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{7}, std::size_t{8}, std::size_t{12},
                                  header_end - 1, header_end, header_end + 5, full.size() - 4, full.size() - 1}) {
        CAPTURE(cut);
        const fs::path path = dir / "cut.safetensors";
        write_all(path, std::vector<std::byte>(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut)));
        CHECK_IO_ERROR(latent::io::load_safetensors(path, arena), "latent.io.safetensors.truncated",
                       "cut.safetensors: ");
        CHECK(bytes_of(arena) == before);
        // Same verdict from the in-memory reader.
        const std::vector<std::byte> bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
        CHECK_IO_ERROR(latent::io::detail::parse_safetensors_bytes(bytes, "cut"), "latent.io.safetensors.truncated",
                       "cut: ");
    }
    write_all(dir / "short.safetensors", std::vector<std::byte>(full.begin(), full.begin() + 5));
    CHECK_IO_ERROR(latent::io::read_safetensors(dir / "short.safetensors"), "latent.io.safetensors.truncated",
                   "short.safetensors: file has 5 bytes, too short for the 8-byte header length");
}

TEST_CASE("safetensors: header length larger than the file") {
    const fs::path dir = fresh_dir("length");
    auto arena = make_target();
    const auto before = bytes_of(arena);

    write_all(dir / "mlp.safetensors", raw_file("{}", 2, 4096));  // 12 bytes in all
    const std::string message =
        message_of<latent::io_error>([&] { latent::io::load_safetensors(dir / "mlp.safetensors", arena); });
    CHECK(message ==
          "[latent.io.safetensors.truncated] mlp.safetensors: file has 12 bytes, header says 4096 bytes follow the "
          "8-byte length");

    // Absurd lengths are refused before anything is allocated.
    write_all(dir / "huge.safetensors", raw_file("{}", 0, std::uint64_t{1} << 63));
    CHECK_IO_ERROR(latent::io::load_safetensors(dir / "huge.safetensors", arena), "latent.io.safetensors.header",
                   "huge.safetensors: header length 9223372036854775808 exceeds the limit of 100000000 bytes");
    write_all(dir / "max.safetensors", raw_file("{}", 0, UINT64_MAX));
    CHECK_IO_ERROR(latent::io::read_safetensors(dir / "max.safetensors"), "latent.io.safetensors.header", "exceeds");
    CHECK(bytes_of(arena) == before);
}

TEST_CASE("safetensors: malformed headers") {
    const fs::path dir = fresh_dir("header");
    const fs::path path = dir / "bad.safetensors";
    auto arena = make_target();
    const auto before = bytes_of(arena);
    const auto check = [&](const std::string& header, std::size_t data, const char* id, const std::string& fragment) {
        CAPTURE(header);
        write_all(path, raw_file(header, data));
        CHECK_IO_ERROR(latent::io::load_safetensors(path, arena), id, fragment);
        CHECK(bytes_of(arena) == before);
    };
    const char* header_id = "latent.io.safetensors.header";
    check(R"({"a": )", 0, header_id, "bad.safetensors: header is not valid JSON: unexpected end of input");
    check(R"({"a":1,})", 0, header_id, "byte 7 of the header, 15 of the file");
    check(R"( {})", 0, header_id, "does not start with '{'");
    check(R"([])", 0, header_id, "does not start with '{'");
    check("", 0, header_id, "does not start with '{'");
    check("{\"\xC3\":1}", 0, header_id, "not valid UTF-8");
    check(R"({"x": 3})", 0, header_id, "header entry \"x\" is an integer, expected an object");
    check(R"({"__metadata__": [1]})", 0, header_id, "\"__metadata__\" is an array");
    check(R"({"__metadata__": {"a": 1}})", 0, header_id, "\"__metadata__\" value \"a\" is an integer");
    check(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4, header_id, "tensor \"w\" has no string \"dtype\"");
    check(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4, header_id, "no \"shape\" array");
    check(R"({"w": {"dtype": "F32", "shape": [1]}})", 4, header_id, "no \"data_offsets\"");
    check(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4, header_id, "no \"data_offsets\"");
    check(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4, header_id,
          "shape entries must be non-negative integers, found an integer");
    check(R"({"w": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}})", 4, header_id, "non-integer number");
    check(R"({"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})", 4, header_id, "found a string");
    check(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}})", 4, header_id, "data_offsets");
    check(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}})", 4, header_id,
          "shape too large");
    check(
        R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
        8, header_id, "duplicate object key \"w\"");
}

TEST_CASE("safetensors: dtypes") {
    const fs::path dir = fresh_dir("dtype");
    auto arena = make_target();
    const auto before = bytes_of(arena);

    write_all(dir / "f17.safetensors", raw_file(R"({"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", 4));
    CHECK_IO_ERROR(latent::io::read_safetensors(dir / "f17.safetensors"), "latent.io.safetensors.dtype",
                   "f17.safetensors: tensor \"w\" has unsupported dtype \"F17\" (supported: BOOL U8");

    // A valid file whose kernel is F64: readable, but not loadable into a float arena.
    SafetensorsFile f;
    f.tensors["dense/kernel"] = tensor("F64", {3, 2}, std::vector<unsigned char>(48, 0));
    f.tensors["dense/bias"] = tensor("F32", {2}, std::vector<unsigned char>(8, 0));
    latent::io::write_safetensors(dir / "f64.safetensors", f);
    const std::string message =
        message_of<latent::io_error>([&] { latent::io::load_safetensors(dir / "f64.safetensors", arena); });
    CHECK(message ==
          "[latent.io.safetensors.dtype] f64.safetensors: tensor \"dense/kernel\" has dtype F64, expected F32");
    CHECK(bytes_of(arena) == before);
}

TEST_CASE("safetensors: missing and extra tensors") {
    const fs::path dir = fresh_dir("names");
    auto arena = make_target();
    const auto before = bytes_of(arena);

    SafetensorsFile f;
    f.tensors["dense/kernel"] = tensor("F32", {3, 2}, std::vector<unsigned char>(24, 0));
    latent::io::write_safetensors(dir / "missing.safetensors", f);
    std::string message =
        message_of<latent::io_error>([&] { latent::io::load_safetensors(dir / "missing.safetensors", arena); });
    CHECK(message ==
          "[latent.io.safetensors.missing] missing.safetensors: tensor \"dense/bias\" is missing (the file has "
          "\"dense/kernel\")");
    CHECK_THROWS_AS(latent::io::load_safetensors(dir / "missing.safetensors", arena), latent::io_error);
    CHECK(bytes_of(arena) == before);

    // Many tensors in the file: they are counted, not listed.
    for (int i = 0; i < 20; ++i)
        f.tensors[latent::io::detail::concat("other/", std::to_string(i))] = tensor("U8", {1}, {0});
    latent::io::write_safetensors(dir / "many.safetensors", f);
    CHECK_IO_ERROR(latent::io::load_safetensors(dir / "many.safetensors", arena), "latent.io.safetensors.missing",
                   "tensor \"dense/bias\" is missing (the file has 21 tensors)");
    CHECK(bytes_of(arena) == before);

    f.tensors.clear();
    f.tensors["dense/kernel"] = tensor("F32", {3, 2}, std::vector<unsigned char>(24, 0));
    f.tensors["dense/bias"] = tensor("F32", {2}, std::vector<unsigned char>(8, 0));
    f.tensors["dense_2/bias"] = tensor("F32", {2}, std::vector<unsigned char>(8, 0));
    latent::io::write_safetensors(dir / "extra.safetensors", f);
    message = message_of<latent::io_error>([&] { latent::io::load_safetensors(dir / "extra.safetensors", arena); });
    CHECK(
        message ==
        "[latent.io.safetensors.extra] extra.safetensors: the file has a tensor the model does not: \"dense_2/bias\"");
    CHECK_THROWS_AS(latent::io::load_safetensors(dir / "extra.safetensors", arena), latent::io_error);
    CHECK(bytes_of(arena) == before);
}

TEST_CASE("safetensors: shape mismatch is a shape_error with an exact message") {
    const fs::path dir = fresh_dir("shape");
    const fs::path path = dir / "mlp.safetensors";
    latent::ParameterArena<float> saved({latent::ParamSlot{"dense_1/kernel", {784, 128}, 0, 784 * 128, true, 0},
                                         latent::ParamSlot{"dense_1/bias", {128}, 0, 128, true, 0}});
    latent::io::save_safetensors(path, saved);

    latent::ParameterArena<float> model({latent::ParamSlot{"dense_1/kernel", {784, 256}, 0, 784 * 256, true, 0},
                                         latent::ParamSlot{"dense_1/bias", {128}, 0, 128, true, 0}});
    model.data()[0] = 42.0f;
    const auto before = bytes_of(model);
    CHECK_THROWS_AS(latent::io::load_safetensors(path, model), latent::shape_error);
    const std::string message = message_of<latent::shape_error>([&] { latent::io::load_safetensors(path, model); });
    CHECK(message ==
          "[latent.io.safetensors.shape] mlp.safetensors: tensor \"dense_1/kernel\" expected (784, 256), file has "
          "(784, 128)");
    CHECK(bytes_of(model) == before);

    // Rank 1, and the kernel being fine does not let its values through either.
    auto arena = make_target();
    const auto arena_before = bytes_of(arena);
    SafetensorsFile f;
    f.tensors["dense/kernel"] = tensor("F32", {3, 2}, std::vector<unsigned char>(24, 0));
    f.tensors["dense/bias"] = tensor("F32", {3}, std::vector<unsigned char>(12, 0));
    latent::io::write_safetensors(dir / "bias.safetensors", f);
    const std::string rank1 =
        message_of<latent::shape_error>([&] { latent::io::load_safetensors(dir / "bias.safetensors", arena); });
    CHECK(rank1 ==
          "[latent.io.safetensors.shape] bias.safetensors: tensor \"dense/bias\" expected (2,), file has (3,)");
    CHECK(bytes_of(arena) == arena_before);

    // Same element count, other shape: still refused.
    f.tensors["dense/kernel"] = tensor("F32", {2, 3}, std::vector<unsigned char>(24, 0));
    f.tensors["dense/bias"] = tensor("F32", {2}, std::vector<unsigned char>(8, 0));
    latent::io::write_safetensors(dir / "transposed.safetensors", f);
    CHECK_THROWS_AS(latent::io::load_safetensors(dir / "transposed.safetensors", arena), latent::shape_error);
    CHECK(bytes_of(arena) == arena_before);
}

TEST_CASE("safetensors: data offsets out of range, overlapping, with holes") {
    const fs::path dir = fresh_dir("offsets");
    const fs::path path = dir / "off.safetensors";
    auto arena = make_target();
    const auto before = bytes_of(arena);
    const auto entry = [](const char* name, const char* dtype, const char* shape, std::uint64_t b, std::uint64_t e) {
        return latent::io::detail::concat("\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":", shape,
                                          ",\"data_offsets\":[", std::to_string(b), ",", std::to_string(e), "]}");
    };
    const auto check = [&](const std::string& header, std::size_t data, const char* id, const std::string& fragment) {
        CAPTURE(header);
        write_all(path, raw_file(header, data));
        CHECK_IO_ERROR(latent::io::load_safetensors(path, arena), id, fragment);
        CHECK(bytes_of(arena) == before);
    };
    const char* offsets_id = "latent.io.safetensors.offsets";
    const std::string kernel = entry("dense/kernel", "F32", "[3,2]", 0, 24);

    // Sanity: the well-formed version loads (and so changes the arena).
    {
        write_all(path, raw_file("{" + kernel + "," + entry("dense/bias", "F32", "[2]", 24, 32) + "}", 32));
        auto target = make_target();
        CHECK_NOTHROW(latent::io::load_safetensors(path, target));
        CHECK(bytes_of(target) != before);
    }
    // Past the end of the data.
    check("{" + kernel + "," + entry("dense/bias", "F32", "[2]", 24, 32) + "}", 28, "latent.io.safetensors.truncated",
          "off.safetensors: tensor \"dense/bias\" has data_offsets [24, 32], but the file has only 28 bytes of data");
    check("{" + entry("dense/bias", "F32", "[2]", 0, UINT64_MAX) + "}", 8, offsets_id,
          "tensor \"dense/bias\" has data_offsets [0, 18446744073709551615] (18446744073709551615 bytes), but F32 (2,) "
          "needs 8 bytes");
    // Overlap.
    check("{" + kernel + "," + entry("dense/bias", "F32", "[2]", 16, 24) + "}", 24, offsets_id,
          "tensor \"dense/bias\" data_offsets [16, 24] overlap tensor \"dense/kernel\" [0, 24]");
    check("{" + kernel + "," + entry("dense/bias", "F32", "[6]", 0, 24) + "}", 24, offsets_id, "overlap");
    // Holes: in the middle, at the start, at the end.
    check("{" + kernel + "," + entry("dense/bias", "F32", "[2]", 28, 36) + "}", 36, offsets_id,
          "bytes [24, 28) of the data belong to no tensor (a hole before tensor \"dense/bias\")");
    check("{" + entry("dense/kernel", "F32", "[3,2]", 8, 32) + "," + entry("dense/bias", "F32", "[2]", 32, 40) + "}",
          40, offsets_id, "bytes [0, 8) of the data belong to no tensor");
    check("{" + kernel + "," + entry("dense/bias", "F32", "[2]", 24, 32) + "}", 36, offsets_id,
          "the last 4 bytes of the data (from 32 to 36) belong to no tensor");
    check("{}", 4, offsets_id, "the last 4 bytes");
    // Sizes that disagree with dtype and shape; reversed offsets.
    check("{" + entry("dense/kernel", "F32", "[3,2]", 0, 20) + "," + entry("dense/bias", "F32", "[2]", 20, 28) + "}",
          28, offsets_id, "tensor \"dense/kernel\" has data_offsets [0, 20] (20 bytes), but F32 (3, 2) needs 24 bytes");
    check("{" + kernel + "," + entry("dense/bias", "F32", "[2]", 32, 24) + "}", 32, offsets_id,
          "tensor \"dense/bias\" has data_offsets [32, 24] that end before they begin");
}

TEST_CASE("safetensors: random corruption of a valid file is always caught or harmless") {
    const fs::path path = fresh_dir("fuzz") / "fuzz.safetensors";
    latent::io::save_safetensors(path, make_arena());
    const auto good = read_all(path);
    std::mt19937 rng(99);
    std::size_t accepted = 0;
    for (int iteration = 0; iteration < 5000; ++iteration) {
        auto bytes = good;
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < edits && !bytes.empty(); ++k) {
            const std::size_t at = rng() % bytes.size();
            switch (rng() % 3) {
                case 0: bytes[at] = static_cast<std::byte>(rng() & 0xFF); break;
                case 1: bytes[at] = static_cast<std::byte>("0123456789[]{},\":"[rng() % 17]); break;
                default: bytes.resize(at); break;
            }
        }
        try {
            const SafetensorsFile f = latent::io::detail::parse_safetensors_bytes(bytes, "fuzz");
            std::size_t total = 0;
            for (const auto& [name, t] : f.tensors) total += t.bytes.size();
            CHECK(total + 8 + header_length(bytes) == bytes.size());
            ++accepted;
        } catch (const latent::io_error& e) {
            CHECK(starts_with(e.id(), "latent.io.safetensors."));
        }
    }
    CHECK(accepted > 0);  // flips inside the data are valid files
}

// ---------------------------------------------------------------------------------------
// safetensors.hpp: crash-safe writing

TEST_CASE("safetensors: a failed write throws and leaves the previous file intact") {
    const fs::path dir = fresh_dir("write");
    const fs::path path = dir / "model.safetensors";
    latent::io::save_safetensors(path, make_arena());
    const auto previous = read_all(path);

    // Target directory does not exist.
    const fs::path nowhere = dir / "no_such_dir" / "model.safetensors";
    CHECK_IO_ERROR(latent::io::save_safetensors(nowhere, make_arena()), "latent.io.safetensors.write",
                   latent::io::detail::concat("model.safetensors: cannot write \"", nowhere.string(),
                                              "\": cannot create temporary file"));
    CHECK_FALSE(fs::exists(dir / "no_such_dir"));

    // Target is a directory: the temporary is written, the rename fails, the temporary goes.
    const fs::path occupied = dir / "occupied.safetensors";
    fs::create_directories(occupied / "inside");
    CHECK_IO_ERROR(latent::io::save_safetensors(occupied, make_arena()), "latent.io.safetensors.write",
                   latent::io::detail::concat("cannot write \"", occupied.string(), "\": renaming"));
    CHECK(fs::is_directory(occupied / "inside"));
    CHECK(temp_files_in(dir) == 0);

    // Invalid contents are refused before anything touches the disk.
    SafetensorsFile bad;
    bad.tensors["dense/kernel"] = tensor("F32", {3, 2}, std::vector<unsigned char>(20, 0));
    CHECK_IO_ERROR(latent::io::write_safetensors(path, bad), "latent.io.safetensors.write",
                   "tensor \"dense/kernel\" has 20 bytes, but F32 (3, 2) needs 24");
    bad.tensors.clear();
    bad.tensors["x"] = tensor("F12", {1}, {0});
    CHECK_IO_ERROR(latent::io::write_safetensors(path, bad), "latent.io.safetensors.write",
                   "unsupported dtype \"F12\"");
    bad.tensors.clear();
    bad.tensors["__metadata__"] = tensor("U8", {1}, {0});
    CHECK_IO_ERROR(latent::io::write_safetensors(path, bad), "latent.io.safetensors.write", "__metadata__");
    bad.tensors.clear();
    bad.tensors["bad\xC3"] = tensor("U8", {1}, {0});
    CHECK_IO_ERROR(latent::io::write_safetensors(path, bad), "latent.io.safetensors.write", "not valid UTF-8");

    latent::ParameterArena<float> twins(
        {latent::ParamSlot{"same", {1}, 0, 1, true, 0}, latent::ParamSlot{"same", {1}, 0, 1, true, 1}});
    CHECK_IO_ERROR(latent::io::save_safetensors(path, twins), "latent.io.safetensors.write",
                   "two arena slots are named \"same\"");

    CHECK(read_all(path) == previous);
    CHECK(temp_files_in(dir) == 0);
    auto arena = make_target();
    latent::io::load_safetensors(path, arena);
    CHECK(bytes_of(arena) == bytes_of(make_arena()));
}

TEST_CASE("safetensors: saves leave no temporary files and use unique temporaries") {
    const fs::path dir = fresh_dir("temps");
    for (int i = 0; i < 5; ++i)
        latent::io::save_safetensors(dir / latent::io::detail::concat("m", std::to_string(i), ".safetensors"),
                                     make_arena());
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        CHECK_MESSAGE(!contains(entry.path().filename().string(), ".tmp-"), entry.path().string());
        ++files;
    }
    CHECK(files == 5);
    const std::string a = latent::io::detail::temp_suffix(), b = latent::io::detail::temp_suffix();
    CHECK(a != b);
    CHECK(starts_with(a, ".tmp-"));
}
