// The runtime interface every optimizer implements: one update of the trainable ranges of
// the parameter arena from the gradient arena. Optimizer settings (SGD, Adam, AdamW, RMSprop)
// are plain structs with Keras' defaults; build<Backend>() makes the stateful updater.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/memory.hpp"
#include "../backend/ops.hpp"
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
    // Keras' finalize_variable_values: with use_ema, the trainable ranges of params take their
    // moving averages (fit does it after the last epoch); otherwise nothing.
    virtual void finalize_variable_values(float* params, std::size_t size, const std::vector<ArenaRange>& ranges) = 0;
    // Whether it keeps the weights' moving average (use_ema).
    virtual bool averages_weights() const = 0;
    // Keras' exclude_from_weight_decay matches weights by name, and step sees only ranges: a
    // training loop gives the names of the ranges it steps over whenever this says it needs
    // them (settings that name weights, and ranges it has no names for).
    virtual bool needs_variable_names(const std::vector<ArenaRange>& ranges) const = 0;
    virtual void set_variable_names(const std::vector<ArenaRange>& ranges, const std::vector<std::string>& names) = 0;

protected:
    std::size_t iterations_ = 0;
};

namespace detail {
using latent::detail::concat;

inline void check_positive(double v, const char* what, std::string_view optimizer) {
    if (!(v > 0.0) || !std::isfinite(v))
        throw value_error("latent.optim.setting",
                          concat(optimizer, ": ", what, " must be a positive finite number, got ", std::to_string(v)));
}
inline void check_unit(double v, const char* what, std::string_view optimizer) {
    if (!(v >= 0.0 && v < 1.0))
        throw value_error("latent.optim.setting",
                          concat(optimizer, ": ", what, " must be in [0, 1), got ", std::to_string(v)));
}

inline void check_non_negative(double v, const char* what, std::string_view optimizer) {
    if (!(v >= 0.0) || !std::isfinite(v))
        throw value_error("latent.optim.setting", concat(optimizer, ": ", what,
                                                         " must be a finite number >= 0 (0: off), got ", std::to_string(v)));
}

// The settings every optimizer has, as Keras 3's: weight_decay, one of clipnorm, clipvalue and
// global_clipnorm (0 where Keras has None), and the moving average of the weights (use_ema,
// ema_momentum, ema_overwrite_frequency: 0 where Keras has None).
template <class Settings>
void check_common_settings(const Settings& s) {
    check_non_negative(s.weight_decay, "weight_decay", Settings::name);
    check_non_negative(s.clipnorm, "clipnorm", Settings::name);
    check_non_negative(s.clipvalue, "clipvalue", Settings::name);
    check_non_negative(s.global_clipnorm, "global_clipnorm", Settings::name);
    for (const auto& name : s.exclude_from_weight_decay)
        if (name.empty())
            throw value_error("latent.optim.setting",
                              concat(Settings::name,
                                     ": exclude_from_weight_decay holds an empty name, which every weight's contains"));
    if (s.use_ema && !(s.ema_momentum >= 0.0 && s.ema_momentum <= 1.0))
        throw value_error("latent.optim.setting", concat(Settings::name,
                                                         ": ema_momentum must be in [0, 1] with use_ema, got ",
                                                         std::to_string(s.ema_momentum)));
    if ((s.clipnorm > 0) + (s.clipvalue > 0) + (s.global_clipnorm > 0) > 1)
        throw value_error("latent.optim.setting",
                          concat(Settings::name,
                                 ": only one of clipnorm, clipvalue and global_clipnorm can be set, got clipnorm ",
                                 std::to_string(s.clipnorm), ", clipvalue ", std::to_string(s.clipvalue),
                                 ", global_clipnorm ", std::to_string(s.global_clipnorm)));
}

// The settings of the optimizers that keep Adam's moments (Adam, AdamW, Adamax, Nadam): lr,
// beta_1 and beta_2 in [0, 1), a positive epsilon, and the common ones.
template <class Settings>
void check_moment_settings(const Settings& s) {
    s.lr.validate(Settings::name);
    check_unit(s.beta_1, "beta_1", Settings::name);
    check_unit(s.beta_2, "beta_2", Settings::name);
    check_positive(s.epsilon, "epsilon", Settings::name);
    check_common_settings(s);
}

// How an update sees a gradient and its weight. plain_gradients: as they are (no clipping, no
// weight decay), the update's fast path. adjusted_gradients: Keras 3's order, the gradient
// clipped (scaled by a norm's factor, or to [-clip_value, clip_value]) and the weight decayed,
// w -= lr * weight_decay * w, before the update reads it.
struct plain_gradients {
    LATENT_HOST_DEVICE float operator()(float g) const { return g; }
    LATENT_HOST_DEVICE void decay(float&) const {}
};
struct adjusted_gradients {
    const float* scale = nullptr;  // in the backend's memory: min(1, clipnorm / norm); none when null
    float clip_value = 0.0f;       // 0: none
    float decay_rate = 0.0f;       // lr * weight_decay * the range's lr scale
    LATENT_HOST_DEVICE float operator()(float g) const {
        if (scale) g *= *scale;
        if (clip_value > 0.0f) g = g < -clip_value ? -clip_value : (g > clip_value ? clip_value : g);
        return g;
    }
    LATENT_HOST_DEVICE void decay(float& w) const { w -= decay_rate * w; }
};

// A sum of squares in, the factor that brings its norm down to `clip` out (1 under it); a
// function object, not a lambda: nvcc wants no device lambda in a function templated on a local type.
struct clip_factor {
    float clip;
    LATENT_HOST_DEVICE void operator()(float& t) const { t = t > clip * clip ? clip / std::sqrt(t) : 1.0f; }
};

// The weights' exponential moving average, Keras' use_ema (a function object: see clip_factor).
struct moving_average_step {
    float momentum;
    LATENT_HOST_DEVICE void operator()(float& average, const float& w) const {
        average = momentum * average + (1.0f - momentum) * w;
    }
};
struct copy_value {
    LATENT_HOST_DEVICE void operator()(float& to, const float& from) const { to = from; }
};

// A few floats in backend B's memory that an update computes and reads (the clipping factors);
// a copy starts empty.
template <backend_policy B>
class ScratchBuffer {
public:
    ScratchBuffer() = default;
    ScratchBuffer(const ScratchBuffer&) {}
    ScratchBuffer& operator=(const ScratchBuffer&) { return *this; }
    ~ScratchBuffer() = default;
    float* data(std::size_t size) {
        if (values_.size() < size) values_.resize_discard(size);
        return values_.data();
    }

private:
    backend_buffer<B, float> values_;
};
// Sets every element to `value` (a function object at namespace scope: nvcc takes no private
// type as a kernel's template argument).
struct fill_with {
    float value;
    LATENT_HOST_DEVICE void operator()(float& v) const { v = value; }
};

// Per-parameter optimizer state with the arena's layout, in backend B's memory, allocated on
// the first step. Checkpoints read and write it on the host through host_view(); on a device
// backend that is a copy, which goes back to the device before the next step.
template <backend_policy B>
class StateBuffer {
public:
    StateBuffer() = default;
    // A state that starts at `initial` rather than 0 (Adagrad's accumulators).
    explicit StateBuffer(float initial) : initial_(initial) {}
    // Optimizers are cloned with the models they belong to; device buffers copy through the host
    // (a clone is rare, a step never copies).
    StateBuffer(const StateBuffer& other)
        : host_(other.host_), host_may_differ_(other.host_may_differ_), initial_(other.initial_) {
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
        std::swap(initial_, other.initial_);
        return *this;
    }
    ~StateBuffer() = default;

