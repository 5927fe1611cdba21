// Tests of latent/io/idx.hpp: raw and gzip round trips of every element type, float
// conversion, and every kind of malformed file (each with its error id and the file's name).
#include <doctest/doctest.h>

#include "support/files.hpp"
#include "support/messages.hpp"

#include <latent/core/random.hpp>
#include <latent/io/idx.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <zlib.h>

namespace fs = std::filesystem;
using latent::io::IdxArray;
using latent::io::IdxType;

namespace {

using latent::testing::contains;
using latent::testing::message_of;
using latent::testing::starts_with;

#define CHECK_IDX_ERROR(expr, id, fragment) LATENT_CHECK_ERROR(latent::io_error, expr, id, fragment)

fs::path fresh_dir(const std::string& name) { return latent::testing::fresh_dir("idx", name); }

using latent::testing::read_all;
using latent::testing::write_all;

std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (const int v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}

std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

void put_be(std::vector<std::byte>& out, std::uint64_t v, int n) {
    for (int shift = 8 * (n - 1); shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((v >> shift) & 0xFF));
}

// `raw` as one gzip member, compressed by zlib directly (independently of encode_idx).
std::vector<std::byte> gzip_member(const std::vector<std::byte>& raw) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<std::byte> out(deflateBound(&zs, static_cast<uLong>(raw.size())) + 64);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(raw.data()));
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - zs.avail_out);
    deflateEnd(&zs);
    return out;
}

// A raw u8 IDX file of dims (3, 2) holding 1..6.
std::vector<std::byte> small_raw() {
    const std::uint8_t values[] = {1, 2, 3, 4, 5, 6};
    return latent::io::encode_idx(IdxType::u8, {3, 2}, std::as_bytes(std::span(values)));
}

}  // namespace

TEST_CASE("idx: u8 round trip, raw and gzip, detected by content rather than name") {
    const fs::path dir = fresh_dir("roundtrip");
    std::vector<std::uint8_t> values(2 * 3 * 4);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint8_t>(i * 11);
    for (const bool gzip : {false, true}) {
        // Names that lie about the compression must not matter.
        const fs::path path = dir / (gzip ? "images-idx3-ubyte" : "images-idx3-ubyte.gz");
        latent::io::write_idx_u8(path, {2, 3, 4}, values, gzip);
        const auto file = read_all(path);
        REQUIRE(file.size() >= 2);
        CHECK((file[0] == std::byte{0x1f} && file[1] == std::byte{0x8b}) == gzip);
        if (!gzip) {
            CHECK(file.size() == 4 + 3 * 4 + values.size());
            CHECK(file[2] == std::byte{0x08});
            CHECK(file[3] == std::byte{3});
        }
        const IdxArray a = latent::io::read_idx(path);
        CHECK(a.type == IdxType::u8);
        CHECK(a.dims == std::vector<std::size_t>{2, 3, 4});
        CHECK(a.element_count() == 24);
        CHECK(a.element_size() == 1);
        REQUIRE(a.bytes.size() == values.size());
        CHECK(std::memcmp(a.bytes.data(), values.data(), values.size()) == 0);
        const auto floats = a.to_floats();
        REQUIRE(floats.size() == 24);
        CHECK(floats[0] == 0.0f);
        CHECK(floats[23] == 253.0f);
        // The same bytes parse from memory too.
        const IdxArray m = latent::io::parse_idx(file, "memory");
        CHECK(m.dims == a.dims);
        CHECK(m.bytes == a.bytes);
    }
}

