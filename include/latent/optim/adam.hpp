// Adam as Keras computes it: m += (1 - b1)(g - m); v += (1 - b2)(g^2 - v);
// w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon). AdamW is Adam with Keras'
// decoupled weight decay on by default (0.004): w -= lr * weight_decay * w before each update.
// With amsgrad (Reddi et al., 2018), the step divides by the largest v so far instead of v.
#pragma once

#include <cmath>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct Adam {
    static constexpr std::string_view name = "Adam";
    LearningRate lr = 0.001;  // or a schedule of the step count (schedules.hpp)
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;  // divide by the running maximum of v (a third state per weight)
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

    void validate() const;
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

// Keras' AdamW (Loshchilov and Hutter): Adam's settings, weight_decay 0.004 by default.
struct AdamW {
    static constexpr std::string_view name = "AdamW";
    LearningRate lr = 0.001;
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    double weight_decay = 0.004;
    double clipnorm = 0.0;
    double clipvalue = 0.0;
    double global_clipnorm = 0.0;
    bool use_ema = false;
    double ema_momentum = 0.99;
    std::size_t ema_overwrite_frequency = 0;
    std::vector<std::string> exclude_from_weight_decay{};  // weights whose name contains one: no decay

    void validate() const;
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B, class Settings>
class AdamUpdater final : public UpdaterBase<AdamUpdater<B, Settings>, Settings, B> {
public:
    using UpdaterBase<AdamUpdater<B, Settings>, Settings, B>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        std::vector<std::pair<std::string, AlignedBuffer<float>*>> buffers{{"m", m_.host_view(size)},
                                                                           {"v", v_.host_view(size)}};
        if (s_.amsgrad) buffers.emplace_back("v_hat", v_hat_.host_view(size));
        return buffers;
    }

    void before_step(std::size_t size) {
        m_.before_step(size);
        v_.before_step(size);
        if (s_.amsgrad) v_hat_.before_step(size);
    }
    // Step t's rate with both bias corrections.
    float coefficients(double lr, double t) const {
        return static_cast<float>(lr * std::sqrt(1.0 - std::pow(s_.beta_2, t)) / (1.0 - std::pow(s_.beta_1, t)));
    }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float alpha, const Adjust& adjust) {
        const float rate = alpha * static_cast<float>(r.lr_scale);
        const float b1 = static_cast<float>(s_.beta_1), b2 = static_cast<float>(s_.beta_2);
        const float eps = static_cast<float>(s_.epsilon);
        if (s_.amsgrad) {
            ops::elementwise<B>(
                r.end - r.begin,
                [rate, b1, b2, eps, adjust] LATENT_HOST_DEVICE(float& w, float& m, float& v, float& v_hat,
                                                               const float& raw) {
                    const float g = adjust(raw);
                    adjust.decay(w);
                    m += (1.0f - b1) * (g - m);
                    v += (1.0f - b2) * (g * g - v);
                    v_hat = v_hat > v ? v_hat : v;
                    w -= rate * m / (std::sqrt(v_hat) + eps);
                },
                params + r.begin, m_.data() + r.begin, v_.data() + r.begin, v_hat_.data() + r.begin, grads + r.begin);
            return;
        }
        ops::elementwise<B>(
            r.end - r.begin,
            [rate, b1, b2, eps, adjust] LATENT_HOST_DEVICE(float& w, float& m, float& v, const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                m += (1.0f - b1) * (g - m);
                v += (1.0f - b2) * (g * g - v);
                w -= rate * m / (std::sqrt(v) + eps);
            },
            params + r.begin, m_.data() + r.begin, v_.data() + r.begin, grads + r.begin);
    }

private:
    using UpdaterBase<AdamUpdater<B, Settings>, Settings, B>::s_;
    StateBuffer<B> m_;  // (arena size) first moments
    StateBuffer<B> v_;  // (arena size) second moments
    StateBuffer<B> v_hat_;  // (arena size, with amsgrad only) the largest second moments so far
};
}  // namespace detail

inline void Adam::validate() const { detail::check_moment_settings(*this); }
inline void AdamW::validate() const { detail::check_moment_settings(*this); }

template <backend_policy B>
std::unique_ptr<Optimizer> Adam::build() const {
    return std::make_unique<detail::AdamUpdater<B, Adam>>(*this);
}
template <backend_policy B>
std::unique_ptr<Optimizer> AdamW::build() const {
    return std::make_unique<detail::AdamUpdater<B, AdamW>>(*this);
}

}  // namespace latent::optim
