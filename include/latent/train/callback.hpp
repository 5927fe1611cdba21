// What fit() calls back into during training (Keras' Callback): the hooks a callback may have,
// the TrainingContext it acts through (stop training, the learning rate, the weights), the epoch
// Logs it reads and amends, and `Callback`, the handle FitOptions::callbacks holds.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/errors.hpp"

namespace latent {

// An epoch's (or a step's) figures as Keras' `logs` dict has them, in the order fit shows them:
// "loss", the metrics, then "val_..." at the end of an epoch. Callbacks may add to them
// (ReduceLROnPlateau adds "learning_rate"); what is here after on_epoch_end goes into History.
struct Logs {
    std::vector<std::pair<std::string, double>> entries;

    std::optional<double> get(std::string_view key) const {
        for (const auto& [k, v] : entries)
            if (k == key) return v;
        return std::nullopt;
    }
    bool contains(std::string_view key) const { return get(key).has_value(); }
    void set(std::string_view key, double value) {
        for (auto& [k, v] : entries)
            if (k == key) {
                v = value;
                return;
            }
        entries.emplace_back(std::string(key), value);
    }
    std::string keys() const {
        std::string s;
        for (const auto& [k, v] : entries) s += (s.empty() ? "" : ", ") + k;
        return s;
    }
};

// What a callback keeps across an interruption: fit writes it into its checkpoint and gives it
// back on resume, so that a resumed run decides as the uninterrupted one would.
struct CallbackState {
    std::map<std::string, std::vector<double>> numbers;
    std::map<std::string, std::vector<float>> arrays;  // stored as float32 (saved weights)

    double number(const std::string& key, double otherwise) const {
        const auto it = numbers.find(key);
        return it != numbers.end() && it->second.size() == 1 ? it->second[0] : otherwise;
    }
};

namespace detail {
// A copyable callable R(Args...) for the callbacks' function settings, lighter to compile than
// std::function (which every translation unit including latent.hpp would instantiate); copies
// share the function object.
template <class Signature>
class shared_function;
template <class R, class... Args>
class shared_function<R(Args...)> {
public:
    shared_function() = default;
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, shared_function> && std::is_invocable_r_v<R, F&, Args...>)
    shared_function(F f)  // NOLINT(google-explicit-constructor): .schedule = [](...) {...}
        : object_(std::make_shared<F>(std::move(f))), call_(&invoke<F>) {}
    // Calls the function; one that holds none returns R{} (does nothing).
    R operator()(Args... args) const {
        if (!call_) return R();
        return call_(object_.get(), std::forward<Args>(args)...);
    }
    explicit operator bool() const noexcept { return call_ != nullptr; }

private:
    template <class F>
    static R invoke(void* f, Args... args) {
        return (*static_cast<F*>(f))(std::forward<Args>(args)...);
    }
    std::shared_ptr<void> object_;
    R (*call_)(void*, Args...) = nullptr;
};
}  // namespace detail

// The model under training as a callback sees it (Keras' `self.model`).
class TrainingContext {
public:
    // What fit gives its callbacks to act on: the compiled optimizer and the model.
    struct Access {
        virtual ~Access() = default;
        virtual double learning_rate() const = 0;
        virtual void set_learning_rate(double lr) = 0;
        virtual bool learning_rate_scheduled() const { return false; }
        virtual std::span<float> weights() = 0;
        virtual void save_weights(const std::filesystem::path& path) = 0;
    };
    TrainingContext(Access& access, std::size_t epochs, std::size_t steps_per_epoch, std::vector<std::string> log_keys)
        : access_(access), epochs_(epochs), steps_(steps_per_epoch), log_keys_(std::move(log_keys)) {}

    // Set by a callback to end training: after this epoch when set in on_epoch_end, after this
    // step when set in on_train_batch_end (Keras' model.stop_training).
    bool stop_training = false;