TEST_CASE("idx: every element type round-trips big-endian and converts to float") {
    const fs::path dir = fresh_dir("types");
    struct Case {
        IdxType type;
        std::vector<std::byte> payload;
        std::vector<float> expected;
    };
    std::vector<Case> cases;
    {
        Case c{IdxType::i8, {}, {-128.0f, -1.0f, 0.0f, 127.0f}};
        for (const int v : {-128, -1, 0, 127}) put_be(c.payload, static_cast<std::uint8_t>(v), 1);
        cases.push_back(c);
    }
    {
        Case c{IdxType::i16, {}, {-32768.0f, -2.0f, 258.0f, 32767.0f}};
        for (const int v : {-32768, -2, 258, 32767}) put_be(c.payload, static_cast<std::uint16_t>(v), 2);
        cases.push_back(c);
    }
    {
        Case c{IdxType::i32, {}, {-2147483648.0f, -3.0f, 65536.0f, 16777216.0f}};
        for (const std::int64_t v :
             {std::int64_t{-2147483647} - 1, std::int64_t{-3}, std::int64_t{65536}, std::int64_t{16777216}})
            put_be(c.payload, static_cast<std::uint32_t>(v), 4);
        cases.push_back(c);
    }
    {
        Case c{IdxType::f32, {}, {1.5f, -0.25f, 3.0e38f, 0.0f}};
        for (const float f : c.expected) {
            std::uint32_t bits;
            std::memcpy(&bits, &f, 4);
            put_be(c.payload, bits, 4);
        }
        cases.push_back(c);
    }
    {
        Case c{IdxType::f64, {}, {0.1f, -2.5f, 1e-3f, 7.0f}};
        for (const double d : {0.1, -2.5, 1e-3, 7.0}) {
            std::uint64_t bits;
            std::memcpy(&bits, &d, 8);
            put_be(c.payload, bits, 8);
        }
        cases.push_back(c);
    }
    for (const Case& c : cases) {
        for (const bool gzip : {false, true}) {
            CAPTURE(latent::io::idx_type_name(c.type));
            CAPTURE(gzip);
            const fs::path path = dir / (std::string(latent::io::idx_type_name(c.type)) + (gzip ? ".gz" : ".idx"));
            latent::io::write_idx(path, c.type, {2, 2}, c.payload, gzip);
            const IdxArray a = latent::io::read_idx(path);
            CHECK(a.type == c.type);
            CHECK(a.dims == std::vector<std::size_t>{2, 2});
            CHECK(a.bytes == c.payload);
            CHECK(a.to_floats() == c.expected);
            const auto halved = a.to_floats(0.5);
            for (std::size_t i = 0; i < 4; ++i)
                CHECK(halved[i] == static_cast<float>(static_cast<double>(c.expected[i]) * 0.5));
        }
    }
}

TEST_CASE("idx: u8 scaled by 1/255 matches x / 255 in float for every byte") {
    std::vector<std::uint8_t> values(256);
    for (std::size_t i = 0; i < 256; ++i) values[i] = static_cast<std::uint8_t>(i);
    const IdxArray a =
        latent::io::parse_idx(latent::io::encode_idx(IdxType::u8, {256}, std::as_bytes(std::span(values))));
    const auto f = a.to_floats(1.0 / 255.0);
    int mismatches = 0;
    for (std::size_t i = 0; i < 256; ++i) mismatches += f[i] != static_cast<float>(i) / 255.0f;
    CHECK(mismatches == 0);
    CHECK(f[255] == 1.0f);
    std::vector<float> into(256);
    a.to_floats_into(into, 1.0 / 255.0);
    CHECK(into == f);
    std::vector<float> wrong(255);
    CHECK_THROWS_AS(a.to_floats_into(wrong), latent::shape_error);
}

TEST_CASE("idx: float conversion of huge f64 values saturates to infinity, NaN stays NaN") {
    std::vector<std::byte> payload;
    for (const double d : {1e300, -1e300, std::numeric_limits<double>::quiet_NaN(), 3.4028235e38}) {
        std::uint64_t bits;
        std::memcpy(&bits, &d, 8);
        put_be(payload, bits, 8);
    }
    const IdxArray a = latent::io::parse_idx(latent::io::encode_idx(IdxType::f64, {4}, payload));
    const auto f = a.to_floats();
    CHECK(f[0] == std::numeric_limits<float>::infinity());
    CHECK(f[1] == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(f[2]));
    CHECK(f[3] == std::numeric_limits<float>::max());
}

