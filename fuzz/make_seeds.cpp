// Writes the seed corpus of the fuzz targets with latent's own writers: small valid
// safetensors files (several dtypes, a scalar, an empty tensor, metadata, odd names), JSON
// documents (those files' headers and a few that use every feature of the grammar), IDX
// files of every element type, raw and gzip, and .npy files and .npz archives (every dtype,
// a scalar, an empty array, hand-written 2.0/3.0 headers; stored, deflated and zip64
// archives). The output is deterministic.
//
//   make_seeds OUT_DIR [safetensors|json|idx|npy ...]   (all four when none is named)
#include <latent/io/idx.hpp>
#include <latent/io/npy.hpp>
#include <latent/io/safetensors.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using latent::io::IdxType;
using latent::io::SafetensorsFile;
using latent::io::SafetensorsTensor;

namespace {

void write_file(const fs::path& path, std::span<const std::byte> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_text(const fs::path& path, const std::string& text) { write_file(path, std::as_bytes(std::span(text))); }

std::vector<std::byte> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

// `n` bytes of a fixed pattern (values that are not all alike, so every dtype sees variety).
std::vector<std::byte> pattern(std::size_t n, unsigned salt = 0) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 37 + salt * 11 + 5) & 0xFF);
    return out;
}

SafetensorsTensor tensor(std::string dtype, std::vector<std::size_t> dims, unsigned salt = 0) {
    std::size_t count = 1;
    for (const auto d : dims) count *= d;
    const std::size_t bytes = count * latent::io::detail::safetensors_dtype_size(dtype);
    return {std::move(dtype), std::move(dims), pattern(bytes, salt)};
}

// The safetensors seeds; returns their headers, which are the JSON target's best seeds.
std::vector<std::pair<std::string, std::string>> safetensors_seeds(const fs::path& dir, bool keep) {
    std::vector<std::pair<std::string, SafetensorsFile>> files;

    SafetensorsFile f32;
    f32.tensors["dense/kernel"] = tensor("F32", {3, 2});
    f32.tensors["dense/bias"] = tensor("F32", {2}, 1);
    f32.metadata["format"] = "pt";
    files.emplace_back("f32_dense", std::move(f32));

    SafetensorsFile mixed;
    mixed.tensors["f64"] = tensor("F64", {2});
    mixed.tensors["i64_scalar"] = tensor("I64", {});
    mixed.tensors["bf16"] = tensor("BF16", {2, 2});
    mixed.tensors["f16"] = tensor("F16", {3});
    mixed.tensors["u8"] = tensor("U8", {5});
    mixed.tensors["bool"] = tensor("BOOL", {2});
    mixed.tensors["i32"] = tensor("I32", {1, 1, 2});
    mixed.tensors["empty"] = tensor("F32", {0, 4});
    mixed.metadata["format"] = "latent";
    mixed.metadata["note"] = "mixed dtypes";
    files.emplace_back("mixed_dtypes", std::move(mixed));

    SafetensorsFile small_ints;
    small_ints.tensors["i8"] = tensor("I8", {4});
    small_ints.tensors["i16"] = tensor("I16", {2});
    small_ints.tensors["u16"] = tensor("U16", {2});
    small_ints.tensors["u32"] = tensor("U32", {1});
    small_ints.tensors["u64"] = tensor("U64", {1});
    small_ints.tensors["f8"] = tensor("F8_E4M3", {3});
    small_ints.tensors["f8b"] = tensor("F8_E5M2", {1});
    small_ints.tensors["f8c"] = tensor("F8_E8M0", {1});
    files.emplace_back("small_dtypes", std::move(small_ints));

    SafetensorsFile only_empty;
    only_empty.tensors["nothing"] = tensor("F32", {0});
    files.emplace_back("empty_tensor", std::move(only_empty));

    SafetensorsFile none;
    files.emplace_back("no_tensors", std::move(none));

    SafetensorsFile names;
    names.tensors["quote\"back\\slash"] = tensor("U8", {1});
    names.tensors["tab\tnewline\n\x01"] = tensor("U8", {1}, 2);
    names.tensors["\xc3\xa9t\xc3\xa9/\xf0\x9f\x98\x80"] = tensor("U8", {1}, 3);
    names.metadata["\xe2\x82\xac"] = "unicode \xe2\x82\xac key";
    files.emplace_back("odd_names", std::move(names));

    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, file] : files) {
        const fs::path path = dir / name;
        latent::io::write_safetensors(path, file);
        const std::vector<std::byte> bytes = read_file(path);
        const std::uint64_t n = latent::io::detail::load_u64_le(bytes.data());
        headers.emplace_back("header_" + name,
                             std::string(reinterpret_cast<const char*>(bytes.data()) + 8, static_cast<std::size_t>(n)));
        if (!keep) fs::remove(path);
    }
    return headers;
}

