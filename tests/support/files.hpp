// Whole-file byte reads and writes for tests that build or damage files on purpose.
#pragma once

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace latent::testing {

// An empty directory LATENT_TEST_TMP_DIR/<part>/<name> for one test (removed first if it exists).
inline std::filesystem::path fresh_dir(const std::string& part, const std::string& name) {
    const std::filesystem::path dir = std::filesystem::path(LATENT_TEST_TMP_DIR) / part / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

inline std::vector<std::byte> read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

inline void write_all(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace latent::testing
