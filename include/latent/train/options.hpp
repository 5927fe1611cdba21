// FitOptions: what Keras' fit() takes as keyword arguments, as a struct with Keras' defaults,
// meant for designated initializers: fit(x, y, {.epochs = 5, .batch_size = 128}).
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <cstdint>
#include <ostream>

#include "../core/tensor.hpp"

namespace latent {

// Validation samples given by the caller (Keras' validation_data): a view, not a copy.
struct ValidationData {
    const float* x = nullptr;
    const float* y = nullptr;
    std::size_t count = 0;
    std::size_t x_sample_size = 0;
    std::size_t y_sample_size = 0;

    ValidationData() = default;
    template <float_batch X, float_batch Y>
    ValidationData(const X& x_, const Y& y_)
        : x(x_.data()),
          y(y_.data()),
          count(x_.batch()),
          x_sample_size(std::remove_cvref_t<X>::sample_size),
          y_sample_size(std::remove_cvref_t<Y>::sample_size) {
        if (x_.batch() != y_.batch())
            throw shape_error("latent.train.validation", "validation data has " + std::to_string(x_.batch()) +
                                                             " inputs but " + std::to_string(y_.batch()) + " labels");
    }
    bool present() const noexcept { return x != nullptr; }
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
    std::filesystem::path checkpoint{};
    std::size_t checkpoint_every = 1;
    bool resume = false;
    // When this flag becomes true (StopOnInterrupt sets it on Ctrl-C), fit finishes the current
    // step, writes a checkpoint if checkpointing is on, and returns the history so far.
    const std::atomic<bool>* stop = nullptr;
};

}  // namespace latent
