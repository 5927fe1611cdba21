// Bidirectional<L, Merge>: a recurrent layer run over a sequence both ways, as Keras'
// Bidirectional(layer, merge_mode): one copy of L reads the steps in order, another (weights of
// its own) reads them reversed; their outputs are concatenated on the last axis (Merge::concat,
// Keras' default: 2 units) or summed, multiplied or averaged (Merge::sum, mul, ave: units).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "layer.hpp"

namespace latent {

namespace detail {
// "forward_lstm/kernel", "backward_lstm/kernel", ...: Keras' names for the weights of the two
// directions, built at compile time (a ParamSpec's name is a view of static text).
template <class L, class In, std::size_t I, bool Forward>
struct direction_param_name {
    static constexpr std::string_view prefix = Forward ? "forward_" : "backward_";
    static constexpr std::string_view layer = L::default_name;
    static constexpr std::string_view param = L::template params<In>[I].name;
    static constexpr std::size_t size = prefix.size() + layer.size() + 1 + param.size();
    static constexpr std::array<char, size> text = [] {
        std::array<char, size> t{};
        std::size_t k = 0;
        for (char c : prefix) t[k++] = c;
        for (char c : layer) t[k++] = c;
        t[k++] = '/';
        for (char c : param) t[k++] = c;
        return t;
    }();
    static constexpr std::string_view value{text.data(), size};
};

struct add_to {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& into, const T& v) const {
        into += v;
    }
};

// The merges other than concat, forward (y from the two directions' outputs, step-aligned) and
// backward (each direction's share of dy).
struct directions_sum {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& y, const T& f, const T& b) const {
        y = f + b;
    }
};
struct directions_mul {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& y, const T& f, const T& b) const {
        y = f * b;
    }
};
struct directions_ave {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& y, const T& f, const T& b) const {
        y = (f + b) / T(2);
    }
};
// sum: both get dy; ave: both get dy / 2.
struct directions_dy {
    float scale;
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& df, T& db, const T& dy) const {
        df = T(scale) * dy;
        db = T(scale) * dy;
    }
};
// mul: each gets dy times the other's output (db in place of the step-aligned backward output).
struct directions_dy_mul {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& df, T& b_then_db, const T& dy, const T& f) const {
        df = dy * b_then_db;
        b_then_db = dy * f;
    }
};

// The layer's parameters twice: the forward direction's, then the backward one's, renamed.
template <class L, class In, std::size_t... I>
constexpr auto two_directions(std::index_sequence<I...>) {
    constexpr auto specs = L::template params<In>;
    std::array<ParamSpec, 2 * sizeof...(I)> out{specs[I]..., specs[I]...};
    ((out[I].name = direction_param_name<L, In, I, true>::value), ...);
    ((out[sizeof...(I) + I].name = direction_param_name<L, In, I, false>::value), ...);
    return out;
}
}  // namespace detail

// How Bidirectional merges its two directions (Keras' merge_mode; None, two outputs, is not
// there).
enum class Merge { concat, sum, mul, ave };

template <layer L, Merge M = Merge::concat>
class Bidirectional : public Layer<Bidirectional<L, M>> {
public:
    // The sequence's steps and features, and what one direction outputs per sample (public:
    // clang checks the access of what a public alias template names where it is used).
    template <class In>
    static constexpr std::size_t steps = In::dims[0];
    template <class In>
    static constexpr std::size_t features = In::rank == 2 ? In::dims[1] : In::size;
    template <class In>
    using direction_output = typename L::template output_shape<In>;
    template <class In>
    static constexpr bool per_step = direction_output<In>::rank == 2;  // Returns::sequences
    template <class In>
    static constexpr std::size_t units = direction_output<In>::dims[direction_output<In>::rank - 1];

    Bidirectional() = default;
    // The layer to run both ways; the backward copy starts as a copy of it (its settings).
    explicit Bidirectional(L layer, std::string name = {})
        : Layer<Bidirectional<L, M>>(std::move(name)), forward_(layer), backward_(std::move(layer)) {}

    static constexpr std::string_view type_name = "Bidirectional";
    static constexpr std::string_view default_name = "bidirectional";
    using wrapped_layer = L;

