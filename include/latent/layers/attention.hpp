// MultiHeadAttention<NumHeads, KeyDim, ValueDim>: Keras' MultiHeadAttention as self-attention
// over a sequence (steps, features), the block of a Transformer encoder.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "dropout.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// Inverted dropout by a mask of uniform draws: the mask becomes each element's multiplier (0, or
// 1 / (1 - rate)) and out the element times it (function objects: nvcc takes no lambda here).
template <class T>
struct drop_with_mask {
    T rate, keep_scale;
    LATENT_HOST_DEVICE void operator()(T& out, T& mask, const T& x) const {
        mask = mask >= rate ? keep_scale : T(0);
        out = x * mask;
    }
};
template <class T>
struct multiply_by {
    LATENT_HOST_DEVICE void operator()(T& x, const T& by) const { x *= by; }
};
}  // namespace detail

// Keras' MultiHeadAttention(num_heads, key_dim, value_dim) called as mha(x, x): every step of a
// (steps, features) sequence attends to every step (to itself and the earlier ones only with
// use_causal_mask). Per head h: softmax((x Wq_h + bq_h)(x Wk_h + bk_h)^T / sqrt(KeyDim)) (x Wv_h
// + bv_h), the heads side by side then projected back to `features` by attention_output. Keras'
// weights, shapes and initializers: query/kernel (features, NumHeads, KeyDim), query/bias
// (NumHeads, KeyDim), the same for key and value (ValueDim), attention_output/kernel (NumHeads,
// ValueDim, features) and attention_output/bias (features); kernels Glorot-uniform, biases zeros.
template <std::size_t NumHeads, std::size_t KeyDim, std::size_t ValueDim = KeyDim>
class MultiHeadAttention : public Layer<MultiHeadAttention<NumHeads, KeyDim, ValueDim>> {
    using Base = Layer<MultiHeadAttention<NumHeads, KeyDim, ValueDim>>;
    static constexpr void check_sizes() {
        static_assert(NumHeads > 0 && KeyDim > 0 && ValueDim > 0,
                      "latent: MultiHeadAttention needs at least one head, and KeyDim and ValueDim of at least 1");
    }

public:
    MultiHeadAttention() { check_sizes(); }
    // use_causal_mask: step i attends to steps 0..i only (Keras' call argument; a decoder's).
    explicit MultiHeadAttention(bool use_causal_mask, std::string name = {})
        : Base(std::move(name)), causal_(use_causal_mask) {
        check_sizes();
    }
    explicit MultiHeadAttention(std::string name) : Base(std::move(name)) { check_sizes(); }
    explicit MultiHeadAttention(const char* name) : Base(std::string(name)) { check_sizes(); }  // not (bool)

    static constexpr std::string_view type_name = "MultiHeadAttention";
    static constexpr std::string_view default_name = "multi_head_attention";
    static constexpr std::size_t num_heads = NumHeads;
    static constexpr std::size_t key_dim = KeyDim;
    static constexpr std::size_t value_dim = ValueDim;
    // Keras' dropout: in training, each attention weight is zeroed with probability `rate` and the
    // rest scaled by 1 / (1 - rate) (on the weights after the softmax, as Keras); 0 by default.
    double dropout() const noexcept { return dropout_; }
    MultiHeadAttention& dropout(double rate) {
        dropout_ = detail::dropout_rate(rate, type_name, this->name(), "latent.layers.multi_head_attention.dropout");
        return *this;
    }
    bool use_causal_mask() const noexcept { return causal_; }
    MultiHeadAttention& use_causal_mask(bool on) noexcept {
        causal_ = on;
        return *this;
    }

    using requirement = rank<2>;
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    template <class In>
    using output_shape = In;

    template <class In>
    static constexpr std::size_t steps = In::rank == 2 ? In::dims[0] : 1;
    template <class In>
    static constexpr std::size_t features = In::rank == 2 ? In::dims[1] : 1;
    static constexpr std::size_t HK = NumHeads * KeyDim, HV = NumHeads * ValueDim;

    template <class In>
    static constexpr std::array<ParamSpec, 8> params{
        ParamSpec{"query/kernel", {features<In>, NumHeads, KeyDim}, 3, Init::glorot_uniform, true},
        ParamSpec{"query/bias", {NumHeads, KeyDim}, 2, Init::zeros, true},
        ParamSpec{"key/kernel", {features<In>, NumHeads, KeyDim}, 3, Init::glorot_uniform, true},
        ParamSpec{"key/bias", {NumHeads, KeyDim}, 2, Init::zeros, true},
        ParamSpec{"value/kernel", {features<In>, NumHeads, ValueDim}, 3, Init::glorot_uniform, true},
        ParamSpec{"value/bias", {NumHeads, ValueDim}, 2, Init::zeros, true},
        ParamSpec{"attention_output/kernel", {NumHeads, ValueDim, features<In>}, 3, Init::glorot_uniform, true},
        ParamSpec{"attention_output/bias", {features<In>}, 1, Init::zeros, true}};

