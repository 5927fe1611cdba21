// Adam as Keras computes it: m += (1 - b1)(g - m); v += (1 - b2)(g^2 - v);
// w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon).
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

    void validate() const {
        lr.validate(name);
        detail::check_unit(beta_1, "beta_1", "Adam");
        detail::check_unit(beta_2, "beta_2", "Adam");
        detail::check_positive(epsilon, "epsilon", "Adam");
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class AdamUpdater final : public UpdaterBase<AdamUpdater<B>, Adam> {
public:
    using UpdaterBase<AdamUpdater<B>, Adam>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> state_buffers(std::size_t size) override {
        return {{"m", m_.host_view(size)}, {"v", v_.host_view(size)}};
    }

    void step(float* params, const float* grads, std::size_t size, const std::vector<ArenaRange>& ranges) override {
        m_.before_step(size);
        v_.before_step(size);
        const double lr = s_.lr.checked_at(this->iterations_, Adam::name);
        ++this->iterations_;
        const double t = static_cast<double>(this->iterations_);
        const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(s_.beta_2, t)) /
                                               (1.0 - std::pow(s_.beta_1, t)));
        const float b1 = static_cast<float>(s_.beta_1), b2 = static_cast<float>(s_.beta_2);
        const float eps = static_cast<float>(s_.epsilon);
        for (const auto& r : ranges) {
            const float rate = alpha * static_cast<float>(r.lr_scale);
            ops::elementwise<B>(
                r.end - r.begin,
                [rate, b1, b2, eps] LATENT_HOST_DEVICE(float& w, float& m, float& v, const float& g) {
                    m += (1.0f - b1) * (g - m);
                    v += (1.0f - b2) * (g * g - v);
                    w -= rate * m / (std::sqrt(v) + eps);
                },
                params + r.begin, m_.data() + r.begin, v_.data() + r.begin, grads + r.begin);
        }
    }

private:
    using UpdaterBase<AdamUpdater<B>, Adam>::s_;
    StateBuffer<B> m_;  // (arena size) first moments
    StateBuffer<B> v_;  // (arena size) second moments
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> Adam::build() const {
    return std::make_unique<detail::AdamUpdater<B>>(*this);
}

}  // namespace latent::optim
