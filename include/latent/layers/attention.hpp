// MultiHeadAttention<NumHeads, KeyDim, ValueDim>: Keras' MultiHeadAttention over sequences
// (steps, features): self-attention mha(x) (Keras' mha(x, x), a Transformer encoder's block), and
// in a functional model cross-attention mha(query, value[, key[, attention_mask]]); Keras'
// Attention and AdditiveAttention.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "dropout.hpp"
#include "layer.hpp"
#include "merge.hpp"

namespace latent {

// What MultiHeadAttention called on several inputs needs: a query, a value and optionally a key,
// each a (steps, features) sequence, the key of as many steps as the value.
struct query_value_key_sequences {};
// What Attention needs: that, and a query and key of one width (their dot products are the scores).
struct query_key_of_one_width {};
// What either needs called on four inputs: query, value and key sequences as above, then the
// attention mask, (query steps, key steps).
struct query_value_key_and_attention_mask {};

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
// Keras' attention_mask: a score where the mask is 0 becomes -1e9 (Keras' large negative, as the
// causal mask's), and backward zeroes its gradient (zero_where_masked).
template <class T>
struct mask_score {
    LATENT_HOST_DEVICE void operator()(T& score, const T& allowed) const {
        if (allowed == T(0)) score = T(-1e9);
    }
};
template <class T>
struct zero_where_masked {
    LATENT_HOST_DEVICE void operator()(T& gradient, const T& allowed) const {
        if (allowed == T(0)) gradient = T(0);
    }
};
template <class T>
struct one_where_positive {
    LATENT_HOST_DEVICE void operator()(T& x) const { x = x > T(0) ? T(1) : T(0); }
};
template <class T>
struct one_where_nonzero {
    LATENT_HOST_DEVICE void operator()(T& x) const { x = x != T(0) ? T(1) : T(0); }
};

// Where scaled dot-product attention finds its operands: per sample and head, q (lq, key_dim),
// k (lk, key_dim), v (lk, value_dim) and the output o (lq, value_dim) are blocks of row-major
// arrays whose rows are *_stride apart (the heads side by side in one row), and the attention
// weights p, the dropout mask and the dropped weights are (batch, heads, lq, lk).
struct AttentionShape {
    std::size_t batch = 0, heads = 1, lq = 0, lk = 0, key_dim = 0, value_dim = 0;
    std::size_t q_stride = 0, k_stride = 0, v_stride = 0, o_stride = 0;
    std::size_t weights() const { return batch * heads * lq * lk; }
    std::size_t q_at(std::size_t b, std::size_t h) const { return b * lq * q_stride + h * key_dim; }
    std::size_t k_at(std::size_t b, std::size_t h) const { return b * lk * k_stride + h * key_dim; }
    std::size_t v_at(std::size_t b, std::size_t h) const { return b * lk * v_stride + h * value_dim; }
    std::size_t o_at(std::size_t b, std::size_t h) const { return b * lq * o_stride + h * value_dim; }
    std::size_t p_at(std::size_t b, std::size_t h) const { return (b * heads + h) * lq * lk; }
    // From one sample's block to the next (a head's products over the batch are one gemm_batched).
    std::size_t q_step() const { return lq * q_stride; }
    std::size_t k_step() const { return lk * k_stride; }
    std::size_t v_step() const { return lk * v_stride; }
    std::size_t o_step() const { return lq * o_stride; }
    std::size_t p_step() const { return heads * lq * lk; }
};
// What forward keeps for backward: the weights after the softmax, and with dropout the mask's
// multipliers and the weights dropped; `allowed`, the attention mask laid out as the weights (1:
// the query step may attend to the key step, 0: not; combine_attention_masks), or null for none.
template <class T>
struct AttentionWeights {
    T *p, *mask, *dropped;
    const T* allowed = nullptr;
};

// o = dropout(softmax(scores, masked causally and by w.allowed)) v for the scores in w.p, which
// become the weights (the dropout in training only; with dropout > 0 the mask is of ones in
// inference, as Dropout's, so that backward reads the same arrays in either mode).
template <backend_policy B, class T>
void attend(const AttentionShape& g, const T* v, bool causal, double dropout, Mode mode, Generator* rng,
            const AttentionWeights<T>& w, T* o) {
    if (causal) ops::causal_mask<B>(g.batch * g.heads, g.lq, g.lk, w.p);
    if (w.allowed) ops::elementwise<B>(g.weights(), mask_score<T>{}, w.p, w.allowed);
    ops::softmax<B>(g.batch * g.heads * g.lq, g.lk, w.p, w.p);
    const T* weights = w.p;
    if (dropout > 0.0) {
        T rate = T(0), keep_scale = T(1);
        if (mode == Mode::train) {
            if (!rng)
                throw value_error("latent.layers.dropout.rng",
                                  "attention dropout in training mode needs a random generator");
            ops::uniform<B>(g.weights(), w.mask, *rng);
            rate = static_cast<T>(dropout);
            keep_scale = static_cast<T>(1.0 / (1.0 - dropout));
        } else {
            ops::fill_zero<B>(g.weights(), w.mask);  // every draw kept: the mask's multipliers become 1
        }
        ops::elementwise<B>(g.weights(), drop_with_mask<T>{rate, keep_scale}, w.dropped, w.mask, w.p);
        weights = w.dropped;
    }
    for (std::size_t h = 0; h < g.heads; ++h)
        ops::gemm_batched<B>(g.batch, false, false, g.lq, g.value_dim, g.lk, T(1), weights + g.p_at(0, h), g.lk,
                             g.p_step(), v + g.v_at(0, h), g.v_stride, g.v_step(), T(0), o + g.o_at(0, h), g.o_stride,
                             g.o_step());
}

// o = dropout(softmax(scale * q k^T, masked causally and by w.allowed)) v, as Keras' Attention and
// MultiHeadAttention compute it.
template <backend_policy B, class T>
void attention_forward(const AttentionShape& g, const T* q, const T* k, const T* v, T scale, bool causal,
                       double dropout, Mode mode, Generator* rng, const AttentionWeights<T>& w, T* o) {
    for (std::size_t h = 0; h < g.heads; ++h)
        ops::gemm_batched<B>(g.batch, false, true, g.lq, g.lk, g.key_dim, scale, q + g.q_at(0, h), g.q_stride,
                             g.q_step(), k + g.k_at(0, h), g.k_stride, g.k_step(), T(0), w.p + g.p_at(0, h), g.lk,
                             g.p_step());
    attend<B>(g, v, causal, dropout, mode, rng, w, o);
}

// The attention mask (batch, lq, lk) laid out as the weights in `allowed` (repeated for every
// head), 1 where a query step may attend to a key step and 0 where not, the causal mask's zeros
// included: backward zeroes the masked scores' gradient by it, which matters where a query step
// is masked from every key (its weights are then even, not 0).
template <backend_policy B, class T>
void combine_attention_masks(const AttentionShape& g, bool causal, const T* mask, T* allowed) {
    ops::upsample_nearest2d<B>(g.batch, 1, 1, g.lq * g.lk, g.heads, 1, mask, allowed);
    ops::elementwise<B>(g.weights(), one_where_nonzero<T>{}, allowed);
    if (!causal) return;
    ops::causal_mask<B>(g.batch * g.heads, g.lq, g.lk, allowed);  // -1e9 where causally masked
    ops::elementwise<B>(g.weights(), one_where_positive<T>{}, allowed);
}

// attend's backward to its scores: given d_o, d_p becomes the scores' gradient.
template <backend_policy B, class T>
void scores_gradient(const AttentionShape& g, const T* v, bool dropped, const AttentionWeights<T>& w, const T* d_o,
                     T* d_p) {
    for (std::size_t h = 0; h < g.heads; ++h)
        ops::gemm_batched<B>(g.batch, false, true, g.lq, g.lk, g.value_dim, T(1), d_o + g.o_at(0, h), g.o_stride,
                             g.o_step(), v + g.v_at(0, h), g.v_stride, g.v_step(), T(0), d_p + g.p_at(0, h), g.lk,
                             g.p_step());
    if (dropped)  // through the dropout: the weights' gradient times the mask's multipliers
        ops::elementwise<B>(g.weights(), multiply_by<T>{}, d_p, w.mask);
    // the scores' gradient, in place (masked scores have weight 0, so theirs is 0; but where a
    // query step's every key is masked the weights are even, so the mask's are zeroed)
    ops::softmax_backward<B>(g.batch * g.heads * g.lq, g.lk, w.p, d_p, d_p);
    if (w.allowed) ops::elementwise<B>(g.weights(), zero_where_masked<T>{}, d_p, w.allowed);
}

// attend's backward to v: dv = weights^T d_o, overwritten, or added to where `accumulate`.
template <backend_policy B, class T>
void value_gradient(const AttentionShape& g, bool dropped, const AttentionWeights<T>& w, const T* d_o, T* dv,
                    bool accumulate) {
    const T* weights = dropped ? w.dropped : w.p;
    for (std::size_t h = 0; h < g.heads; ++h)
        ops::gemm_batched<B>(g.batch, true, false, g.lk, g.value_dim, g.lq, T(1), weights + g.p_at(0, h), g.lk,
                             g.p_step(), d_o + g.o_at(0, h), g.o_stride, g.o_step(), accumulate ? T(1) : T(0),
                             dv + g.v_at(0, h), g.v_stride, g.v_step());
}

// Given do, the gradients of q, k and v (each skipped where null) in their layouts; d_p is room
// for the weights' gradient. dk and dv are overwritten, except that dv is added to dk where they
// are one array (Keras' Attention called on [query, value]: the value is the key).
template <backend_policy B, class T>
void attention_backward(const AttentionShape& g, const T* q, const T* k, const T* v, T scale, bool dropped,
                        const AttentionWeights<T>& w, const T* d_o, T* d_p, T* dq, T* dk, T* dv) {
    scores_gradient<B>(g, v, dropped, w, d_o, d_p);
    for (std::size_t h = 0; h < g.heads; ++h) {
        if (dq)
            ops::gemm_batched<B>(g.batch, false, false, g.lq, g.key_dim, g.lk, scale, d_p + g.p_at(0, h), g.lk,
                                 g.p_step(), k + g.k_at(0, h), g.k_stride, g.k_step(), T(0), dq + g.q_at(0, h),
                                 g.q_stride, g.q_step());
        if (dk)
            ops::gemm_batched<B>(g.batch, true, false, g.lk, g.key_dim, g.lq, scale, d_p + g.p_at(0, h), g.lk,
                                 g.p_step(), q + g.q_at(0, h), g.q_stride, g.q_step(), T(0), dk + g.k_at(0, h),
                                 g.k_stride, g.k_step());
    }
    if (dv) value_gradient<B>(g, dropped, w, d_o, dv, dv == dk);
}

// The query, value and key shapes of a call: mha(x) is mha(x, x, x), mha(q, v) is mha(q, v, v).
template <class... In>
struct attention_roles {
    using query = Shape<1, 1>;  // no input: a stand-in
    using value = query;
    using key = query;
};
template <class Q>
struct attention_roles<Q> {
    using query = Q;
    using value = Q;
    using key = Q;
};
template <class Q, class V>
struct attention_roles<Q, V> {
    using query = Q;
    using value = V;
    using key = V;
};
template <class Q, class V, class K, class... Rest>
struct attention_roles<Q, V, K, Rest...> {
    using query = Q;
    using value = V;
    using key = K;
};
template <class S>
inline constexpr std::size_t steps_of = S::rank == 2 ? S::dims[0] : 1;
template <class S>
inline constexpr std::size_t features_of = S::rank == 2 ? S::dims[1] : 1;
// Whether In... are query, value and key sequences (the key of the value's steps), and with a
// fourth input an attention mask of (query steps, key steps).
template <class... In>
inline constexpr bool attention_inputs = [] {
    constexpr std::size_t count = sizeof...(In);
    if constexpr (count >= 2 && count <= 4 && ((In::rank == 2) && ...)) {
        using R = attention_roles<In...>;
        using Mask = std::tuple_element_t<count - 1, std::tuple<In...>>;
        constexpr bool mask_fits =
            count < 4 || (Mask::dims[0] == steps_of<typename R::query> && Mask::dims[1] == steps_of<typename R::key>);
        return steps_of<typename R::key> == steps_of<typename R::value> && mask_fits;
    } else {
        return false;
    }
}();
template <class... In>
using attention_requirement =
    std::conditional_t<sizeof...(In) == 4, query_value_key_and_attention_mask, query_value_key_sequences>;
}  // namespace detail

