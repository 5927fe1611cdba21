// AlignedBuffer<T>: an owning, 64-byte aligned heap array. Tensors, arenas and activation
// buffers all sit on it, so vector loads never straddle cache lines and nothing is on the stack.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <utility>

namespace latent {

inline constexpr std::size_t buffer_alignment = 64;

template <class T>
class AlignedBuffer {
public:
    AlignedBuffer() = default;
    explicit AlignedBuffer(std::size_t n) { resize_discard(n); }
    AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
        if (size_) std::memcpy(data_, other.data_, size_ * sizeof(T));
    }
    AlignedBuffer(AlignedBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    AlignedBuffer& operator=(AlignedBuffer other) noexcept {
        swap(other);
        return *this;
    }
    ~AlignedBuffer() { release(); }

    void swap(AlignedBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    // Reallocates to n zeroed elements; the old contents are dropped. If the allocation
    // fails, the buffer is left as it was (the new block is made before the old one goes).
    void resize_discard(std::size_t n) {
        if (n == size_) {
            fill(T{});
            return;
        }
        T* fresh = nullptr;
        if (n > 0) {
            const std::size_t bytes = (n * sizeof(T) + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
            fresh = static_cast<T*>(::operator new(bytes, std::align_val_t{buffer_alignment}));
        }
        release();
        data_ = fresh;
        size_ = n;
        fill(T{});
    }

    void fill(T value) { std::fill(data_, data_ + size_, value); }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }
    std::span<T> span() noexcept { return {data_, size_}; }
    std::span<const T> span() const noexcept { return {data_, size_}; }

private:
    void release() noexcept {
        if (data_) ::operator delete(data_, std::align_val_t{buffer_alignment});
        data_ = nullptr;
        size_ = 0;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace latent