    std::size_t epochs() const noexcept { return epochs_; }
    std::size_t steps_per_epoch() const noexcept { return steps_; }
    // The first epoch this run trains: 0, or where a resumed checkpoint left off.
    std::size_t initial_epoch() const noexcept { return initial_epoch_; }
    // The keys every epoch's logs will have ("loss", metrics, "val_..." with validation data),
    // and "learning_rate", which the learning-rate callbacks add.
    const std::vector<std::string>& log_keys() const noexcept { return log_keys_; }
    bool logs_have(std::string_view key) const {
        for (const auto& k : log_keys_)
            if (k == key) return true;
        return false;
    }

    // The optimizer's learning rate (a new one is checked as compile's is: positive, finite).
    double learning_rate() const { return access_.learning_rate(); }
    void set_learning_rate(double lr) { access_.set_learning_rate(lr); }
    // Whether the optimizer's rate follows a schedule (optim::schedules): it cannot be set then.
    bool learning_rate_scheduled() const { return access_.learning_rate_scheduled(); }
    // The model's parameters as they are now, in the arena's layout (fetched from the device on
    // a device backend); writing through the span changes the model.
    std::span<float> weights() { return access_.weights(); }
    // What model.save_weights(path) writes (safetensors, crash-safe).
    void save_weights(const std::filesystem::path& path) { access_.save_weights(path); }
    // A message shown on its own line once the epoch's progress line is complete.
    void print(std::string line) { messages_.push_back(std::move(line)); }

    // ---- fit's side ----------------------------------------------------------------------
    void set_initial_epoch(std::size_t epoch) noexcept { initial_epoch_ = epoch; }
    void flush_messages(std::ostream& out) {
        for (const auto& m : messages_) out << m << '\n';
        if (!messages_.empty()) out << std::flush;
        messages_.clear();
    }

private:
    Access& access_;
    std::size_t epochs_, steps_, initial_epoch_ = 0;
    std::vector<std::string> log_keys_;
    std::vector<std::string> messages_;
};