// Keras' MultiHeadAttention(num_heads, key_dim, value_dim): each query step attends to the key
// steps (only to those up to its own with use_causal_mask). Per head h: softmax((q Wq_h + bq_h)
// (k Wk_h + bk_h)^T / sqrt(KeyDim)) (v Wv_h + bv_h), the heads side by side then projected back
// to the query's features by attention_output: the output has the query's shape. Keras' weights,
// shapes and initializers: query/kernel (query features, NumHeads, KeyDim), query/bias (NumHeads,
// KeyDim), the same for key and value (ValueDim), attention_output/kernel (NumHeads, ValueDim,
// query features) and attention_output/bias (query features); kernels Glorot-uniform, biases
// zeros. Called on one sequence (in a Sequential, or mha(x) in a functional model) query, value
// and key are that sequence; mha(query, value) uses the value as the key. mha(query, value, key,
// attention_mask) takes Keras' attention_mask as a fourth input, (query steps, key steps) per
// sample: where it is 0 the query step does not attend to the key step (nonzero: it does; with
// use_causal_mask both apply). A query step masked from every key attends to all alike, as
// Keras' (its scores all become the same large negative).
template <std::size_t NumHeads, std::size_t KeyDim, std::size_t ValueDim = KeyDim>
class MultiHeadAttention : public Layer<MultiHeadAttention<NumHeads, KeyDim, ValueDim>> {
    using Base = Layer<MultiHeadAttention<NumHeads, KeyDim, ValueDim>>;
    static constexpr void check_sizes() {
        static_assert(NumHeads > 0 && KeyDim > 0 && ValueDim > 0,
                      "latent: MultiHeadAttention needs at least one head, and KeyDim and ValueDim of at least 1");
    }
    template <class... In>
    using roles = detail::attention_roles<In...>;

public:
    MultiHeadAttention() { check_sizes(); }
    // use_causal_mask: query step i attends to key steps 0..i only (Keras' call argument; a
    // decoder's).
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

