// SGD with optional momentum and Nesterov momentum, updating exactly as Keras' SGD:
// v = momentum * v - lr * g;  w += v  (Nesterov: w += momentum * v - lr * g).
#pragma once

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct SGD {
    static constexpr std::string_view name = "SGD";
    LearningRate lr = 0.01;  // or a schedule of the step count (schedules.hpp)
    double momentum = 0.0;
    bool nesterov = false;

    void validate() const {
        lr.validate(name);
        detail::check_unit(momentum, "momentum", "SGD");
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class SgdUpdater final : public UpdaterBase<SgdUpdater<B>, SGD> {
public:
    using UpdaterBase<SgdUpdater<B>, SGD>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> state_buffers(std::size_t size) override {
        if (s_.momentum == 0.0) return {};
        return {{"velocity", velocity_.host_view(size)}};
    }

    void step(float* params, const float* grads, std::size_t size, const std::vector<ArenaRange>& ranges) override {
        const float lr = static_cast<float>(s_.lr.checked_at(this->iterations_, SGD::name));
        const float m = static_cast<float>(s_.momentum);
        if (s_.momentum == 0.0) {
            for (const auto& r : ranges) {
                const float rate = lr * static_cast<float>(r.lr_scale);
                ops::elementwise<B>(r.end - r.begin,
                                    [rate] LATENT_HOST_DEVICE(float& w, const float& g) { w -= rate * g; },
                                    params + r.begin, grads + r.begin);
            }
        } else {
            velocity_.before_step(size);
            const bool nesterov = s_.nesterov;
            for (const auto& r : ranges) {
                const float rate = lr * static_cast<float>(r.lr_scale);
                ops::elementwise<B>(
                    r.end - r.begin,
                    [rate, m, nesterov] LATENT_HOST_DEVICE(float& w, float& v, const float& g) {
                        v = m * v - rate * g;
                        w += nesterov ? m * v - rate * g : v;
                    },
                    params + r.begin, velocity_.data() + r.begin, grads + r.begin);
            }
        }
        ++this->iterations_;
    }

private:
    using UpdaterBase<SgdUpdater<B>, SGD>::s_;
    StateBuffer<B> velocity_;  // (arena size)
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> SGD::build() const {
    return std::make_unique<detail::SgdUpdater<B>>(*this);
}

}  // namespace latent::optim
