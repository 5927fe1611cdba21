// A device backend emulated on the host, with device memory out of the host's reach: its
// buffers are pages kept inaccessible (PROT_NONE) except while one of its kernels, or one of its
// copies, runs. A model that touched its device arrays from host code crashes the test instead
// of passing unnoticed, as it would crash on a GPU. The kernels are the CUDA backend's.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "per_index_emulation.hpp"

namespace latent::testing {

// Every live guarded region, and how many scopes have opened them.
class guarded_regions {
public:
    static guarded_regions& get() {
        static guarded_regions regions;
        return regions;
    }
    void add(void* p, std::size_t bytes) {
        regions_.emplace_back(p, bytes);
        if (open_ == 0) protect(p, bytes, PROT_NONE);
    }
    void remove(void* p) {
        std::erase_if(regions_, [p](const auto& r) { return r.first == p; });
    }
    bool contains(const void* p) const {
        const auto* byte = static_cast<const unsigned char*>(p);
        for (const auto& [start, bytes] : regions_)
            if (byte >= static_cast<const unsigned char*>(start) && byte < static_cast<const unsigned char*>(start) + bytes)
                return true;
        return false;
    }
    void open() {
        if (open_++ == 0)
            for (auto& [p, bytes] : regions_) protect(p, bytes, PROT_READ | PROT_WRITE);
    }
    void close() {
        if (--open_ == 0)
            for (auto& [p, bytes] : regions_) protect(p, bytes, PROT_NONE);
    }

private:
    static void protect(void* p, std::size_t bytes, int mode) {
        if (mprotect(p, bytes, mode) != 0) throw std::bad_alloc();
    }
    std::vector<std::pair<void*, std::size_t>> regions_;
    int open_ = 0;
};

// Device code is running: the guarded regions are reachable for this scope.
class device_scope {
public:
    device_scope() { guarded_regions::get().open(); }
    ~device_scope() { guarded_regions::get().close(); }
    device_scope(const device_scope&) = delete;
    device_scope& operator=(const device_scope&) = delete;
};

template <class T>
class GuardedBuffer {
public:
    GuardedBuffer() = default;
    explicit GuardedBuffer(std::size_t n) : size_(n) {
        if (n == 0) return;
        const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        bytes_ = (n * sizeof(T) + page - 1) / page * page;
        void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // zeroed
        if (p == MAP_FAILED) throw std::bad_alloc();
        data_ = static_cast<T*>(p);
        guarded_regions::get().add(p, bytes_);
    }
    GuardedBuffer(GuardedBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
          bytes_(std::exchange(other.bytes_, 0)) {}
    GuardedBuffer& operator=(GuardedBuffer&& other) noexcept {
        GuardedBuffer(std::move(other)).swap(*this);
        return *this;
    }
    ~GuardedBuffer() {
        if (!data_) return;
        guarded_regions::get().remove(data_);
        munmap(data_, bytes_);
    }
    void swap(GuardedBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(bytes_, other.bytes_);
    }
    void resize_discard(std::size_t n) {
        GuardedBuffer fresh(n);
        swap(fresh);
    }
    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0, bytes_ = 0;
};

// The guarded device's per-model context. Kernels, copies and reads must run inside one, as on
// a GPU every model computes on its own stream: a model path that forgot to enter its context
// throws here.
struct guarded_context {};
inline int& guarded_context_depth() {
    static int depth = 0;
    return depth;
}
class guarded_context_scope {
public:
    explicit guarded_context_scope(guarded_context&) noexcept { ++guarded_context_depth(); }
    guarded_context_scope(const guarded_context_scope&) = delete;
    guarded_context_scope& operator=(const guarded_context_scope&) = delete;
    ~guarded_context_scope() { --guarded_context_depth(); }
};
inline void require_context(const char* what) {
    if (guarded_context_depth() == 0)
        throw std::logic_error(std::string("guarded_device: ") + what + " outside a model's context");
}

// Whether every array an elementwise op was given lies in device memory: a host array handed to
// a device kernel would fault on a GPU, so the emulation refuses it too.
template <class Body>
void check_device_arrays(std::size_t, const Body&) {}
template <class F, class... P>
void check_device_arrays(std::size_t n, const detail::elementwise_body<F, P...>& body) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        const void* arrays[] = {detail::pointer_at<K>(body.arrays)...};
        for (const void* p : arrays)
            if (n > 0 && !guarded_regions::get().contains(p))
                throw std::logic_error("guarded_device: an elementwise op was given an array outside device memory");
    }(std::index_sequence_for<P...>{});
}

class guarded_executor : public host_executor {
public:
    template <class Body>
    void for_each(std::size_t n, const Body& body) const {
        require_context("a kernel ran");
        check_device_arrays(n, body);
        device_scope open;
        host_executor::for_each(n, body);
    }
    template <class T>
    T read(const T* p) const {
        require_context("a read ran");
        device_scope open;
        return *p;
    }
    template <class... A>
    void gemm_col_major(A... args) const {
        require_context("a GEMM ran");
        device_scope open;
        host_executor::gemm_col_major(args...);
    }
    template <class... A>
    void gemm_batched_col_major(A... args) const {
        require_context("a GEMM ran");
        device_scope open;
        host_executor::gemm_batched_col_major(args...);
    }
};

// Bytes copied to the guarded device so far (tests count a call's copies by difference), and
// the free memory it reports (tests lower it to see what a full device does).
inline std::size_t& guarded_uploaded_bytes() {
    static std::size_t bytes = 0;
    return bytes;
}
inline std::size_t& guarded_free_memory() {
    static std::size_t bytes = static_cast<std::size_t>(-1);
    return bytes;
}

// The CUDA backend's kernels over guarded "device" memory.
struct guarded_device : detail::per_index_backend<guarded_executor> {
    using memory_space = device_memory;
    static constexpr std::string_view name = "guarded device (host emulation)";
    template <class T>
    using buffer = GuardedBuffer<T>;
    using context = guarded_context;
    using context_scope = guarded_context_scope;
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) {
        require_context("an upload ran");
        if (n > 0 && guarded_regions::get().contains(host))  // on a GPU, a host-to-device copy from device memory fails
            throw std::logic_error("guarded_device: an upload's source is device memory");
        device_scope open;
        if (n) std::memcpy(device, host, n * sizeof(T));
        guarded_uploaded_bytes() += n * sizeof(T);
    }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) {
        require_context("a download ran");
        if (n > 0 && guarded_regions::get().contains(host))
            throw std::logic_error("guarded_device: a download's destination is device memory");
        device_scope open;
        if (n) std::memcpy(host, device, n * sizeof(T));
    }
    static std::size_t free_memory() { return guarded_free_memory(); }
};

}  // namespace latent::testing