    // One input (self-attention): a (steps, features) sequence.
    using requirement = rank<2>;
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    // Two to four inputs (query, value, key, attention mask), in a functional model.
    template <class... In>
    static constexpr bool accepts_inputs = detail::attention_inputs<In...>;
    template <class... In>
    using requirement_for = std::conditional_t<sizeof...(In) >= 2 && sizeof...(In) <= 4,
                                               detail::attention_requirement<In...>, exactly_inputs<2>>;
    template <class... In>
    using output_shape = typename roles<In...>::query;

    static constexpr std::size_t HK = NumHeads * KeyDim, HV = NumHeads * ValueDim;

    template <class... In>
    static constexpr std::array<ParamSpec, 8> params = [] {
        constexpr std::size_t Dq = detail::features_of<typename roles<In...>::query>;
        constexpr std::size_t Dv = detail::features_of<typename roles<In...>::value>;
        constexpr std::size_t Dk = detail::features_of<typename roles<In...>::key>;
        return std::array<ParamSpec, 8>{
            ParamSpec{"query/kernel", {Dq, NumHeads, KeyDim}, 3, Init::glorot_uniform, true},
            ParamSpec{"query/bias", {NumHeads, KeyDim}, 2, Init::zeros, true},
            ParamSpec{"key/kernel", {Dk, NumHeads, KeyDim}, 3, Init::glorot_uniform, true},
            ParamSpec{"key/bias", {NumHeads, KeyDim}, 2, Init::zeros, true},
            ParamSpec{"value/kernel", {Dv, NumHeads, ValueDim}, 3, Init::glorot_uniform, true},
            ParamSpec{"value/bias", {NumHeads, ValueDim}, 2, Init::zeros, true},
            ParamSpec{"attention_output/kernel", {NumHeads, ValueDim, Dq}, 3, Init::glorot_uniform, true},
            ParamSpec{"attention_output/bias", {Dq}, 1, Init::zeros, true}};
    }();

