// TimeDistributed<L>: layer L applied to every step of a sequence, with the same weights, as
// Keras' TimeDistributed(layer): Shape<Steps, D...> in, Steps times L's output out
// (TimeDistributed<Dense<F>> is an LSTM autoencoder's output layer).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "layer.hpp"

namespace latent {

namespace detail {
// The shape of one step of a sequence (steps, D...): (D...); a guess of (1) for a shape without
// steps, so that the wrong input gives one error, not several.
template <class S>
struct step_shape {
    using type = Shape<1>;
};
template <std::size_t Steps, std::size_t D0, std::size_t... D>
struct step_shape<Shape<Steps, D0, D...>> {
    using type = Shape<D0, D...>;
};
template <std::size_t Steps, class S>
struct with_steps;
template <std::size_t Steps, std::size_t... D>
struct with_steps<Steps, Shape<D...>> {
    using type = Shape<Steps, D...>;
};
}  // namespace detail

template <layer L>
class TimeDistributed : public Layer<TimeDistributed<L>> {
public:
    // One step's shape, and the number of steps (public: clang checks the access of what a
    // public alias template names where the alias is used).
    template <class In>
    using step = typename detail::step_shape<In>::type;
    template <class In>
    static constexpr std::size_t steps = In::rank >= 2 ? In::dims[0] : 1;

    TimeDistributed() = default;
    // The layer to apply, with its settings (a Dropout's rate, ...).
    explicit TimeDistributed(L inner, std::string name = {})
        : Layer<TimeDistributed<L>>(std::move(name)), inner_(std::move(inner)) {}

    static constexpr std::string_view type_name = "TimeDistributed";
    static constexpr std::string_view default_name = "time_distributed";
    using wrapped_layer = L;

    using requirement = each_step<typename L::requirement>;
    template <class In>
    static constexpr bool accepts = In::rank >= 2 && L::template accepts<step<In>>;
    template <class In>
    using output_shape = typename detail::with_steps<steps<In>, typename L::template output_shape<step<In>>>::type;

    // L's own parameters, once: every step shares them.
    template <class In>
    static constexpr auto params = L::template params<step<In>>;
    template <class In>
    static constexpr std::size_t flops_per_sample = steps<In> * L::template flops_per_sample<step<In>>;
    template <class In>
    static constexpr std::size_t workspace_per_sample = steps<In> * L::template workspace_per_sample<step<In>>;
    template <class In, class B>
    static constexpr std::size_t workspace_per_sample_on = steps<In> * workspace_per_sample_on_v<L, step<In>, B>;
    template <class In>
    static constexpr std::size_t workspace_fixed = L::template workspace_fixed<step<In>>;

    L& layer() noexcept { return inner_; }
    const L& layer() const noexcept { return inner_; }

    // A batch of sequences, (batch, steps, D...), is a batch of batch * steps samples of (D...):
    // L runs once over all of them.
    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        static_assert(!adds_loss_term<L, step<In>, B>,
                      "latent: TimeDistributed cannot wrap a layer that adds a term to the loss");
        ForwardArgs<T> each = a;
        each.batch = a.batch * steps<In>;
        inner_.template forward<step<In>, B, T>(each);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        BackwardArgs<T> each = a;
        each.batch = a.batch * steps<In>;
        inner_.template backward<step<In>, B, T>(each);
    }

private:
    L inner_{};
};

}  // namespace latent
