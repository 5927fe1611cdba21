// Nadam as Keras 3 computes it: Adam with Nesterov momentum and the momentum schedule
// u_t = b1 (1 - 0.5 * 0.96^t) (Keras 2 and Dozat's paper had 0.96^(0.004 t)); m and v as Adam's, then
// w -= lr * (u_{t+1} m / (1 - prod u_1..u_{t+1}) + (1 - u_t) g / (1 - prod u_1..u_t)) / (sqrt(v / (1 - b2^t)) + epsilon).
#pragma once

#include <cmath>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct Nadam {
    static constexpr std::string_view name = "Nadam";
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
class NadamUpdater final : public UpdaterBase<NadamUpdater<B>, Nadam, B> {
public:
    using UpdaterBase<NadamUpdater<B>, Nadam, B>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        return {{"m", m_.host_view(size)}, {"v", v_.host_view(size)}};
    }

    // This step's factors: of m, of g, and v's bias correction.
    struct Coefficients {
        float of_m, of_g, v_correction;
    };

    void before_step(std::size_t size) {
        m_.before_step(size);
        v_.before_step(size);
    }
    Coefficients coefficients(double lr, double t) {
        const double u_t = momentum_at(t), u_next = momentum_at(t + 1);
        // Keras keeps the product of the u's as a variable; it is a function of the step count,
        // so it is computed from it (kept from the last step: resumed runs recompute it once).
        const double product_t = momentum_product(static_cast<std::size_t>(t)), product_next = product_t * u_next;
        return {static_cast<float>(lr * u_next / (1.0 - product_next)),
                static_cast<float>(lr * (1.0 - u_t) / (1.0 - product_t)),
                static_cast<float>(1.0 / (1.0 - std::pow(s_.beta_2, t)))};
    }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, Coefficients k, const Adjust& adjust) {
        const float scale = static_cast<float>(r.lr_scale);
        const float b1 = static_cast<float>(s_.beta_1), b2 = static_cast<float>(s_.beta_2);
        const float eps = static_cast<float>(s_.epsilon);
        ops::elementwise<B>(
            r.end - r.begin,
            [k, scale, b1, b2, eps, adjust] LATENT_HOST_DEVICE(float& w, float& m, float& v, const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                m += (1.0f - b1) * (g - m);
                v += (1.0f - b2) * (g * g - v);
                w -= scale * (k.of_m * m + k.of_g * g) / (std::sqrt(v * k.v_correction) + eps);
            },
            params + r.begin, m_.data() + r.begin, v_.data() + r.begin, grads + r.begin);
    }

private:
    using UpdaterBase<NadamUpdater<B>, Nadam, B>::s_;

    double momentum_at(double t) const { return s_.beta_1 * (1.0 - 0.5 * std::pow(0.96, t)); }
    // u_1 * ... * u_t, carried forward from the last step's when it follows it.
    double momentum_product(std::size_t t) {
        if (t != product_step_ + 1) {
            product_ = 1.0;
            for (std::size_t i = 1; i < t; ++i) product_ *= momentum_at(static_cast<double>(i));
            product_step_ = t - 1;
        }
        product_ *= momentum_at(static_cast<double>(t));
        product_step_ = t;
        return product_;
    }

    StateBuffer<B> m_;  // (arena size) first moments
    StateBuffer<B> v_;  // (arena size) second moments
    double product_ = 1.0;          // u_1 * ... * u_{product_step_}
    std::size_t product_step_ = 0;
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> Nadam::build() const {
    return std::make_unique<detail::NadamUpdater<B>>(*this);
}

}  // namespace latent::optim
