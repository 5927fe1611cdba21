// The layer concept, written down once. Every layer in latent/layers follows this contract;
// Sequential (and later Model) relies on nothing else.
#pragma once

/* A layer L is a class deriving from LayerBase (which gives it a runtime name) with:

   static constexpr std::string_view type_name      "Dense": the Keras class name, for summaries
   static constexpr std::string_view default_name   "dense": Keras' base for automatic names
   template <class In> static constexpr bool accepts
       whether L can take one sample of shape In (a Shape<...>); a pure predicate, never an error
   using requirement = rank<1> | elements<N> | min_rank<R> | any_shape
       what `accepts` asks for, spelled into the compile-time diagnostic when it fails
   template <class In> using output_shape = Shape<...>
       the sample shape L produces; must be well-formed even when !accepts<In> (then it is a
       plausible guess, so that one wiring mistake gives one error and later layers stay quiet)
   template <class In> static constexpr std::array<ParamSpec, K> params
       the parameters L owns (name, shape, initializer, trainable); inherited empty by default
   template <class In> static constexpr std::size_t workspace_per_sample
       scratch elements per sample kept from forward to backward (Dropout's mask); default 0
   template <class In> static constexpr std::size_t workspace_fixed
       scratch elements kept from forward to backward whatever the batch (BatchNorm's batch
       statistics); default 0. The workspace holds batch * per_sample + fixed elements.
   template <class In> static constexpr std::size_t flops_per_sample
       floating-point operations of one forward pass over one sample (a multiply-add is 2)
   template <class In, backend_policy B, class T> void forward(const ForwardArgs<T>&) const
       y (batch, Out) from x (batch, In); params points at L's slice of the parameter arena
   template <class In, backend_policy B, class T> void backward(const BackwardArgs<T>&) const
       given dy, writes dx unless it is null (nothing below needs it) and *adds* the
       parameter gradients into dparams unless it is null (frozen); x and y are forward's

   The math is stated once, in the layer, through latent::ops; loops belong to backends.
   Layers are templates on the scalar T so that the tests can check gradients in double. */

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../backend/backend.hpp"
#include "../backend/ops.hpp"
#include "../core/errors.hpp"
#include "../core/mode.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"

namespace latent {

// How a parameter is initialized (Keras' names and rules).
// random_uniform: uniform in [-0.05, 0.05] (Keras' RandomUniform() defaults; Embedding's).
// orthogonal: Keras' Orthogonal() (recurrent kernels); unit_forget_bias: an LSTM's bias, ones
// for its forget gate; truncated_normal: Keras' TruncatedNormal(stddev=0.02), normal draws
// beyond two standard deviations drawn again (SpectralNormalization's vector_u).
// layers/initializers.hpp draws them all.
enum class Init { zeros, ones, glorot_uniform, random_uniform, orthogonal, unit_forget_bias, truncated_normal };

struct ParamSpec {
    std::string_view name;                 // "kernel", "bias", ...
    std::array<std::size_t, 4> dims{};     // the first `rank` entries are used
    std::size_t rank = 0;
    Init init = Init::zeros;
    bool trainable = true;

    constexpr std::size_t size() const {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i) n *= dims[i];
        return n;
    }
    std::vector<std::size_t> dim_vector() const { return {dims.begin(), dims.begin() + static_cast<long>(rank)}; }
    // Keras' fans: a 2-D kernel (in, out) has fan_in = in; a conv kernel (kh, kw, in, out)
    // multiplies both fans by the receptive field kh * kw.
    constexpr std::size_t fan_in() const {
        if (rank < 2) return size();
        std::size_t receptive = 1;
        for (std::size_t i = 0; i + 2 < rank; ++i) receptive *= dims[i];
        return dims[rank - 2] * receptive;
    }
    constexpr std::size_t fan_out() const {
        if (rank < 2) return size();
        std::size_t receptive = 1;
        for (std::size_t i = 0; i + 2 < rank; ++i) receptive *= dims[i];
        return dims[rank - 1] * receptive;
    }
};

template <class T>
struct ForwardArgs {
    const T* x = nullptr;         // (batch, In)
    T* y = nullptr;               // (batch, Out)
    const T* params = nullptr;    // this layer's slice of the parameter arena
    T* workspace = nullptr;       // batch * workspace_per_sample + workspace_fixed elements
    std::size_t batch = 0;
    Mode mode = Mode::infer;
    Generator* rng = nullptr;     // for layers that draw random numbers in training
    // A writable view of `params`, for layers that keep running statistics (BatchNorm's moving
    // mean and variance); null whenever they must stay as they are (inference, frozen layer).
    T* state = nullptr;
    // false when the layer is frozen: BatchNorm then normalizes with its moving statistics even
    // in training, as Keras does, so a frozen base behaves as it did when it was trained.
    bool trainable = true;
};

template <class T>
struct BackwardArgs {
    const T* x = nullptr;         // (batch, In), forward's input
    const T* y = nullptr;         // (batch, Out), forward's output
    const T* dy = nullptr;        // (batch, Out)
    T* dx = nullptr;              // (batch, In); null when no layer below needs it
    const T* params = nullptr;
    T* dparams = nullptr;         // gradients are added here; null when frozen
    T* workspace = nullptr;       // what forward left there
    std::size_t batch = 0;
};

