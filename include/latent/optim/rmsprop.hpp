// RMSprop as Keras computes it: v = rho v + (1 - rho) g^2; step = lr g / sqrt(v + epsilon);
// with momentum, m = momentum m + step and w -= m, else w -= step.
#pragma once

#include <cmath>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct RMSprop {
    static constexpr std::string_view name = "RMSprop";
    LearningRate lr = 0.001;  // or a schedule of the step count (schedules.hpp)
    double rho = 0.9;
    double momentum = 0.0;
    double epsilon = 1e-7;
    // Keras 3's settings of every optimizer (0: off), as in SGD: decoupled weight decay and
    // one of the three clippings.
    double weight_decay = 0.0;
    double clipnorm = 0.0;
    double clipvalue = 0.0;
    double global_clipnorm = 0.0;
    bool use_ema = false;
    double ema_momentum = 0.99;
    std::size_t ema_overwrite_frequency = 0;
    std::vector<std::string> exclude_from_weight_decay{};  // weights whose name contains one: no decay

    void validate() const {
        lr.validate(name);
        detail::check_unit(rho, "rho", "RMSprop");
        detail::check_unit(momentum, "momentum", "RMSprop");
        detail::check_positive(epsilon, "epsilon", "RMSprop");
        detail::check_common_settings(*this);
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class RmspropUpdater final : public UpdaterBase<RmspropUpdater<B>, RMSprop, B> {
public:
    using UpdaterBase<RmspropUpdater<B>, RMSprop, B>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        return {{"mean_square", v_.host_view(size)}, {"momentum", m_.host_view(size)}};
    }

    void before_step(std::size_t size) {
        v_.before_step(size);
        m_.before_step(size);
    }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float lr, const Adjust& adjust) {
        const float rate = lr * static_cast<float>(r.lr_scale), rho = static_cast<float>(s_.rho);
        const float mom = static_cast<float>(s_.momentum), eps = static_cast<float>(s_.epsilon);
        const bool use_momentum = s_.momentum > 0.0;
        ops::elementwise<B>(
            r.end - r.begin,
            [rate, rho, mom, eps, use_momentum, adjust] LATENT_HOST_DEVICE(float& w, float& v, float& m,
                                                                             const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                v = rho * v + (1.0f - rho) * g * g;
                const float step = rate * g / std::sqrt(v + eps);
                if (use_momentum) {
                    m = mom * m + step;
                    w -= m;
                } else {
                    w -= step;
                }
            },
            params + r.begin, v_.data() + r.begin, m_.data() + r.begin, grads + r.begin);
    }

private:
    using UpdaterBase<RmspropUpdater<B>, RMSprop, B>::s_;
    StateBuffer<B> v_;  // (arena size) mean squares
    StateBuffer<B> m_;  // (arena size) momentum
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> RMSprop::build() const {
    return std::make_unique<detail::RmspropUpdater<B>>(*this);
}

}  // namespace latent::optim