    // Forward keeps q, k, v, the attention weights (and with dropout the mask and the weights
    // dropped) and the heads' outputs for backward, which uses as much again for their gradients.
    template <class... In>
    static constexpr std::size_t kept_per_sample = [] {
        constexpr std::size_t Lq = detail::steps_of<typename roles<In...>::query>;
        constexpr std::size_t Lk = detail::steps_of<typename roles<In...>::key>;
        return Lq * HK + Lk * HK + Lk * HV + 3 * NumHeads * Lq * Lk + Lq * HV;
    }();
    // Then, given an attention mask, the mask repeated for every head.
    template <class... In>
    static constexpr std::size_t workspace_per_sample =
        2 * kept_per_sample<In...> +
        (sizeof...(In) == 4 ? NumHeads * detail::steps_of<typename roles<In...>::query> *
                                  detail::steps_of<typename roles<In...>::key>
                            : 0);
    template <class... In>
    static constexpr std::size_t workspace_fixed = 0;
    template <class... In>
    static constexpr std::size_t flops_per_sample = [] {
        using R = roles<In...>;
        constexpr std::size_t Lq = detail::steps_of<typename R::query>, Lk = detail::steps_of<typename R::key>;
        return 2 * Lq * detail::features_of<typename R::query> * (HK + HV) +
               2 * Lk * (detail::features_of<typename R::key> * HK + detail::features_of<typename R::value> * HV) +
               2 * NumHeads * Lq * Lk * (KeyDim + ValueDim);
    }();

