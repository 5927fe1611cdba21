// The small C-file plumbing the readers and writers in io/ share: an owning FILE handle,
// opening a std::filesystem::path on every platform, and errno as text for messages.
#pragma once

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace latent::io::detail {

inline std::string errno_text(int err) { return std::generic_category().message(err); }

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FileHandle = std::unique_ptr<std::FILE, FileCloser>;

// fopen with a path (wide on Windows); mode as for fopen ("rb", "wb", "wbx").
inline std::FILE* open_file(const std::filesystem::path& path, const char* mode) {
#if defined(_WIN32)
    const std::wstring wide_mode(mode, mode + std::strlen(mode));
    return _wfopen(path.c_str(), wide_mode.c_str());
#else
    return std::fopen(path.c_str(), mode);
#endif
}

}  // namespace latent::io::detail
