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
    // Keras 3's settings of every optimizer (0: off). weight_decay is decoupled, w -= lr *
    // weight_decay * w before the update (PyTorch's SGD adds it to the gradient instead); at
    // most one of the clippings: each weight tensor's gradient to this norm, each element to
    // [-clipvalue, clipvalue], or all gradients together to this norm.
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
        detail::check_unit(momentum, "momentum", "SGD");
        detail::check_common_settings(*this);
    }
    template <backend_policy B>
    std::unique_ptr<Optimizer> build() const;
};

namespace detail {
template <backend_policy B>
class SgdUpdater final : public UpdaterBase<SgdUpdater<B>, SGD, B> {
public:
    using UpdaterBase<SgdUpdater<B>, SGD, B>::UpdaterBase;

    std::vector<std::pair<std::string, AlignedBuffer<float>*>> own_state_buffers(std::size_t size) {
        if (s_.momentum == 0.0) return {};
        return {{"velocity", velocity_.host_view(size)}};
    }

    void before_step(std::size_t size) {
        if (s_.momentum != 0.0) velocity_.before_step(size);
    }

    // One range's update (public: nvcc's device lambdas need an accessible enclosing function).
    template <class Adjust>
    void update(float* params, const float* grads, const ArenaRange& r, float lr, const Adjust& adjust) {
        const float rate = lr * static_cast<float>(r.lr_scale);
        if (s_.momentum == 0.0) {
            ops::elementwise<B>(
                r.end - r.begin,
                [rate, adjust] LATENT_HOST_DEVICE(float& w, const float& g) {
                    adjust.decay(w);
                    w -= rate * adjust(g);
                },
                params + r.begin, grads + r.begin);
        } else {
            const float m = static_cast<float>(s_.momentum);
            const bool nesterov = s_.nesterov;
            ops::elementwise<B>(
                r.end - r.begin,
                [rate, m, nesterov, adjust] LATENT_HOST_DEVICE(float& w, float& v, const float& raw) {
                    const float g = adjust(raw);
                    adjust.decay(w);
                    v = m * v - rate * g;
                    w += nesterov ? m * v - rate * g : v;
                },
                params + r.begin, velocity_.data() + r.begin, grads + r.begin);
        }
    }

private:
    using UpdaterBase<SgdUpdater<B>, SGD, B>::s_;
    StateBuffer<B> velocity_;  // (arena size)
};
}  // namespace detail

template <backend_policy B>
std::unique_ptr<Optimizer> SGD::build() const {
    return std::make_unique<detail::SgdUpdater<B>>(*this);
}

}  // namespace latent::optim