    // Self-attention: query, value and key are x.
    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        attend<B, T, In, In, In>(Inputs<T>{a.x, a.x, a.x, nullptr}, a.params, a.workspace, a.batch, a.mode, a.rng,
                                 a.y);
    }
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        attend_backward<B, T, In, In, In>(Inputs<T>{a.x, a.x, a.x, nullptr}, a.params, a.dparams, a.workspace, a.batch,
                                          a.dy, a.dx, a.dx, a.dx);
    }

    // Cross-attention: xs = (query, value), (query, value, key) or (query, value, key, mask).
    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        using R = roles<In...>;
        attend<B, T, typename R::query, typename R::value, typename R::key>(inputs_of(a.xs, a.count), a.params,
                                                                            a.workspace, a.batch, a.mode, a.rng, a.y);
    }
    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        using R = roles<In...>;
        attend_backward<B, T, typename R::query, typename R::value, typename R::key>(
            inputs_of(a.xs, a.count), a.params, a.dparams, a.workspace, a.batch, a.dy, a.dxs[0], a.dxs[1],
            a.count >= 3 ? a.dxs[2] : a.dxs[1]);
        if (a.count == 4 && a.dxs[3])  // the mask only selects: no gradient
            ops::fill_zero<B>(a.batch * detail::steps_of<typename R::query> * detail::steps_of<typename R::key>,
                              a.dxs[3]);
    }