TEST_CASE("idx: an IdxArray whose bytes do not match its dims refuses to convert") {
    IdxArray a;
    a.type = IdxType::i16;
    a.dims = {3};
    a.bytes.resize(5);
    CHECK_IDX_ERROR(a.to_floats(), "latent.io.idx.length", "need 6 bytes");
    a.dims = {std::size_t{1} << 40, std::size_t{1} << 40};
    CHECK(a.element_count() == std::numeric_limits<std::size_t>::max());
    CHECK_THROWS_AS(a.to_floats(), latent::io_error);
    a.dims = {3};
    a.type = static_cast<IdxType>(0x07);
    CHECK_IDX_ERROR(a.to_floats(), "latent.io.idx.type", "invalid element type code 7");
}

TEST_CASE("idx: concatenated gzip members read as one stream") {
    const auto raw = small_raw();
    const std::vector<std::byte> part1(raw.begin(), raw.begin() + 9), part2(raw.begin() + 9, raw.end());
    const IdxArray a = latent::io::parse_idx(concat(gzip_member(part1), gzip_member(part2)), "two-members.gz");
    CHECK(a.dims == std::vector<std::size_t>{3, 2});
    CHECK(a.bytes == bytes({1, 2, 3, 4, 5, 6}));
    // Our own compressor and zlib's agree on the decompressed bytes.
    CHECK(latent::io::parse_idx(gzip_member(raw)).bytes == a.bytes);
}

TEST_CASE("idx: a missing file, a directory and an unwritable path are open/write errors naming the file") {
    const fs::path dir = fresh_dir("open");
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "nothing-idx1-ubyte.gz"), "latent.io.idx.open",
                    "nothing-idx1-ubyte.gz: cannot open");
    CHECK(contains(message_of<latent::io_error>([&] { latent::io::read_idx(dir / "nothing-idx1-ubyte.gz"); }),
                   "No such file"));
    CHECK_IDX_ERROR(latent::io::read_idx(dir), "latent.io.idx.open", "is a directory");
    const std::uint8_t one[] = {1};
    CHECK_IDX_ERROR(latent::io::write_idx_u8(dir / "no-such-dir" / "x.idx", {1}, one), "latent.io.idx.write",
                    "x.idx: cannot create");
}

