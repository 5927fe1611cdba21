// Tests of latent/io/npy.hpp: .npy round trips of every dtype and shape, hand-made version
// 1.0/2.0/3.0 headers, .npz archives (stored, deflated, zip64, data descriptors), every kind
// of malformed file and archive (each with its error id and the file's or array's name), and
// the Tensor helpers.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <latent/io/npy.hpp>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/messages.hpp"

namespace fs = std::filesystem;
using latent::io::NpyArray;
using latent::io::NpyType;

namespace {

using latent::testing::contains;
using latent::testing::message_of;
using latent::testing::read_all;
using latent::testing::starts_with;
using latent::testing::write_all;

// `expr` throws an E whose message reads "[id] label: ..." and contains `fragment`.
#define CHECK_NPY_ERROR(E, expr, id, label, fragment)                                        \
    do {                                                                                     \
        const std::string m_ = message_of<E>([&] { (void)(expr); });                         \
        CHECK_MESSAGE(starts_with(m_, std::string("[") + (id) + "] " + (label) + ": "), m_); \
        CHECK_MESSAGE(contains(m_, fragment), m_);                                           \
    } while (0)

fs::path fresh_dir(const std::string& name) { return latent::testing::fresh_dir("npy", name); }

std::vector<std::byte> text_bytes(std::string_view s) {
    std::vector<std::byte> out(s.size());
    std::memcpy(out.data(), s.data(), s.size());
    return out;
}

void put_le(std::vector<std::byte>& out, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

// An .npy file made by hand: magic, version major.0, the header length in 2 (v1) or 4 bytes,
// `dict` as is (no padding unless given), then `data`.
std::vector<std::byte> npy_file(std::string_view dict, int major, const std::vector<std::byte>& data, int minor = 0) {
    std::vector<std::byte> out = text_bytes("\x93NUMPY");
    out.push_back(static_cast<std::byte>(major));
    out.push_back(static_cast<std::byte>(minor));
    put_le(out, dict.size(), major == 1 ? 2 : 4);
    const auto text = text_bytes(dict);
    out.insert(out.end(), text.begin(), text.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

// Six little-endian float32s 0.5, 1.5, ... 5.5.
std::vector<std::byte> six_floats() {
    std::vector<std::byte> out;
    for (int i = 0; i < 6; ++i) {
        const float f = static_cast<float>(i) + 0.5f;
        std::uint32_t u;
        std::memcpy(&u, &f, 4);
        put_le(out, u, 4);
    }
    return out;
}

template <class T>
std::vector<T> pattern(std::size_t n) {
    std::vector<T> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (std::is_floating_point_v<T>)
            out[i] = static_cast<T>(static_cast<double>(i) * 0.25 - 3.0);
        else if constexpr (std::is_signed_v<T>)
            out[i] = static_cast<T>(i * 1'000'000'007LL) - (T{1} << 40);
        else
            out[i] = static_cast<T>(i * 37 + 5);
    }
    return out;
}

std::uint32_t crc_of(const std::vector<std::byte>& v) {
    return static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(v.data()), static_cast<uInt>(v.size())));
}

// Raw deflate by zlib directly (independently of the library's writer).
std::vector<std::byte> raw_deflate(const std::vector<std::byte>& in) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<std::byte> out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - zs.avail_out);
    deflateEnd(&zs);
    return out;
}

// A zip archive made by hand, with the layouts Python's zipfile writes: sizes after the data
// in a descriptor (flag bit 3, zeros in the local header), or in zip64 extra fields.
struct ZipMember {
    std::string name;
    std::vector<std::byte> content;
    bool deflate = false;
    bool descriptor = false;
    bool zip64 = false;
    std::uint16_t method_override = 0xFFFF;
    std::uint16_t extra_flags = 0;
};

