// Mini-batches: BatchSampler deals the indices [0, count) out in batches, in a fresh seeded
// order each epoch (Keras' shuffle=True, last batch short); gather copies the chosen samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"

namespace latent::data {

class BatchSampler {
public:
    // Draws its orders from `gen`, which must outlive the sampler (shared with the caller, so
    // one seed drives a whole run).
    BatchSampler(std::size_t count, std::size_t batch_size, bool shuffle, Generator& gen)
        : count_(count), batch_size_(batch_size), shuffle_(shuffle), external_(&gen) {
        start();
    }
    // Draws its orders from its own Generator(seed).
    explicit BatchSampler(std::size_t count, std::size_t batch_size, bool shuffle = true, std::uint64_t seed = 0)
        : count_(count), batch_size_(batch_size), shuffle_(shuffle), own_(Generator(seed)) {
        start();
    }

    std::size_t count() const noexcept { return count_; }
    std::size_t batch_size() const noexcept { return batch_size_; }
    bool shuffles() const noexcept { return shuffle_; }
    // Epochs started so far, counting from 0.
    std::size_t epoch() const noexcept { return epoch_; }

    // ceil(count / batch_size): every batch is full but the last, which may be short.
    std::size_t batches() const noexcept { return (count_ + batch_size_ - 1) / batch_size_; }
    // The size of batch i (batch_size, or less for the last one).
    std::size_t batch_length(std::size_t i) const { return batch(i).size(); }
    // The indices of batch i of this epoch. Throws value_error "latent.data.batch" past the end.
    std::span<const std::size_t> batch(std::size_t i) const {
        if (i >= batches())
            throw value_error("latent.data.batch", "batch " + std::to_string(i) +
                                                       " does not exist: " + std::to_string(count_) +
                                                       " samples in batches of " + std::to_string(batch_size_) +
                                                       " make " + std::to_string(batches()) + " batches");
        const std::size_t first = i * batch_size_;
        const std::size_t n = count_ - first < batch_size_ ? count_ - first : batch_size_;
        return std::span<const std::size_t>(order_).subspan(first, n);
    }
    // This epoch's whole order: a permutation of [0, count).
    std::span<const std::size_t> order() const noexcept { return order_; }

    // Starts the next epoch: a new order when shuffling, the same identity order otherwise.
    void next_epoch() {
        ++epoch_;
        deal();
    }

private:
    void start() {
        if (batch_size_ == 0)
            throw value_error("latent.data.batch_size",
                              "batch_size is 0, expected at least 1 (for " + std::to_string(count_) + " samples)");
        order_.resize(count_);
        deal();
    }
    void deal() {
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        if (shuffle_) latent::shuffle(order_.begin(), order_.end(), external_ ? *external_ : *own_);
    }

    std::size_t count_;
    std::size_t batch_size_;
    bool shuffle_;
    Generator* external_ = nullptr;
    std::optional<Generator> own_;
    std::vector<std::size_t> order_;
    std::size_t epoch_ = 0;
};

// Copies samples from[indices[0]], from[indices[1]], ... one after another into `to`, which
// must hold indices.size() * S::size floats. Throws value_error "latent.data.gather" for an
// index outside the batch of `from`.
template <shape_type S>
void gather(TensorView<S, const float> from, std::span<const std::size_t> indices, float* to) {
    for (std::size_t k = 0; k < indices.size(); ++k)
        if (indices[k] >= from.batch())
            throw value_error("latent.data.gather", "index " + std::to_string(k) + " is " + std::to_string(indices[k]) +
                                                        ", outside a batch of " + std::to_string(from.batch()) +
                                                        " samples");
    for (std::size_t k = 0; k < indices.size(); ++k)
        std::memcpy(to + k * S::size, from.data() + indices[k] * S::size, S::size * sizeof(float));
}
template <shape_type S>
void gather(TensorView<S, float> from, std::span<const std::size_t> indices, float* to) {
    gather(TensorView<S, const float>(from), indices, to);
}
template <shape_type S>
void gather(const Tensor<S, float>& from, std::span<const std::size_t> indices, float* to) {
    gather(from.view(), indices, to);
}

// The chosen samples as a new Tensor of indices.size() samples.
template <shape_type S>
Tensor<S> gather(TensorView<S, const float> from, std::span<const std::size_t> indices) {
    Tensor<S> out(indices.size());
    gather(from, indices, out.data());
    return out;
}
template <shape_type S>
Tensor<S> gather(const Tensor<S, float>& from, std::span<const std::size_t> indices) {
    return gather(from.view(), indices);
}

}  // namespace latent::data