TEST_CASE("idx: malformed headers: magic, type, dims") {
    const fs::path dir = fresh_dir("header");
    struct Case {
        const char* name;
        std::vector<std::byte> file;
        const char* id;
        const char* fragment;
    };
    const std::vector<Case> cases = {
        {"empty.idx", {}, "latent.io.idx.magic", "empty.idx: expected an IDX file, which starts with a 4-byte header"},
        {"short.idx", bytes({0, 0, 8}), "latent.io.idx.magic", "has only 3 bytes"},
        {"png.idx", bytes({0x89, 'P', 'N', 'G', 0, 0, 0, 1, 7}), "latent.io.idx.magic",
         "png.idx: expected an IDX file, whose first two bytes are 0x00 0x00, found 0x89 0x50"},
        {"half-magic.idx", bytes({0, 1, 8, 1, 0, 0, 0, 1, 7}), "latent.io.idx.magic", "found 0x00 0x01"},
        {"type.idx", bytes({0, 0, 7, 1, 0, 0, 0, 1, 7}), "latent.io.idx.type",
         "type.idx: expected an element type code of 0x08 (u8), 0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32) or 0x0E "
         "(f64) in byte 2 of the header, found 0x07"},
        {"type-0a.idx", bytes({0, 0, 0x0A, 1, 0, 0, 0, 1, 7}), "latent.io.idx.type", "found 0x0A"},
        {"rank0.idx", bytes({0, 0, 8, 0, 7}), "latent.io.idx.dims", "rank0.idx: the header declares 0 dimensions"},
        {"dims-cut.idx", bytes({0, 0, 8, 3, 0, 0, 0, 1, 0, 0}), "latent.io.idx.dims",
         "dims-cut.idx: the header declares 3 dimensions (12 bytes after the first 4), but the file ends 6 bytes into "
         "them"},
        {"zero-dim.idx", bytes({0, 0, 8, 2, 0, 0, 0, 5, 0, 0, 0, 0}), "latent.io.idx.dims",
         "zero-dim.idx: dims (5, 0) have a 0 at position 1, expected every dimension to be at least 1"},
        {"huge.idx", bytes({0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 1}), "latent.io.idx.dims",
         "huge.idx: dims (65536, 65536, 2) hold more than 2147483648 elements"},
        {"huge-rank.idx",
         [] {
             std::vector<std::byte> f = bytes({0, 0, 8, 255});
             for (int i = 0; i < 255; ++i) put_be(f, 0xFFFFFFFFu, 4);
             return f;
         }(),
         "latent.io.idx.dims", "hold more than 2147483648 elements"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        write_all(dir / c.name, c.file);
        CHECK_IDX_ERROR(latent::io::read_idx(dir / c.name), c.id, c.fragment);
        // The same through gzip, and from memory.
        const std::string gz_name = std::string(c.name) + ".gz";
        write_all(dir / gz_name, gzip_member(c.file));
        CHECK_IDX_ERROR(latent::io::read_idx(dir / gz_name), c.id, gz_name + ": ");
        CHECK_IDX_ERROR(latent::io::parse_idx(c.file, c.name), c.id, c.fragment);
    }
    // Exactly 2^31 u8 elements are allowed by the element cap, but not by a smaller byte cap.
    CHECK_IDX_ERROR(
        latent::io::parse_idx(bytes({0, 0, 8, 2, 0, 1, 0, 0, 0, 0, 0x80, 0}), "cap.idx", 1000), "latent.io.idx.dims",
        "cap.idx: dims (65536, 32768) of u8 need 2147483648 bytes of data, more than the limit of 1000 bytes");
    CHECK_IDX_ERROR(latent::io::parse_idx(bytes({0, 0, 0x0E, 1, 0, 0, 1, 0}), "f64.idx", 2047), "latent.io.idx.dims",
                    "need 2048 bytes of data, more than the limit of 2047");
}

TEST_CASE("idx: payload shorter or longer than the dims say is a length error with both counts") {
    const fs::path dir = fresh_dir("length");
    const auto raw = small_raw();  // (3, 2) u8: 6 bytes of data
    const std::vector<std::byte> truncated(raw.begin(), raw.end() - 1);
    const auto trailing = concat(raw, bytes({0, 0}));
    const std::vector<std::byte> header_only(raw.begin(), raw.begin() + 12);

    write_all(dir / "train-images-idx3-ubyte", truncated);
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "train-images-idx3-ubyte"), "latent.io.idx.length",
                    "train-images-idx3-ubyte: dims (3, 2) of u8 need 6 bytes of data, file has 5");
    write_all(dir / "trailing.idx", trailing);
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "trailing.idx"), "latent.io.idx.length",
                    "trailing.idx: dims (3, 2) of u8 need 6 bytes of data, file has 8");
    write_all(dir / "header-only.idx", header_only);
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "header-only.idx"), "latent.io.idx.length", "file has 0");

    write_all(dir / "truncated.gz", gzip_member(truncated));
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "truncated.gz"), "latent.io.idx.length",
                    "truncated.gz: dims (3, 2) of u8 need 6 bytes of data, file (decompressed) has 5");
    write_all(dir / "trailing.gz", gzip_member(trailing));
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "trailing.gz"), "latent.io.idx.length",
                    "trailing.gz: dims (3, 2) of u8 need 6 bytes of data, file (decompressed) has 8");
    // A second complete member after a complete array is trailing data too.
    CHECK_IDX_ERROR(latent::io::parse_idx(concat(gzip_member(raw), gzip_member(raw)), "twice.gz"),
                    "latent.io.idx.length",
                    "twice.gz: dims (3, 2) of u8 need 6 bytes of data, file (decompressed) has 24");

    // The same checks from memory.
    CHECK_IDX_ERROR(latent::io::parse_idx(truncated, "mem"), "latent.io.idx.length",
                    "mem: dims (3, 2) of u8 need 6 bytes of data, file has 5");
    CHECK_IDX_ERROR(latent::io::parse_idx(trailing, "mem"), "latent.io.idx.length", "file has 8");

    // A large claim with little data fails without allocating the claim.
    auto big = bytes({0, 0, 0x0E, 2, 0, 0, 0x80, 0, 0, 0, 0x80, 0});  // (32768, 32768) f64: 8 GiB
    CHECK_IDX_ERROR(latent::io::parse_idx(big, "big.idx", std::uint64_t{1} << 34), "latent.io.idx.length",
                    "need 8589934592 bytes of data, file has 0");
    CHECK_IDX_ERROR(latent::io::parse_idx(gzip_member(concat(big, bytes({1, 2, 3}))), "big.gz", std::uint64_t{1} << 34),
                    "latent.io.idx.length", "need 8589934592 bytes of data, file (decompressed) has 3");
}