std::vector<std::byte> zip(const std::vector<ZipMember>& members) {
    std::vector<std::byte> out, cd;
    for (const ZipMember& m : members) {
        const std::vector<std::byte> packed = m.deflate ? raw_deflate(m.content) : m.content;
        const std::uint32_t crc = crc_of(m.content);
        const std::uint64_t offset = out.size();
        const std::uint16_t method = m.method_override != 0xFFFF ? m.method_override : (m.deflate ? 8 : 0);
        const std::uint16_t flags = static_cast<std::uint16_t>((m.descriptor ? 8 : 0) | m.extra_flags);
        put_le(out, 0x04034b50, 4);
        put_le(out, m.zip64 ? 45 : 20, 2);
        put_le(out, flags, 2);
        put_le(out, method, 2);
        put_le(out, 0, 4);
        put_le(out, m.descriptor ? 0 : crc, 4);
        put_le(out, m.zip64 ? 0xFFFFFFFF : m.descriptor ? 0 : packed.size(), 4);
        put_le(out, m.zip64 ? 0xFFFFFFFF : m.descriptor ? 0 : m.content.size(), 4);
        put_le(out, m.name.size(), 2);
        put_le(out, m.zip64 ? 20 : 0, 2);
        const auto name = text_bytes(m.name);
        out.insert(out.end(), name.begin(), name.end());
        if (m.zip64) {
            put_le(out, 1, 2);
            put_le(out, 16, 2);
            put_le(out, m.descriptor ? 0 : m.content.size(), 8);
            put_le(out, m.descriptor ? 0 : packed.size(), 8);
        }
        out.insert(out.end(), packed.begin(), packed.end());
        if (m.descriptor) {
            put_le(out, 0x08074b50, 4);
            put_le(out, crc, 4);
            put_le(out, packed.size(), m.zip64 ? 8 : 4);
            put_le(out, m.content.size(), m.zip64 ? 8 : 4);
        }
        put_le(cd, 0x02014b50, 4);
        put_le(cd, 20, 2);
        put_le(cd, m.zip64 ? 45 : 20, 2);
        put_le(cd, flags, 2);
        put_le(cd, method, 2);
        put_le(cd, 0, 4);
        put_le(cd, crc, 4);
        put_le(cd, m.zip64 ? 0xFFFFFFFF : packed.size(), 4);
        put_le(cd, m.zip64 ? 0xFFFFFFFF : m.content.size(), 4);
        put_le(cd, m.name.size(), 2);
        put_le(cd, m.zip64 ? 28 : 0, 2);
        put_le(cd, 0, 6);  // comment length, disk, internal attributes
        put_le(cd, 0, 4);  // external attributes
        put_le(cd, m.zip64 ? 0xFFFFFFFF : offset, 4);
        cd.insert(cd.end(), name.begin(), name.end());
        if (m.zip64) {
            put_le(cd, 1, 2);
            put_le(cd, 24, 2);
            put_le(cd, m.content.size(), 8);
            put_le(cd, packed.size(), 8);
            put_le(cd, offset, 8);
        }
    }
    const std::uint64_t cd_offset = out.size();
    out.insert(out.end(), cd.begin(), cd.end());
    put_le(out, 0x06054b50, 4);
    put_le(out, 0, 4);
    put_le(out, members.size(), 2);
    put_le(out, members.size(), 2);
    put_le(out, cd.size(), 4);
    put_le(out, cd_offset, 4);
    put_le(out, 0, 2);
    return out;
}

bool same(const NpyArray& a, const NpyArray& b) { return a.type == b.type && a.shape == b.shape && a.bytes == b.bytes; }

// One array of each type, for archives.
std::map<std::string, NpyArray> mixed_arrays() {
    std::map<std::string, NpyArray> arrays;
    arrays["x_train"] = latent::io::make_npy<std::uint8_t>({3, 2, 2}, pattern<std::uint8_t>(12));
    arrays["weights/f64"] = latent::io::make_npy<double>({2, 3}, pattern<double>(6));
    arrays["ids"] = latent::io::make_npy<std::int64_t>({4}, pattern<std::int64_t>(4));
    arrays["scalar"] = latent::io::make_npy<float>({}, pattern<float>(1));
    arrays["empty"] = latent::io::make_npy<float>({0, 4}, std::span<const float>());
    return arrays;
}

void check_same(const std::map<std::string, NpyArray>& a, const std::map<std::string, NpyArray>& b) {
    REQUIRE(a.size() == b.size());
    for (const auto& entry : a) {
        const std::string& name = entry.first;
        REQUIRE_MESSAGE(b.count(name), name);
        CHECK_MESSAGE(same(entry.second, b.at(name)), name);
    }
}

}  // namespace

