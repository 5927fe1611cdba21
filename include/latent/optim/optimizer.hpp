// The runtime interface every optimizer implements: one update of the trainable ranges of
// the parameter arena from the gradient arena. Optimizer settings (SGD, Adam, RMSprop) are
// plain structs with Keras' defaults; build<Backend>() makes the stateful updater.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../core/arena.hpp"
#include "../core/buffer.hpp"
#include "../core/errors.hpp"

namespace latent::optim {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    virtual std::string_view name() const = 0;
    virtual std::unique_ptr<Optimizer> clone() const = 0;
    // params and grads have the arena's layout; only `ranges` (the trainable ones) change.
    virtual void step(float* params, const float* grads, std::size_t size, const std::vector<ArenaRange>& ranges) = 0;
    virtual double learning_rate() const = 0;
    virtual void set_learning_rate(double lr) = 0;
    std::size_t iterations() const noexcept { return iterations_; }
    void set_iterations(std::size_t n) noexcept { iterations_ = n; }
    // The optimizer's per-parameter state (moments, velocities) by name, for checkpoints.
    // Buffers are allocated on the first step; `size` allocates them now where still empty.
    virtual std::vector<std::pair<std::string, AlignedBuffer<float>*>> state_buffers(std::size_t size) = 0;

protected:
    std::size_t iterations_ = 0;
};

namespace detail {
inline void check_positive(double v, const char* what, std::string_view optimizer) {
    if (!(v > 0.0) || !std::isfinite(v))
        throw value_error("latent.optim.setting", std::string(optimizer) + ": " + what +
                                                      " must be a positive finite number, got " + std::to_string(v));
}
inline void check_unit(double v, const char* what, std::string_view optimizer) {
    if (!(v >= 0.0 && v < 1.0))
        throw value_error("latent.optim.setting",
                          std::string(optimizer) + ": " + what + " must be in [0, 1), got " + std::to_string(v));
}
// Optimizer state with the arena's layout, allocated on the first step.
inline void ensure_state(AlignedBuffer<float>& state, std::size_t size) {
    if (state.size() != size) state.resize_discard(size);
}

// What every updater shares: its validated settings, name, learning rate and copying.
template <class Derived, class Settings>
class UpdaterBase : public Optimizer {
public:
    explicit UpdaterBase(Settings settings) : s_(settings) { s_.validate(); }
    std::string_view name() const override { return Settings::name; }
    std::unique_ptr<Optimizer> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
    double learning_rate() const override { return s_.lr; }
    void set_learning_rate(double lr) override {
        Settings changed = s_;
        changed.lr = lr;
        changed.validate();
        s_ = changed;
    }

protected:
    Settings s_;
};

}  // namespace detail

}  // namespace latent::optim