TEST_CASE("idx: truncated, corrupt and padded gzip streams are gzip errors") {
    const fs::path dir = fresh_dir("gzip");
    std::vector<std::uint8_t> values(4096);
    latent::Generator gen(3);
    for (auto& v : values) v = static_cast<std::uint8_t>(gen.below(7));
    const auto good = latent::io::encode_idx(IdxType::u8, {64, 64}, std::as_bytes(std::span(values)), true);
    REQUIRE(latent::io::parse_idx(good).bytes.size() == 4096);

    // Cut anywhere after the magic: always a gzip error (the payload may be complete, the CRC not).
    for (const std::size_t keep :
         {std::size_t{2}, std::size_t{10}, good.size() / 2, good.size() - 8, good.size() - 1}) {
        CAPTURE(keep);
        write_all(dir / "cut.gz",
                  std::vector<std::byte>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep)));
        CHECK_IDX_ERROR(latent::io::read_idx(dir / "cut.gz"), "latent.io.idx.gzip",
                        "cut.gz: the compressed data ends before the gzip stream does (the file is truncated");
    }

    // A flipped bit in the trailer's CRC.
    auto bad_crc = good;
    bad_crc[bad_crc.size() - 6] ^= std::byte{0x01};
    write_all(dir / "crc.gz", bad_crc);
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "crc.gz"), "latent.io.idx.gzip",
                    "crc.gz: corrupt gzip data (zlib: incorrect data check)");

    // A bad compression method in the gzip header.
    auto bad_method = good;
    bad_method[2] = std::byte{7};
    write_all(dir / "method.gz", bad_method);
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "method.gz"), "latent.io.idx.gzip", "method.gz: corrupt gzip data");

    // Garbage in the deflate body: some error, never a crash, and never a silent success.
    int gzip_errors = 0;
    for (std::size_t i = 10; i + 8 < good.size(); i += 7) {
        auto corrupt = good;
        corrupt[i] ^= std::byte{0x5A};
        const std::string m = message_of<latent::io_error>([&] { (void)latent::io::parse_idx(corrupt, "corrupt.gz"); });
        CHECK_MESSAGE(starts_with(m, "[latent.io.idx."), m);
        gzip_errors += starts_with(m, "[latent.io.idx.gzip] corrupt.gz: ");
    }
    CHECK(gzip_errors > 0);

    // Bytes after the gzip stream that are not another member.
    write_all(dir / "padded.gz", concat(good, bytes({0, 0, 0, 0})));
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "padded.gz"), "latent.io.idx.gzip",
                    "padded.gz: the gzip stream ends, but 4 more bytes follow it that are not another gzip member");
    write_all(dir / "junk-member.gz", concat(good, bytes({0x1f, 0x8b, 0xFF, 0xFF})));
    CHECK_IDX_ERROR(latent::io::read_idx(dir / "junk-member.gz"), "latent.io.idx.gzip", "junk-member.gz: ");
}