TEST_CASE_TEMPLATE("npy: every dtype round-trips for scalar, 1-D, 2-D and empty shapes", T, float, double, std::uint8_t,
                   std::int64_t) {
    const fs::path dir =
        fresh_dir(std::string("roundtrip_") + std::string(latent::io::npy_type_name(latent::io::npy_type_of<T>)));
    const std::vector<std::vector<std::size_t>> shapes = {{}, {5}, {2, 3}, {0, 4}, {2, 0, 3}, {1, 1, 7}};
    for (const auto& shape : shapes) {
        std::size_t n = 1;
        for (const auto d : shape) n *= d;
        const std::vector<T> values = pattern<T>(n);
        const NpyArray a = latent::io::make_npy<T>(shape, values);
        CHECK(a.size() == n);
        const fs::path path = dir / ("a" + std::to_string(shape.size()) + std::to_string(n) + ".npy");
        latent::io::save_npy(path, a);

        const auto file = read_all(path);
        REQUIRE(file.size() > 10);
        CHECK(std::memcmp(file.data(), "\x93NUMPY\x01\x00", 8) == 0);
        const std::size_t header_end =
            10 + (std::to_integer<std::size_t>(file[8]) | std::to_integer<std::size_t>(file[9]) << 8);
        CHECK(header_end % 64 == 0);  // NumPy aligns the data to 64 bytes
        CHECK(file[header_end - 1] == std::byte{'\n'});
        CHECK(file.size() == header_end + n * sizeof(T));

        const NpyArray b = latent::io::load_npy(path);
        CHECK(same(a, b));
        CHECK(b.values<T>() == values);
        const auto view = b.data<T>();
        CHECK(std::vector<T>(view.begin(), view.end()) == values);
        CHECK(same(latent::io::parse_npy(file, "memory"), a));
        CHECK(latent::io::encode_npy(a) == file);
    }
}

TEST_CASE("npy: values<T>() converts like static_cast, clamping floats that do not fit an integer") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> v = {-1.5, 0.5, 255.9, 300.0, nan, 1e300, -1e300, 42.0};
    const NpyArray a = latent::io::make_npy<double>({8}, v);
    CHECK(a.values<std::uint8_t>() == std::vector<std::uint8_t>{0, 0, 255, 255, 0, 255, 0, 42});
    const auto i = a.values<std::int64_t>();
    CHECK(i[0] == -1);
    CHECK(i[2] == 255);
    CHECK(i[4] == 0);
    CHECK(i[5] == std::numeric_limits<std::int64_t>::max());
    CHECK(i[6] == std::numeric_limits<std::int64_t>::min());
    const auto f = a.values<float>();
    CHECK(f[0] == -1.5f);
    CHECK(std::isnan(f[4]));
    CHECK(f[5] == std::numeric_limits<float>::infinity());
    CHECK(f[6] == -std::numeric_limits<float>::infinity());

    const NpyArray u = latent::io::make_npy<std::uint8_t>({3}, std::vector<std::uint8_t>{0, 128, 255});
    CHECK(u.values<float>() == std::vector<float>{0.0f, 128.0f, 255.0f});  // no scaling
    const NpyArray big =
        latent::io::make_npy<std::int64_t>({2}, std::vector<std::int64_t>{-(std::int64_t{1} << 62), 257});
    CHECK(big.values<double>() == std::vector<double>{-4611686018427387904.0, 257.0});
    CHECK(big.values<std::uint8_t>() == std::vector<std::uint8_t>{0, 1});  // modulo 256, as static_cast

    LATENT_CHECK_ERROR(latent::value_error, a.data<float>(), "latent.io.npy.type",
                       "NpyArray::data<float32>() on an array of float64");
    NpyArray broken = a;
    broken.bytes.pop_back();
    CHECK_THROWS_WITH_AS(broken.values<float>(), doctest::Contains("needs 64 bytes, it holds 63"), latent::value_error);
    std::vector<float> small(3);
    CHECK_THROWS_AS(a.values_into(std::span<float>(small)), latent::shape_error);
}

TEST_CASE("npy: make_npy checks the count of values against the shape") {
    const std::vector<float> five(5);
    CHECK_THROWS_WITH_AS(latent::io::make_npy<float>({2, 3}, five),
                         "[latent.io.npy.shape] shape (2, 3) needs 6 values, got 5", latent::shape_error);
    CHECK_THROWS_AS(latent::io::make_npy<float>({std::size_t{1} << 62, 8}, five), latent::shape_error);
    CHECK_NOTHROW(latent::io::make_npy<float>({5}, five));
}

