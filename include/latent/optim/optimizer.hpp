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

#include "../backend/memory.hpp"
#include "../core/arena.hpp"
#include "../core/buffer.hpp"
#include "../core/errors.hpp"
#include "schedules.hpp"

namespace latent::optim {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    virtual std::string_view name() const = 0;
    virtual std::unique_ptr<Optimizer> clone() const = 0;
    // params and grads have the arena's layout; only `ranges` (the trainable ones) change.
    virtual void step(float* params, const float* grads, std::size_t size, const std::vector<ArenaRange>& ranges) = 0;
    // The learning rate of the next update (a schedule's value at iterations()).
    virtual double learning_rate() const = 0;
    // Replaces a constant learning rate; one given as a schedule cannot be set (value_error).
    virtual void set_learning_rate(double lr) = 0;
    virtual bool learning_rate_scheduled() const = 0;
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
// Per-parameter optimizer state with the arena's layout, in backend B's memory, allocated on
// the first step. Checkpoints read and write it on the host through host_view(); on a device
// backend that is a copy, which goes back to the device before the next step.
template <backend_policy B>
class StateBuffer {
public:
    StateBuffer() = default;
    // Optimizers are cloned with the models they belong to; device buffers copy through the host
    // (a clone is rare, a step never copies).
    StateBuffer(const StateBuffer& other) : host_(other.host_), host_may_differ_(other.host_may_differ_) {
        if constexpr (host_backend_v<B>) {
            values_ = other.values_;
        } else if (const std::size_t n = other.values_.size()) {
            values_.resize_discard(n);
            std::vector<float> through(n);
            download<B>(through.data(), other.values_.data(), n);
            upload<B>(values_.data(), through.data(), n);
        }
    }
    StateBuffer(StateBuffer&&) noexcept = default;
    StateBuffer& operator=(StateBuffer other) noexcept {
        std::swap(values_, other.values_);
        std::swap(host_, other.host_);
        std::swap(host_may_differ_, other.host_may_differ_);
        return *this;
    }
    ~StateBuffer() = default;

    void ensure(std::size_t size) {
        if (values_.size() != size) values_.resize_discard(size);
    }
    float* data() { return values_.data(); }

    AlignedBuffer<float>* host_view(std::size_t size) {
        ensure(size);
        if constexpr (host_backend_v<B>) {
            return &values_;
        } else {
            if (host_.size() != size) host_.resize_discard(size);
            download<B>(host_.data(), values_.data(), size);
            host_may_differ_ = true;  // the caller may write to it (a checkpoint being loaded)
            return &host_;
        }
    }
    // Called by step before it reads the state.
    void before_step(std::size_t size) {
        ensure(size);
        if constexpr (!host_backend_v<B>) {
            if (host_may_differ_) upload<B>(values_.data(), host_.data(), size);
            host_may_differ_ = false;
        }
    }

private:
    backend_buffer<B, float> values_;
    AlignedBuffer<float> host_;  // device backends only: what checkpoints see
    bool host_may_differ_ = false;
};

// What every updater shares: its validated settings, name, learning rate and copying.
template <class Derived, class Settings>
class UpdaterBase : public Optimizer {
public:
    explicit UpdaterBase(Settings settings) : s_(settings) { s_.validate(); }
    std::string_view name() const override { return Settings::name; }
    std::unique_ptr<Optimizer> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
    double learning_rate() const override { return s_.lr.at(this->iterations_); }
    bool learning_rate_scheduled() const override { return s_.lr.scheduled(); }
    void set_learning_rate(double lr) override {
        if (s_.lr.scheduled())
            throw value_error("latent.optim.schedule",
                              std::string(Settings::name) + ": the learning rate follows a schedule" +
                                  (s_.lr.schedule_name().empty() ? "" : " (" + std::string(s_.lr.schedule_name()) + ")") +
                                  " and cannot be set (callbacks that set it, ReduceLROnPlateau and "
                                  "LearningRateScheduler, need a constant lr)");
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