    // Forward keeps q, k, v, the attention weights (and with dropout in training, the mask and
    // the weights dropped) and the heads' outputs for backward, which uses as much again for
    // their gradients.
    template <class In>
    static constexpr std::size_t kept_per_sample =
        2 * steps<In> * HK + 2 * steps<In> * HV + 3 * NumHeads * steps<In> * steps<In>;
    template <class In>
    static constexpr std::size_t workspace_per_sample = 2 * kept_per_sample<In>;
    template <class In>
    static constexpr std::size_t flops_per_sample =
        2 * steps<In> * features<In> * (2 * HK + 2 * HV) + 2 * NumHeads * steps<In> * steps<In> * (KeyDim + ValueDim);

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t L = steps<In>, D = features<In>;
        const std::size_t rows = a.batch * L;
        const Weights<const T, In> w(a.params);
        const Kept<T, In> kept(a.workspace, a.batch);
        ops::gemm<B>(false, false, rows, HK, D, T(1), a.x, D, w.query, HK, T(0), kept.q, HK);
        ops::bias_add<B>(rows, HK, w.query_bias, kept.q);
        ops::gemm<B>(false, false, rows, HK, D, T(1), a.x, D, w.key, HK, T(0), kept.k, HK);
        ops::bias_add<B>(rows, HK, w.key_bias, kept.k);
        ops::gemm<B>(false, false, rows, HV, D, T(1), a.x, D, w.value, HV, T(0), kept.v, HV);
        ops::bias_add<B>(rows, HV, w.value_bias, kept.v);
        // Keras scales the query by 1 / sqrt(KeyDim); here the product of q and k is.
        const T scale = T(1) / std::sqrt(static_cast<T>(KeyDim));
        for (std::size_t b = 0; b < a.batch; ++b)
            for (std::size_t h = 0; h < NumHeads; ++h)
                ops::gemm<B>(false, true, L, L, KeyDim, scale, kept.q_of(b, h), HK, kept.k_of(b, h), HK, T(0),
                             kept.p_of(b, h), L);
        if (causal_) ops::causal_mask<B>(a.batch * NumHeads, L, kept.p);
        ops::softmax<B>(a.batch * NumHeads * L, L, kept.p, kept.p);
        // What multiplies v: the attention weights, or with dropout them dropped (a mask of ones
        // in inference, as Dropout's, so that backward reads the same arrays in either mode).
        const T* weights = kept.p;
        if (dropout_ > 0.0) {
            const std::size_t n = a.batch * NumHeads * L * L;
            T rate = T(0);
            if (a.mode == Mode::train) {
                if (!a.rng)
                    throw value_error("latent.layers.dropout.rng",
                                      "MultiHeadAttention's dropout in training mode needs a random generator");
                ops::uniform<B>(n, kept.mask, *a.rng);
                rate = static_cast<T>(dropout_);
            } else {
                ops::fill_zero<B>(n, kept.mask);  // every draw kept: the mask's multipliers become 1
            }
            const T keep_scale = a.mode == Mode::train ? static_cast<T>(1.0 / (1.0 - dropout_)) : T(1);
            ops::elementwise<B>(n, detail::drop_with_mask<T>{rate, keep_scale}, kept.dropped, kept.mask, kept.p);
            weights = kept.dropped;
        }
        for (std::size_t b = 0; b < a.batch; ++b)
            for (std::size_t h = 0; h < NumHeads; ++h)
                ops::gemm<B>(false, false, L, ValueDim, L, T(1), weights + (b * NumHeads + h) * L * L, L,
                             kept.v_of(b, h), HV, T(0), kept.o_of(b, h), HV);
        ops::gemm<B>(false, false, rows, D, HV, T(1), kept.o, HV, w.output, D, T(0), a.y, D);
        ops::bias_add<B>(rows, D, w.output_bias, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t L = steps<In>, D = features<In>;
        const std::size_t rows = a.batch * L;
        const Weights<const T, In> w(a.params);
        const Kept<T, In> kept(a.workspace, a.batch);
        // the gradients of what forward kept, laid out as it
        const Kept<T, In> d(a.workspace + a.batch * kept_per_sample<In>, a.batch);
        const Weights<T, In> dw(a.dparams);
        if (a.dparams) {
            ops::gemm<B>(true, false, HV, D, rows, T(1), kept.o, HV, a.dy, D, T(1), dw.output, D);
            ops::column_sum<B>(rows, D, a.dy, dw.output_bias, true);
        }
        ops::gemm<B>(false, true, rows, HV, D, T(1), a.dy, D, w.output, D, T(0), d.o, HV);
        const bool dropped = dropout_ > 0.0;
        const T* weights = dropped ? kept.dropped : kept.p;
        for (std::size_t b = 0; b < a.batch; ++b)
            for (std::size_t h = 0; h < NumHeads; ++h) {
                ops::gemm<B>(false, true, L, L, ValueDim, T(1), d.o_of(b, h), HV, kept.v_of(b, h), HV, T(0),
                             d.p_of(b, h), L);
                ops::gemm<B>(true, false, L, ValueDim, L, T(1), weights + (b * NumHeads + h) * L * L, L,
                             d.o_of(b, h), HV, T(0), d.v_of(b, h), HV);
            }
        if (dropped)  // through the dropout: the weights' gradient times the mask's multipliers
            ops::elementwise<B>(a.batch * NumHeads * L * L, detail::multiply_by<T>{}, d.p, kept.mask);
        // the scores' gradient, in place (masked scores have weight 0, so theirs is 0)
        ops::softmax_backward<B>(a.batch * NumHeads * L, L, kept.p, d.p, d.p);
        const T scale = T(1) / std::sqrt(static_cast<T>(KeyDim));
        for (std::size_t b = 0; b < a.batch; ++b)
            for (std::size_t h = 0; h < NumHeads; ++h) {
                ops::gemm<B>(false, false, L, KeyDim, L, scale, d.p_of(b, h), L, kept.k_of(b, h), HK, T(0),
                             d.q_of(b, h), HK);
                ops::gemm<B>(true, false, L, KeyDim, L, scale, d.p_of(b, h), L, kept.q_of(b, h), HK, T(0),
                             d.k_of(b, h), HK);
            }
        if (a.dparams) {
            ops::gemm<B>(true, false, D, HK, rows, T(1), a.x, D, d.q, HK, T(1), dw.query, HK);
            ops::column_sum<B>(rows, HK, d.q, dw.query_bias, true);
            ops::gemm<B>(true, false, D, HK, rows, T(1), a.x, D, d.k, HK, T(1), dw.key, HK);
            ops::column_sum<B>(rows, HK, d.k, dw.key_bias, true);
            ops::gemm<B>(true, false, D, HV, rows, T(1), a.x, D, d.v, HV, T(1), dw.value, HV);
            ops::column_sum<B>(rows, HV, d.v, dw.value_bias, true);
        }
        if (a.dx) {
            ops::gemm<B>(false, true, rows, D, HK, T(1), d.q, HK, w.query, HK, T(0), a.dx, D);
            ops::gemm<B>(false, true, rows, D, HK, T(1), d.k, HK, w.key, HK, T(1), a.dx, D);
            ops::gemm<B>(false, true, rows, D, HV, T(1), d.v, HV, w.value, HV, T(1), a.dx, D);
        }
    }

private:
    // The weights (or their gradients) in params' order; all null when p is.
    template <class T, class In>
    struct Weights {
        T *query = nullptr, *query_bias = nullptr, *key = nullptr, *key_bias = nullptr;
        T *value = nullptr, *value_bias = nullptr, *output = nullptr, *output_bias = nullptr;
        explicit Weights(T* p) {
            if (!p) return;
            constexpr std::size_t D = features<In>;
            query = p;
            query_bias = query + D * HK;
            key = query_bias + HK;
            key_bias = key + D * HK;
            value = key_bias + HK;
            value_bias = value + D * HV;
            output = value_bias + HV;
            output_bias = output + HV * D;
        }
    };
    // forward's q, k, v (batch * steps rows, heads side by side), the attention weights p
    // (batch, heads, steps, steps) and the heads' outputs o (as v), in the workspace.
    template <class T, class In>
    struct Kept {
        static constexpr std::size_t L = steps<In>;
        T *q, *k, *v, *p, *o, *mask, *dropped;
        Kept(T* base, std::size_t batch)
            : q(base),
              k(q + batch * L * HK),
              v(k + batch * L * HK),
              p(v + batch * L * HV),
              o(p + batch * NumHeads * L * L),
              mask(o + batch * L * HV),
              dropped(mask + batch * NumHeads * L * L) {}
        T* q_of(std::size_t b, std::size_t h) const { return q + b * L * HK + h * KeyDim; }
        T* k_of(std::size_t b, std::size_t h) const { return k + b * L * HK + h * KeyDim; }
        T* v_of(std::size_t b, std::size_t h) const { return v + b * L * HV + h * ValueDim; }
        T* p_of(std::size_t b, std::size_t h) const { return p + (b * NumHeads + h) * L * L; }
        T* o_of(std::size_t b, std::size_t h) const { return o + b * L * HV + h * ValueDim; }
    };

    bool causal_ = false;
    double dropout_ = 0.0;
};

}  // namespace latent
