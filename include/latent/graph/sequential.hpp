// Sequential<[Backend,] Input<...>, Layers...>: a linear stack of layers whose whole wiring is
// one type. Shapes, parameter counts, FLOPs and activation memory are compile-time constants;
// parameters live in one arena, activations in buffers planned once per batch size.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "../backend/device_tensor.hpp"
#include "../backend/memory.hpp"
#include "../backend/ops.hpp"
#include "../core/arena.hpp"
#include "../core/batch_source.hpp"
#include "../core/buffer.hpp"
#include "../core/errors.hpp"
#include "../core/mode.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../io/by_name.hpp"
#include "../io/safetensors.hpp"
#include "../layers/fusion.hpp"
#include "../layers/initializers.hpp"
#include "compiled.hpp"
#include "graph_link.hpp"
#include "summary.hpp"
#include "validate.hpp"

namespace latent {

struct FitOptions;  // latent/train/options.hpp

namespace detail {
struct sequential_access;  // graph/functional.hpp: records a Sequential's layers in a graph
}  // namespace detail

template <class... Args>
class Sequential : detail::sequential_diagnostics<Sequential<Args...>, Args...> {
    using traits = detail::sequential_traits<Args...>;
    using chain = typename traits::chain;

public:
    using policy = typename traits::policy;
    static_assert(host_backend_v<policy> || device_backend<policy>,
                  "latent: a backend whose memory is not the host's must name its buffer type and its host copies "
                  "(buffer<T>, upload, download; see latent/backend/memory.hpp)");
    // On a device backend (latent::cuda) the model computes there: each input batch goes over
    // and outputs come back; the parameters live on both sides and are copied when the other
    // side changed them (the host by initialize, load_weights, writable views; the device by
    // training), so host-side accessors always see the current values.
    static constexpr bool on_device = !host_backend_v<policy>;
    using layers_tuple = typename traits::layers_tuple;
    using input_shape = typename traits::input_shape;
    using output_shape = typename traits::output_shape;

    static constexpr bool is_valid = traits::valid;
    static constexpr std::size_t layer_count = traits::layer_count;

    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers_tuple>;
    template <std::size_t I>
    using layer_input_shape = detail::type_at_t<I, typename chain::inputs>;
    template <std::size_t I>
    using layer_output_shape = typename detail::checked_layer_t<layer_type<I>>::template output_shape<layer_input_shape<I>>;

private:
    template <std::size_t I>
    using checked_layer = detail::checked_layer_t<layer_type<I>>;

    template <class F>
    static constexpr auto per_layer(F f) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::array<std::size_t, layer_count>{f.template operator()<I>()...};
        }(std::make_index_sequence<layer_count>{});
    }
    static constexpr std::size_t total(const std::array<std::size_t, layer_count>& a) {
        std::size_t n = 0;
        for (auto v : a) n += v;
        return n;
    }
    static constexpr std::size_t largest(const std::array<std::size_t, layer_count>& a) {
        std::size_t n = input_shape::size;
        for (auto v : a) n = v > n ? v : n;
        return n;
    }

    struct param_counter {
        bool trainable_only = false, non_trainable_only = false;
        template <std::size_t I>
        constexpr std::size_t operator()() const {
            return layer_param_count<checked_layer<I>, layer_input_shape<I>>(trainable_only, non_trainable_only);
        }
    };
    struct output_counter {
        template <std::size_t I>
        constexpr std::size_t operator()() const { return layer_output_shape<I>::size; }
    };
    struct workspace_fixed_counter {
        template <std::size_t I>
        constexpr std::size_t operator()() const {
            return checked_layer<I>::template workspace_fixed<layer_input_shape<I>>;
        }
    };
    struct workspace_counter {
        template <std::size_t I>
        constexpr std::size_t operator()() const {
            return workspace_per_sample_on_v<checked_layer<I>, layer_input_shape<I>, policy>;
        }
    };
    struct flop_counter {
        template <std::size_t I>
        constexpr std::size_t operator()() const {
            return checked_layer<I>::template flops_per_sample<layer_input_shape<I>>;
        }
    };

