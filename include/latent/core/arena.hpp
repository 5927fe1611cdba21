// The parameter arena: every parameter of a model in one contiguous aligned buffer, with a
// table of named slots ("dense_1/kernel", its shape, offset and whether it is trainable).
// Gradients live in a second arena of the same layout, so optimizers make one pass over both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "buffer.hpp"
#include "errors.hpp"
#include "shape.hpp"

namespace latent {

struct ParamSlot {
    std::string name;                // "<layer name>/<parameter name>"
    std::vector<std::size_t> dims;   // e.g. (784, 256) for a Dense kernel
    std::size_t offset = 0;          // first element in the arena
    std::size_t size = 0;            // element count
    bool trainable = true;           // false for frozen layers and non-trainable state
    std::size_t layer = 0;           // index of the owning layer
};

// Half-open element range [begin, end) of an arena.
struct ArenaRange {
    std::size_t begin = 0;
    std::size_t end = 0;
    double lr_scale = 1.0;  // the optimizer's learning rate is multiplied by this here (fine-tuning)

    friend bool operator==(const ArenaRange&, const ArenaRange&) = default;
};

// Where an arena's values live when it shares them with a bigger arena: a Sequential called
// inside a functional model trains the model's copy of its weights (one set of weights, two
// views). data() is asked each time because the bigger arena may move when it grows.
template <class T>
class SharedValues {
public:
    virtual ~SharedValues() = default;
    virtual T* data() = 0;
};

template <class T = float>
class ParameterArena {
public:
    ParameterArena() = default;

    // A copy owns its values, also when the original shares them with a graph.
    ParameterArena(const ParameterArena& other) : slots_(other.slots_), size_(other.size_) {
        values_.resize_discard(size_);
        std::copy_n(other.data(), size_, values_.data());
    }
    ParameterArena& operator=(const ParameterArena& other) {
        if (this != &other) *this = ParameterArena(other);
        return *this;
    }
    ParameterArena(ParameterArena&& other) noexcept
        : slots_(std::move(other.slots_)), values_(std::move(other.values_)), size_(std::exchange(other.size_, 0)),
          shared_(std::move(other.shared_)) {}
    ParameterArena& operator=(ParameterArena&& other) noexcept {
        slots_ = std::move(other.slots_);
        values_ = std::move(other.values_);
        size_ = std::exchange(other.size_, 0);
        shared_ = std::move(other.shared_);
        return *this;
    }
    ~ParameterArena() = default;

    // Lays out the slots back to back (offsets are assigned here) and zeroes the values.
    explicit ParameterArena(std::vector<ParamSlot> slots) : slots_(std::move(slots)) {
        std::size_t offset = 0;
        for (auto& s : slots_) {
            s.offset = offset;
            offset += s.size;
        }
        values_.resize_discard(offset);
        size_ = offset;
    }

    std::size_t size() const noexcept { return size_; }
    T* data() noexcept { return shared_ ? shared_->data() : values_.data(); }
    const T* data() const noexcept { return shared_ ? shared_->data() : values_.data(); }
    std::span<T> values() noexcept { return {data(), size_}; }
    std::span<const T> values() const noexcept { return {data(), size_}; }

    // From now on the values live in `host` (which must hold size() elements, laid out as
    // here); this arena's own copy is released.
    void share_values(std::shared_ptr<SharedValues<T>> host) {
        shared_ = std::move(host);
        values_ = {};
    }
    const std::vector<ParamSlot>& slots() const noexcept { return slots_; }
    std::vector<ParamSlot>& slots() noexcept { return slots_; }

    std::span<T> slot_values(const ParamSlot& s) noexcept { return {data() + s.offset, s.size}; }
    std::span<const T> slot_values(const ParamSlot& s) const noexcept { return {data() + s.offset, s.size}; }

    const ParamSlot* find(const std::string& name) const noexcept {
        for (const auto& s : slots_)
            if (s.name == name) return &s;
        return nullptr;
    }

    // What an optimizer updates: one range per trainable slot (Keras' variables, which clipnorm
    // clips one by one), in arena order; the optimizer merges neighbours where it can.
    std::vector<ArenaRange> trainable_ranges() const {
        std::vector<ArenaRange> ranges;
        for (const auto& s : slots_)
            if (s.trainable && s.size != 0) ranges.push_back({s.offset, s.offset + s.size});
        return ranges;
    }
    // Their names ("dense/kernel", ...), in the same order.
    std::vector<std::string> trainable_names() const {
        std::vector<std::string> names;
        for (const auto& s : slots_)
            if (s.trainable && s.size != 0) names.push_back(s.name);
        return names;
    }

    std::size_t trainable_count() const noexcept {
        std::size_t n = 0;
        for (const auto& s : slots_) n += s.trainable ? s.size : 0;
        return n;
    }

private:
    std::vector<ParamSlot> slots_;
    AlignedBuffer<T> values_;
    std::size_t size_ = 0;
    std::shared_ptr<SharedValues<T>> shared_;
};

}  // namespace latent
