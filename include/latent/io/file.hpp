// The small C-file plumbing the readers and writers in io/ share: an owning FILE handle,
// opening a std::filesystem::path on every platform, errno as text for messages, and a
// crash-safe writer (temporary file, fsync, rename).
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#if defined(_WIN32)
#include <io.h>
#include <process.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "../core/errors.hpp"

namespace latent::io::detail {

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.
template <class = void>
std::string errno_text(int err) { return std::generic_category().message(err); }

// What messages call a file: its name, which is what the user recognises (the whole path when
// it has no name part).
template <class = void>
std::string file_label(const std::filesystem::path& path) {
    const std::string name = path.filename().string();
    return name.empty() ? path.string() : name;
}

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FileHandle = std::unique_ptr<std::FILE, FileCloser>;

// fopen with a path (wide on Windows); mode as for fopen ("rb", "wb", "wbx").
template <class = void>
std::FILE* open_file(const std::filesystem::path& path, const char* mode) {
#if defined(_WIN32)
    const std::wstring wide_mode(mode, mode + std::strlen(mode));
    return _wfopen(path.c_str(), wide_mode.c_str());
#else
    return std::fopen(path.c_str(), mode);
#endif
}

// Unique within the process (counter) and across processes (pid), so two writers of the same
// file never share a temporary.
template <class = void>
std::string temp_suffix() {
    static std::atomic<unsigned long long> counter{0};
#if defined(_WIN32)
    const long long pid = _getpid();
#else
    const long long pid = static_cast<long long>(::getpid());
#endif
    return ".tmp-" + std::to_string(pid) + "-" + std::to_string(counter.fetch_add(1));
}

// Writes a file through a temporary in the same directory that replaces the target only in
// commit(), once everything is on disk: a crash or an error at any point leaves either the
// old file or the new one, never a torn mix. Destroying it uncommitted removes the temporary.
// Failures throw io_error `error_id` with a message that starts with `label` (the file's name).
class AtomicFile {
public:
    AtomicFile(std::filesystem::path target, std::string error_id, std::string label)
        : target_(std::move(target)), temp_(target_), error_id_(std::move(error_id)), label_(std::move(label)) {
        temp_ += temp_suffix();
        errno = 0;
        file_.reset(open_file(temp_, "wbx"));
        if (!file_) report("cannot create temporary file \"" + temp_.string() + "\" (" + errno_text(errno) + ")");
    }
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile() {
        if (committed_) return;
        file_.reset();
        std::error_code ignored;
        std::filesystem::remove(temp_, ignored);
    }

    void write(const void* data, std::size_t n) {
        if (n != 0 && std::fwrite(data, 1, n, file_.get()) != n)
            report("writing \"" + temp_.string() + "\" failed (" + errno_text(errno) + ")");
    }

    void commit() {
        if (std::fflush(file_.get()) != 0)
            report("flushing \"" + temp_.string() + "\" failed (" + errno_text(errno) + ")");
#if defined(_WIN32)
        const int synced = _commit(_fileno(file_.get()));
#else
        const int synced = ::fsync(::fileno(file_.get()));
#endif
        if (synced != 0) report("syncing \"" + temp_.string() + "\" to disk failed (" + errno_text(errno) + ")");
        if (std::fclose(file_.release()) != 0)
            report("closing \"" + temp_.string() + "\" failed (" + errno_text(errno) + ")");
        std::error_code ec;
        std::filesystem::rename(temp_, target_, ec);
        if (ec) report("renaming \"" + temp_.string() + "\" over it failed (" + ec.message() + ")");
        committed_ = true;
#if !defined(_WIN32)
        // Makes the rename itself durable; some filesystems refuse to sync directories and
        // nothing written is lost without it, so it is best effort.
        std::filesystem::path dir = target_.parent_path();
        if (dir.empty()) dir = ".";
        const int fd = ::open(dir.c_str(), O_RDONLY);
        if (fd >= 0) {
            (void)::fsync(fd);
            ::close(fd);
        }
#endif
    }

private:
    [[noreturn]] void report(const std::string& why) const {
        throw io_error(error_id_, label_ + ": cannot write \"" + target_.string() + "\": " + why);
    }

    std::filesystem::path target_, temp_;
    std::string error_id_, label_;
    FileHandle file_;
    bool committed_ = false;
};

}  // namespace latent::io::detail