void json_seeds(const fs::path& dir, const std::vector<std::pair<std::string, std::string>>& headers) {
    for (const auto& [name, header] : headers) write_text(dir / name, header);
    write_text(dir / "grammar",
               " {\"a\": [1, -2, 0, -0, 3.5e-7, 1E+2, 0.25, true, false, null],\n\t\"s\": "
               "\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\\u0001\",\r\n \"n\": {\"m\": {}, \"e\": []}} ");
    write_text(dir / "integers", "[18446744073709551615,18446744073709551616,-18446744073709551615,123456789]");
    write_text(dir / "mixed_array", "[{\"a\":1,\"b\":[2]},[],\"s\",-1.5e3,true,null,{}]");
    write_text(dir / "nested", "[[[[[[[[{\"k\":[[[\"v\"]]]}]]]]]]]]");
    write_text(dir / "string", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

// One gzip member holding `data`.
std::vector<std::byte> gzip_member(std::span<const std::byte> data) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib cannot start compressing");
    std::vector<std::byte> out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int r = deflate(&zs, Z_FINISH);
    out.resize(out.size() - zs.avail_out);
    deflateEnd(&zs);
    if (r != Z_STREAM_END) throw std::runtime_error("zlib failed while compressing");
    return out;
}

void idx_seeds(const fs::path& dir) {
    struct Seed {
        const char* name;
        IdxType type;
        std::vector<std::size_t> dims;
    };
    const Seed seeds[] = {
        {"u8_images", IdxType::u8, {2, 4, 4}}, {"u8_labels", IdxType::u8, {10}}, {"i8", IdxType::i8, {3, 2}},
        {"i16", IdxType::i16, {4}},            {"i32", IdxType::i32, {2, 3}},    {"f32", IdxType::f32, {3, 2}},
        {"f64", IdxType::f64, {2, 2}},
    };
    for (const auto& s : seeds) {
        const std::vector<std::byte> payload = pattern(latent::io::idx_element_size(s.type) * [&] {
            std::size_t n = 1;
            for (const auto d : s.dims) n *= d;
            return n;
        }());
        for (const bool gzip : {false, true})
            write_file(dir / (std::string(s.name) + (gzip ? ".gz" : "")),
                       latent::io::encode_idx(s.type, s.dims, payload, gzip));
    }
    // Two gzip members (as `cat a.gz b.gz` makes): the header and half the data, then the rest.
    const std::vector<std::byte> raw = latent::io::encode_idx(IdxType::u8, {4, 6}, pattern(24, 3));
    const std::size_t half = raw.size() / 2;
    std::vector<std::byte> two = gzip_member(std::span(raw).first(half));
    const std::vector<std::byte> second = gzip_member(std::span(raw).subspan(half));
    two.insert(two.end(), second.begin(), second.end());
    write_file(dir / "u8_two_members.gz", two);
}

latent::io::NpyArray npy(latent::io::NpyType type, std::vector<std::size_t> shape, unsigned salt) {
    latent::io::NpyArray a;
    a.type = type;
    a.shape = std::move(shape);
    a.bytes = pattern(a.size() * latent::io::npy_element_size(type), salt);
    return a;
}

void npy_seeds(const fs::path& dir) {
    using latent::io::NpyType;
    std::map<std::string, latent::io::NpyArray> arrays;
    arrays["f32"] = npy(NpyType::f32, {2, 3}, 0);
    arrays["f64"] = npy(NpyType::f64, {3}, 1);
    arrays["u8"] = npy(NpyType::u8, {2, 2, 2}, 2);
    arrays["i64_scalar"] = npy(NpyType::i64, {}, 3);
    arrays["empty"] = npy(NpyType::f32, {0, 4}, 4);
    for (const auto& [name, a] : arrays) write_file(dir / (name + ".npy"), latent::io::encode_npy(a));

    // Headers as other writers spell them: version 2.0 and 3.0 lengths, double quotes, keys in
    // another order, no padding, a Python 2 long.
    const auto hand = [&](const char* name, int major, std::string_view dict, std::size_t data_bytes) {
        std::vector<std::byte> out(8);
        std::memcpy(out.data(), "\x93NUMPY", 6);
        out[6] = static_cast<std::byte>(major);
        for (int i = 0; i < (major == 1 ? 2 : 4); ++i)
            out.push_back(static_cast<std::byte>((dict.size() >> (8 * i)) & 0xFF));
        const auto text = std::as_bytes(std::span(dict));
        out.insert(out.end(), text.begin(), text.end());
        const auto data = pattern(data_bytes, 5);
        out.insert(out.end(), data.begin(), data.end());
        write_file(dir / name, out);
    };
    hand("v2_header.npy", 2, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }   \n", 16);
    hand("v3_header.npy", 3, "{\"shape\": (1, 2,), \"descr\": \"|u1\", \"fortran_order\": False}\n", 2);
    hand("python2_long.npy", 1, "{'descr':'<f8','fortran_order':False,'shape':(1L,)}", 8);

    arrays.erase("f64");
    write_file(dir / "stored.npz", latent::io::encode_npz(arrays, false));
    write_file(dir / "deflated.npz", latent::io::encode_npz(arrays, true));
    std::vector<std::byte> zip64;
    latent::io::detail::npy::VectorSink sink{zip64};
    latent::io::detail::npy::write_npz(sink, {{"x", npy(NpyType::f32, {2}, 6)}}, true, "seed", true);
    write_file(dir / "zip64.npz", zip64);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: make_seeds OUT_DIR [safetensors|json|idx|npy ...]\n");
        return 2;
    }
    const fs::path out = argv[1];
    std::vector<std::string> wanted(argv + 2, argv + argc);
    if (wanted.empty()) wanted = {"safetensors", "json", "idx", "npy"};
    const auto want = [&](const char* t) { return std::find(wanted.begin(), wanted.end(), t) != wanted.end(); };
    try {
        for (const auto& t : wanted) {
            if (t != "safetensors" && t != "json" && t != "idx" && t != "npy") {
                std::fprintf(stderr, "make_seeds: unknown target \"%s\"\n", t.c_str());
                return 2;
            }
            fs::create_directories(out / t);
        }
        if (want("safetensors") || want("json")) {
            // The JSON seeds are the safetensors seeds' headers, so those files are written either
            // way (into the safetensors folder, removed again when it was not asked for).
            const fs::path dir = out / "safetensors";
            fs::create_directories(dir);
            const auto headers = safetensors_seeds(dir, want("safetensors"));
            if (!want("safetensors") && fs::is_empty(dir)) fs::remove(dir);
            if (want("json")) json_seeds(out / "json", headers);
        }
        if (want("idx")) idx_seeds(out / "idx");
        if (want("npy")) npy_seeds(out / "npy");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_seeds: %s\n", e.what());
        return 1;
    }
    return 0;
}