public:
    static constexpr std::array<std::size_t, layer_count> layer_param_counts = per_layer(param_counter{});
    static constexpr std::size_t param_count = total(layer_param_counts);
    // As Keras counts them before anything is frozen (moving statistics are non-trainable).
    static constexpr std::size_t trainable_param_count = total(per_layer(param_counter{true, false}));
    static constexpr std::size_t non_trainable_param_count = total(per_layer(param_counter{false, true}));
    static constexpr std::size_t flops_per_sample = total(per_layer(flop_counter{}));
    // Bytes of every layer's float32 output for one sample: what training keeps for backward.
    static constexpr std::size_t activation_bytes_per_sample = total(per_layer(output_counter{})) * sizeof(float);

    // Weights are drawn from `seed` (Glorot-uniform kernels, zero biases): the same seed gives
    // the same network, bit for bit.
    explicit Sequential(std::uint64_t seed = 0) {
        assign_default_names();
        build_arena();
        initialize(seed);
    }

    // Re-draws every parameter from `seed`.
    void initialize(std::uint64_t seed) {
        if (device_link())
            pull_params();  // the graph's other layers keep what the device trained
        else
            device_params_newer_ = false;  // every value is drawn anew on the host
        host_params_changed();
        Generator gen(seed);
        for (const auto& slot : params_.slots()) {
            auto values = params_.slot_values(slot);
            const ParamSpec& spec = specs_[&slot - params_.slots().data()];
            detail::initialize_parameter(spec, values, gen);
        }
    }

    // ---- layers -------------------------------------------------------------------------
    template <std::size_t I>
    layer_type<I>& layer() noexcept {
        static_assert(I < layer_count, "latent: layer<I>() is past the last layer");
        return std::get<I>(layers_);
    }
    template <std::size_t I>
    const layer_type<I>& layer() const noexcept {
        static_assert(I < layer_count, "latent: layer<I>() is past the last layer");
        return std::get<I>(layers_);
    }

    // A runtime handle on one layer: its name, type, output shape, parameters and trainability.
    class LayerHandle {
    public:
        LayerHandle(Sequential& net, std::size_t index) : net_(&net), index_(index) {}
        std::size_t index() const noexcept { return index_; }
        const std::string& name() const { return net_->layer_name(index_); }
        std::string_view type_name() const { return type_names[index_]; }
        std::vector<std::size_t> output_shape() const { return output_dims()[index_]; }
        std::size_t param_count() const noexcept { return layer_param_counts[index_]; }
        bool trainable() const { return net_->trainable(index_); }
        void set_trainable(bool on) { net_->set_trainable(index_, on); }
        // Views of this layer's parameters in the arena ("dense/kernel", "dense/bias", ...).
        std::vector<std::pair<const ParamSlot*, std::span<float>>> weights() const {
            net_->sync_slot_names();
            net_->pull_params();
            net_->host_params_changed();  // the caller may write through the spans
            std::vector<std::pair<const ParamSlot*, std::span<float>>> out;
            for (const auto& slot : net_->params_.slots())
                if (slot.layer == index_) out.emplace_back(&slot, net_->params_.slot_values(slot));
            return out;
        }
        // Every parameter (Keras' layer.get_weights(): kernel, bias, ... in order).
        std::vector<std::vector<float>> get_weights() const {
            std::vector<std::vector<float>> out;
            for (const auto& [slot, values] : weights()) out.emplace_back(values.begin(), values.end());
            return out;
        }
        // Replaces every parameter; all-or-nothing, each checked against the layer's shapes.
        void set_weights(const std::vector<std::vector<float>>& values) {
            auto slots = weights();
            if (values.size() != slots.size())
                throw shape_error("latent.graph.set_weights",
                                  detail::concat("layer \"", name(), "\" has ", std::to_string(slots.size()),
                                                 " weights, got ", std::to_string(values.size())));
            for (std::size_t s = 0; s < slots.size(); ++s)
                if (values[s].size() != slots[s].second.size())
                    throw shape_error("latent.graph.set_weights",
                                      detail::concat("layer \"", name(), "\", weight ", std::to_string(s), " (",
                                                     slots[s].first->name, "): expected ",
                                                     std::to_string(slots[s].second.size()), " values of shape ",
                                                     format_shape(slots[s].first->dims), ", got ",
                                                     std::to_string(values[s].size())));
            for (std::size_t s = 0; s < slots.size(); ++s)
                std::copy(values[s].begin(), values[s].end(), slots[s].second.begin());
        }

    private:
        Sequential* net_;
        std::size_t index_;
    };

    LayerHandle layer(std::string_view name) { return LayerHandle(*this, layer_index(name)); }
    LayerHandle layer(std::size_t index) {
        if (index >= layer_count) throw_past_last_layer(index);
        return LayerHandle(*this, index);
    }

    std::size_t layer_index(std::string_view name) const {
        const auto names = layer_names();
        for (std::size_t i = 0; i < names.size(); ++i)
            if (names[i] == name) return i;
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        throw value_error("latent.graph.no_such_layer",
                          detail::concat("no layer named \"", name, "\" in model \"", name_, "\"; it has: ", known));
    }

    // The name of layer i, as the layer itself holds it.
    const std::string& layer_name(std::size_t i) const {
        const std::string* found = nullptr;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((I == i ? (void)(found = &std::get<I>(layers_).name()) : void()), ...);
        }(std::make_index_sequence<layer_count>{});
        if (!found) throw_past_last_layer(i);
        return *found;
    }

    std::vector<std::string> layer_names() const {
        std::vector<std::string> names;
        names.reserve(layer_count);
        std::apply([&](const auto&... l) { (names.push_back(l.name()), ...); }, layers_);
        return names;
    }

    static constexpr std::array<std::string_view, layer_count> type_names = [] {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::array<std::string_view, layer_count>{checked_layer<I>::type_name...};
        }(std::make_index_sequence<layer_count>{});
    }();

    static std::vector<std::vector<std::size_t>> output_dims() {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::vector<std::vector<std::size_t>>{dims_of<layer_output_shape<I>>()...};
        }(std::make_index_sequence<layer_count>{});
    }

    // Freezing a layer removes its parameters from training (Keras' layer.trainable = False).
    void set_trainable(std::size_t index, bool on) {
        if (index >= layer_count) throw_past_last_layer(index);
        if (auto* graph = graph_.get()) graph->set_trainable(index, on);
        apply_trainable(index, on);
    }
    void set_trainable(bool on) {
        for (std::size_t i = 0; i < layer_count; ++i) set_trainable(i, on);
    }
    bool trainable(std::size_t index) const {
        if (index >= layer_count) throw_past_last_layer(index);
        pull_trainable();
        return layer_trainable_[index];
    }

    const std::string& name() const noexcept { return name_; }
    void set_name(std::string name) { name_ = std::move(name); }

    // Called on a symbolic tensor like a layer inside a functional model (graph/functional.hpp,
    // Keras' nested Sequential): its layers are recorded there and from then on its weights
    // live in that graph, shared with every model built on it.
    template <class X>
        requires requires { typename X::shape; typename X::backend; }
    auto operator()(const X& x) {
        return call_layer(*this, x);
    }

    // ---- parameters ---------------------------------------------------------------------
    // The arena's slot names follow the layers' current names ("<layer>/<parameter>").
    ParameterArena<float>& parameters() {
        sync_slot_names();
        pull_trainable();
        pull_params();
        host_params_changed();  // the caller may write through it
        return params_;
    }
    const ParameterArena<float>& parameters() const {
        sync_slot_names();
        pull_trainable();
        pull_params();
        return params_;
    }
    std::span<float> gradients() noexcept
        requires(!on_device)
    {
        return grads_.span();
    }
    std::span<const float> gradients() const noexcept
        requires(!on_device)
    {
        return grads_.span();
    }

    // Trainable / non-trainable counts as they stand now (after freezing).
    std::size_t count_trainable_params() const {
        pull_trainable();
        return params_.trainable_count();
    }

    // Writes every parameter to a safetensors file ("<layer name>/kernel", ...), atomically.
    void save_weights(const std::filesystem::path& path) const {
        sync_slot_names();
        pull_params();
        io::save_safetensors(path, params_);
    }
    // Loads every parameter, or with {.by_name = true} the layers whose names the file has
    // (Keras' load_weights(by_name=True, skip_mismatch=...)); all-or-nothing (a failed load
    // leaves the model unchanged). The report says what was loaded and skipped. (Two overloads
    // rather than a default argument: a program that never loads by name does not compile it.)
    io::LoadReport load_weights(const std::filesystem::path& path) {
        sync_slot_names();
        pull_params();  // a failed or partial load leaves the values the model had
        host_params_changed();
        return io::detail::load_every_slot(path, params_);
    }
    io::LoadReport load_weights(const std::filesystem::path& path, const io::LoadOptions& options) {
        sync_slot_names();
        pull_params();
        host_params_changed();
        return io::load_safetensors(path, params_, options);
    }

    // The parameters, named "<layer>/<weight>" (for transfer_weights).
    ParameterArena<float> named_weights() const {
        sync_slot_names();
        pull_params();
        return params_;
    }
    io::LoadReport assign_weights_by_name(const std::map<std::string, io::detail::NamedValues>& source,
                                          bool skip_mismatch, const std::string& label) {
        sync_slot_names();
        pull_params();
        host_params_changed();
        return io::detail::assign_by_layer(source, params_, skip_mismatch, label);
    }

    // ---- inference ----------------------------------------------------------------------
    template <float_batch X>
    Tensor<output_shape> predict(const X& x, std::size_t batch_size = 32) {
        check_input<X>();
        return predict_batches(x.batch(), batch_size,
                               [&](std::size_t first, std::size_t) { return x.data() + first * input_shape::size; });
    }

    // Samples kept in the model's device memory (DeviceTensor; latent::cuda): each batch is
    // copied there into the model's input buffer, none from the host; the outputs come back.
    template <shape_type XS>
        requires on_device
    Tensor<output_shape> predict(const DeviceTensor<policy, XS>& x, std::size_t batch_size = 32) {
        check_input<TensorView<XS, const float>>();
        return predict_batches(x.batch(), batch_size, [&](std::size_t first, std::size_t n) {
            return device_input_from(x.data() + first * input_shape::size, n);
        });
    }

    // An xtensor or Eigen array (latent/interop/): viewed in place when it is float and
    // row-major contiguous, else copied once.
    template <adapted_batch X>
    Tensor<output_shape> predict(const X& x, std::size_t batch_size = 32) {
        Tensor<input_shape> copy;
        return predict(detail::input_view<Sequential, input_shape>(x, copy), batch_size);
    }

    // The same into a tensor the caller keeps (its batch is x's): after the first call of a
    // batch size this allocates nothing, for real-time use (one sample at a time).
    template <float_batch X>
    void predict(const X& x, Tensor<output_shape>& out) {
        check_input<X>();
        if (out.batch() != x.batch())
            throw shape_error("latent.graph.predict.output",
                              detail::concat("predict into a tensor of ", std::to_string(out.batch()), " samples for ",
                                             std::to_string(x.batch()), " inputs"));
        if (x.batch() == 0) return;
        [[maybe_unused]] const auto scope = context_scope();
        [[maybe_unused]] const auto recorded =
            detail::step_scope<policy>(detail::step_kind::predict, x.batch(), step_salt());
        const float* y = forward(x.data(), x.batch(), Mode::infer);
        download<policy>(out.data(), y, x.batch() * output_shape::size);
    }

    // ---- the engine the training loop drives ---------------------------------------------
    // Runs every layer on x (batch, input; host memory) and returns the output (batch, output;
    // in the backend's memory); the activations stay in the model's buffers until the next
    // call, for backward. x must stay alive until backward.
    const float* forward(const float* x, std::size_t batch, Mode mode, Generator* rng = nullptr) {
        if constexpr (is_valid) {
            if (params_.size() != param_count)
                throw value_error("latent.graph.moved_from",
                                  "model \"" + name_ + "\" was moved from; assign a model to it before using it");
            [[maybe_unused]] const auto scope = context_scope();
            plan(batch);
            pull_trainable();
            if constexpr (on_device) {
                if (auto* link = device_link()) {
                    link->device_params(mode == Mode::train);
                } else {
                    sync_device_params();
                    if (mode == Mode::train) device_params_newer_ = true;  // BatchNorm's moving statistics
                }
                if (x != device_input_.data()) {  // else the caller filled it there (device_input_for)
                    if (device_input_.size() < batch * input_shape::size)
                        device_input_.resize_discard(batch * input_shape::size);
                    upload<policy>(device_input_.data(), x, batch * input_shape::size);
                    x = device_input_.data();
                }
            }
            input_ = x;
            batch_ = batch;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (forward_layer<I>(mode, rng), ...);
            }(std::make_index_sequence<layer_count>{});
            return output(layer_count - 1);
        } else {
            return nullptr;
        }
    }

    // On a device backend: the model's input buffer there, for `batch` samples, for a caller
    // that fills it itself (fit gathers each batch from the training set it holds there).
    // forward given this pointer reads the batch where it is instead of copying it over.
    float* device_input_for(std::size_t batch, [[maybe_unused]] std::size_t which = 0)  // its one input: 0
        requires on_device
    {
        [[maybe_unused]] const auto scope = context_scope();
        if (device_input_.size() < batch * input_shape::size) device_input_.resize_discard(batch * input_shape::size);
        return device_input_.data();
    }
    // That buffer, filled on the device from `batch` samples already in its memory (a DeviceTensor).
    const float* device_input_from(const float* there, std::size_t batch, [[maybe_unused]] std::size_t which = 0)
        requires on_device
    {
        float* input = device_input_for(batch);
        ops::copy_elements<policy>(batch * input_shape::size, there, input);
        return input;
    }

    // Backpropagates dy, the gradient of the loss with respect to the output of layer
    // top - 1, through layers top - 1 ... 0 of the last forward pass. Parameter gradients are
    // added into gradients() (zero it first); no work is done below the lowest trainable layer.
    void backward(const float* dy, std::size_t top = layer_count) {
        if constexpr (is_valid) {
            [[maybe_unused]] const auto scope = context_scope();
            const std::size_t bottom = lowest_trainable_layer();
            const float* grad = dy;
            std::size_t ping = 0;
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (backward_layer<layer_count - 1 - I>(top, bottom, grad, ping), ...);
            }(std::make_index_sequence<layer_count>{});
        }
    }

    // The training loop's handles on the arrays in the backend's memory: the parameters the
    // optimizer updates (on a device backend the host copy is refreshed when next read), and
    // the gradients backward adds into.
    float* backend_parameters() {
        pull_trainable();
        if constexpr (on_device) {
            [[maybe_unused]] const auto scope = context_scope();
            if (auto* link = device_link()) return link->device_params(true);
            sync_device_params();
            device_params_newer_ = true;
            return device_params_.data();
        } else {
            return params_.data();
        }
    }
    float* backend_gradients() noexcept { return grads_.data(); }
    static constexpr std::size_t backend_param_count() noexcept { return param_count; }
    void zero_gradients() {
        if constexpr (on_device) {
            [[maybe_unused]] const auto scope = context_scope();
            ops::fill_zero<policy>(grads_.size(), grads_.data());
        } else {
            std::fill(grads_.begin(), grads_.end(), 0.0f);
        }
    }

    // Makes the model's own context (on latent::cuda: its stream and cuBLAS handle) current on
    // this thread until the returned scope ends; the model's own calls do this themselves, and
    // the training loop around the loss and optimizer. Nothing on other backends.
    auto context_scope() const {
        if constexpr (has_backend_context<policy>) {
            if (auto* link = device_link())  // called in a functional graph: the graph's stream
                return typename policy::context_scope(link->context());
            return typename policy::context_scope(context_.get());
        } else {
            return detail::no_backend_context{};
        }
    }
    // Tells this network's recorded steps apart from those of other models sharing its context
    // (a functional graph's, once the network is called in one).
    std::size_t step_salt() const noexcept { return reinterpret_cast<std::uintptr_t>(this); }

    // What layers add to the loss for the last forward pass (ActivityRegularization, Sampling);
    // fit and evaluate report it with the loss. Uses the layers' workspaces as scratch.
    double added_loss() {
        double total = 0.0;
        if constexpr (is_valid) {
            [[maybe_unused]] const auto scope = context_scope();
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (add_loss_term<I>(total), ...);
            }(std::make_index_sequence<layer_count>{});
        }
        return total;
    }

    // The output of layer i (batch, out_i), and the input of layer i, from the last forward pass.
    const float* output(std::size_t i) const { return activations_.data() + act_offsets_[i] * batch_; }
    const float* layer_input(std::size_t i) const { return i == 0 ? input_ : output(i - 1); }

    // What the training loop needs to fuse a loss with a final Softmax/Sigmoid (Model has the same).
    static constexpr detail::output_activation output_activation_kind() {
        if constexpr (is_valid)
            return detail::output_activation_of<layer_type<layer_count - 1>>();
        else
            return detail::output_activation::none;
    }
    const float* final_output() const { return output(layer_count - 1); }
    const float* final_logits() const { return layer_input(layer_count - 1); }
    void backward_from_output(const float* grad, bool from_logits) {
        backward(grad, from_logits ? layer_count - 1 : layer_count);
    }
    std::vector<ArenaRange> trainable_ranges() const {
        pull_trainable();
        return params_.trainable_ranges();
    }
    // The names of those ranges' weights, in the same order (what an optimizer's
    // exclude_from_weight_decay matches).
    std::vector<std::string> trainable_names() const {
        pull_trainable();
        sync_slot_names();
        return params_.trainable_names();
    }

    // Which layer's output first became non-finite in the last forward pass, in words.
    std::string describe_non_finite(std::size_t batch) const {
        const auto dims = output_dims();
        [[maybe_unused]] const auto scope = context_scope();
        std::vector<float> copied;  // a device backend's outputs, brought over one at a time
        for (std::size_t i = 0; i < layer_count; ++i) {
            std::size_t size = batch;
            for (auto d : dims[i]) size *= d;
            const float* out = output(i);
            if constexpr (on_device) {
                copied.resize(size);
                download<policy>(copied.data(), out, size);
                out = copied.data();
            }
            for (std::size_t k = 0; k < size; ++k)
                if (!std::isfinite(out[k]))
                    return detail::concat("the first non-finite output is layer ", std::to_string(i), " \"",
                                          layer_name(i), "\" (", type_names[i], ")");
        }
        return "every layer's output is finite, so the loss itself overflowed (check the labels)";
    }

    std::size_t lowest_trainable_layer() const {
        pull_trainable();
        for (std::size_t i = 0; i < layer_count; ++i)
            if (layer_trainable_[i] && layer_param_counts[i] > 0) return i;
        return layer_count;
    }

    // ---- Keras-style training (the loop lives in latent/train) --------------------------
    template <class Optimizer, class Loss, class... Metrics>
    void compile(Optimizer optimizer, Loss loss, Metrics... metrics) {
        compile_model(*this, std::move(optimizer), std::move(loss), std::move(metrics)...);
    }
    // Options defaults to FitOptions (latent/train/options.hpp), so that `{.epochs = 5}` works.
    template <float_batch X, float_batch Y, class Options = FitOptions>
    auto fit(const X& x, const Y& y, const Options& options = {}) {
        return fit_model(*this, as_const_view(x), as_const_view(y), options);
    }
    template <float_batch X, float_batch Y>
    auto evaluate(const X& x, const Y& y, std::size_t batch_size = 32) {
        return evaluate_model(*this, as_const_view(x), as_const_view(y), batch_size);
    }
    // One optimizer step on exactly this batch; returns its mean loss (Keras' train_on_batch).
    template <float_batch X, float_batch Y>
    double train_on_batch(const X& x, const Y& y) {
        return train_on_batch_model(*this, as_const_view(x), as_const_view(y));
    }
    // The same on a batch kept in the model's device memory (DeviceTensor; latent::cuda): no
    // copy from the host per call.
    template <shape_type XS, shape_type YS>
        requires on_device
    double train_on_batch(const DeviceTensor<policy, XS>& x, const DeviceTensor<policy, YS>& y) {
        return train_on_batch_model(*this, x, y);
    }
    // Keras' optimizer.finalize_variable_values after a loop of train_on_batch: with the
    // optimizer's use_ema, the trainable weights take their moving averages (fit does it itself).
    void finalize_variable_values() { finalize_variable_values_model(*this); }
    // The same with xtensor or Eigen arrays for x or y (latent/interop/).
    template <batch_source X, batch_source Y, class Options = FitOptions>
        requires(adapted_batch<X> || adapted_batch<Y>)
    auto fit(const X& x, const Y& y, const Options& options = {}) {
        Tensor<input_shape> copy;
        const auto inputs = detail::input_view<Sequential, input_shape>(x, copy);
        return detail::with_labels<output_shape>(y, [&](auto labels) { return fit(inputs, labels, options); });
    }
    template <batch_source X, batch_source Y>
        requires(adapted_batch<X> || adapted_batch<Y>)
    auto evaluate(const X& x, const Y& y, std::size_t batch_size = 32) {
        Tensor<input_shape> copy;
        const auto inputs = detail::input_view<Sequential, input_shape>(x, copy);
        return detail::with_labels<output_shape>(y, [&](auto labels) { return evaluate(inputs, labels, batch_size); });
    }
    template <batch_source X, batch_source Y>
        requires(adapted_batch<X> || adapted_batch<Y>)
    double train_on_batch(const X& x, const Y& y) {
        Tensor<input_shape> copy;
        const auto inputs = detail::input_view<Sequential, input_shape>(x, copy);
        return detail::with_labels<output_shape>(y, [&](auto labels) { return train_on_batch(inputs, labels); });
    }
    bool compiled() const noexcept { return static_cast<bool>(compiled_); }
    detail::compiled_state* compiled_state() const noexcept { return compiled_.get(); }
    void set_compiled_state(std::unique_ptr<detail::compiled_state> state) { compiled_.reset(std::move(state)); }

    // Keras-style table: layer (type), output shape, parameters; then the totals.
    void summary(std::ostream& out = std::cout) const {
        std::vector<detail::summary_row> rows;
        const auto names = layer_names();
        const auto dims = output_dims();
        for (std::size_t i = 0; i < layer_count; ++i)
            rows.push_back({names[i], std::string(type_names[i]), dims[i], layer_param_counts[i]});
        const std::size_t trainable = count_trainable_params();
        detail::print_summary(out, name_, rows, param_count, trainable, param_count - trainable);
    }

    template <class X>
    static constexpr void check_input() {
        using S = typename std::remove_cvref_t<X>::shape;
        if constexpr (!std::is_same_v<S, input_shape>)
            (void)sizeof(input_batch_mismatch<Sequential, got<S>, expected<input_shape>>);
    }