private:
    template <class T>
    struct Inputs {
        const T *query, *value, *key, *attention_mask;
    };
    template <class T>
    static Inputs<T> inputs_of(const T* const* xs, std::size_t count) {
        return {xs[0], xs[1], count >= 3 ? xs[2] : xs[1], count == 4 ? xs[3] : nullptr};
    }
    // Where forward lays the attention mask out for every head (combine_attention_masks), after
    // what it keeps and its gradients' room.
    template <class T, class Q, class V, class K>
    static T* repeated_mask(T* workspace, std::size_t batch) {
        return workspace + 2 * batch * kept_per_sample<Q, V, K>;
    }

    // The weights (or their gradients) in params' order; all null when p is.
    template <class T, class Q, class V, class K>
    struct Weights {
        T *query = nullptr, *query_bias = nullptr, *key = nullptr, *key_bias = nullptr;
        T *value = nullptr, *value_bias = nullptr, *output = nullptr, *output_bias = nullptr;
        explicit Weights(T* p) {
            if (!p) return;
            query = p;
            query_bias = query + detail::features_of<Q> * HK;
            key = query_bias + HK;
            key_bias = key + detail::features_of<K> * HK;
            value = key_bias + HK;
            value_bias = value + detail::features_of<V> * HV;
            output = value_bias + HV;
            output_bias = output + HV * detail::features_of<Q>;
        }
    };
    // Forward's q (batch * Lq rows, heads side by side), k and v (batch * Lk rows), the attention
    // weights p (batch, heads, Lq, Lk), the heads' outputs o (as q, ValueDim wide), the dropout
    // mask and the dropped weights, in the workspace.
    template <class T, class Q, class K>
    struct Kept {
        static constexpr std::size_t Lq = detail::steps_of<Q>, Lk = detail::steps_of<K>;
        T *q, *k, *v, *p, *o, *mask, *dropped;
        Kept(T* base, std::size_t batch)
            : q(base),
              k(q + batch * Lq * HK),
              v(k + batch * Lk * HK),
              p(v + batch * Lk * HV),
              o(p + batch * NumHeads * Lq * Lk),
              mask(o + batch * Lq * HV),
              dropped(mask + batch * NumHeads * Lq * Lk) {}
    };

    template <class Q, class K>
    static detail::AttentionShape geometry(std::size_t batch) {
        return {batch, NumHeads, detail::steps_of<Q>, detail::steps_of<K>, KeyDim, ValueDim, HK, HK, HV, HV};
    }
    template <class T>
    static T key_scale() {
        return T(1) / std::sqrt(static_cast<T>(KeyDim));
    }

    template <backend_policy B, class T, class Q, class V, class K>
    void attend(Inputs<T> x, const T* params, T* workspace, std::size_t batch, Mode mode, Generator* rng, T* y) const {
        constexpr std::size_t Lq = detail::steps_of<Q>, Lk = detail::steps_of<K>;
        constexpr std::size_t Dq = detail::features_of<Q>, Dk = detail::features_of<K>, Dv = detail::features_of<V>;
        const Weights<const T, Q, V, K> w(params);
        const Kept<T, Q, K> kept(workspace, batch);
        ops::gemm<B>(false, false, batch * Lq, HK, Dq, T(1), x.query, Dq, w.query, HK, T(0), kept.q, HK);
        ops::bias_add<B>(batch * Lq, HK, w.query_bias, kept.q);
        ops::gemm<B>(false, false, batch * Lk, HK, Dk, T(1), x.key, Dk, w.key, HK, T(0), kept.k, HK);
        ops::bias_add<B>(batch * Lk, HK, w.key_bias, kept.k);
        ops::gemm<B>(false, false, batch * Lk, HV, Dv, T(1), x.value, Dv, w.value, HV, T(0), kept.v, HV);
        ops::bias_add<B>(batch * Lk, HV, w.value_bias, kept.v);
        T* allowed = x.attention_mask ? repeated_mask<T, Q, V, K>(workspace, batch) : nullptr;
        if (allowed) detail::combine_attention_masks<B>(geometry<Q, K>(batch), causal_, x.attention_mask, allowed);
        // Keras scales the query by 1 / sqrt(KeyDim); here the product of q and k is.
        detail::attention_forward<B>(geometry<Q, K>(batch), kept.q, kept.k, kept.v, key_scale<T>(), causal_, dropout_,
                                     mode, rng, detail::AttentionWeights<T>{kept.p, kept.mask, kept.dropped, allowed},
                                     kept.o);
        ops::gemm<B>(false, false, batch * Lq, Dq, HV, T(1), kept.o, HV, w.output, Dq, T(0), y, Dq);
        ops::bias_add<B>(batch * Lq, Dq, w.output_bias, y);
    }

    // dx_query, dx_value and dx_key may be one array (self-attention, or a value that is the key):
    // the parts are then added there.
    template <backend_policy B, class T, class Q, class V, class K>
    void attend_backward(Inputs<T> x, const T* params, T* dparams, T* workspace, std::size_t batch, const T* dy,
                         T* dx_query, T* dx_value, T* dx_key) const {
        constexpr std::size_t Lq = detail::steps_of<Q>, Lk = detail::steps_of<K>;
        constexpr std::size_t Dq = detail::features_of<Q>, Dk = detail::features_of<K>, Dv = detail::features_of<V>;
        const Weights<const T, Q, V, K> w(params);
        const Kept<T, Q, K> kept(workspace, batch);
        // the gradients of what forward kept, laid out as it
        const Kept<T, Q, K> d(workspace + batch * kept_per_sample<Q, V, K>, batch);
        const Weights<T, Q, V, K> dw(dparams);
        if (dparams) {
            ops::gemm<B>(true, false, HV, Dq, batch * Lq, T(1), kept.o, HV, dy, Dq, T(1), dw.output, Dq);
            ops::column_sum<B>(batch * Lq, Dq, dy, dw.output_bias, true);
        }
        ops::gemm<B>(false, true, batch * Lq, HV, Dq, T(1), dy, Dq, w.output, Dq, T(0), d.o, HV);
        const T* allowed = x.attention_mask ? repeated_mask<T, Q, V, K>(workspace, batch) : nullptr;
        detail::attention_backward<B>(geometry<Q, K>(batch), kept.q, kept.k, kept.v, key_scale<T>(), dropout_ > 0.0,
                                      detail::AttentionWeights<T>{kept.p, kept.mask, kept.dropped, allowed}, d.o, d.p,
                                      d.q, d.k, d.v);
        if (dparams) {
            ops::gemm<B>(true, false, Dq, HK, batch * Lq, T(1), x.query, Dq, d.q, HK, T(1), dw.query, HK);
            ops::column_sum<B>(batch * Lq, HK, d.q, dw.query_bias, true);
            ops::gemm<B>(true, false, Dk, HK, batch * Lk, T(1), x.key, Dk, d.k, HK, T(1), dw.key, HK);
            ops::column_sum<B>(batch * Lk, HK, d.k, dw.key_bias, true);
            ops::gemm<B>(true, false, Dv, HV, batch * Lk, T(1), x.value, Dv, d.v, HV, T(1), dw.value, HV);
            ops::column_sum<B>(batch * Lk, HV, d.v, dw.value_bias, true);
        }
        if (dx_query)
            ops::gemm<B>(false, true, batch * Lq, Dq, HK, T(1), d.q, HK, w.query, HK, T(0), dx_query, Dq);
        if (dx_key)
            ops::gemm<B>(false, true, batch * Lk, Dk, HK, T(1), d.k, HK, w.key, HK,
                         dx_key == dx_query ? T(1) : T(0), dx_key, Dk);
        if (dx_value)
            ops::gemm<B>(false, true, batch * Lk, Dv, HV, T(1), d.v, HV, w.value, HV,
                         dx_value == dx_query || dx_value == dx_key ? T(1) : T(0), dx_value, Dv);
    }

    bool causal_ = false;
    double dropout_ = 0.0;
};