    using requirement = typename L::requirement;
    template <class In>
    static constexpr bool accepts = In::rank == 2 && L::template accepts<In>;
    static constexpr Merge merge_mode = M;
    static constexpr std::size_t width = M == Merge::concat ? 2 : 1;  // output units per direction's unit
    template <class In>
    using output_shape =
        std::conditional_t<per_step<In>, Shape<In::dims[0], width * units<In>>, Shape<width * units<In>>>;

    template <class In>
    static constexpr auto params =
        detail::two_directions<L, In>(std::make_index_sequence<L::template params<In>.size()>{});
    template <class In>
    static constexpr std::size_t flops_per_sample = 2 * L::template flops_per_sample<In>;
    // Per sample: each direction's own workspace; the sequence reversed, and the reversed
    // direction's dx; each direction's output and its share of dy.
    template <class In, class B>
    static constexpr std::size_t workspace_per_sample_on =
        2 * workspace_per_sample_on_v<L, In, B> + 2 * In::size + 4 * direction_output<In>::size;
    template <class In>
    static constexpr std::size_t workspace_per_sample =
        2 * L::template workspace_per_sample<In> + 2 * In::size + 4 * direction_output<In>::size;
    // (The merges other than concat use dy_backward for the backward output aligned to the
    // forward one's steps during forward, and for the aligned share of dy during backward.)
    template <class In>
    static constexpr std::size_t workspace_fixed = 2 * L::template workspace_fixed<In>;

    L& forward_layer() noexcept { return forward_; }
    L& backward_layer() noexcept { return backward_; }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        static_assert(!adds_loss_term<L, In, B>, "latent: Bidirectional cannot wrap a layer that adds a loss term");
        const Work<In, B, T> w(a.workspace, a.batch);
        ForwardArgs<T> f = a;
        f.y = w.y_forward;
        f.workspace = w.forward_workspace;
        forward_.template forward<In, B, T>(f);
        reverse_steps<In, B>(a.batch, a.x, w.reversed);
        ForwardArgs<T> b = a;
        b.x = w.reversed;
        b.y = w.y_backward;
        b.params = a.params + param_size<In>;
        b.state = a.state ? a.state + param_size<In> : nullptr;
        b.workspace = w.backward_workspace;
        backward_.template forward<In, B, T>(b);
        if constexpr (M == Merge::concat) {
            join<In, B>(a.batch, w.y_forward, w.y_backward, a.y);
        } else {
            const std::size_t n = a.batch * direction_output<In>::size;
            align<In, B>(a.batch, w.y_backward, w.dy_backward);
            const T* f = w.y_forward;
            const T* aligned = w.dy_backward;
            if constexpr (M == Merge::sum)
                ops::elementwise<B>(n, detail::directions_sum{}, a.y, f, aligned);
            else if constexpr (M == Merge::mul)
                ops::elementwise<B>(n, detail::directions_mul{}, a.y, f, aligned);
            else
                ops::elementwise<B>(n, detail::directions_ave{}, a.y, f, aligned);
        }
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        const Work<In, B, T> w(a.workspace, a.batch);
        if constexpr (M == Merge::concat) {
            split<In, B>(a.batch, a.dy, w.dy_forward, w.dy_backward);
        } else {
            // The shares of dy, step-aligned (in dx_backward, free until L's backward), then put
            // in the backward direction's step order.
            const std::size_t n = a.batch * direction_output<In>::size;
            T* aligned = w.dx_backward;
            if constexpr (M == Merge::mul) {
                align<In, B>(a.batch, w.y_backward, aligned);
                ops::elementwise<B>(n, detail::directions_dy_mul{}, w.dy_forward, aligned, a.dy,
                                    static_cast<const T*>(w.y_forward));
            } else {
                ops::elementwise<B>(n, detail::directions_dy{M == Merge::ave ? 0.5f : 1.0f}, w.dy_forward, aligned, a.dy);
            }
            align<In, B>(a.batch, aligned, w.dy_backward);  // aligning twice is the identity
        }
        BackwardArgs<T> f = a;
        f.y = w.y_forward;
        f.dy = w.dy_forward;
        f.workspace = w.forward_workspace;
        forward_.template backward<In, B, T>(f);
        BackwardArgs<T> b = a;
        b.x = w.reversed;
        b.y = w.y_backward;
        b.dy = w.dy_backward;
        b.dx = a.dx ? w.dx_backward : nullptr;
        b.params = a.params + param_size<In>;
        b.dparams = a.dparams ? a.dparams + param_size<In> : nullptr;
        b.workspace = w.backward_workspace;
        backward_.template backward<In, B, T>(b);
        if (a.dx) {  // the reversed direction's dx, put back in order, adds to the forward one's
            reverse_steps<In, B>(a.batch, w.dx_backward, w.reversed);
            ops::elementwise<B>(a.batch * In::size, detail::add_to{}, a.dx, static_cast<const T*>(w.reversed));
        }
    }

