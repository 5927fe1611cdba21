// Adamax as Keras computes it, Adam with the infinity norm: m += (1 - b1)(g - m);
// u = max(b2 u, |g|); w -= lr / (1 - b1^t) * m / (u + epsilon).
#pragma once

#include <cmath>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct Adamax {
    static constexpr std::string_view name = "Adamax";
    LearningRate lr = 0.001;  // or a schedule of the step count (schedules.hpp)
    double beta_1 = 0.9;
    double beta_2 = 0.999;
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

    void validate() const { detail::check_moment_settings(*this); }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class AdamaxUpdater final : public UpdaterBase<AdamaxUpdater<B>, Adamax, B> {
public:
    using UpdaterBase<AdamaxUpdater<B>, Adamax, B>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        return {{"m", m_.host_view(size)}, {"u", u_.host_view(size)}};
    }

    void before_step(std::size_t size) {
        m_.before_step(size);
        u_.before_step(size);
    }
    // Step t's rate with the first moment's bias correction.
    float coefficients(double lr, double t) const { return static_cast<float>(lr / (1.0 - std::pow(s_.beta_1, t))); }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float alpha, const Adjust& adjust) {
        const float rate = alpha * static_cast<float>(r.lr_scale);
        const float b1 = static_cast<float>(s_.beta_1), b2 = static_cast<float>(s_.beta_2);
        const float eps = static_cast<float>(s_.epsilon);
        ops::elementwise<B>(
            r.end - r.begin,
            [rate, b1, b2, eps, adjust] LATENT_HOST_DEVICE(float& w, float& m, float& u, const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                m += (1.0f - b1) * (g - m);
                const float decayed = b2 * u, size = std::abs(g);
                u = decayed > size ? decayed : size;
                w -= rate * m / (u + eps);
            },
            params + r.begin, m_.data() + r.begin, u_.data() + r.begin, grads + r.begin);
    }

private:
    using UpdaterBase<AdamaxUpdater<B>, Adamax, B>::s_;
    StateBuffer<B> m_;  // (arena size) first moments
    StateBuffer<B> u_;  // (arena size) exponentially weighted infinity norms
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> Adamax::build() const {
    return std::make_unique<detail::AdamaxUpdater<B>>(*this);
}

}  // namespace latent::optim
