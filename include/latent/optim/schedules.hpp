// Learning-rate schedules of the optimizer's step count (Keras' keras.optimizers.schedules):
// optim::Adam{.lr = optim::schedules::CosineDecay{.initial_learning_rate = 1e-3, .decay_steps = 5000}},
// and LearningRate, what an optimizer's `lr` holds: a number or a schedule.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/errors.hpp"

namespace latent::optim {

namespace detail {
template <class = void>
void check_schedule(bool ok, std::string_view schedule, const std::string& what) {
    if (!ok) throw value_error("latent.optim.schedule", std::string(schedule) + ": " + what);
}
template <class = void>
void check_positive_rate(double v, std::string_view schedule, const char* setting) {
    check_schedule(v > 0.0 && std::isfinite(v), schedule,
                   std::string(setting) + " must be positive and finite, got " + std::to_string(v));
}
// step / decay_steps, floored with staircase (ExponentialDecay's and InverseTimeDecay's).
template <class = void>
double decay_progress(std::size_t step, std::size_t decay_steps, bool staircase) {
    const double p = static_cast<double>(step) / static_cast<double>(decay_steps);
    return staircase ? std::floor(p) : p;
}
}  // namespace detail

namespace schedules {

// Their members are templates with nothing to deduce (template <class = void>): only a
// translation unit that uses a schedule compiles it (bench/README.md, "Compile time").

// lr = initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored with
// staircase.
struct ExponentialDecay {
    static constexpr std::string_view name = "ExponentialDecay";
    double initial_learning_rate = 0.0;
    std::size_t decay_steps = 0;
    double decay_rate = 0.0;
    bool staircase = false;

    template <class = void>
    double operator()(std::size_t step) const {
        return initial_learning_rate * std::pow(decay_rate, detail::decay_progress(step, decay_steps, staircase));
    }
    template <class = void>
    void validate() const {
        detail::check_positive_rate(initial_learning_rate, name, "initial_learning_rate");
        detail::check_schedule(decay_steps > 0, name, "decay_steps must be at least 1");
        detail::check_positive_rate(decay_rate, name, "decay_rate");
    }
};

// lr = initial_learning_rate / (1 + decay_rate * step / decay_steps), the quotient floored with
// staircase.
struct InverseTimeDecay {
    static constexpr std::string_view name = "InverseTimeDecay";
    double initial_learning_rate = 0.0;
    std::size_t decay_steps = 0;
    double decay_rate = 0.0;
    bool staircase = false;

    template <class = void>
    double operator()(std::size_t step) const {
        return initial_learning_rate / (1.0 + decay_rate * detail::decay_progress(step, decay_steps, staircase));
    }
    template <class = void>
    void validate() const {
        detail::check_positive_rate(initial_learning_rate, name, "initial_learning_rate");
        detail::check_schedule(decay_steps > 0, name, "decay_steps must be at least 1");
        detail::check_schedule(decay_rate >= 0.0 && std::isfinite(decay_rate), name,
                               "decay_rate must be >= 0 and finite, got " + std::to_string(decay_rate));
    }
};

// values[0] up to and including step boundaries[0], values[i] for steps in
// (boundaries[i - 1], boundaries[i]], values.back() after the last boundary.
struct PiecewiseConstantDecay {
    static constexpr std::string_view name = "PiecewiseConstantDecay";
    std::vector<std::size_t> boundaries{};
    std::vector<double> values{};

    template <class = void>
    double operator()(std::size_t step) const {
        for (std::size_t i = 0; i < boundaries.size(); ++i)
            if (step <= boundaries[i]) return values[i];
        return values.back();
    }
    template <class = void>
    void validate() const {
        detail::check_schedule(values.size() == boundaries.size() + 1, name,
                               "needs one value more than boundaries, got " + std::to_string(values.size()) +
                                   " values and " + std::to_string(boundaries.size()) + " boundaries");
        for (std::size_t i = 1; i < boundaries.size(); ++i)
            detail::check_schedule(boundaries[i - 1] < boundaries[i], name, "boundaries must increase");
        for (const double v : values) detail::check_positive_rate(v, name, "every value");
    }
};

// From initial_learning_rate to end_learning_rate over decay_steps along (1 - step/decay_steps)^power,
// then end_learning_rate; with cycle, decay_steps grows to the next multiple past step instead.
struct PolynomialDecay {
    static constexpr std::string_view name = "PolynomialDecay";
    double initial_learning_rate = 0.0;
    std::size_t decay_steps = 0;
    double end_learning_rate = 1e-4;
    double power = 1.0;
    bool cycle = false;

    template <class = void>
    double operator()(std::size_t step) const {
        double s = static_cast<double>(step), steps = static_cast<double>(decay_steps);
        if (cycle)
            steps *= step == 0 ? 1.0 : std::ceil(s / steps);
        else
            s = std::min(s, steps);
        return (initial_learning_rate - end_learning_rate) * std::pow(1.0 - s / steps, power) + end_learning_rate;
    }
    template <class = void>
    void validate() const {
        detail::check_positive_rate(initial_learning_rate, name, "initial_learning_rate");
        detail::check_positive_rate(end_learning_rate, name, "end_learning_rate");
        detail::check_schedule(decay_steps > 0, name, "decay_steps must be at least 1");
        detail::check_positive_rate(power, name, "power");
    }
};

// Cosine decay from initial_learning_rate (or, after a linear warm-up of warmup_steps from
// initial_learning_rate, from warmup_target) to alpha times it over decay_steps, then constant
// (Keras 3's CosineDecay, warm-up included).
struct CosineDecay {
    static constexpr std::string_view name = "CosineDecay";
    double initial_learning_rate = 0.0;
    std::size_t decay_steps = 0;
    double alpha = 0.0;
    std::optional<double> warmup_target{};
    std::size_t warmup_steps = 0;

