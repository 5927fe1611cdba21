// Adadelta as Keras computes it (Zeiler, 2012): a = rho a + (1 - rho) g^2;
// delta = -sqrt(d + epsilon) / sqrt(a + epsilon) * g; d = rho d + (1 - rho) delta^2; w += lr delta.
// The step's scale comes from the past steps themselves, so lr = 1 is the paper's form.
#pragma once

#include <cmath>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct Adadelta {
    static constexpr std::string_view name = "Adadelta";
    LearningRate lr = 0.001;  // Keras' default; 1.0 is the paper's form
    double rho = 0.95;
    double epsilon = 1e-7;
    // Keras 3's settings of every optimizer (0: off), as in SGD.
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
        detail::check_unit(rho, "rho", name);
        detail::check_positive(epsilon, "epsilon", name);
        detail::check_common_settings(*this);
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class AdadeltaUpdater final : public UpdaterBase<AdadeltaUpdater<B>, Adadelta, B> {
public:
    using UpdaterBase<AdadeltaUpdater<B>, Adadelta, B>::UpdaterBase;

    // Keras' names for the two accumulators.
    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        return {{"accumulated_grad", squared_grads_.host_view(size)},
                {"accumulated_delta_var", squared_deltas_.host_view(size)}};
    }

    void before_step(std::size_t size) {
        squared_grads_.before_step(size);
        squared_deltas_.before_step(size);
    }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float lr, const Adjust& adjust) {
        const float rate = lr * static_cast<float>(r.lr_scale);
        const float rho = static_cast<float>(s_.rho), eps = static_cast<float>(s_.epsilon);
        ops::elementwise<B>(
            r.end - r.begin,
            [rate, rho, eps, adjust] LATENT_HOST_DEVICE(float& w, float& a, float& d, const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                a = rho * a + (1.0f - rho) * g * g;
                const float delta = -std::sqrt(d + eps) * g / std::sqrt(a + eps);
                d = rho * d + (1.0f - rho) * delta * delta;
                w += rate * delta;
            },
            params + r.begin, squared_grads_.data() + r.begin, squared_deltas_.data() + r.begin,
            grads + r.begin);
    }

private:
    using UpdaterBase<AdadeltaUpdater<B>, Adadelta, B>::s_;
    StateBuffer<B> squared_grads_;   // (arena size) running averages of g^2
    StateBuffer<B> squared_deltas_;  // (arena size) running averages of delta^2
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> Adadelta::build() const {
    return std::make_unique<detail::AdadeltaUpdater<B>>(*this);
}

}  // namespace latent::optim
