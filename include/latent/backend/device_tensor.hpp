// DeviceTensor<B, S>: a batch of samples of shape S kept in backend B's memory (latent::cuda: the
// GPU), copied there once, as PyTorch's x.to("cuda"), for samples used again and again:
// train_on_batch and predict read it there instead of copying it over on every call.
#pragma once

#include <cstddef>

#include "../core/shape.hpp"
#include "../core/tensor.hpp"
#include "memory.hpp"

namespace latent {

template <class B, shape_type S>
class DeviceTensor {
    static_assert(device_backend<B>,
                  "latent: DeviceTensor<B, S> holds samples in a device backend's memory (latent::cuda); on a CPU "
                  "backend a Tensor<S> is already where the model computes");

public:
    using policy = B;
    using shape = S;
    using value_type = float;
    static constexpr std::size_t sample_size = S::size;

    DeviceTensor() = default;
    // A copy of the host batch in B's memory; the copy is complete when the constructor returns.
    explicit DeviceTensor(TensorView<S, const float> host) : batch_(host.batch()) {
        [[maybe_unused]] const auto scope = context_scope();
        data_ = backend_buffer<B, float>(host.size());
        upload<B>(data_.data(), host.data(), host.size());
    }
    explicit DeviceTensor(const Tensor<S>& host) : DeviceTensor(host.view()) {}

    std::size_t batch() const noexcept { return batch_; }
    std::size_t size() const noexcept { return batch_ * sample_size; }
    // In B's memory: for B's kernels, never for host code.
    const float* data() const noexcept { return data_.data(); }
    float* data() noexcept { return data_.data(); }

    // The samples back on the host.
    Tensor<S> to_host() const {
        Tensor<S> out(batch_);
        [[maybe_unused]] const auto scope = context_scope();
        download<B>(out.data(), data_.data(), size());
        return out;
    }

private:
    // The copies run on the context current on this thread where the backend has one
    // (latent::cuda: the thread's own stream, waited for before a model's stream computes:
    // backend/cuda/context.hpp), else on a context of the tensor's own.
    auto context_scope() const {
        if constexpr (requires { B::current_context(); })
            return typename B::context_scope(B::current_context());
        else if constexpr (has_backend_context<B>)
            return typename B::context_scope(context_.get());
        else
            return detail::no_backend_context{};
    }

    detail::lazy_context<typename detail::context_of<B>::type> context_;
    backend_buffer<B, float> data_;
    std::size_t batch_ = 0;
};

}  // namespace latent
