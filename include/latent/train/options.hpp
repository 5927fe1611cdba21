// FitOptions: what Keras' fit() takes as keyword arguments, as a struct with Keras' defaults,
// meant for designated initializers: fit(x, y, {.epochs = 5, .batch_size = 128}).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "callback.hpp"
#include "checkpoint.hpp"

namespace latent {

namespace detail {
// Samples given as one flat array (count, sample_size).
struct ArrayRef {
    const float* data = nullptr;
    std::size_t count = 0;
    std::size_t sample_size = 0;
};

// The arrays of a std::tuple of tensors, or of a single tensor (a model with several inputs or
// outputs takes one per input, one per output).
template <class X>
std::vector<ArrayRef> refs_of(const X& x) {
    if constexpr (requires { std::tuple_size<X>::value; })
        return std::apply(
            [](const auto&... a) {
                return std::vector<ArrayRef>{ArrayRef{a.data(), a.batch(), std::remove_cvref_t<decltype(a)>::sample_size}...};
            },
            x);
    else
        return {ArrayRef{x.data(), x.batch(), std::remove_cvref_t<X>::sample_size}};
}
}  // namespace detail

// Validation samples given by the caller (Keras' validation_data): a view, not a copy. A model
// with several inputs or outputs takes std::tuples of tensors, one per input and one per output
// (a single tensor where it has one), in the model's order, as fit does.
struct ValidationData {
    // One input and one output: the samples and labels.
    const float* x = nullptr;
    const float* y = nullptr;
    std::size_t count = 0;
    std::size_t x_sample_size = 0;
    std::size_t y_sample_size = 0;
    // Every array, whatever their number.
    std::vector<detail::ArrayRef> inputs, labels;

    ValidationData() = default;
    template <float_batch X, float_batch Y>
    ValidationData(const X& x_, const Y& y_) : ValidationData(detail::refs_of(x_), detail::refs_of(y_)) {}
    template <class X, class Y>
        requires(requires { std::tuple_size<X>::value; } || requires { std::tuple_size<Y>::value; })
    ValidationData(const X& x_, const Y& y_) : ValidationData(detail::refs_of(x_), detail::refs_of(y_)) {}

    bool present() const noexcept { return x != nullptr || !inputs.empty(); }

private:
    ValidationData(std::vector<detail::ArrayRef> xs, std::vector<detail::ArrayRef> ys)
        : inputs(std::move(xs)), labels(std::move(ys)) {
        if (inputs.empty() || labels.empty())
            throw shape_error("latent.train.validation", "validation data needs at least one input array and one "
                                                         "label array");
        count = inputs[0].count;
        const auto same_count = [&](const std::vector<detail::ArrayRef>& arrays, const char* what) {
            for (const auto& a : arrays)
                if (a.count != count)
                    throw shape_error("latent.train.validation", "validation data has " + std::to_string(count) +
                                                                    " inputs but " + std::to_string(a.count) + what);
        };
        same_count(inputs, " in another input array");
        same_count(labels, " labels");
        if (inputs.size() == 1 && labels.size() == 1) {
            x = inputs[0].data;
            y = labels[0].data;
            x_sample_size = inputs[0].sample_size;
            y_sample_size = labels[0].sample_size;
        }
    }
};

enum class Verbosity { silent = 0, progress_bar = 1, one_line_per_epoch = 2, automatic = -1 };

struct FitOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 32;
    double validation_split = 0.0;   // the last fraction of x, y held out, as Keras (before shuffling)
    ValidationData validation{};     // takes precedence over validation_split, as Keras
    bool shuffle = true;
    std::uint64_t seed = 0;          // shuffling and dropout; same seed, same run
    Verbosity verbose = Verbosity::automatic;  // a progress bar on a terminal, one line per epoch otherwise
    std::ostream* out = nullptr;     // where progress goes; std::cout when null

    // Crash-safe training: with a checkpoint path, fit writes weights, optimizer state, epoch,
    // step, generator states and history there every `checkpoint_every` epochs (atomically),
    // and with `resume` it carries on from that file when it exists, bit for bit.
    CheckpointFile checkpoint{};
    std::size_t checkpoint_every = 1;
    bool resume = false;
    // When this flag becomes true (StopOnInterrupt sets it on Ctrl-C), fit finishes the current
    // step, writes a checkpoint if checkpointing is on, and returns the history so far.
    const std::atomic<bool>* stop = nullptr;
    // Called around every epoch and step, in this order (Keras' callbacks): callbacks::
    // EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, ..., or any type with their hooks. A named
    // callback is referred to (read its state after fit), a temporary is kept here.
    std::vector<Callback> callbacks{};
};

}  // namespace latent
