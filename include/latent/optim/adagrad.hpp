// Adagrad as Keras computes it: each weight's accumulator (starting at 0.1) adds g^2, and
// w -= lr * g / sqrt(accumulator + epsilon): a rate per weight that shrinks as its gradients add up.
#pragma once

#include <cmath>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct Adagrad {
    static constexpr std::string_view name = "Adagrad";
    LearningRate lr = 0.001;  // or a schedule of the step count (schedules.hpp)
    double initial_accumulator_value = 0.1;
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
        detail::check_non_negative(initial_accumulator_value, "initial_accumulator_value", name);
        detail::check_positive(epsilon, "epsilon", name);
        detail::check_common_settings(*this);
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class AdagradUpdater final : public UpdaterBase<AdagradUpdater<B>, Adagrad, B> {
public:
    explicit AdagradUpdater(Adagrad settings)
        : UpdaterBase<AdagradUpdater<B>, Adagrad, B>(settings),
          accumulator_(static_cast<float>(settings.initial_accumulator_value)) {}

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        return {{"accumulator", accumulator_.host_view(size)}};
    }

    void before_step(std::size_t size) { accumulator_.before_step(size); }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float lr, const Adjust& adjust) {
        const float rate = lr * static_cast<float>(r.lr_scale), eps = static_cast<float>(s_.epsilon);
        ops::elementwise<B>(
            r.end - r.begin,
            [rate, eps, adjust] LATENT_HOST_DEVICE(float& w, float& acc, const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                acc += g * g;
                w -= rate * g / std::sqrt(acc + eps);
            },
            params + r.begin, accumulator_.data() + r.begin, grads + r.begin);
    }

private:
    using UpdaterBase<AdagradUpdater<B>, Adagrad, B>::s_;
    StateBuffer<B> accumulator_;  // (arena size)
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> Adagrad::build() const {
    return std::make_unique<detail::AdagradUpdater<B>>(*this);
}

}  // namespace latent::optim
