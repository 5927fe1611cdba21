// libFuzzer target for latent::io::parse_npy and parse_npz: every input goes to both. Any input
// must either load or throw a latent::error that names the file; an array that loads must be
// consistent, convert to every element type, and encode back to bytes that read back the same
// (an archive both stored and deflated).
#include <cstddef>
#include <cstdint>
#include <latent/io/npy.hpp>
#include <map>
#include <span>
#include <string>

#include "check.hpp"

namespace {

using latent::io::NpyArray;

bool same(const NpyArray& a, const NpyArray& b) { return a.type == b.type && a.shape == b.shape && a.bytes == b.bytes; }

void check_array(const NpyArray& a) {
    const std::size_t n = a.size();
    FUZZ_CHECK(a.bytes.size() == n * latent::io::npy_element_size(a.type));
    FUZZ_CHECK(a.values<float>().size() == n);
    FUZZ_CHECK(a.values<double>().size() == n);
    FUZZ_CHECK(a.values<std::uint8_t>().size() == n);
    FUZZ_CHECK(a.values<std::int64_t>().size() == n);
}

[[noreturn]] void no_round_trip(const latent::error& e) {
    std::fprintf(stderr, "latent fuzz: an accepted file does not round-trip: %s\n", e.what());
    std::abort();
}

void fuzz_npy(std::span<const std::byte> bytes) {
    const std::string label = "fuzz.npy";
    NpyArray a;
    try {
        a = latent::io::parse_npy(bytes, label);
    } catch (const latent::error& e) {
        latent::fuzz::check_rejection(e, "latent.io.npy.", label);
        return;
    }
    check_array(a);
    try {
        FUZZ_CHECK(same(latent::io::parse_npy(latent::io::encode_npy(a), label), a));
    } catch (const latent::error& e) {
        no_round_trip(e);
    }
}

void fuzz_npz(std::span<const std::byte> bytes) {
    const std::string label = "fuzz.npz";
    std::map<std::string, NpyArray> arrays;
    try {
        arrays = latent::io::parse_npz(bytes, label);
    } catch (const latent::error& e) {
        latent::fuzz::check_rejection(e, "latent.io.np", label);
        return;
    }
    for (const auto& [name, a] : arrays) check_array(a);
    try {
        for (const bool compress : {false, true}) {
            const auto back = latent::io::parse_npz(latent::io::encode_npz(arrays, compress), label);
            FUZZ_CHECK(back.size() == arrays.size());
            for (const auto& [name, a] : arrays) FUZZ_CHECK(back.count(name) && same(back.at(name), a));
        }
    } catch (const latent::error& e) {
        no_round_trip(e);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    fuzz_npy(bytes);
    fuzz_npz(bytes);
    return 0;
}