namespace detail {
// Attention and AdditiveAttention: one head over whole rows of query (steps, width), key (steps,
// width) and value (steps, value width).
template <class... In>
AttentionShape single_head_shape(std::size_t batch) {
    using R = attention_roles<In...>;
    constexpr std::size_t width = features_of<typename R::key>, dv = features_of<typename R::value>;
    return {batch, 1, steps_of<typename R::query>, steps_of<typename R::key>, width, dv, width, width, dv, dv};
}
// Their workspace: the weights, the dropout mask, the weights dropped, the weights' gradient,
// then given an attention mask, that combined with the causal one.
template <class T>
AttentionWeights<T> single_head_weights(T* workspace, const AttentionShape& g, bool masked) {
    return {workspace, workspace + g.weights(), workspace + 2 * g.weights(),
            masked ? workspace + 4 * g.weights() : nullptr};
}
}  // namespace detail

// Keras' Attention(use_scale=False, score_mode="dot", dropout): dot-product attention between
// sequences, with no weights of its own. Attention{}(query, value) or (query, value, key) in a
// functional model: each query step gets softmax(query . key) over the key's steps (not scaled, as
// Keras' dot score), those weights summing the value's steps; the output is (query steps, value
// features). Keras' use_causal_mask, dropout (on the weights, in training) and an attention mask
// as a fourth input (query, value, key, mask) as in MultiHeadAttention (Keras' Attention takes the
// value's mask instead: a mask whose every row is that). Its learned scale (use_scale) and
// "concat" score are not here.
class Attention : public MergeLayerBase, public callable_layer<Attention> {
public:
    Attention() = default;
    explicit Attention(bool use_causal_mask, std::string name = {})
        : MergeLayerBase(std::move(name)), causal_(use_causal_mask) {}
    explicit Attention(std::string name) : MergeLayerBase(std::move(name)) {}
    explicit Attention(const char* name) : MergeLayerBase(std::string(name)) {}  // not Attention(bool)

    static constexpr std::string_view type_name = "Attention";
    static constexpr std::string_view default_name = "attention";
    double dropout() const noexcept { return dropout_; }
    Attention& dropout(double rate) {
        dropout_ = detail::dropout_rate(rate, type_name, this->name(), "latent.layers.attention.dropout");
        return *this;
    }
    bool use_causal_mask() const noexcept { return causal_; }
    Attention& use_causal_mask(bool on) noexcept {
        causal_ = on;
        return *this;
    }

    template <class... In>
    using roles = detail::attention_roles<In...>;
    template <class... In>
    static constexpr bool accepts_inputs = [] {
        if constexpr (detail::attention_inputs<In...>) {
            using R = roles<In...>;
            return detail::features_of<typename R::key> == detail::features_of<typename R::query>;
        } else {
            return false;
        }
    }();
    template <class... In>
    using requirement_for = std::conditional_t<
        sizeof...(In) >= 2 && sizeof...(In) <= 4,
        std::conditional_t<detail::attention_inputs<In...>, query_key_of_one_width,
                           detail::attention_requirement<In...>>,
        exactly_inputs<2>>;
    template <class... In>
    using output_shape = Shape<detail::steps_of<typename roles<In...>::query>,
                               detail::features_of<typename roles<In...>::value>>;

    // the attention weights, the dropout mask and the weights dropped, then their gradient; and
    // given an attention mask, that combined with the causal one (combine_attention_masks)
    template <class... In>
    static constexpr std::size_t workspace_per_sample = (sizeof...(In) == 4 ? 5 : 4) *
                                                        detail::steps_of<typename roles<In...>::query> *
                                                        detail::steps_of<typename roles<In...>::key>;
    template <class... In>
    static constexpr std::size_t flops_per_sample =
        2 * detail::steps_of<typename roles<In...>::query> * detail::steps_of<typename roles<In...>::key> *
        (detail::features_of<typename roles<In...>::key> + detail::features_of<typename roles<In...>::value>);

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        const auto g = detail::single_head_shape<In...>(a.batch);
        const auto w = detail::single_head_weights(a.workspace, g, a.count == 4);
        if (w.allowed) detail::combine_attention_masks<B>(g, causal_, a.xs[3], a.workspace + 4 * g.weights());
        detail::attention_forward<B>(g, a.xs[0], a.xs[a.count >= 3 ? 2 : 1], a.xs[1], T(1), causal_, dropout_, a.mode,
                                     a.rng, w, a.y);
    }
    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        const auto g = detail::single_head_shape<In...>(a.batch);
        detail::attention_backward<B>(g, a.xs[0], a.xs[a.count >= 3 ? 2 : 1], a.xs[1], T(1), dropout_ > 0.0,
                                      detail::single_head_weights(a.workspace, g, a.count == 4), a.dy,
                                      a.workspace + 3 * g.weights(),
                                      a.dxs[0], a.dxs[a.count >= 3 ? 2 : 1], a.dxs[1]);
        if (a.count == 4 && a.dxs[3]) ops::fill_zero<B>(g.weights(), a.dxs[3]);  // the mask only selects
    }