TEST_CASE("npy: headers of version 2.0 and 3.0, any quoting, spacing and key order") {
    const auto data = six_floats();
    const std::vector<float> expected = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
    const std::vector<std::pair<int, std::string>> headers = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n"},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"},
        {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"},
        {1, "{\"shape\": (2,3,), \"fortran_order\": False, \"descr\": \"<f4\"}"},
        {1, "{ 'descr' : '<f4' ,\r\n\t'fortran_order':False,'shape':( 2 , 3 )\n}\n"},
        {2, "{'fortran_order': False, 'shape': (2L, 3L), 'descr': '<f4',}   \n"},
    };
    for (const auto& header : headers) {
        const std::string& dict = header.second;
        CAPTURE(dict);
        const NpyArray a = latent::io::parse_npy(npy_file(dict, header.first, data), "hand.npy");
        CHECK(a.type == NpyType::f32);
        CHECK(a.shape == std::vector<std::size_t>{2, 3});
        CHECK(a.values<float>() == expected);
    }
    const NpyArray scalar = latent::io::parse_npy(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': ( ), }",
                                                           3, std::vector<std::byte>(data.begin(), data.begin() + 4)));
    CHECK(scalar.shape.empty());
    CHECK(scalar.values<float>() == std::vector<float>{0.5f});
    const NpyArray vector =
        latent::io::parse_npy(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", 1, data));
    CHECK(vector.shape == std::vector<std::size_t>{6});
    for (const char* u1 : {"|u1", "<u1"}) {
        const NpyArray bytes = latent::io::parse_npy(npy_file(
            std::string("{'descr': '") + u1 + "', 'fortran_order': False, 'shape': (2,)}", 1, text_bytes("AB")));
        CHECK(bytes.type == NpyType::u8);
        CHECK(bytes.values<std::uint8_t>() == std::vector<std::uint8_t>{65, 66});
    }
}

TEST_CASE("npy: the writer switches to version 2.0 when the header outgrows 65535 bytes") {
    const fs::path path = fresh_dir("v2") / "many_axes.npy";
    const std::vector<std::size_t> shape(30000, 1);  // "1, " 30000 times: a 90 KB header
    const NpyArray a = latent::io::make_npy<std::uint8_t>(shape, std::vector<std::uint8_t>{7});
    latent::io::save_npy(path, a);
    const auto file = read_all(path);
    CHECK(file[6] == std::byte{2});
    CHECK((file.size() - 1) % 64 == 0);
    const NpyArray b = latent::io::load_npy(path);
    CHECK(b.shape == shape);
    CHECK(b.values<std::uint8_t>() == std::vector<std::uint8_t>{7});
}

