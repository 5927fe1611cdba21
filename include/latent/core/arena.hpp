// The parameter arena: every parameter of a model in one contiguous aligned buffer, with a
// table of named slots ("dense_1/kernel", its shape, offset and whether it is trainable).
// Gradients live in a second arena of the same layout, so optimizers make one pass over both.
#pragma once

#include <cstddef>
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
};

template <class T = float>
class ParameterArena {
public:
    ParameterArena() = default;

    // Lays out the slots back to back (offsets are assigned here) and zeroes the values.
    explicit ParameterArena(std::vector<ParamSlot> slots) : slots_(std::move(slots)) {
        std::size_t offset = 0;
        for (auto& s : slots_) {
            s.offset = offset;
            offset += s.size;
        }
        values_.resize_discard(offset);
    }

    std::size_t size() const noexcept { return values_.size(); }
    T* data() noexcept { return values_.data(); }
    const T* data() const noexcept { return values_.data(); }
    std::span<T> values() noexcept { return values_.span(); }
    std::span<const T> values() const noexcept { return values_.span(); }
    const std::vector<ParamSlot>& slots() const noexcept { return slots_; }
    std::vector<ParamSlot>& slots() noexcept { return slots_; }

    std::span<T> slot_values(const ParamSlot& s) noexcept { return {data() + s.offset, s.size}; }
    std::span<const T> slot_values(const ParamSlot& s) const noexcept { return {data() + s.offset, s.size}; }

    const ParamSlot* find(const std::string& name) const noexcept {
        for (const auto& s : slots_)
            if (s.name == name) return &s;
        return nullptr;
    }

    // The maximal ranges of trainable elements: what an optimizer updates.
    std::vector<ArenaRange> trainable_ranges() const {
        std::vector<ArenaRange> ranges;
        for (const auto& s : slots_) {
            if (!s.trainable || s.size == 0) continue;
            if (!ranges.empty() && ranges.back().end == s.offset)
                ranges.back().end += s.size;
            else
                ranges.push_back({s.offset, s.offset + s.size});
        }
        return ranges;
    }

    std::size_t trainable_count() const noexcept {
        std::size_t n = 0;
        for (const auto& s : slots_) n += s.trainable ? s.size : 0;
        return n;
    }

private:
    std::vector<ParamSlot> slots_;
    AlignedBuffer<T> values_;
};

}  // namespace latent