namespace detail {
// A layer's description in messages: its type, and its name where it has one.
template <class = void>
std::string describe_layer(std::string_view type_name, const std::string& name) {
    return std::string(type_name) + (name.empty() ? std::string{} : " \"" + name + "\"");
}
// A number as messages print it (%g).
template <class = void>
std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
// A runtime setting that must be a finite number >= 0 (a noise stddev, a penalty weight):
// returns it, or throws value_error `id` naming the layer, the setting and the value given.
inline double non_negative_setting(double value, std::string_view type_name, const std::string& name,
                                   std::string_view setting, const std::string& id) {
    if (!(value >= 0.0 && std::isfinite(value)))
        throw value_error(id, describe_layer(type_name, name) + ": " + std::string(setting) +
                                  " must be a finite number >= 0, got " + number_text(value));
    return value;
}
// The same for a setting that may be any finite number (Rescaling's scale and offset).
inline double finite_setting(double value, std::string_view type_name, const std::string& name,
                             std::string_view setting, const std::string& id) {
    if (!std::isfinite(value))
        throw value_error(id, describe_layer(type_name, name) + ": " + std::string(setting) +
                                  " must be a finite number, got " + number_text(value));
    return value;
}

// Identities of layer objects, so that calling the same object twice in a functional graph
// shares its weights; an id is never reused.
inline std::uint64_t next_layer_uid() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}
}  // namespace detail

// The runtime part every layer shares: its name (empty until a model names it) and its
// identity (a copy is another layer, with weights of its own).
class LayerBase {
public:
    LayerBase() = default;
    explicit LayerBase(std::string name) : name_(std::move(name)) {}
    LayerBase(const LayerBase& other) : name_(other.name_) {}
    LayerBase& operator=(const LayerBase& other) {
        name_ = other.name_;
        return *this;
    }
    virtual ~LayerBase() = default;

    const std::string& name() const noexcept { return name_; }
    void set_name(std::string name) { name_ = std::move(name); }
    std::uint64_t uid() const noexcept { return uid_; }
    // The functional graph this object was last called in (opaque here; see
    // graph/functional.hpp), so that calling it from another graph joins the two and shares
    // its weights. A copy starts without one.
    std::shared_ptr<void> graph_home() const { return graph_home_.lock(); }
    void set_graph_home(const std::shared_ptr<void>& graph) const { graph_home_ = graph; }

    template <class In>
    static constexpr std::array<ParamSpec, 0> params{};
    template <class In>
    static constexpr std::size_t workspace_per_sample = 0;
    template <class In>
    static constexpr std::size_t workspace_fixed = 0;
    template <class In>
    static constexpr std::size_t flops_per_sample = 0;

private:
    std::string name_;
    std::uint64_t uid_ = detail::next_layer_uid();
    mutable std::weak_ptr<void> graph_home_;
};

// What makes a layer callable on symbolic tensors (latent/graph/functional.hpp): Derived is
// the layer itself, so that the call records the layer's own type and input shapes.
template <class Derived>
class callable_layer {
public:
    // x = Dense<64>{}(inputs): call_layer is found by argument-dependent lookup on the symbolic
    // tensors, so layers need not include the graph headers.
    template <class... X>
        requires(sizeof...(X) > 0)
    auto operator()(const X&... xs) const -> decltype(call_layer(std::declval<const Derived&>(), xs...)) {
        return call_layer(static_cast<const Derived&>(*this), xs...);
    }
};

// The base of every concrete single-input layer.
template <class Derived>
class Layer : public LayerBase, public callable_layer<Derived> {
public:
    using LayerBase::LayerBase;
};

template <class L>
concept layer = std::derived_from<L, LayerBase> && requires {
    { L::type_name } -> std::convertible_to<std::string_view>;
    { L::default_name } -> std::convertible_to<std::string_view>;
    typename L::requirement;
};

// Whether layer L takes a sample of shape S (a predicate; never a compile error).
template <class L, class S>
inline constexpr bool accepts_v = L::template accepts<S>;

// The workspace layer L needs for `batch` samples of shape In.
template <class L, class In>
constexpr std::size_t workspace_size(std::size_t batch) {
    return batch * L::template workspace_per_sample<In> + L::template workspace_fixed<In>;
}

// The workspace per sample layer L needs for input In on backend B: its
// workspace_per_sample_on<In, B> where it declares one (a layer that some backends' kernels
// need less scratch for), else workspace_per_sample<In>. The models size their buffers by it.
template <class L, class In, class B>
inline constexpr std::size_t workspace_per_sample_on_v = [] {
    if constexpr (requires { L::template workspace_per_sample_on<In, B>; })
        return std::size_t{L::template workspace_per_sample_on<In, B>};
    else
        return std::size_t{L::template workspace_per_sample<In>};
}();

// The element count of a layer's parameters for input In.
template <class L, class In>
constexpr std::size_t layer_param_count(bool trainable_only = false, bool non_trainable_only = false) {
    std::size_t n = 0;
    for (const auto& p : L::template params<In>) {
        if (trainable_only && !p.trainable) continue;
        if (non_trainable_only && p.trainable) continue;
        n += p.size();
    }
    return n;
}

// Layers that add a term to the loss (ActivityRegularization, Sampling, ContractiveDense):
// loss_term<In, B, T>(x, workspace, batch) gives the term for the last forward pass, whose input
// was x; their backward adds its gradient. The workspace is theirs: scratch, or what forward
// left there (ContractiveDense's per-sample penalties, which need its weights).
template <class L, class In, class B>
concept adds_loss_term = requires(const L& layer, const float* x, float* workspace, std::size_t batch) {
    { layer.template loss_term<In, B, float>(x, workspace, batch) } -> std::convertible_to<double>;
};

// The input shape of the network; not a layer, so it has no parameters and is not listed.
template <std::size_t... D>
struct Input {
    using shape = Shape<D...>;
};

template <class T>
struct is_input : std::false_type {};
template <std::size_t... D>
struct is_input<Input<D...>> : std::true_type {};
template <class T>
inline constexpr bool is_input_v = is_input<T>::value;

}  // namespace latent