private:
    template <class In>
    static constexpr std::size_t param_size = layer_param_count<L, In>();

    // The workspace's parts (per sample sizes times the batch, in this order).
    template <class In, class B, class T>
    struct Work {
        T *forward_workspace, *backward_workspace, *reversed, *y_forward, *y_backward, *dy_forward, *dy_backward,
            *dx_backward;
        Work(T* workspace, std::size_t batch) {
            const std::size_t own = batch * workspace_per_sample_on_v<L, In, B> + L::template workspace_fixed<In>;
            const std::size_t out = batch * direction_output<In>::size;
            forward_workspace = workspace;
            backward_workspace = forward_workspace + own;
            reversed = backward_workspace + own;
            dx_backward = reversed + batch * In::size;
            y_forward = dx_backward + batch * In::size;
            y_backward = y_forward + out;
            dy_forward = y_backward + out;
            dy_backward = dy_forward + out;
        }
    };

    // to[:, t] = from[:, steps - 1 - t] for (batch, steps, features) sequences.
    template <class In, backend_policy B, class T>
    static void reverse_steps(std::size_t batch, const T* from, T* to) {
        constexpr std::size_t n = steps<In>, f = features<In>;
        for (std::size_t t = 0; t < n; ++t) ops::copy2d<B>(batch, f, from + (n - 1 - t) * f, n * f, to + t * f, n * f);
    }

    // y = (forward, backward) on the last axis; step by step, the backward direction's step
    // n - 1 - t is the one that read step t last, so it goes beside the forward one's step t.
    template <class In, backend_policy B, class T>
    static void join(std::size_t batch, const T* forward, const T* backward, T* y) {
        constexpr std::size_t u = units<In>;
        if constexpr (per_step<In>) {
            constexpr std::size_t n = steps<In>;
            for (std::size_t t = 0; t < n; ++t) {
                ops::copy2d<B>(batch, u, forward + t * u, n * u, y + t * 2 * u, n * 2 * u);
                ops::copy2d<B>(batch, u, backward + (n - 1 - t) * u, n * u, y + t * 2 * u + u, n * 2 * u);
            }
        } else {
            ops::copy2d<B>(batch, u, forward, u, y, 2 * u);
            ops::copy2d<B>(batch, u, backward, u, y + u, 2 * u);
        }
    }
    // The backward direction's outputs in the forward direction's step order (its step n - 1 - t
    // beside step t); the last output as it is. Its own inverse.
    template <class In, backend_policy B, class T>
    static void align(std::size_t batch, const T* backward, T* aligned) {
        constexpr std::size_t u = units<In>;
        if constexpr (per_step<In>) {
            constexpr std::size_t n = steps<In>;
            for (std::size_t t = 0; t < n; ++t)
                ops::copy2d<B>(batch, u, backward + (n - 1 - t) * u, n * u, aligned + t * u, n * u);
        } else {
            ops::copy2d<B>(batch, u, backward, u, aligned, u);
        }
    }
    // join's adjoint: dy split back into the two directions' gradients.
    template <class In, backend_policy B, class T>
    static void split(std::size_t batch, const T* dy, T* forward, T* backward) {
        constexpr std::size_t u = units<In>;
        if constexpr (per_step<In>) {
            constexpr std::size_t n = steps<In>;
            for (std::size_t t = 0; t < n; ++t) {
                ops::copy2d<B>(batch, u, dy + t * 2 * u, n * 2 * u, forward + t * u, n * u);
                ops::copy2d<B>(batch, u, dy + t * 2 * u + u, n * 2 * u, backward + (n - 1 - t) * u, n * u);
            }
        } else {
            ops::copy2d<B>(batch, u, dy, 2 * u, forward, u);
            ops::copy2d<B>(batch, u, dy + u, 2 * u, backward, u);
        }
    }

    L forward_{};
    L backward_{};
};

}  // namespace latent