TEST_CASE("idx: encode_idx rejects what IDX cannot hold") {
    const std::uint8_t six[6] = {};
    const auto payload = std::as_bytes(std::span(six));
    CHECK_THROWS_WITH_AS(latent::io::encode_idx(IdxType::u8, {}, payload),
                         "[latent.io.idx.dims] an IDX file holds 1 to 255 dimensions, got 0", latent::value_error);
    CHECK_THROWS_WITH_AS(latent::io::encode_idx(IdxType::u8, std::vector<std::size_t>(256, 1), payload),
                         "[latent.io.idx.dims] an IDX file holds 1 to 255 dimensions, got 256", latent::value_error);
    CHECK_THROWS_AS(latent::io::encode_idx(IdxType::u8, {6, 0}, payload), latent::value_error);
    CHECK_THROWS_AS(latent::io::encode_idx(IdxType::u8, {std::size_t{1} << 33}, payload), latent::value_error);
    CHECK_THROWS_WITH_AS(latent::io::encode_idx(IdxType::i16, {6}, payload),
                         "[latent.io.idx.length] dims (6,) of i16 need 12 bytes of data, the payload has 6",
                         latent::shape_error);
    CHECK_THROWS_AS(latent::io::encode_idx(static_cast<IdxType>(1), {6}, payload), latent::value_error);
    CHECK(latent::io::encode_idx(IdxType::u8, {6}, payload).size() == 4 + 4 + 6);
    CHECK(latent::io::encode_idx(IdxType::u8, {1, 2, 3}, payload, true).size() > 18);
}

TEST_CASE("idx: random mutations of valid files only ever throw io_error") {
    // A small deterministic fuzz pass; the real fuzzer runs longer under sanitizers.
    std::vector<std::uint8_t> values(300);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint8_t>(i * 7);
    const std::vector<std::vector<std::byte>> seeds = {
        latent::io::encode_idx(IdxType::u8, {3, 10, 10}, std::as_bytes(std::span(values))),
        latent::io::encode_idx(IdxType::u8, {3, 10, 10}, std::as_bytes(std::span(values)), true),
        latent::io::encode_idx(IdxType::i16, {150}, std::as_bytes(std::span(values))),
        latent::io::encode_idx(IdxType::f64, {5, 5}, std::as_bytes(std::span(values).first(200)), true),
    };
    latent::Generator gen(11);
    int accepted = 0, rejected = 0, other = 0;
    for (int round = 0; round < 4000; ++round) {
        auto file = seeds[gen.below(seeds.size())];
        const auto edits = 1 + gen.below(4);
        for (std::uint64_t e = 0; e < edits; ++e) {
            const auto kind = gen.below(4);
            if (file.empty()) break;
            const auto at = static_cast<std::ptrdiff_t>(gen.below(file.size()));
            if (kind == 0) file[static_cast<std::size_t>(at)] = static_cast<std::byte>(gen.below(256));
            if (kind == 1) file.erase(file.begin() + at, file.end());
            if (kind == 2) file.insert(file.begin() + at, static_cast<std::byte>(gen.below(256)));
            if (kind == 3) file[static_cast<std::size_t>(at) / 4] ^= static_cast<std::byte>(1u << gen.below(8));
        }
        try {
            const IdxArray a = latent::io::parse_idx(file, "fuzz", 1 << 20);
            CHECK(a.bytes.size() == a.element_count() * a.element_size());
            (void)a.to_floats(0.5);
            ++accepted;
        } catch (const latent::io_error& e) {
            ++rejected;
            if (!starts_with(e.what(), "[latent.io.idx.")) ++other;
        } catch (...) {
            ++other;
        }
    }
    CHECK(other == 0);
    CHECK(rejected > 1000);
    CHECK(accepted > 0);
}
