// The C++ half of tests/tools/npy_numpy_check.py: reads the .npy/.npz files NumPy wrote into
// IN_DIR, checks their values and that the bad ones are refused with the right error, then
// writes the same arrays with latent into OUT_DIR for NumPy to read back.
//
//   npy_roundtrip IN_DIR OUT_DIR   (exit 0 when every check passed)
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <latent/io/npy.hpp>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using latent::io::NpyArray;
using latent::io::NpyType;

namespace {

int failures = 0;

void fail(const std::string& what) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
}

// The arrays of npy_numpy_check.py, computed the same way.
std::map<std::string, NpyArray> expected() {
    std::vector<float> f32(24), v2(10);
    for (std::size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<float>(i) * 0.5f - 3.0f;
    for (std::size_t i = 0; i < v2.size(); ++i) v2[i] = static_cast<float>(i);
    std::vector<double> f64(6);
    for (std::size_t i = 0; i < f64.size(); ++i) f64[i] = static_cast<double>(i) / 8;
    std::vector<std::uint8_t> u8(256);
    for (std::size_t i = 0; i < u8.size(); ++i) u8[i] = static_cast<std::uint8_t>(i);
    const std::vector<std::int64_t> i64 = {-3, 0, std::int64_t{1} << 40, -(std::int64_t{1} << 62), INT64_MAX};
    using latent::io::make_npy;
    return {{"f32", make_npy<float>({2, 3, 4}, f32)},
            {"f64", make_npy<double>({3, 2}, f64)},
            {"u8", make_npy<std::uint8_t>({16, 16}, u8)},
            {"i64", make_npy<std::int64_t>({5}, i64)},
            {"v2", make_npy<float>({10}, v2)},
            {"scalar", make_npy<double>({}, std::vector<double>{2.5})},
            {"empty", make_npy<float>({0, 4}, std::vector<float>{})}};
}

void check(const std::string& what, const NpyArray& got, const NpyArray& want) {
    if (got.type != want.type || got.shape != want.shape || got.bytes != want.bytes)
        fail(what + ": read " + std::string(latent::io::npy_type_name(got.type)) + " " +
             latent::format_shape(got.shape) + ", expected " + std::string(latent::io::npy_type_name(want.type)) + " " +
             latent::format_shape(want.shape) + (got.bytes != want.bytes ? " (the values differ)" : ""));
    else
        std::printf("ok latent reads %s\n", what.c_str());
}

template <class F>
void check_refused(const std::string& what, const std::string& id, F load) {
    try {
        load();
        fail(what + ": loaded, expected " + id);
    } catch (const latent::error& e) {
        if (e.id() != id)
            fail(what + ": refused with " + e.what() + ", expected " + id);
        else
            std::printf("ok latent refuses %s: %s\n", what.c_str(), e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: npy_roundtrip IN_DIR OUT_DIR\n");
        return 2;
    }
    const fs::path in = argv[1], out = argv[2];
    try {
        const auto want = expected();
        for (const auto& [name, array] : want) check(name + ".npy", latent::io::load_npy(in / (name + ".npy")), array);
        check_refused("fortran.npy", "latent.io.npy.fortran", [&] { latent::io::load_npy(in / "fortran.npy"); });
        check_refused("bigendian.npy", "latent.io.npy.byteorder", [&] { latent::io::load_npy(in / "bigendian.npy"); });
        check_refused("object.npy", "latent.io.npy.dtype", [&] { latent::io::load_npy(in / "object.npy"); });

        std::map<std::string, NpyArray> archive;
        for (const char* name : {"f32", "u8", "i64", "scalar", "empty"}) archive[name] = want.at(name);
        for (const char* file : {"stored.npz", "compressed.npz", "stream.npz"}) {
            const auto arrays = latent::io::load_npz(in / file);
            if (arrays.size() != archive.size()) fail(std::string(file) + ": wrong number of arrays");
            for (const auto& [name, array] : archive)
                if (arrays.count(name))
                    check(std::string(file) + "[" + name + "]", arrays.at(name), array);
                else
                    fail(std::string(file) + ": no array " + name);
        }
        const auto positional = latent::io::load_npz(in / "positional.npz");
        if (positional.count("arr_0") && positional.count("arr_1")) {
            check("positional.npz[arr_0]", positional.at("arr_0"), want.at("f64"));
            check("positional.npz[arr_1]", positional.at("arr_1"), want.at("v2"));
        } else {
            fail("positional.npz: no arr_0 and arr_1");
        }

        for (const auto& [name, array] : want) latent::io::save_npy(out / ("out_" + name + ".npy"), array);
        latent::Tensor<latent::Shape<2, 2>> x(3);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 5.5f;
        latent::io::save_npy(out / "out_tensor.npy", latent::io::tensor_to_npy(x));
        latent::io::save_npz(out / "out_stored.npz", archive, false);
        latent::io::save_npz(out / "out_compressed.npz", archive, true);
        // zip64 records on every member, which latent only writes by itself past 4 GiB.
        std::vector<std::byte> zip64;
        latent::io::detail::npy::VectorSink sink{zip64};
        latent::io::detail::npy::write_npz(sink, archive, true, "out_zip64.npz", true);
        check("out_zip64.npz[f32]", latent::io::parse_npz(zip64, "out_zip64.npz").at("f32"), want.at("f32"));
        std::ofstream file(out / "out_zip64.npz", std::ios::binary);
        file.write(reinterpret_cast<const char*>(zip64.data()), static_cast<std::streamsize>(zip64.size()));
        if (!file.flush()) fail("cannot write out_zip64.npz");
    } catch (const std::exception& e) {
        fail(std::string("unexpected exception: ") + e.what());
    }
    return failures ? 1 : 0;
}