TEST_CASE("npy: malformed files are refused with their error id and the file's name") {
    const fs::path dir = fresh_dir("bad");
    const auto data = six_floats();
    const auto head = [](const std::string& rest) { return "{'descr': '<f4', 'fortran_order': False, " + rest; };
    const auto cut = [](std::vector<std::byte> v, std::size_t n) {
        v.resize(v.size() - n);
        return v;
    };
    struct Case {
        const char* name;
        std::vector<std::byte> bytes;
        const char* id;
        std::string fragment;
    };
    const std::vector<Case> cases = {
        {"empty", {}, "latent.io.npy.truncated", "file has 0 bytes"},
        {"cut_magic", text_bytes("\x93NUM"), "latent.io.npy.truncated", "file has 4 bytes"},
        {"cut_version", text_bytes("\x93NUMPY\x02"), "latent.io.npy.truncated", "file has 7 bytes"},
        {"cut_length", text_bytes(std::string_view("\x93NUMPY\x02\x00\x05", 9)), "latent.io.npy.truncated",
         "file has 9 bytes, too short for the version 2.0/3.0 preamble (12 bytes)"},
        {"zip", text_bytes("PK\x03\x04 not an npy"), "latent.io.npy.magic", "found 0x50 0x4B 0x03 0x04 0x20 0x6E"},
        {"version4", npy_file(head("'shape': (6,)}"), 4, data), "latent.io.npy.version",
         "version 4.0 is not supported"},
        {"version1_1", npy_file(head("'shape': (6,)}"), 1, data, 1), "latent.io.npy.version", "1.1"},
        {"long_header", cut(npy_file("{}", 2, {}), 1), "latent.io.npy.truncated",
         "declares a 2-byte header, but only 1 bytes follow"},
        {"fortran", npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}", 1, data),
         "latent.io.npy.fortran", "only C order"},
        {"big_endian", npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (6,)}", 1, data),
         "latent.io.npy.byteorder", "\">f4\" is big-endian"},
        {"complex", npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", 1, data), "latent.io.npy.dtype",
         "unsupported dtype \"<c8\""},
        {"object", npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (3,)}", 1, data), "latent.io.npy.dtype",
         "pickled"},
        {"structured", npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,)}", 1, data),
         "latent.io.npy.dtype", "structured"},
        {"short", npy_file(head("'shape': (2, 4)}"), 1, data), "latent.io.npy.length",
         "shape (2, 4) of float32 needs 32 bytes of data after the 67-byte header, the file has 24 (truncated"},
        {"trailing", npy_file(head("'shape': (5,)}"), 1, data), "latent.io.npy.length", "the file has 24 (trailing"},
        {"overflow", npy_file(head("'shape': (4294967296, 4294967296)}"), 1, data), "latent.io.npy.size",
         "too large to address"},
        {"huge_dim", npy_file(head("'shape': (99999999999999999999,)}"), 1, data), "latent.io.npy.size",
         "dimension 99999999999999999999"},
        {"no_shape", npy_file("{'descr': '<f4', 'fortran_order': False}", 1, data), "latent.io.npy.header",
         "the header has no 'shape'"},
        {"extra_key", npy_file(head("'shape': (6,), 'x': 1}"), 1, data), "latent.io.npy.header",
         "unexpected key \"x\""},
        {"twice", npy_file(head("'shape': (6,), 'shape': (6,)}"), 1, data), "latent.io.npy.header",
         "\"shape\" appears twice"},
        {"not_tuple", npy_file(head("'shape': (6)}"), 1, data), "latent.io.npy.header", "a 1-D shape is (6,)"},
        {"list_shape", npy_file(head("'shape': [6]}"), 1, data), "latent.io.npy.header", "expected a tuple"},
        {"negative", npy_file(head("'shape': (-6,)}"), 1, data), "latent.io.npy.header", "negative dimension"},
        {"fortran_int", npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", 1, data),
         "latent.io.npy.header", "expected True or False"},
        {"open_string", npy_file("{'descr': '<f4, 'fortran_order': False}", 1, data), "latent.io.npy.header",
         "expected ',' or '}' after the value of \"descr\""},
        {"after_dict", npy_file(head("'shape': (6,)} x"), 1, data), "latent.io.npy.header",
         "unexpected text after the closing '}'"},
        {"not_dict", npy_file("('<f4', False, (6,))", 1, data), "latent.io.npy.header", "to start with '{'"},
        {"cut_dict", npy_file(head("'shape': (6,"), 1, data), "latent.io.npy.header", "the end of the header"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::string name = std::string(c.name) + ".npy";
        write_all(dir / name, c.bytes);
        CHECK_NPY_ERROR(latent::io_error, latent::io::load_npy(dir / name), c.id, name, c.fragment);
        CHECK_NPY_ERROR(latent::io_error, latent::io::parse_npy(c.bytes, "in memory"), c.id, "in memory", c.fragment);
    }
    CHECK_NPY_ERROR(latent::io_error, latent::io::load_npy(dir / "missing.npy"), "latent.io.npy.open", "missing.npy",
                    "cannot open");
    CHECK_NPY_ERROR(latent::io_error, latent::io::load_npy(dir), "latent.io.npy.open", "bad", "it is a directory");
}

TEST_CASE("npz: stored and deflated archives round-trip every dtype, a scalar and an empty array") {
    const fs::path dir = fresh_dir("npz");
    const auto arrays = mixed_arrays();
    for (const bool compress : {false, true}) {
        CAPTURE(compress);
        const fs::path path = dir / (compress ? "compressed.npz" : "stored.npz");
        latent::io::save_npz(path, arrays, compress);
        const auto file = read_all(path);
        REQUIRE(file.size() > 30);
        CHECK(std::to_integer<int>(file[8]) == (compress ? 8 : 0));  // the first member's method
        check_same(arrays, latent::io::load_npz(path));
        CHECK(latent::io::encode_npz(arrays, compress) == file);
        check_same(arrays, latent::io::parse_npz(file, "memory"));
    }
    // Every array of an empty archive.
    latent::io::save_npz(dir / "none.npz", {});
    CHECK(latent::io::load_npz(dir / "none.npz").empty());
}

