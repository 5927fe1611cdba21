// libFuzzer target for latent::io::detail::parse_safetensors_bytes, the validation that
// read_safetensors applies to a whole file. Any input must either load or throw a
// latent::error that names the file; a file that loads must hold tensors whose sizes agree
// with their dtype and shape, and must write back (latent's own header writer) and read
// again to the same tensors and metadata.
#include <latent/io/safetensors.hpp>

#include "check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace {

using latent::io::SafetensorsFile;
namespace detail = latent::io::detail;

const std::string label = "fuzz.safetensors";

// The file write_safetensors would write for `file`, assembled in memory.
std::vector<std::byte> encode(const SafetensorsFile& file) {
    std::vector<detail::SafetensorsRecord> records;
    for (const auto& [name, t] : file.tensors)
        records.push_back({&name, t.dtype, &t.dims, t.bytes.data(), t.bytes.size()});
    const std::string header = detail::build_safetensors_header(label, label, records, file.metadata);
    std::vector<std::byte> out(8 + header.size());
    detail::store_u64_le(out.data(), header.size());
    std::memcpy(out.data() + 8, header.data(), header.size());
    for (const auto& r : records) out.insert(out.end(), r.data, r.data + r.size);
    return out;
}

bool same(const SafetensorsFile& a, const SafetensorsFile& b) {
    if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
    for (auto i = a.tensors.begin(), j = b.tensors.begin(); i != a.tensors.end(); ++i, ++j)
        if (i->first != j->first || i->second.dtype != j->second.dtype || i->second.dims != j->second.dims ||
            i->second.bytes != j->second.bytes)
            return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    SafetensorsFile file;
    try {
        file = detail::parse_safetensors_bytes(bytes, label);
    } catch (const latent::error& e) {
        latent::fuzz::check_rejection(e, "latent.io.safetensors.", label);
        return 0;
    }

    // Accepted: the tensors tile the data after the header exactly.
    std::uint64_t total = 0;
    for (const auto& [name, t] : file.tensors) {
        FUZZ_CHECK(name != "__metadata__" && detail::is_valid_utf8(name));
        std::uint64_t count = 0;
        FUZZ_CHECK(detail::element_count(t.dims, count));
        FUZZ_CHECK(count * detail::safetensors_dtype_size(t.dtype) == t.bytes.size());
        total += t.bytes.size();
    }
    FUZZ_CHECK(total + 8 + detail::load_u64_le(bytes.data()) == size);

    // What we accept, we can write; what we write, we read back unchanged.
    std::vector<std::byte> again;
    SafetensorsFile reread;
    try {
        again = encode(file);
        reread = detail::parse_safetensors_bytes(again, label);
    } catch (const latent::error& e) {
        std::fprintf(stderr, "latent fuzz: an accepted file does not round-trip: %s\n", e.what());
        std::abort();
    }
    FUZZ_CHECK(same(file, reread));
    return 0;
}
