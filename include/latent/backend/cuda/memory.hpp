// CudaBuffer<T>: an owning array in GPU memory (plain cudaMalloc, never managed memory), with
// the explicit host <-> device copies that models make at the fit/predict boundary.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../../core/errors.hpp"
#include "context.hpp"
#include "error.hpp"

namespace latent {
namespace detail {

// Whether the host memory at `p` is page-locked (cudaMallocHost, cudaHostRegister): the GPU
// reads such memory by DMA after the copy call returns. An unknown answer counts as yes.
inline bool page_locked(const void* p) noexcept {
    cudaPointerAttributes attributes{};
    if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
        (void)cudaGetLastError();  // not sticky; cleared so that the next checked call does not report it
        return true;
    }
    return attributes.type != cudaMemoryTypeUnregistered;
}

// Copies `bytes` from the host to the device after the work queued on the current context's
// stream, and returns as soon as the host memory may be reused. From pageable memory (latent's
// tensors, std::vector) cudaMemcpyAsync returns once the bytes are staged in the driver's
// page-locked memory (CUDA Runtime API, "API synchronization behavior"; the driver may still
// wait for the stream before staging), so latent does not wait for the stream here: a training
// step then waits once (for its loss) instead of three times, and a predict call once (for its
// output). Page-locked memory is read after the call returns: that waits. Other contexts'
// streams do not wait for this one, so the copy counts as unwaited until the context
// synchronizes; CudaContextScope waits for it before another context computes.
inline void copy_to_device(void* device, const void* host, std::size_t bytes) {
    CudaContext& context = current_cuda_context();
    LATENT_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, context.flushed_stream()));
    if (page_locked(host))
        context.synchronize();
    else
        context.note_unwaited_copy();
}

}  // namespace detail

template <class T>
class CudaBuffer {
public:
    CudaBuffer() = default;
    // n zeroed elements. The clearing is finished when the constructor returns: cudaMemset would
    // run on the legacy default stream, which the contexts' non-blocking streams do not wait for.
    explicit CudaBuffer(std::size_t n) : size_(n) {
        if (n == 0) return;
        LATENT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), n * sizeof(T)));
        try {
            CudaContext& context = current_cuda_context();
            LATENT_CUDA_CHECK(cudaMemsetAsync(data_, 0, n * sizeof(T), context.flushed_stream()));
            context.synchronize();
        } catch (...) {
            cudaFree(data_);
            data_ = nullptr;
            throw;
        }
    }
    // A device copy of host values.
    explicit CudaBuffer(std::span<const T> host) : CudaBuffer(host.size()) { copy_from_host(host); }

    CudaBuffer(CudaBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    CudaBuffer& operator=(CudaBuffer&& other) noexcept {
        CudaBuffer(std::move(other)).swap(*this);
        return *this;
    }
    CudaBuffer(const CudaBuffer&) = delete;
    CudaBuffer& operator=(const CudaBuffer&) = delete;
    ~CudaBuffer() {
        if (!data_) return;
        // Work recorded but not yet launched may still use this memory: launch it first.
        if (CudaContext* current = detail::current_cuda_context_slot()) {
            try {
                current->flush();
            } catch (...) {  // errors at teardown cannot be reported from a destructor
            }
        }
        cudaFree(data_);
    }

    // Reallocates to n zeroed elements; the old contents are dropped. If the allocation fails,
    // the buffer is left as it was.
    void resize_discard(std::size_t n) {
        CudaBuffer fresh(n);
        swap(fresh);
    }

    void swap(CudaBuffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    // Blocking copies on the current context's stream (after the work already queued there).
    // (The models' per-step copies, cuda::upload, do not wait: detail::copy_to_device.)
    void copy_from_host(std::span<const T> host) {
        check_size(host.size(), "copy_from_host");
        if (size_ == 0) return;
        CudaContext& context = current_cuda_context();
        LATENT_CUDA_CHECK(cudaMemcpyAsync(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice, context.flushed_stream()));
        context.synchronize();
    }
    void copy_to_host(std::span<T> host) const {
        check_size(host.size(), "copy_to_host");
        if (size_ == 0) return;
        CudaContext& context = current_cuda_context();
        LATENT_CUDA_CHECK(cudaMemcpyAsync(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost, context.flushed_stream()));
        context.synchronize();
    }
    std::vector<T> to_host() const {
        std::vector<T> out(size_);
        copy_to_host(out);
        return out;
    }

private:
    void check_size(std::size_t host_size, const char* what) const {
        if (host_size != size_)
            throw shape_error("latent.cuda.copy_size", std::string("CudaBuffer::") + what + ": the buffer holds " +
                                                           std::to_string(size_) + " elements, the host array " +
                                                           std::to_string(host_size));
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace latent