private:
    bool causal_ = false;
    double dropout_ = 0.0;
};

// Keras' AdditiveAttention(use_scale=True, dropout): Bahdanau-style attention, called as
// Attention is (query, value), (query, value, key) or with an attention mask, query and key of
// one width. The score of query step i and key step j is sum_d scale[d] tanh(q[i, d] + k[j, d])
// (a learned `scale` per feature, Glorot-uniform as Keras'; AdditiveAttention<false> is
// use_scale=False, no weights), then softmax, dropout and the value's steps weighted, as
// Attention's.
template <bool UseScale = true>
class AdditiveAttention : public MergeLayerBase, public callable_layer<AdditiveAttention<UseScale>> {
public:
    AdditiveAttention() = default;
    explicit AdditiveAttention(bool use_causal_mask, std::string name = {})
        : MergeLayerBase(std::move(name)), causal_(use_causal_mask) {}
    explicit AdditiveAttention(std::string name) : MergeLayerBase(std::move(name)) {}
    explicit AdditiveAttention(const char* name) : MergeLayerBase(std::string(name)) {}  // not (bool)

    static constexpr std::string_view type_name = "AdditiveAttention";
    static constexpr std::string_view default_name = "additive_attention";
    static constexpr bool use_scale = UseScale;
    double dropout() const noexcept { return dropout_; }
    AdditiveAttention& dropout(double rate) {
        dropout_ = detail::dropout_rate(rate, type_name, this->name(), "latent.layers.additive_attention.dropout");
        return *this;
    }
    bool use_causal_mask() const noexcept { return causal_; }
    AdditiveAttention& use_causal_mask(bool on) noexcept {
        causal_ = on;
        return *this;
    }

    // Inputs, shapes and workspace as Attention's.
    template <class... In>
    static constexpr bool accepts_inputs = Attention::accepts_inputs<In...>;
    template <class... In>
    using requirement_for = typename Attention::template requirement_for<In...>;
    template <class... In>
    using output_shape = typename Attention::template output_shape<In...>;
    template <class... In>
    static constexpr std::size_t workspace_per_sample = Attention::workspace_per_sample<In...>;

    template <class... In>
    static constexpr std::size_t width = detail::features_of<typename detail::attention_roles<In...>::key>;
    template <class... In>
    static constexpr auto params = [] {
        if constexpr (UseScale)
            return std::array<ParamSpec, 1>{ParamSpec{"scale", {width<In...>}, 1, Init::glorot_uniform, true}};
        else
            return std::array<ParamSpec, 0>{};
    }();
    // Per score: width sums, tanhs and products; then the weights times the value.
    template <class... In>
    static constexpr std::size_t flops_per_sample = [] {
        using R = detail::attention_roles<In...>;
        constexpr std::size_t scores = detail::steps_of<typename R::query> * detail::steps_of<typename R::key>;
        return scores * (4 * width<In...> + 2 * detail::features_of<typename R::value>);
    }();

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        const auto g = detail::single_head_shape<In...>(a.batch);
        const auto w = detail::single_head_weights(a.workspace, g, a.count == 4);
        if (w.allowed) detail::combine_attention_masks<B>(g, causal_, a.xs[3], a.workspace + 4 * g.weights());
        ops::additive_scores<B>(g.batch, g.lq, g.lk, g.key_dim, a.xs[0], a.xs[a.count >= 3 ? 2 : 1],
                                UseScale ? a.params : nullptr, w.p);
        detail::attend<B>(g, a.xs[1], causal_, dropout_, a.mode, a.rng, w, a.y);
    }
    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        const auto g = detail::single_head_shape<In...>(a.batch);
        const auto w = detail::single_head_weights(a.workspace, g, a.count == 4);
        T* d_scores = a.workspace + 3 * g.weights();
        T* dk = a.dxs[a.count >= 3 ? 2 : 1];
        detail::scores_gradient<B>(g, a.xs[1], dropout_ > 0.0, w, a.dy, d_scores);
        ops::additive_scores_backward<B>(g.batch, g.lq, g.lk, g.key_dim, a.xs[0], a.xs[a.count >= 3 ? 2 : 1],
                                         UseScale ? a.params : nullptr, static_cast<const T*>(d_scores), a.dxs[0],
                                         dk, UseScale ? a.dparams : nullptr);
        if (a.dxs[1]) detail::value_gradient<B>(g, dropout_ > 0.0, w, a.dy, a.dxs[1], a.dxs[1] == dk);
        if (a.count == 4 && a.dxs[3]) ops::fill_zero<B>(g.weights(), a.dxs[3]);  // the mask only selects
    }

private:
    bool causal_ = false;
    double dropout_ = 0.0;
};

}  // namespace latent
