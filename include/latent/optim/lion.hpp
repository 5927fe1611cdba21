// Lion as Keras 3 computes it (Chen et al., 2023): w -= lr * sign(b1 m + (1 - b1) g), then
// m = b2 m + (1 - b2) g. One state per weight, and steps of the same size for every weight.
#pragma once

#include <string>

#include "../backend/ops.hpp"
#include "optimizer.hpp"

namespace latent::optim {

struct Lion {
    static constexpr std::string_view name = "Lion";
    LearningRate lr = 0.001;  // Keras' default; Lion wants 3-10x less than AdamW
    double beta_1 = 0.9;      // in (0, 1]: at 0 it would be SignSGD, as Keras refuses
    double beta_2 = 0.99;
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
        if (!(beta_1 > 0.0 && beta_1 <= 1.0))
            throw value_error("latent.optim.setting",
                              "Lion: beta_1 must be in (0, 1] (at 0 Lion degenerates to SignSGD), got " +
                                  std::to_string(beta_1));
        detail::check_unit(beta_2, "beta_2", name);
        detail::check_common_settings(*this);
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class LionUpdater final : public UpdaterBase<LionUpdater<B>, Lion, B> {
public:
    using UpdaterBase<LionUpdater<B>, Lion, B>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        return {{"momentum", m_.host_view(size)}};
    }

    void before_step(std::size_t size) { m_.before_step(size); }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float lr, const Adjust& adjust) {
        const float rate = lr * static_cast<float>(r.lr_scale);
        const float b1 = static_cast<float>(s_.beta_1), b2 = static_cast<float>(s_.beta_2);
        ops::elementwise<B>(
            r.end - r.begin,
            [rate, b1, b2, adjust] LATENT_HOST_DEVICE(float& w, float& m, const float& raw) {
                const float g = adjust(raw);
                adjust.decay(w);
                const float c = b1 * m + (1.0f - b1) * g;
                w -= c > 0.0f ? rate : (c < 0.0f ? -rate : 0.0f);  // sign(0) = 0, as Keras' ops.sign
                m = b2 * m + (1.0f - b2) * g;
            },
            params + r.begin, m_.data() + r.begin, grads + r.begin);
    }

private:
    using UpdaterBase<LionUpdater<B>, Lion, B>::s_;
    StateBuffer<B> m_;  // (arena size) momentum
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> Lion::build() const {
    return std::make_unique<detail::LionUpdater<B>>(*this);
}

}  // namespace latent::optim