    void ensure(std::size_t size) {
        if (values_.size() == size) return;
        values_.resize_discard(size);
        if (initial_ != 0.0f) ops::elementwise<B>(size, fill_with{initial_}, values_.data());
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
    float initial_ = 0.0f;
};

// What every updater shares: its validated settings, name, learning rate and copying; the step
// (the walk over the trainable ranges that clips the gradients and decays the weights on the
// way, calling Derived's update on each) and the moving average of the weights (use_ema).
// Derived provides
//   before_step(size)               readies its state buffers
//   coefficients(lr, t) -> K        the numbers step t (from 1) computes once (the bias-corrected
//                                   rate); by default lr as a float
//   update(params, grads, range, K, adjust)
//                                   one range's update (public: nvcc's device lambdas need it)
//   own_state_buffers(size)         its state by name (state_buffers adds the average's)
template <class Derived, class Settings, backend_policy B>
class UpdaterBase : public Optimizer {
public:
    explicit UpdaterBase(Settings settings) : s_(settings) { s_.validate(); }

    void step(float* params, const float* grads, std::size_t size, const std::vector<ArenaRange>& ranges) final {
        auto& self = static_cast<Derived&>(*this);
        if (needs_variable_names(ranges))
            throw value_error("latent.optim.names",
                              concat(Settings::name,
                                     ": exclude_from_weight_decay matches weights by name, and this step's weights have "
                                     "none: train through fit or train_on_batch, or call set_variable_names first"));
        const double lr = s_.lr.checked_at(this->iterations_, Settings::name);
        self.before_step(size);
        if (s_.use_ema) average_.before_step(size);
        const auto k = self.coefficients(lr, static_cast<double>(this->iterations_ + 1));
        for_each_range(grads, ranges, lr, [&](const ArenaRange& r, const auto& adjust) {
            self.update(params, grads, r, k, adjust);
        });
        // Keras: a weight's average starts as the weight after its first update, then follows it
        // (a weight first trained now, unfrozen since the last step, starts its own).
        if (s_.use_ema) {
            adopt_loaded_average(ranges);
            for (const auto& r : ranges) {
                const bool known = averaged(r);
                ops::elementwise<B>(r.end - r.begin,
                                    moving_average_step{known ? static_cast<float>(s_.ema_momentum) : 0.0f},
                                    average_.data() + r.begin, params + r.begin);
                if (!known) averaged_.push_back(r);
            }
        }
        ++this->iterations_;
        if (s_.use_ema && s_.ema_overwrite_frequency > 0 && this->iterations_ % s_.ema_overwrite_frequency == 0)
            overwrite_with_average(params, ranges);
    }
    float coefficients(double lr, double) const { return static_cast<float>(lr); }

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> state_buffers(std::size_t size) final {
        auto buffers = static_cast<Derived&>(*this).own_state_buffers(size);
        if (s_.use_ema) buffers.emplace_back("average", average_.host_view(size));
        return buffers;
    }
    bool averages_weights() const final { return s_.use_ema; }
    bool needs_variable_names(const std::vector<ArenaRange>& ranges) const final {
        return !s_.exclude_from_weight_decay.empty() && !same_places(ranges, named_);
    }
    void set_variable_names(const std::vector<ArenaRange>& ranges, const std::vector<std::string>& names) final {
        if (names.size() != ranges.size())
            throw value_error("latent.optim.names", concat(Settings::name, ": ", std::to_string(ranges.size()),
                                                           " weights but ", std::to_string(names.size()), " names"));
        named_ = ranges;
        undecayed_.clear();
        for (std::size_t k = 0; k < ranges.size(); ++k)
            for (const auto& part : s_.exclude_from_weight_decay)
                if (names[k].find(part) != std::string::npos) {
                    undecayed_.push_back(ranges[k]);
                    break;
                }
        variables_.clear();  // merged ranges must not join a decayed and an undecayed weight
    }
    void finalize_variable_values(float* params, std::size_t size, const std::vector<ArenaRange>& ranges) final {
        if (!s_.use_ema || this->iterations_ == 0) return;  // no average yet: the weights are their own
        average_.before_step(size);
        adopt_loaded_average(ranges);
        overwrite_with_average(params, ranges);
    }

