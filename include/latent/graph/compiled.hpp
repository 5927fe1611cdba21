// The slot where compile() leaves a model's optimizer, loss and metrics. The model only holds
// it; what is inside is defined by latent/train, so model code carries no training logic.
#pragma once

#include <memory>

namespace latent::detail {

struct compiled_state {
    virtual ~compiled_state() = default;
    virtual std::unique_ptr<compiled_state> clone() const = 0;
};

// Owns a compiled_state and deep-copies it with the model that holds it.
class compiled_slot {
public:
    compiled_slot() = default;
    compiled_slot(const compiled_slot& other) : state_(other.state_ ? other.state_->clone() : nullptr) {}
    compiled_slot(compiled_slot&&) noexcept = default;
    compiled_slot& operator=(compiled_slot other) noexcept {
        state_.swap(other.state_);
        return *this;
    }
    ~compiled_slot() = default;

    compiled_state* get() const noexcept { return state_.get(); }
    explicit operator bool() const noexcept { return state_ != nullptr; }
    void reset(std::unique_ptr<compiled_state> state) noexcept { state_ = std::move(state); }

private:
    std::unique_ptr<compiled_state> state_;
};

}  // namespace latent::detail