namespace detail {
// The hooks a callback type may have; each also without the TrainingContext& argument.
template <class T>
concept has_train_begin = requires(T& t, TrainingContext& c) { t.on_train_begin(c); } || requires(T& t) {
    t.on_train_begin();
};
template <class T>
concept has_epoch_begin = requires(T& t, std::size_t e, TrainingContext& c) { t.on_epoch_begin(e, c); } ||
                          requires(T& t, std::size_t e) { t.on_epoch_begin(e); };
template <class T>
concept has_batch_begin = requires(T& t, std::size_t s, TrainingContext& c) { t.on_train_batch_begin(s, c); } ||
                          requires(T& t, std::size_t s) { t.on_train_batch_begin(s); };
template <class T>
concept has_batch_end = requires(T& t, std::size_t s, const Logs& l, TrainingContext& c) {
    t.on_train_batch_end(s, l, c);
} || requires(T& t, std::size_t s, const Logs& l) { t.on_train_batch_end(s, l); };
template <class T>
concept has_epoch_end = requires(T& t, std::size_t e, Logs& l, TrainingContext& c) { t.on_epoch_end(e, l, c); } ||
                        requires(T& t, std::size_t e, Logs& l) { t.on_epoch_end(e, l); };
template <class T>
concept has_train_end = requires(T& t, const Logs& l, TrainingContext& c) { t.on_train_end(l, c); } ||
                        requires(T& t, const Logs& l) { t.on_train_end(l); };
template <class T>
concept has_state = requires(const T& t, T& m, CallbackState& s) {
    t.save_state(s);
    m.load_state(std::as_const(s));
};

// The calls a Callback forwards to its object, made once per callback type.
struct callback_calls {
    void (*train_begin)(void*, TrainingContext&);
    void (*epoch_begin)(void*, std::size_t, TrainingContext&);
    void (*batch_begin)(void*, std::size_t, TrainingContext&);
    void (*batch_end)(void*, std::size_t, const Logs&, TrainingContext&);
    void (*epoch_end)(void*, std::size_t, Logs&, TrainingContext&);
    void (*train_end)(void*, const Logs&, TrainingContext&);
    void (*save_state)(const void*, CallbackState&);
    void (*load_state)(void*, const CallbackState&);
    bool per_step;
};

template <class T>
struct callback_thunks {
    static T& self(void* p) { return *static_cast<T*>(p); }
    static void train_begin(void* p, TrainingContext& c) {
        if constexpr (requires { self(p).on_train_begin(c); })
            self(p).on_train_begin(c);
        else if constexpr (requires { self(p).on_train_begin(); })
            self(p).on_train_begin();
    }
    static void epoch_begin(void* p, std::size_t e, TrainingContext& c) {
        if constexpr (requires { self(p).on_epoch_begin(e, c); })
            self(p).on_epoch_begin(e, c);
        else if constexpr (requires { self(p).on_epoch_begin(e); })
            self(p).on_epoch_begin(e);
    }
    static void batch_begin(void* p, std::size_t s, TrainingContext& c) {
        if constexpr (requires { self(p).on_train_batch_begin(s, c); })
            self(p).on_train_batch_begin(s, c);
        else if constexpr (requires { self(p).on_train_batch_begin(s); })
            self(p).on_train_batch_begin(s);
    }
    static void batch_end(void* p, std::size_t s, const Logs& l, TrainingContext& c) {
        if constexpr (requires { self(p).on_train_batch_end(s, l, c); })
            self(p).on_train_batch_end(s, l, c);
        else if constexpr (requires { self(p).on_train_batch_end(s, l); })
            self(p).on_train_batch_end(s, l);
    }
    static void epoch_end(void* p, std::size_t e, Logs& l, TrainingContext& c) {
        if constexpr (requires { self(p).on_epoch_end(e, l, c); })
            self(p).on_epoch_end(e, l, c);
        else if constexpr (requires { self(p).on_epoch_end(e, l); })
            self(p).on_epoch_end(e, l);
    }
    static void train_end(void* p, const Logs& l, TrainingContext& c) {
        if constexpr (requires { self(p).on_train_end(l, c); })
            self(p).on_train_end(l, c);
        else if constexpr (requires { self(p).on_train_end(l); })
            self(p).on_train_end(l);
    }
    static void save_state(const void* p, CallbackState& s) {
        if constexpr (has_state<T>) static_cast<const T*>(p)->save_state(s);
    }
    static void load_state(void* p, const CallbackState& s) {
        if constexpr (has_state<T>) self(p).load_state(s);
    }
    static constexpr callback_calls calls{&train_begin, &epoch_begin, &batch_begin, &batch_end, &epoch_end,
                                          &train_end,   &save_state,  &load_state,  has_batch_begin<T> || has_batch_end<T>};
};
}  // namespace detail

// A type with at least one of Keras' hooks, as members:
//   on_train_begin(TrainingContext&)                 on_train_end(const Logs&, TrainingContext&)
//   on_epoch_begin(std::size_t epoch, TrainingContext&)
//   on_epoch_end(std::size_t epoch, Logs&, TrainingContext&)
//   on_train_batch_begin(std::size_t step, TrainingContext&)
//   on_train_batch_end(std::size_t step, const Logs&, TrainingContext&)
// (each also without its TrainingContext& argument). Epochs and steps count from 0, as in
// Keras. A callback that keeps state across epochs also has save_state(CallbackState&) const
// and load_state(const CallbackState&), which checkpoints use.
template <class T>
concept callback = detail::has_train_begin<T> || detail::has_epoch_begin<T> || detail::has_batch_begin<T> ||
                   detail::has_batch_end<T> || detail::has_epoch_end<T> || detail::has_train_end<T>;

// One entry of FitOptions::callbacks. Made from a callback object: a named (non-const) one is
// referred to, so that its state can be read after fit (early_stopping.stopped_epoch); a
// temporary is moved in and owned (copies of the handle share it).
class Callback {
public:
    template <class C>
        requires(!std::is_same_v<std::remove_cvref_t<C>, Callback>)
    Callback(C&& c) {  // NOLINT(google-explicit-constructor): {early_stopping, CSVLogger{...}}
        using T = std::remove_cvref_t<C>;
        static_assert(callback<T>,
                      "latent: a callback needs at least one of the hooks on_train_begin, on_epoch_begin, "
                      "on_train_batch_begin, on_train_batch_end, on_epoch_end, on_train_end (train/callback.hpp "
                      "lists their arguments)");
        if constexpr (std::is_lvalue_reference_v<C> && !std::is_const_v<std::remove_reference_t<C>>) {
            object_ = std::addressof(c);
        } else {
            owned_ = std::make_shared<T>(std::forward<C>(c));
            object_ = owned_.get();
        }
        calls_ = &detail::callback_thunks<T>::calls;
        if constexpr (requires { T::callback_name; })
            name_ = T::callback_name;
        else
            name_ = "callback";
    }