TEST_CASE("npz: zip64 extra fields and data descriptors, as Python's zipfile writes them") {
    const auto arrays = mixed_arrays();
    for (const bool compress : {false, true}) {
        std::vector<std::byte> bytes;
        latent::io::detail::npy::VectorSink sink{bytes};
        latent::io::detail::npy::write_npz(sink, arrays, compress, "zip64.npz", true);
        check_same(arrays, latent::io::parse_npz(bytes, "zip64.npz"));
    }
    std::vector<ZipMember> members;
    for (const auto& [name, a] : arrays) {
        const bool odd = members.size() % 2 == 1;
        members.push_back({name + ".npy", latent::io::encode_npy(a), odd, true, !odd});
    }
    check_same(arrays, latent::io::parse_npz(zip(members), "descriptors.npz"));
}

TEST_CASE("npz: damaged archives are refused naming the file and the member") {
    const fs::path dir = fresh_dir("npz_bad");
    const auto good = latent::io::encode_npy(latent::io::make_npy<float>({6}, pattern<float>(6)));
    const auto big_endian = npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (6,)}", 1, six_floats());
    const auto stored = zip({{"a.npy", good}});
    std::vector<std::byte> flipped = stored;
    flipped[30 + 5 + 100] ^= std::byte{1};  // a data byte of the member
    std::vector<std::byte> bad_deflate = zip({{"a.npy", good, true}});
    bad_deflate[30 + 5] = std::byte{0xFF};  // an invalid block type
    std::vector<std::byte> too_many = stored;
    too_many[too_many.size() - 14] = too_many[too_many.size() - 12] = std::byte{9};  // the end record's member counts
    std::vector<std::byte> outside = stored;
    outside[outside.size() - 5] = std::byte{0x7F};  // the directory's offset
    struct Case {
        const char* name;
        std::vector<std::byte> bytes;
        const char* id;
        std::string fragment;
    };
    const std::vector<Case> cases = {
        {"npy", good, "latent.io.npz.zip", "it is an .npy file, read it with load_npy"},
        {"tiny", text_bytes("PK"), "latent.io.npz.zip", "too short for a zip archive"},
        {"cut", std::vector<std::byte>(stored.begin(), stored.end() - 3), "latent.io.npz.zip",
         "no zip end-of-central-directory record"},
        {"crc", flipped, "latent.io.npz.crc", "member \"a.npy\" has CRC-32"},
        {"deflate", bad_deflate, "latent.io.npz.deflate", "member \"a.npy\" holds corrupt deflate data"},
        {"text", zip({{"a.npy", good}, {"readme.txt", text_bytes("hello")}}), "latent.io.npz.member",
         "member \"readme.txt\" is not an .npy array"},
        {"magic", zip({{"b.npy", text_bytes("hello, not an array")}}), "latent.io.npz.member",
         "member \"b.npy\" is not an .npy array: it starts with 0x68"},
        {"member_error", zip({{"a.npy", good}, {"big.npy", big_endian}}), "latent.io.npy.byteorder",
         "array \"big\": dtype \">f4\" is big-endian"},
        {"bzip2", zip({{"a.npy", good, false, false, false, 12}}), "latent.io.npz.zip",
         "member \"a.npy\" uses compression method 12"},
        {"encrypted", zip({{"a.npy", good, false, false, false, 0xFFFF, 1}}), "latent.io.npz.zip", "encrypted"},
        {"twice", zip({{"a.npy", good}, {"a.npy", good}}), "latent.io.npz.member", "two members named \"a.npy\""},
        {"count", too_many, "latent.io.npz.zip", "declares 9 members"},
        {"offset", outside, "latent.io.npz.zip", "lies outside the"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::string name = std::string(c.name) + ".npz";
        write_all(dir / name, c.bytes);
        CHECK_NPY_ERROR(latent::io_error, latent::io::load_npz(dir / name), c.id, name, c.fragment);
    }
    CHECK_NPY_ERROR(latent::io_error, latent::io::load_npz(dir / "missing.npz"), "latent.io.npz.open", "missing.npz",
                    "cannot open");
}

