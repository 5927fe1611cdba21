// Regressions from fuzzing the file readers (fuzz/, scripts/fuzz): every committed corpus
// file, seeds and saved findings alike, must load or be refused with a latent::error, and
// each finding has a test of its own here.
#include <doctest/doctest.h>

#include "support/files.hpp"
#include "support/messages.hpp"

#include <latent/io/idx.hpp>
#include <latent/io/json.hpp>
#include <latent/io/npy.hpp>
#include <latent/io/safetensors.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using latent::io::detail::parse_json;

namespace {

using latent::testing::contains;
using latent::testing::message_of;
using latent::testing::starts_with;

using latent::testing::read_all;

// The committed corpus of one fuzz target, in a stable order.
std::vector<fs::path> corpus(const std::string& target) {
    const fs::path dir = fs::path(LATENT_SOURCE_DIR) / "fuzz" / "corpus" / target;
    std::vector<fs::path> files;
    if (fs::is_directory(dir))
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

// Runs `load` on every corpus file of `target`: it must return or throw a latent::error
// whose id starts with `id_prefix`. Returns how many files loaded.
template <class Load>
std::size_t replay(const std::string& target, std::string_view id_prefix, Load load) {
    const auto files = corpus(target);
    CHECK_MESSAGE(!files.empty(), "no corpus in fuzz/corpus/", target);
    std::size_t loaded = 0;
    for (const auto& path : files) {
        const std::vector<std::byte> bytes = read_all(path);
        try {
            load(bytes);
            ++loaded;
        } catch (const latent::error& e) {
            CHECK_MESSAGE(starts_with(e.id(), std::string(id_prefix)), path.filename().string(), ": ", e.what());
        } catch (const std::exception& e) {
            FAIL_CHECK(path.filename().string(), ": unexpected exception: ", e.what());
        }
    }
    return loaded;
}

}  // namespace

TEST_CASE("fuzz corpus: every safetensors file loads or is refused with a safetensors error") {
    const auto loaded = replay("safetensors", "latent.io.safetensors.", [](const std::vector<std::byte>& bytes) {
        (void)latent::io::detail::parse_safetensors_bytes(bytes, "corpus.safetensors");
    });
    CHECK(loaded >= 6);  // the seeds are valid files
}

TEST_CASE("fuzz corpus: every JSON document parses or is refused with a JSON error") {
    const auto loaded = replay("json", "latent.io.json", [](const std::vector<std::byte>& bytes) {
        (void)parse_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    });
    CHECK(loaded >= 10);
}

TEST_CASE("fuzz corpus: every IDX file loads or is refused with an IDX error") {
    const auto loaded = replay("idx", "latent.io.idx.", [](const std::vector<std::byte>& bytes) {
        const latent::io::IdxArray a = latent::io::parse_idx(bytes, "corpus.idx");
        CHECK(a.to_floats().size() == a.element_count());
    });
    CHECK(loaded >= 15);
}

TEST_CASE("fuzz corpus: every .npy/.npz file loads or is refused with an npy or npz error") {
    std::size_t archives = 0;
    const auto loaded = replay("npy", "latent.io.np", [&](const std::vector<std::byte>& bytes) {
        const bool zip = bytes.size() >= 2 && bytes[0] == std::byte{'P'} && bytes[1] == std::byte{'K'};
        if (zip) {
            for (const auto& [name, a] : latent::io::parse_npz(bytes, "corpus.npz"))
                CHECK(a.values<float>().size() == a.size());
            ++archives;
        } else {
            const latent::io::NpyArray a = latent::io::parse_npy(bytes, "corpus.npy");
            CHECK(a.values<double>().size() == a.size());
        }
    });
    CHECK(loaded >= 11);
    CHECK(archives >= 3);
}

// Finding: a JSON array of one-digit numbers takes 2 bytes of text per value but ~112 bytes
// of tree, so an 80 MB safetensors header (the format allows 100 MB) of one tensor with a
// 40-million-entry shape of ones made the reader allocate 7.4 GB (and accept the file).
// The parser now refuses documents with more than json_default_max_values values.
TEST_CASE("fuzz regression: JSON value budget bounds the memory of a hostile header") {
    using latent::io::detail::json_default_max_values;
    CHECK_NOTHROW(parse_json("[1,2,3]", 64, 4));
    const std::string message = message_of<latent::io_error>([] { parse_json("[1,2,[3]]", 64, 4); });
    CHECK_MESSAGE(starts_with(message, "[latent.io.json] invalid JSON at byte 6: the document has more than 4 values"),
                  message);
    CHECK_NOTHROW(parse_json("{\"a\":[1,2],\"b\":\"c\"}", 64, 5));
    CHECK_THROWS_AS(parse_json("{\"a\":[1,2],\"b\":\"c\"}", 64, 4), latent::io_error);

    // The whole file: one U8 tensor of one element whose shape has one entry too many ones.
    std::string header = "{\"t\":{\"dtype\":\"U8\",\"shape\":[";
    for (std::size_t i = 0; i < json_default_max_values; ++i) header += "1,";
    header += "1],\"data_offsets\":[0,1]}}";
    std::vector<std::byte> file(8 + header.size() + 1, std::byte{7});
    latent::io::detail::store_u64_le(file.data(), header.size());
    std::memcpy(file.data() + 8, header.data(), header.size());
    const std::string refused = message_of<latent::io_error>(
        [&] { (void)latent::io::detail::parse_safetensors_bytes(file, "hostile.safetensors"); });
    CHECK_MESSAGE(starts_with(refused, "[latent.io.safetensors.header] hostile.safetensors: header is not valid JSON"),
                  refused);
    CHECK_MESSAGE(contains(refused, "more than " + std::to_string(json_default_max_values) + " values"), refused);

    // A shape of a sane rank in the same kind of file still loads.
    header = "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}";
    file.assign(8 + header.size() + 1, std::byte{7});
    latent::io::detail::store_u64_le(file.data(), header.size());
    std::memcpy(file.data() + 8, header.data(), header.size());
    const auto loaded = latent::io::detail::parse_safetensors_bytes(file, "sane.safetensors");
    CHECK(loaded.tensors.at("t").dims.size() == 8);
}