private:
    // predict's loop over batches of `count` samples: place_input(first, n), called inside
    // the step (a recorded step includes its kernels), gives the batch where forward reads it.
    template <class PlaceInput>
    Tensor<output_shape> predict_batches(std::size_t count, std::size_t batch_size, PlaceInput place_input) {
        if (batch_size == 0) throw value_error("latent.graph.predict.batch_size", "predict needs batch_size >= 1");
        Tensor<output_shape> out(count);
        [[maybe_unused]] const auto scope = context_scope();
        for (std::size_t first = 0; first < count; first += batch_size) {
            const std::size_t n = std::min(batch_size, count - first);
            [[maybe_unused]] const auto recorded =
                detail::step_scope<policy>(detail::step_kind::predict, n, step_salt());
            const float* y = forward(place_input(first, n), n, Mode::infer);
            download<policy>(out.data() + first * output_shape::size, y, n * output_shape::size);
        }
        return out;
    }

    friend struct detail::sequential_access;

    // The parameters as the layers read them: the arena on the host, its copy on a device.
    // (in a functional graph, the graph's device copy)
    const float* layer_params() const {
        if constexpr (on_device)
            return device_link() ? device_link()->device_params(false) : device_params_.data();
        else
            return params_.data();
    }
    float* layer_params() {
        if constexpr (on_device)
            return device_link() ? device_link()->device_params(false) : device_params_.data();
        else
            return params_.data();
    }
    // A network on a device backend called in a functional graph computes with the graph's
    // device copy of its weights, on the graph's stream; null otherwise.
    using device_membership = detail::device_graph_membership<typename detail::context_of<policy>::type>;
    device_membership* device_link() const noexcept {
        if constexpr (on_device)
            return dynamic_cast<device_membership*>(graph_.get());
        else
            return nullptr;
    }
    // Every change of the host arena (or a writable view handed out) makes the device copy stale.
    void host_params_changed() const noexcept {
        ++params_version_;
        if (auto* link = device_link()) link->host_changed();
    }
    // Brings values the device changed (training, BatchNorm's moving statistics) to the host.
    void pull_params() const {
        if constexpr (on_device) {
            if (auto* link = device_link()) {
                link->sync_host();
                return;
            }
            if (!device_params_newer_) return;
            [[maybe_unused]] const auto scope = context_scope();
            download<policy>(params_.data(), device_params_.data(), params_.size());
            device_params_newer_ = false;
            device_params_version_ = params_version_;  // both sides hold the same values now
        }
    }
    void sync_device_params() {
        if (device_link()) return;  // the graph keeps its device copy current
        if (device_params_version_ == params_version_ && device_params_.size() == params_.size()) return;
        [[maybe_unused]] const auto scope = context_scope();
        if (device_params_.size() != params_.size()) device_params_.resize_discard(params_.size());
        upload<policy>(device_params_.data(), params_.data(), params_.size());
        device_params_version_ = params_version_;
    }

    void apply_trainable(std::size_t index, bool on) const {
        layer_trainable_[index] = on;
        for (std::size_t s = 0; s < params_.slots().size(); ++s) {
            auto& slot = params_.slots()[s];
            if (slot.layer == index) slot.trainable = on && specs_[s].trainable;
        }
    }
    // Trainability set through a functional model this network was called in.
    void pull_trainable() const {
        auto* graph = graph_.get();
        if (!graph) return;
        for (std::size_t i = 0; i < layer_count; ++i)
            if (const bool on = graph->trainable(i); on != layer_trainable_[i]) apply_trainable(i, on);
    }

    template <std::size_t I>
    static constexpr auto layer_param_specs() {
        return checked_layer<I>::template params<layer_input_shape<I>>;
    }

    void assign_default_names() {
        std::vector<std::string> taken;
        std::apply([&](auto&... l) { (note_name(l, taken), ...); }, layers_);
        std::apply([&](auto&... l) { (give_name(l, taken), ...); }, layers_);
        check_unique_names();
    }
    static void note_name(const LayerBase& l, std::vector<std::string>& taken) {
        if (!l.name().empty()) taken.push_back(l.name());
    }
    // Keras' scheme: "dense", "dense_1", "dense_2", ... skipping names already taken. (One
    // function for every layer type: a template per type would compile the same code each time.)
    template <class L>
    void give_name(L& l, std::vector<std::string>& taken) {
        give_default_name(l, L::default_name, taken);
    }
    void give_default_name(LayerBase& l, std::string_view base, std::vector<std::string>& taken) {
        if (!l.name().empty()) {
            default_names_.emplace_back();
            return;
        }
        std::string candidate(base);
        for (std::size_t k = 1; std::find(taken.begin(), taken.end(), candidate) != taken.end(); ++k)
            candidate = std::string(base) + "_" + std::to_string(k);
        l.set_name(candidate);
        taken.push_back(candidate);
        default_names_.push_back(candidate);
    }
    [[noreturn]] static void throw_past_last_layer(std::size_t index) {
        throw value_error("latent.graph.layer_index",
                          detail::concat("layer index ", std::to_string(index), " is past the last layer (",
                                         std::to_string(layer_count), " layers)"));
    }

    // Layers may be renamed after construction (layer<I>().set_name(...)); parameter names
    // follow them here, before anything reads or writes names.
    void sync_slot_names() const {
        check_unique_names();
        auto& slots = params_.slots();
        for (std::size_t s = 0; s < slots.size(); ++s)
            slots[s].name = layer_name(slots[s].layer) + "/" + std::string(specs_[s].name);
    }

    void check_unique_names() const {
        const auto names = layer_names();
        for (std::size_t i = 0; i < names.size(); ++i)
            for (std::size_t j = i + 1; j < names.size(); ++j)
                if (names[i] == names[j])
                    throw value_error("latent.graph.duplicate_name",
                                      detail::concat("layers ", std::to_string(i), " and ", std::to_string(j),
                                                     " are both named \"", names[i], "\"; layer names must be unique"));
    }

    void build_arena() {
        std::vector<ParamSlot> slots;
        specs_.clear();
        const auto names = layer_names();
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((add_slots(I, names[I], layer_param_specs<I>(), slots)), ...);
        }(std::make_index_sequence<layer_count>{});
        params_ = ParameterArena<float>(std::move(slots));
        grads_.resize_discard(params_.size());
        layer_trainable_.fill(true);
        std::size_t offset = 0;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((param_offsets_[I] = offset, offset += layer_param_counts[I]), ...);
        }(std::make_index_sequence<layer_count>{});
    }
    void add_slots(std::size_t layer, const std::string& layer_name, std::span<const ParamSpec> specs,
                   std::vector<ParamSlot>& slots) {
        for (const auto& spec : specs) {
            slots.push_back(ParamSlot{layer_name + "/" + std::string(spec.name), spec.dim_vector(), 0, spec.size(),
                                      spec.trainable, layer});
            specs_.push_back(spec);
        }
    }

    // Sizes the activation, gradient and workspace buffers for `batch` samples (only grows).
    void plan(std::size_t batch) {
        constexpr auto outputs = per_layer(output_counter{});
        if (batch <= planned_batch_ && activations_.size() >= total(outputs) * batch) return;
        planned_batch_ = 0;  // stays 0 if an allocation below throws
        constexpr auto workspaces = per_layer(workspace_counter{});
        constexpr auto workspaces_fixed = per_layer(workspace_fixed_counter{});
        std::size_t a = 0, w = 0;
        for (std::size_t i = 0; i < layer_count; ++i) {
            act_offsets_[i] = a;
            ws_offsets_[i] = w;  // valid for any batch up to this one
            a += outputs[i];
            w += workspaces[i] * batch + workspaces_fixed[i];
        }
        activations_.resize_discard(a * batch);   // (batch, sum of outputs), layer after layer
        workspace_.resize_discard(w);             // each layer's batch * per_sample + fixed
        const std::size_t widest = largest(outputs) * batch;
        grad_buffers_[0].resize_discard(widest);  // ping-pong input gradients
        grad_buffers_[1].resize_discard(widest);
        planned_batch_ = batch;
    }

    // Dense and the elementwise activation after it run as one step (layers/fusion.hpp).
    template <std::size_t I>
    static constexpr bool fuses_with_next() {
        if constexpr (I + 1 < layer_count)
            return detail::fuses_dense_activation_v<layer_type<I>, layer_type<I + 1>>;
        else
            return false;
    }

    template <std::size_t I>
    void forward_layer(Mode mode, Generator* rng) {
        if constexpr (I > 0) {
            if constexpr (fuses_with_next<I - 1>()) return;  // layer I - 1's step wrote this output
        }
        ForwardArgs<float> a;
        a.x = layer_input(I);
        a.y = activations_.data() + act_offsets_[I] * batch_;
        a.params = layer_params() + param_offsets_[I];
        a.workspace = workspace_.data() + ws_offsets_[I];
        a.batch = batch_;
        a.mode = mode;
        a.rng = rng;
        a.trainable = layer_trainable_[I];
        a.state = (mode == Mode::train && a.trainable) ? layer_params() + param_offsets_[I] : nullptr;
        if constexpr (fuses_with_next<I>())
            std::get<I>(layers_).template forward_activated<layer_input_shape<I>, policy, float>(
                a, std::get<I + 1>(layers_).function(), activations_.data() + act_offsets_[I + 1] * batch_);
        else
            std::get<I>(layers_).template forward<layer_input_shape<I>, policy, float>(a);
    }

    template <std::size_t I>
    void add_loss_term(double& total) {
        using L = std::tuple_element_t<I, layers_tuple>;
        if constexpr (adds_loss_term<L, layer_input_shape<I>, policy>) {
            float* workspace = workspace_.data() + ws_offsets_[I];
            total += std::get<I>(layers_).template loss_term<layer_input_shape<I>, policy, float>(layer_input(I),
                                                                                                 workspace, batch_);
        }
    }

    template <std::size_t I>
    void backward_layer(std::size_t top, std::size_t bottom, const float*& grad, std::size_t& ping) {
        if (I >= top || I < bottom) return;
        BackwardArgs<float> a;
        a.x = layer_input(I);
        a.y = output(I);
        a.dy = grad;
        if constexpr (I > 0) a.dx = (I > bottom) ? grad_buffers_[ping].data() : nullptr;  // else: no layer below
        a.params = layer_params() + param_offsets_[I];
        a.dparams = layer_trainable_[I] ? grads_.data() + param_offsets_[I] : nullptr;
        a.workspace = workspace_.data() + ws_offsets_[I];
        a.batch = batch_;
        std::get<I>(layers_).template backward<layer_input_shape<I>, policy, float>(a);
        grad = a.dx;
        ping ^= 1;
    }

    layers_tuple layers_{};
    mutable ParameterArena<float> params_;  // mutable only for slot names kept in sync with layer names
    backend_buffer<policy, float> grads_;  // same layout as params_, in the backend's memory
    std::vector<ParamSpec> specs_;         // one per arena slot: how to initialize it
    mutable std::array<bool, layer_count> layer_trainable_{};  // mutable: refreshed from a graph it was called in
    std::vector<std::string> default_names_;   // the names given by default ("" where the user named it)
    detail::graph_link graph_;
    std::array<std::size_t, layer_count> param_offsets_{};
    std::string name_ = "sequential";
    detail::compiled_slot compiled_;

    // Buffers planned from the compile-time shapes times the largest batch seen, in the
    // backend's memory.
    backend_buffer<policy, float> activations_;
    backend_buffer<policy, float> workspace_;
    backend_buffer<policy, float> grad_buffers_[2];
    // On a device backend: the parameters' copy there, and the input batch copied over.
    backend_buffer<policy, float> device_params_;
    backend_buffer<policy, float> device_input_;
    mutable std::uint64_t params_version_ = 1;  // counts changes of the host arena
    mutable std::uint64_t device_params_version_ = 0;  // the change device_params_ holds
    mutable bool device_params_newer_ = false;         // the device changed values since the last copy
    detail::lazy_context<typename detail::context_of<policy>::type> context_;  // device backends: its stream
    std::array<std::size_t, layer_count> act_offsets_{};
    std::array<std::size_t, layer_count> ws_offsets_{};
    std::size_t planned_batch_ = 0;
    std::size_t batch_ = 0;
    const float* input_ = nullptr;
};

}  // namespace latent