    // Calls update(range, adjust) over `variables` (one range per weight tensor) with adjust
    // plain_gradients or adjusted_gradients (above); lr is this step's learning rate. Adjacent
    // ranges with the same lr scale go as one, except where each variable is clipped by its own
    // norm (clipnorm). The norms stay in the backend's memory: a device step never waits for it.
    template <class Update>
    void for_each_range(const float* grads, const std::vector<ArenaRange>& variables, double lr, Update&& update) {
        const auto& ranges = merged(variables);
        const bool clip_each = s_.clipnorm > 0;
        if (s_.weight_decay == 0 && !clip_each && s_.clipvalue == 0 && s_.global_clipnorm == 0) {
            for (const auto& r : ranges) update(r, plain_gradients{});
            return;
        }
        const auto decay = [&](const ArenaRange& r) {
            return decays(r) ? static_cast<float>(lr * s_.weight_decay * r.lr_scale) : 0.0f;
        };
        if (clip_each || s_.global_clipnorm > 0) {
            const auto& summed = clip_each ? variables : ranges;
            const std::size_t factors = clip_each ? summed.size() : 1;
            float* scale = scratch_.data(factors);
            for (std::size_t k = 0; k < summed.size(); ++k) {
                const auto& r = summed[k];
                ops::sum_of_squares<B>(r.end - r.begin, grads + r.begin, scale + (clip_each ? k : 0),
                                       !clip_each && k > 0);
            }
            // Keras' clip_by_norm and clip_by_global_norm: g * clip / max(norm, clip).
            const float clip = static_cast<float>(clip_each ? s_.clipnorm : s_.global_clipnorm);
            ops::elementwise<B>(factors, clip_factor{clip}, scale);
            for (std::size_t k = 0; k < summed.size(); ++k)
                update(summed[k], adjusted_gradients{scale + (clip_each ? k : 0), 0.0f, decay(summed[k])});
            return;
        }
        for (const auto& r : ranges)
            update(r, adjusted_gradients{nullptr, static_cast<float>(s_.clipvalue), decay(r)});
    }