TEST_CASE("npy/npz: saving is all or nothing and leaves no temporary behind") {
    const fs::path dir = fresh_dir("atomic");
    const NpyArray good = latent::io::make_npy<float>({3}, pattern<float>(3));
    latent::io::save_npy(dir / "a.npy", good);
    latent::io::save_npz(dir / "a.npz", {{"a", good}});
    const auto before_npy = read_all(dir / "a.npy");
    const auto before_npz = read_all(dir / "a.npz");

    NpyArray broken = good;
    broken.bytes.pop_back();
    CHECK_THROWS_AS(latent::io::save_npy(dir / "a.npy", broken), latent::value_error);
    CHECK_THROWS_AS(latent::io::save_npz(dir / "a.npz", {{"a", good}, {"b", broken}}), latent::value_error);
    CHECK_NPY_ERROR(latent::value_error, latent::io::save_npz(dir / "a.npz", {{std::string(70000, 'x'), good}}),
                    "latent.io.npz.name", "a.npz", "an array name has 70000 bytes");
    CHECK(read_all(dir / "a.npy") == before_npy);
    CHECK(read_all(dir / "a.npz") == before_npz);
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
    CHECK(files == 2);

    CHECK_NPY_ERROR(latent::io_error, latent::io::save_npy(dir / "no" / "such" / "dir.npy", good),
                    "latent.io.npy.write", "dir.npy", "cannot create temporary file");
    CHECK_NPY_ERROR(latent::io_error, latent::io::save_npz(dir / "no" / "dir.npz", {{"a", good}}),
                    "latent.io.npz.write", "dir.npz", "cannot create temporary file");
}

TEST_CASE("npy tensors: (n, S...) arrays load as Tensor<S>, uint8 unscaled; other shapes are refused") {
    using Images = latent::Shape<2, 2, 1>;
    std::vector<std::uint8_t> pixels(3 * 4);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 20);
    // (n, 2, 2, 1), and (n, 2, 2) as NumPy and Keras keep grayscale images.
    for (const auto& shape : {std::vector<std::size_t>{3, 2, 2, 1}, std::vector<std::size_t>{3, 2, 2}}) {
        const auto t = latent::io::npy_to_tensor<Images>(latent::io::make_npy<std::uint8_t>(shape, pixels), "x");
        REQUIRE(t.batch() == 3);
        CHECK(t[0] == 0.0f);
        CHECK(t[11] == 220.0f);
    }
    const auto labels = latent::io::npy_to_tensor<latent::Shape<1>>(
        latent::io::make_npy<std::int64_t>({4}, std::vector<std::int64_t>{3, 1, 4, 1}), "y");
    CHECK(labels.batch() == 4);
    CHECK(labels[2] == 4.0f);

    const NpyArray flat = latent::io::make_npy<std::uint8_t>({3, 4}, pixels);
    CHECK_NPY_ERROR(latent::shape_error, latent::io::npy_to_tensor<Images>(flat, "mnist.npz: x_train"),
                    "latent.io.npy.shape", "mnist.npz: x_train",
                    "expected an array of shape (n, 2, 2, 1) for samples of shape (2, 2, 1), got (3, 4)");
    CHECK_THROWS_AS(
        latent::io::npy_to_tensor<latent::Shape<4>>(latent::io::make_npy<float>({}, pattern<float>(1)), "s"),
        latent::shape_error);

    const fs::path path = fresh_dir("tensor") / "batch.npy";
    latent::Tensor<latent::Shape<2, 3>> x(2);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 5.5f;
    const NpyArray saved = latent::io::tensor_to_npy(x);
    CHECK(saved.type == NpyType::f32);
    CHECK(saved.shape == std::vector<std::size_t>{2, 2, 3});
    latent::io::save_npy(path, saved);
    const auto back = latent::io::load_npy_tensor<latent::Shape<2, 3>>(path);
    REQUIRE(back.batch() == 2);
    CHECK(std::equal(x.values().begin(), x.values().end(), back.values().begin()));
    CHECK_NPY_ERROR(latent::shape_error, (latent::io::load_npy_tensor<latent::Shape<3, 2>>(path)),
                    "latent.io.npy.shape", "batch.npy", "got (2, 2, 3)");
    CHECK(latent::io::tensor_to_npy(x.slice(1, 1)).shape == std::vector<std::size_t>{1, 2, 3});
}
