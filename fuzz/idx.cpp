// libFuzzer target for latent::io::parse_idx on raw and gzip-compressed IDX files (it
// detects gzip by the magic bytes). Any input must either load or throw a latent::error
// that names the file; an array that loads must be consistent, convert to floats, and
// encode back (raw: to exactly the input bytes; gzip: to a file that reads back the same).
#include <latent/io/idx.hpp>

#include "check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

using latent::io::IdxArray;

const std::string label = "fuzz.idx";

bool same(const IdxArray& a, const IdxArray& b) { return a.type == b.type && a.dims == b.dims && a.bytes == b.bytes; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    IdxArray a;
    try {
        a = latent::io::parse_idx(bytes, label);
    } catch (const latent::error& e) {
        latent::fuzz::check_rejection(e, "latent.io.idx.", label);
        return 0;
    }

    FUZZ_CHECK(!a.dims.empty() && a.dims.size() <= 255);
    for (const std::size_t d : a.dims) FUZZ_CHECK(d >= 1 && d <= 0xFFFFFFFFu);
    FUZZ_CHECK(a.element_size() != 0);
    FUZZ_CHECK(a.bytes.size() == a.element_count() * a.element_size());
    FUZZ_CHECK(a.to_floats().size() == a.element_count());
    FUZZ_CHECK(a.to_floats(1.0 / 255).size() == a.element_count());

    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    try {
        const std::vector<std::byte> raw = latent::io::encode_idx(a.type, a.dims, a.bytes);
        if (!gzip) FUZZ_CHECK(raw.size() == size && std::equal(raw.begin(), raw.end(), bytes.begin()));
        FUZZ_CHECK(same(latent::io::parse_idx(raw, label), a));
        if (gzip) {
            const std::vector<std::byte> packed = latent::io::encode_idx(a.type, a.dims, a.bytes, true);
            FUZZ_CHECK(same(latent::io::parse_idx(packed, label), a));
        }
    } catch (const latent::error& e) {
        std::fprintf(stderr, "latent fuzz: an accepted file does not round-trip: %s\n", e.what());
        std::abort();
    }
    return 0;
}