    template <class = void>
    double operator()(std::size_t step) const {
        const double s = static_cast<double>(step);
        const double warmup = warmup_target ? static_cast<double>(warmup_steps) : 0.0;
        if (warmup_target && s < warmup)
            return (*warmup_target - initial_learning_rate) * (s / warmup) + initial_learning_rate;
        const double from = warmup_target ? *warmup_target : initial_learning_rate;
        const double fraction = std::min(s - warmup, static_cast<double>(decay_steps)) / static_cast<double>(decay_steps);
        const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * fraction));
        return from * ((1.0 - alpha) * cosine + alpha);
    }
    template <class = void>
    void validate() const {
        // A warm-up may start at 0 (Keras' usual initial_learning_rate=0.0 with a warmup_target).
        detail::check_schedule(warmup_target ? initial_learning_rate >= 0.0 && std::isfinite(initial_learning_rate)
                                             : initial_learning_rate > 0.0 && std::isfinite(initial_learning_rate),
                               name,
                               "initial_learning_rate must be positive and finite (or 0 before a warm-up), got " +
                                   std::to_string(initial_learning_rate));
        detail::check_schedule(decay_steps > 0, name, "decay_steps must be at least 1");
        detail::check_schedule(alpha >= 0.0 && alpha <= 1.0, name,
                               "alpha must be in [0, 1], got " + std::to_string(alpha));
        detail::check_schedule(!warmup_target || (*warmup_target > 0.0 && std::isfinite(*warmup_target)), name,
                               "warmup_target must be positive and finite");
        detail::check_schedule(!warmup_target || warmup_steps > 0, name,
                               "warmup_target needs warmup_steps of at least 1");
    }
};

}  // namespace schedules

// What an optimizer's `lr` holds: a number (`.lr = 1e-3`) or a schedule of the step count
// (`.lr = schedules::ExponentialDecay{...}`, or any callable double(std::size_t step), which
// may also have validate() and a static `name`). Steps count the optimizer's updates from 0,
// across fit calls and checkpoints, as Keras' optimizer.iterations.
class LearningRate {
public:
    LearningRate(double value) : value_(value) {}  // NOLINT(google-explicit-constructor): .lr = 1e-3
    template <class S>
        requires(!std::is_arithmetic_v<S> && !std::is_same_v<std::remove_cvref_t<S>, LearningRate> &&
                 std::is_invocable_r_v<double, const S&, std::size_t>)
    LearningRate(S schedule)  // NOLINT(google-explicit-constructor): .lr = schedules::CosineDecay{...}
        : schedule_(std::make_shared<const held<S>>(std::move(schedule))) {}

    bool scheduled() const noexcept { return schedule_ != nullptr; }
    // The schedule's name ("CosineDecay"); "" for a number or a schedule without a name.
    std::string_view schedule_name() const noexcept { return schedule_ ? schedule_->name() : std::string_view{}; }
    // The learning rate of the update after `step` earlier ones.
    double at(std::size_t step) const { return schedule_ ? schedule_->at(step) : value_; }

    // `optimizer` names the optimizer in the message.
    template <class = void>
    void validate(std::string_view optimizer) const {
        if (schedule_) {
            schedule_->validate();
        } else if (!(value_ > 0.0) || !std::isfinite(value_)) {
            throw value_error("latent.optim.setting",
                              latent::detail::concat(optimizer, ": lr must be a positive finite number, got ",
                                                     std::to_string(value_)));
        }
    }
    // The rate for `step`, checked: a schedule that gives a negative or non-finite rate stops
    // training with the step named. (0 is a rate: Keras' CosineDecay ends at 0, and a warm-up
    // may start there.)
    template <class = void>
    double checked_at(std::size_t step, std::string_view optimizer) const {
        const double lr = at(step);
        if (!(lr >= 0.0) || !std::isfinite(lr))
            throw value_error("latent.optim.schedule",
                              latent::detail::concat(optimizer, ": its learning-rate schedule",
                                                     schedule_name().empty() ? "" : " ", schedule_name(), " gave ",
                                                     std::to_string(lr), " for step ", std::to_string(step),
                                                     "; a learning rate must be finite and not negative"));
        return lr;
    }

private:
    struct schedule_base {
        virtual ~schedule_base() = default;
        virtual double at(std::size_t step) const = 0;
        virtual void validate() const = 0;
        virtual std::string_view name() const = 0;
    };
    template <class S>
    struct held final : schedule_base {
        explicit held(S s) : schedule(std::move(s)) {}
        double at(std::size_t step) const override { return static_cast<double>(schedule(step)); }
        void validate() const override {
            if constexpr (requires { schedule.validate(); }) schedule.validate();
        }
        std::string_view name() const override {
            if constexpr (requires { S::name; })
                return S::name;
            else
                return {};
        }
        S schedule;
    };
    double value_ = 0.0;
    std::shared_ptr<const schedule_base> schedule_;
};

}  // namespace latent::optim