    std::string_view name() const override { return Settings::name; }
    std::unique_ptr<Optimizer> clone() const override {
        return std::make_unique<Derived>(static_cast<const Derived&>(*this));
    }
    double learning_rate() const override { return s_.lr.at(this->iterations_); }
    bool learning_rate_scheduled() const override { return s_.lr.scheduled(); }
    void set_learning_rate(double lr) override {
        if (s_.lr.scheduled())
            throw value_error("latent.optim.schedule",
                              concat(Settings::name, ": the learning rate follows a schedule",
                                     s_.lr.schedule_name().empty() ? "" : " (", s_.lr.schedule_name(),
                                     s_.lr.schedule_name().empty() ? "" : ")",
                                     " and cannot be set (callbacks that set it, ReduceLROnPlateau and "
                                     "LearningRateScheduler, need a constant lr)"));
        Settings changed = s_;
        changed.lr = lr;
        changed.validate();
        s_ = changed;
    }

protected:
    Settings s_;

private:
    void overwrite_with_average(float* params, const std::vector<ArenaRange>& ranges) {
        for (const auto& r : ranges)
            if (averaged(r))
                ops::elementwise<B>(r.end - r.begin, copy_value{}, params + r.begin, average_.data() + r.begin);
    }
    // (by place only: a range's learning-rate scale may change between fits)
    bool averaged(const ArenaRange& r) const {
        return std::any_of(averaged_.begin(), averaged_.end(),
                           [&](const ArenaRange& a) { return a.begin == r.begin && a.end == r.end; });
    }
    // Steps taken and no weight known to have an average: the state was loaded (a checkpoint),
    // and its average covers the weights trained now.
    void adopt_loaded_average(const std::vector<ArenaRange>& ranges) {
        if (averaged_.empty() && this->iterations_ > 0) averaged_ = ranges;
    }

    // Adjacent ranges with the same lr scale merged, kept between steps (no allocation per step).
    const std::vector<ArenaRange>& merged(const std::vector<ArenaRange>& variables) {
        if (variables == variables_ && !variables_.empty()) return merged_;
        variables_ = variables;
        merged_.clear();
        bool last_decays = true;
        for (const auto& r : variables) {
            const bool d = decays(r);
            if (!merged_.empty() && merged_.back().end == r.begin && merged_.back().lr_scale == r.lr_scale &&
                last_decays == d)
                merged_.back().end = r.end;
            else
                merged_.push_back(r);
            last_decays = d;
        }
        return merged_;
    }
    // Whether weight decay applies to range r (a weight, or neighbours merged): not where
    // exclude_from_weight_decay names it (merged ranges are all one or all the other).
    bool decays(const ArenaRange& r) const {
        return std::none_of(undecayed_.begin(), undecayed_.end(),
                            [&](const ArenaRange& u) { return u.begin <= r.begin && r.begin < u.end; });
    }
    static bool same_places(const std::vector<ArenaRange>& a, const std::vector<ArenaRange>& b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
                   return x.begin == y.begin && x.end == y.end;
               });
    }

    std::vector<ArenaRange> variables_, merged_;
    ScratchBuffer<B> scratch_;
    StateBuffer<B> average_;  // (arena size, with use_ema only) the weights' moving average
    std::vector<ArenaRange> averaged_;  // the weights (ranges) the average covers
    std::vector<ArenaRange> named_;      // the ranges set_variable_names was last given
    std::vector<ArenaRange> undecayed_;  // those exclude_from_weight_decay names
};

}  // namespace detail

}  // namespace latent::optim