    void on_train_begin(TrainingContext& c) const { calls_->train_begin(object_, c); }
    void on_epoch_begin(std::size_t epoch, TrainingContext& c) const { calls_->epoch_begin(object_, epoch, c); }
    void on_train_batch_begin(std::size_t step, TrainingContext& c) const {
        calls_->batch_begin(object_, step, c);
    }
    void on_train_batch_end(std::size_t step, const Logs& logs, TrainingContext& c) const {
        calls_->batch_end(object_, step, logs, c);
    }
    void on_epoch_end(std::size_t epoch, Logs& logs, TrainingContext& c) const {
        calls_->epoch_end(object_, epoch, logs, c);
    }
    void on_train_end(const Logs& logs, TrainingContext& c) const { calls_->train_end(object_, logs, c); }
    void save_state(CallbackState& s) const { calls_->save_state(object_, s); }
    void load_state(const CallbackState& s) const { calls_->load_state(object_, s); }
    // Whether it has a per-step hook (fit skips building step logs for none).
    bool per_step() const noexcept { return calls_->per_step; }
    // Its type's callback_name ("EarlyStopping"), or "callback": how checkpoints match states.
    std::string_view name() const noexcept { return name_; }

private:
    std::shared_ptr<void> owned_;
    void* object_ = nullptr;
    const detail::callback_calls* calls_ = nullptr;
    std::string_view name_;
};

namespace detail {
// Runs fit's callbacks in order around its loop and shows their messages once a progress line
// is complete.
class callback_runner {
public:
    callback_runner(const std::vector<Callback>& callbacks, TrainingContext& context, std::ostream& out)
        : callbacks_(callbacks), context_(context), out_(out) {
        for (const auto& c : callbacks_) per_step_ = per_step_ || c.per_step();
    }
    bool any() const noexcept { return !callbacks_.empty(); }
    bool per_step() const noexcept { return per_step_; }
    TrainingContext& context() noexcept { return context_; }
    bool stop_training() const noexcept { return context_.stop_training; }

    void train_begin() {
        for (const auto& c : callbacks_) c.on_train_begin(context_);
        flush();
    }
    // Their messages are shown at once, before the epoch's progress begins.
    void epoch_begin(std::size_t epoch) {
        for (const auto& c : callbacks_) c.on_epoch_begin(epoch, context_);
        flush();
    }
    void batch_begin(std::size_t step) {
        if (per_step_)
            for (const auto& c : callbacks_) c.on_train_batch_begin(step, context_);
    }
    void batch_end(std::size_t step, const std::vector<std::pair<std::string, double>>& shown) {
        if (!per_step_) return;
        logs_.entries = shown;
        for (const auto& c : callbacks_) c.on_train_batch_end(step, logs_, context_);
    }
    // The epoch's figures go through every callback (which may add to them) and come back.
    void epoch_end(std::size_t epoch, std::vector<std::pair<std::string, double>>& shown) {
        if (callbacks_.empty()) return;
        logs_.entries = std::move(shown);
        for (const auto& c : callbacks_) c.on_epoch_end(epoch, logs_, context_);
        shown = std::move(logs_.entries);
    }
    void train_end(const std::vector<std::pair<std::string, double>>& last) {
        logs_.entries = last;
        for (const auto& c : callbacks_) c.on_train_end(logs_, context_);
        flush();
    }
    void flush() { context_.flush_messages(out_); }

private:
    const std::vector<Callback>& callbacks_;
    TrainingContext& context_;
    std::ostream& out_;
    Logs logs_;
    bool per_step_ = false;
};
}  // namespace detail

}  // namespace latent
