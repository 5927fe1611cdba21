// Keras' functional API, second half: Model(inputs, outputs) runs the layer calls recorded
// between its input and its output, in dependency order, each node once however many nodes
// read it. Models built from the same graph share its weights (sub-models, shared layers).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/device_tensor.hpp"
#include "../backend/memory.hpp"
#include "../backend/ops.hpp"
#include "../core/batch_source.hpp"
#include "../core/arena.hpp"
#include "../core/buffer.hpp"
#include "../core/diagnostics.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../config.hpp"
#include "../io/by_name.hpp"
#include "../io/safetensors.hpp"
#include "compiled.hpp"
#include "functional.hpp"
#include "summary.hpp"

namespace latent {

struct FitOptions;  // latent/train/options.hpp

// The sample shapes of a model with several inputs: Model<B, Inputs<S1, S2>, Out>.
template <class... S>
struct Inputs {};

// The sample shapes of a model with several outputs: Model<B, In, Outputs<S1, S2>>.
template <class... S>
struct Outputs {};

namespace detail {
template <class Out>
struct output_list {
    static constexpr std::size_t count = 1;
    template <std::size_t K>
    using shape = Out;
    using prediction = Tensor<Out>;
};
template <class... S>
struct output_list<Outputs<S...>> {
    static constexpr std::size_t count = sizeof...(S);
    template <std::size_t K>
    using shape = std::tuple_element_t<K, std::tuple<S...>>;
    using prediction = std::tuple<Tensor<S>...>;
};

// What Model(inputs, outputs) was given: one symbolic tensor or a tuple of them.
template <class X>
struct symbolic_args;
template <class S, class B>
struct symbolic_args<Symbolic<S, B>> {
    using backend = B;
    using inputs = S;
    using outputs = S;
    static std::vector<std::pair<std::shared_ptr<GraphStore>, std::size_t>> resolve_all(const Symbolic<S, B>& x) {
        return {x.resolved()};
    }
};
// (Mixed backends are reported where their tensors meet, by the merge layer: one error.)
template <class... S, class... Bs>
struct symbolic_args<std::tuple<Symbolic<S, Bs>...>> {
    using backend = std::tuple_element_t<0, std::tuple<Bs...>>;
    using inputs = Inputs<S...>;
    using outputs = Outputs<S...>;
    static std::vector<std::pair<std::shared_ptr<GraphStore>, std::size_t>> resolve_all(
        const std::tuple<Symbolic<S, Bs>...>& xs) {
        return std::apply([](const auto&... x) { return std::vector{x.resolved()...}; }, xs);
    }
};

template <class In>
struct input_list {
    static constexpr std::size_t count = 1;
    template <std::size_t K>
    using shape = In;
};
template <class... S>
struct input_list<Inputs<S...>> {
    static constexpr std::size_t count = sizeof...(S);
    template <std::size_t K>
    using shape = std::tuple_element_t<K, std::tuple<S...>>;
};
}  // namespace detail

namespace detail {

// The few array steps a model makes between layers, in backend B's memory.
template <class B>
void add_into(float* dst, const float* src, std::size_t n) {
    if constexpr (host_backend_v<B>) {
        for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
    } else {
        ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(float& d, const float& v) { d += v; }, dst, src);
    }
}
template <class B>
void scale_by(float* x, std::size_t n, float factor) {
    if constexpr (host_backend_v<B>) {
        for (std::size_t i = 0; i < n; ++i) x[i] *= factor;
    } else {
        ops::elementwise<B>(n, [factor] LATENT_HOST_DEVICE(float& v) { v *= factor; }, x);
    }
}

}  // namespace detail

template <backend_policy B, class In, class Out>
class Model {
    using Node = detail::GraphNode;
    static constexpr std::size_t none = Node::none;

public:
    using policy = B;
    static_assert(host_backend_v<policy> || device_backend<policy>,
                  "latent: a device backend must provide buffer<T>, upload and download (see "
                  "latent/backend/memory.hpp)");
    // Whether the model computes in a device's memory (latent::cuda): its activations live there,
    // and the graph's parameters have a copy there (detail::graph_device), shared by its models.
    static constexpr bool on_device = !host_backend_v<policy>;
    using input_shape = In;  // Inputs<S...> for several inputs
    using output_shape = Out;
    static constexpr std::size_t input_count = detail::input_list<In>::count;

    static constexpr std::size_t output_count = detail::output_list<Out>::count;
    // predict's result: a Tensor, or a tuple of them for several outputs.
    using prediction = typename detail::output_list<Out>::prediction;

    // The layers between `inputs` and `outputs`, each one symbolic tensor or a std::tuple of
    // them (Model(std::tuple{left, right}, std::tuple{digit, parity})). Throws value_error
    // "latent.graph.disconnected" when an output reads an input the model is not given.
    template <class I, class O>
        requires std::is_same_v<typename detail::symbolic_args<I>::inputs, In> &&
                 std::is_same_v<typename detail::symbolic_args<O>::outputs, Out> &&
                 std::is_same_v<typename detail::symbolic_args<I>::backend, B> &&
                 std::is_same_v<typename detail::symbolic_args<O>::backend, B>
    Model(const I& inputs, const O& outputs, std::string name = "model") : name_(std::move(name)) {
        connect(detail::symbolic_args<I>::resolve_all(inputs), detail::symbolic_args<O>::resolve_all(outputs));
    }

    // A model called on a symbolic tensor, like a layer (Keras' nested models): its layer calls
    // are recorded again on x, with the same layers, so the weights stay shared with this model
    // and with every other place it is called. One-input, one-output models.
    template <class S>
        requires(input_count == 1 && output_count == 1)
    Symbolic<Out, B> operator()(const Symbolic<S, B>& x) const {
        static_assert(std::is_same_v<S, In>, "latent: a nested model is called on a tensor of its input shape");
        auto [store, node] = x.resolved();
        if (store != store_) {
            // x comes from another graph: join it here (this model's graph keeps its layers).
            store_->absorb(*store, store_);
            std::tie(store, node) = x.resolved();
        }
        std::vector<std::size_t> mapped(store_->nodes.size(), none);
        mapped[input_nodes_[0]] = node;
        for (std::size_t id : order_) {
            if (id == input_nodes_[0]) continue;
            Node copy = store_->nodes[id];
            for (auto& in : copy.inputs) in = mapped[in];
            store_->nodes.push_back(std::move(copy));
            mapped.push_back(none);
            mapped[id] = store_->nodes.size() - 1;
        }
        return Symbolic<Out, B>(store_, mapped[output_nodes_[0]]);
    }

    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;
    Model(Model&&) noexcept = default;
    Model& operator=(Model&&) noexcept = default;

    const std::string& name() const noexcept { return name_; }
    void set_name(std::string name) { name_ = std::move(name); }

    // ---- layers -------------------------------------------------------------------------
    // A handle on one layer of the model (Keras' model.get_layer): name, type, trainability,
    // output shape, parameter count and weights, read and written with shape checks.
    class LayerHandle {
    public:
        LayerHandle(Model& model, std::size_t layer) : model_(&model), layer_(layer) {}
        const std::string& name() const { return record().layer->name(); }
        std::string_view type_name() const { return record().type_name; }
        bool trainable() const { return record().trainable; }
        void set_trainable(bool on) { model_->set_layer_trainable(layer_, on); }
        // The sample shape of the layer's first call in this model.
        std::vector<std::size_t> output_shape() const { return model_->first_node_dims(layer_); }
        std::size_t param_count() const { return record().size; }
        // Fine-tuning: this layer learns at the optimizer's rate times `m` (default 1).
        double lr_multiplier() const { return record().lr_multiplier; }
        void set_lr_multiplier(double m) {
            if (!(m >= 0.0 && std::isfinite(m)))
                throw value_error("latent.graph.lr_multiplier", "layer \"" + name() +
                                                                    "\": the learning-rate multiplier must be a finite "
                                                                    "number >= 0, got " + std::to_string(m));
            model_->store_->layers[layer_].lr_multiplier = static_cast<float>(m);
        }
        std::size_t count_trainable_params() const {
            std::size_t n = 0;
            for (std::size_t s = 0; s < record().slot_count; ++s) {
                const auto& slot = model_->store_->params.slots()[record().first_slot + s];
                n += slot.trainable ? slot.size : 0;
            }
            return n;
        }
        // Every parameter (Keras' layer.get_weights(): kernel, bias, ... in order).
        std::vector<std::vector<float>> get_weights() const {
            model_->store_->sync_host();
            std::vector<std::vector<float>> out;
            for (std::size_t s = 0; s < record().slot_count; ++s) {
                const auto values = model_->store_->params.slot_values(model_->store_->params.slots()[record().first_slot + s]);
                out.emplace_back(values.begin(), values.end());
            }
            return out;
        }
        // Replaces every parameter; all-or-nothing, each checked against the layer's shapes.
        void set_weights(const std::vector<std::vector<float>>& weights) {
            const auto& r = record();
            if (weights.size() != r.slot_count)
                throw shape_error("latent.graph.set_weights", "layer \"" + name() + "\" has " +
                                                                  std::to_string(r.slot_count) + " weights, got " +
                                                                  std::to_string(weights.size()));
            auto& arena = model_->store_->params;
            for (std::size_t s = 0; s < r.slot_count; ++s) {
                const auto& slot = arena.slots()[r.first_slot + s];
                if (weights[s].size() != slot.size)
                    throw shape_error("latent.graph.set_weights",
                                      "layer \"" + name() + "\", weight " + std::to_string(s) + " (" + slot.name +
                                          "): expected " + std::to_string(slot.size) + " values of shape " +
                                          format_shape(slot.dims) + ", got " + std::to_string(weights[s].size()));
            }
            model_->store_->sync_host();
            for (std::size_t s = 0; s < r.slot_count; ++s) {
                const auto& slot = arena.slots()[r.first_slot + s];
                std::copy(weights[s].begin(), weights[s].end(), arena.data() + slot.offset);
            }
            model_->store_->host_changed();
        }
        // The layer object itself, for its runtime settings (Dropout's rate, ...).
        template <class L>
        L& as() {
            auto* l = dynamic_cast<L*>(model_->store_->layers[layer_].layer.get());
            if (!l)
                throw value_error("latent.graph.layer_type", "layer \"" + name() + "\" is a " +
                                                                 std::string(type_name()) + ", not the type asked for");
            return *l;
        }

    private:
        const detail::GraphLayer& record() const { return model_->store_->layers[layer_]; }
        Model* model_;
        std::size_t layer_;
    };

    LayerHandle get_layer(std::string_view name) { return LayerHandle(*this, layers_[index_of(name)]); }
    // The position of the layer called `name` in layers().
    std::size_t index_of(std::string_view name) const {
        for (std::size_t i = 0; i < layers_.size(); ++i)
            if (store_->layers[layers_[i]].layer->name() == name) return i;
        std::string known;
        for (std::size_t l : layers_) known += (known.empty() ? "" : ", ") + store_->layers[l].layer->name();
        throw value_error("latent.graph.layer_name",
                          "no layer named \"" + std::string(name) + "\" in model \"" + name_ + "\"; it has: " + known);
    }
    LayerHandle get_layer(std::size_t index) {
        if (index >= layers_.size())
            throw value_error("latent.graph.layer_index", "layer index " + std::to_string(index) + " is past the last layer (" +
                                                              std::to_string(layers_.size()) + " layers)");
        return LayerHandle(*this, layers_[index]);
    }
    // The model's layers in the order they run (Keras' model.layers, without the InputLayer).
    std::vector<LayerHandle> layers() {
        std::vector<LayerHandle> out;
        for (std::size_t l : layers_) out.emplace_back(*this, l);
        return out;
    }
    std::size_t layer_count() const noexcept { return layers_.size(); }
    std::vector<std::string> layer_names() const {
        std::vector<std::string> names;
        for (std::size_t l : layers_) names.push_back(store_->layers[l].layer->name());
        return names;
    }

    // Freezing: a frozen layer's parameters are left out of the optimizer, it gets no gradient,
    // and a frozen BatchNorm normalizes with its moving statistics (Keras' behaviour). Layers
    // belong to the graph, so a sub-model sees the same trainability.
    void set_trainable(bool on) {
        for (std::size_t l : layers_) set_layer_trainable(l, on);
    }

    // Keras' transfer-learning moves: freeze every layer up to and including `name` (the rest
    // trainable), or make the top k layers trainable again for fine-tuning.
    void freeze_until(std::string_view name) {
        const std::size_t last = index_of(name);
        for (std::size_t i = 0; i < layers_.size(); ++i) set_layer_trainable(layers_[i], i > last);
    }
    void unfreeze_top(std::size_t k) {
        for (std::size_t i = layers_.size() - std::min(k, layers_.size()); i < layers_.size(); ++i)
            set_layer_trainable(layers_[i], true);
    }

    std::size_t count_params() const {
        std::size_t n = 0;
        for (std::size_t l : layers_) n += store_->layers[l].size;
        return n;
    }
    std::size_t count_trainable_params() const {
        std::size_t n = 0;
        for (std::size_t l : layers_) {
            const auto& r = store_->layers[l];
            for (std::size_t s = 0; s < r.slot_count; ++s) {
                const auto& slot = store_->params.slots()[r.first_slot + s];
                n += slot.trainable ? slot.size : 0;
            }
        }
        return n;
    }

    // ---- weights --------------------------------------------------------------------------
    // The graph's arena: every parameter of every layer recorded with this model's (shared
    // with sub-models); trainable_ranges() is this model's part an optimizer may change.
    // On a device backend, reading them brings the device's values over first, and a writable
    // reference makes the device copy stale (uploaded again before the next step).
    ParameterArena<float>& parameters() {
        store_->sync_host();
        store_->host_changed();
        return store_->params;
    }
    const ParameterArena<float>& parameters() const {
        store_->sync_host();
        return store_->params;
    }
    // The gradients backward adds into (host backends; on a device they stay there).
    std::span<float> gradients() noexcept
        requires(!on_device)
    {
        return store_->grads.span();
    }
    std::vector<ArenaRange> trainable_ranges() const {
        std::vector<ArenaRange> ranges;
        for (const auto& slot : store_->params.slots()) {
            if (!slot.trainable || slot.size == 0 || !in_model(slot.layer)) continue;
            ranges.push_back({slot.offset, slot.offset + slot.size, store_->layers[slot.layer].lr_multiplier});
        }
        return ranges;
    }
    // The names of those ranges' weights, in the same order (what an optimizer's
    // exclude_from_weight_decay matches).
    std::vector<std::string> trainable_names() const {
        std::vector<std::string> names;
        for (const auto& slot : store_->params.slots())
            if (slot.trainable && slot.size != 0 && in_model(slot.layer)) names.push_back(slot.name);
        return names;
    }

    // This model's parameters, named "<layer>/<weight>" as Sequential names them.
    void save_weights(const std::filesystem::path& path) const { io::save_safetensors(path, own_arena()); }
    // Loads this model's parameters: every one of them, or with {.by_name = true} the layers
    // whose names the file has (Keras' load_weights(by_name=True, skip_mismatch=...)). All or
    // nothing: a failed load changes nothing. The report says what was loaded and skipped.
    // (Two overloads, as Sequential's: a program that never loads by name does not compile it.)
    io::LoadReport load_weights(const std::filesystem::path& path) {
        ParameterArena<float> mine = own_arena();
        auto report = io::detail::load_every_slot(path, mine);
        put_back(mine);
        return report;
    }
    io::LoadReport load_weights(const std::filesystem::path& path, const io::LoadOptions& options) {
        ParameterArena<float> mine = own_arena();
        auto report = io::load_safetensors(path, mine, options);
        put_back(mine);
        return report;
    }

    // This model's parameters as a separate arena, named "<layer>/<weight>".
    ParameterArena<float> named_weights() const { return own_arena(); }
    // Sets, layer by layer, the weights whose names `source` has (see transfer_weights).
    io::LoadReport assign_weights_by_name(const std::map<std::string, io::detail::NamedValues>& source,
                                          bool skip_mismatch, const std::string& label) {
        ParameterArena<float> mine = own_arena();
        auto report = io::detail::assign_by_layer(source, mine, skip_mismatch, label);
        put_back(mine);
        return report;
    }

    // ---- inference ----------------------------------------------------------------------
    // A model with several inputs: predict(x1, x2, ...), one batch of samples per input, or
    // predict(std::tuple{x1, x2, ...}, batch_size) as fit and evaluate take them (Keras'
    // predict([x1, x2])). A model with several outputs returns a std::tuple of tensors, one per
    // output.
    template <float_batch... X>
        requires(sizeof...(X) > 1)
    prediction predict(const X&... xs) {
        return predict_several(32, xs...);
    }
    template <float_batch... X>
        requires(sizeof...(X) > 1)
    prediction predict(const std::tuple<X...>& xs, std::size_t batch_size = 32) {
        return std::apply([&](const X&... x) { return predict_several(batch_size, x...); }, xs);
    }

    template <float_batch X>
    prediction predict(const X& x, std::size_t batch_size = 32) {
        static_assert(input_count == 1, "latent: this model has several inputs; call predict(x1, x2, ...)");
        check_input<X>();
        if (batch_size == 0) throw value_error("latent.graph.predict.batch_size", "predict needs batch_size >= 1");
        return predict_arrays({x.data()}, {In::size}, x.batch(), batch_size);
    }

    // Samples kept in the model's device memory (DeviceTensor; latent::cuda): each batch is
    // copied there into the model's input buffer, none from the host; the outputs come back.
    template <shape_type XS>
        requires on_device
    prediction predict(const DeviceTensor<policy, XS>& x, std::size_t batch_size = 32) {
        static_assert(input_count == 1, "latent: this model has several inputs; call predict(x1, x2, ...)");
        check_input<TensorView<XS, const float>>();
        if (batch_size == 0) throw value_error("latent.graph.predict.batch_size", "predict needs batch_size >= 1");
        return predict_arrays({x.data()}, {In::size}, x.batch(), batch_size, true);
    }

    // An xtensor or Eigen array (latent/interop/): viewed in place when it is float and
    // row-major contiguous, else copied once.
    template <adapted_batch X>
    prediction predict(const X& x, std::size_t batch_size = 32) {
        static_assert(input_count == 1, "latent: this model has several inputs; call predict(x1, x2, ...)");
        Tensor<In> copy;
        return predict(detail::input_view<Model, In>(x, copy), batch_size);
    }

    template <class X>
    static constexpr void check_input() {
        using S = typename std::remove_cvref_t<X>::shape;
        if constexpr (!std::is_same_v<S, In>) (void)sizeof(input_batch_mismatch<Model, got<S>, expected<In>>);
    }

    template <class... X, std::size_t... K>
    static constexpr void check_inputs(std::index_sequence<K...>) {
        (check_one_input<K, X>(), ...);
    }
    template <std::size_t K, class X>
    static constexpr void check_one_input() {
        using S = typename std::remove_cvref_t<X>::shape;
        using Want = typename detail::input_list<In>::template shape<K>;
        if constexpr (!std::is_same_v<S, Want>) (void)sizeof(input_batch_mismatch<Model, got<S>, expected<Want>>);
    }

    // ---- the engine the training loop drives ---------------------------------------------
    const float* forward(const float* x, std::size_t batch, Mode mode, Generator* rng = nullptr) {
        return forward_inputs({x}, batch, mode, rng);
    }
    // One pointer per model input, in the order the model was given its inputs.
    const float* forward_inputs(const std::vector<const float*>& xs, std::size_t batch, Mode mode,
                                Generator* rng = nullptr) {
        if (!store_) throw value_error("latent.graph.moved_from", "model was moved from");
        if (xs.size() != input_nodes_.size())
            throw value_error("latent.graph.inputs", "model \"" + name_ + "\" has " +
                                                         std::to_string(input_nodes_.size()) + " inputs, got " +
                                                         std::to_string(xs.size()));
        [[maybe_unused]] const auto scope = context_scope();
        plan_buffers(batch);
        batch_ = batch;
        inputs_ = xs;
        // Training changes the parameters where they are (BatchNorm's moving statistics).
        float* const all_params = param_base(mode == Mode::train);
        if constexpr (on_device) {
            for (std::size_t k = 0; k < xs.size(); ++k) {
                if (xs[k] == device_inputs_[k].data()) continue;  // the caller filled it there (device_input_for)
                const std::size_t count = batch * store_->nodes[input_nodes_[k]].size;
                if (device_inputs_[k].size() < count) device_inputs_[k].resize_discard(count);
                upload<policy>(device_inputs_[k].data(), xs[k], count);
                inputs_[k] = device_inputs_[k].data();
            }
        }
        for (std::size_t k = 0; k < order_.size(); ++k) {
            const Node& n = store_->nodes[order_[k]];
            if (n.layer == none) continue;
            const auto& l = store_->layers[n.layer];
            std::vector<const float*> xs;
            for (std::size_t in : n.inputs) xs.push_back(activation(in));
            float* params = all_params + l.offset;
            float* state = (mode == Mode::train && l.trainable) ? params : nullptr;
            n.kernels->forward(*l.layer, xs.data(), xs.size(), activations_[k].data(), params, state,
                               workspaces_[k].data(), batch, mode, rng, l.trainable);
        }
        return activation(output_nodes_[0]);
    }

    // On a device backend: the buffer there for input `k`, for `batch` samples, for a caller
    // that fills it itself (fit gathers each batch from the training set it holds there).
    // forward given this pointer reads the batch where it is instead of copying it over.
    float* device_input_for(std::size_t batch, std::size_t k = 0)
        requires on_device
    {
        if (!store_) throw value_error("latent.graph.moved_from", "model was moved from");
        [[maybe_unused]] const auto scope = context_scope();
        const std::size_t count = batch * store_->nodes[input_nodes_.at(k)].size;
        if (device_inputs_.size() < input_nodes_.size()) device_inputs_.resize(input_nodes_.size());
        if (device_inputs_[k].size() < count) device_inputs_[k].resize_discard(count);
        return device_inputs_[k].data();
    }
    // That buffer, filled on the device from `batch` samples already in its memory (a DeviceTensor).
    const float* device_input_from(const float* there, std::size_t batch, std::size_t k = 0)
        requires on_device
    {
        float* input = device_input_for(batch, k);
        ops::copy_elements<policy>(batch * store_->nodes[input_nodes_[k]].size, there, input);
        return input;
    }

    // What layers add to the loss for the last forward pass (ActivityRegularization, Sampling);
    // fit and evaluate report it with the loss. Uses the layers' workspaces as scratch.
    double added_loss() {
        double total = 0.0;
        if (!store_) return total;
        [[maybe_unused]] const auto scope = context_scope();
        for (std::size_t k = 0; k < order_.size(); ++k) {
            const Node& n = store_->nodes[order_[k]];
            if (n.layer == none || !n.kernels->loss_term) continue;
            total += n.kernels->loss_term(*store_->layers[n.layer].layer, activation(n.inputs[0]),
                                          workspaces_[k].data(), batch_);
        }
        return total;
    }

    // Backpropagates dy (the gradient of the loss with respect to the output) through the last
    // forward pass, adding parameter gradients into gradients() (zero it first). With
    // `from_logits`, dy is the gradient with respect to the output layer's input (a loss fused
    // with a final Softmax/Sigmoid) and the output layer is skipped.
    void backward(const float* dy, bool from_logits = false) { backward_outputs({dy}, {from_logits}); }

    // The same for every output at once: dys[k] for output k (null: no loss on it).
    void backward_outputs(const std::vector<const float*>& dys, const std::vector<bool>& from_logits) {
        // Trainability belongs to the graph: another model on it may have changed it since.
        update_wants_grad();
        [[maybe_unused]] const auto scope = context_scope();
        float* const all_params = param_base(false);
        float* const all_grads = grad_base();
        const std::size_t nodes = order_.size();
        for (std::size_t k = 0; k < nodes; ++k)
            if (wants_grad_[k]) ops::fill_zero<policy>(batch_ * node_size(k), grads_[k].data());
        std::vector<bool> skip(nodes, false);
        for (std::size_t o = 0; o < output_nodes_.size() && o < dys.size(); ++o) {
            if (!dys[o]) continue;
            const std::size_t at = position_[output_nodes_[o]];
            if (o < from_logits.size() && from_logits[o]) {
                const std::size_t logits = position_[store_->nodes[output_nodes_[o]].inputs[0]];
                if (wants_grad_[logits])
                    detail::add_into<policy>(grads_[logits].data(), dys[o], batch_ * node_size(logits));
                skip[at] = true;
            } else if (wants_grad_[at]) {
                detail::add_into<policy>(grads_[at].data(), dys[o], batch_ * node_size(at));
            }
        }
        for (std::size_t k = nodes; k-- > 0;) {
            const Node& n = store_->nodes[order_[k]];
            if (n.layer == none || !wants_grad_[k] || skip[k]) continue;
            const auto& l = store_->layers[n.layer];
            std::vector<const float*> xs;
            std::vector<float*> dxs;
            for (std::size_t i = 0; i < n.inputs.size(); ++i) {
                const std::size_t p = position_[n.inputs[i]];
                xs.push_back(activation(n.inputs[i]));
                dxs.push_back(wants_grad_[p] && store_->nodes[n.inputs[i]].layer != none ? scratch_[i].data() : nullptr);
            }
            const bool frozen = !l.trainable || l.size == 0;
            float* dparams = frozen ? nullptr : all_grads + l.offset;
            n.kernels->backward(*l.layer, xs.data(), xs.size(), activations_[k].data(), grads_[k].data(), dxs.data(),
                                all_params + l.offset, dparams, workspaces_[k].data(), batch_);
            for (std::size_t i = 0; i < n.inputs.size(); ++i)
                if (dxs[i]) {
                    const std::size_t p = position_[n.inputs[i]];
                    detail::add_into<policy>(grads_[p].data(), dxs[i], batch_ * node_size(p));
                }
        }
    }

    // Output k of the last forward pass, the input of its final layer (the logits), and whether
    // a loss may fuse with that layer: it is a Softmax/Sigmoid no other layer of the model reads.
    const float* output_at(std::size_t k) const { return activation(output_nodes_[k]); }
    const float* logits_at(std::size_t k) const { return activation(store_->nodes[output_nodes_[k]].inputs[0]); }
    detail::output_activation output_activation_at(std::size_t k) const {
        const std::size_t id = output_nodes_[k];
        const Node& n = store_->nodes[id];
        if (!n.kernels || n.inputs.size() != 1) return detail::output_activation::none;
        for (std::size_t other : order_)
            for (std::size_t in : store_->nodes[other].inputs)
                if (in == id) return detail::output_activation::none;
        return n.kernels->activation;
    }
    // Input k's name: the one given to input<...>(name), else "input_<k + 1>".
    const std::string& input_name(std::size_t k) const { return store_->nodes[input_nodes_.at(k)].input_name; }
    const std::string& output_name(std::size_t k) const {
        const Node& n = store_->nodes[output_nodes_[k]];
        return n.layer == none ? n.input_name : store_->layers[n.layer].layer->name();
    }

    // What the training loop needs to fuse a loss with a final Softmax/Sigmoid.
    detail::output_activation output_activation_kind() const { return output_activation_at(0); }
    const float* final_output() const { return output_at(0); }
    const float* final_logits() const { return logits_at(0); }
    void backward_from_output(const float* grad, bool from_logits) { backward(grad, from_logits); }

    // Which layer's output first became non-finite in the last forward pass, in words.
    std::string describe_non_finite(std::size_t batch) const {
        [[maybe_unused]] const auto scope = context_scope();
        std::vector<float> copied;  // a device backend's outputs, brought over one at a time
        for (std::size_t k = 0; k < order_.size(); ++k) {
            const Node& n = store_->nodes[order_[k]];
            if (n.layer == none) continue;
            const float* out = activations_[k].data();
            if constexpr (on_device) {
                copied.resize(batch * n.size);
                download<policy>(copied.data(), out, batch * n.size);
                out = copied.data();
            }
            for (std::size_t i = 0; i < batch * n.size; ++i)
                if (!std::isfinite(out[i]))
                    return "the first non-finite output is layer \"" + store_->layers[n.layer].layer->name() + "\" (" +
                           std::string(store_->layers[n.layer].type_name) + ")";
        }
        return "every layer's output is finite, so the loss itself overflowed (check the labels)";
    }

    // The training loop's handles on the arrays in the backend's memory (used on a device
    // backend; on the host they are parameters() and gradients()): the graph's parameters the
    // optimizer updates, the gradients backward adds into, and their length (the whole graph's
    // arena, which trainable_ranges() index).
    float* backend_parameters() {
        [[maybe_unused]] const auto scope = context_scope();
        return param_base(true);
    }
    float* backend_gradients() {
        [[maybe_unused]] const auto scope = context_scope();
        return grad_base();
    }
    std::size_t backend_param_count() const noexcept { return store_->params.size(); }
    void zero_gradients() {
        [[maybe_unused]] const auto scope = context_scope();
        ops::fill_zero<policy>(store_->params.size(), grad_base());
    }
    // Makes the graph's context (on latent::cuda: its stream and cuBLAS handle) current on this
    // thread until the returned scope ends; every model on one graph shares it. Nothing on
    // other backends.
    auto context_scope() const {
        if constexpr (on_device)
            return device().context_scope();
        else
            return detail::no_backend_context{};
    }
    // Tells this model's recorded steps apart from those of the other models on its graph,
    // which share its context (latent::cuda records a step per key).
    std::size_t step_salt() const noexcept { return reinterpret_cast<std::uintptr_t>(this); }

    // ---- Keras-style training (the loop lives in latent/train) --------------------------
    // With several outputs, the loss is loss::per_output(l1, l2, ...).weighted({...}) (Keras'
    // loss=[...], loss_weights=[...]); fit and evaluate then take std::tuples of tensors for
    // the inputs (when several) and the labels (one per output), in the model's order.
    template <class Optimizer, class Loss, class... Metrics>
    void compile(Optimizer optimizer, Loss loss, Metrics... metrics) {
        if constexpr (input_count == 1 && output_count == 1)
            compile_model(*this, std::move(optimizer), std::move(loss), std::move(metrics)...);
        else
            compile_outputs_model(*this, std::move(optimizer), std::move(loss), std::move(metrics)...);
    }
    // With one input and one output, x and y may also be xtensor or Eigen arrays (latent/interop/).
    template <class X, class Y, class Options = FitOptions>
    auto fit(const X& x, const Y& y, const Options& options = {}) {
        if constexpr (input_count == 1 && output_count == 1) {
            Tensor<In> copy;
            const auto inputs = detail::input_view<Model, In>(x, copy);
            return detail::with_labels<Out>(y, [&](auto labels) { return fit_model(*this, inputs, labels, options); });
        } else {
            return fit_outputs_model(*this, x, y, options);
        }
    }
    template <class X, class Y>
    auto evaluate(const X& x, const Y& y, std::size_t batch_size = 32) {
        if constexpr (input_count == 1 && output_count == 1) {
            Tensor<In> copy;
            const auto inputs = detail::input_view<Model, In>(x, copy);
            return detail::with_labels<Out>(
                y, [&](auto labels) { return evaluate_model(*this, inputs, labels, batch_size); });
        } else {
            return evaluate_outputs_model(*this, x, y, batch_size);
        }
    }
    // One optimizer step on exactly this batch; returns its mean loss (Keras' train_on_batch).
    template <class X, class Y>
        requires(input_count == 1 && output_count == 1)
    double train_on_batch(const X& x, const Y& y) {
        Tensor<In> copy;
        const auto inputs = detail::input_view<Model, In>(x, copy);
        return detail::with_labels<Out>(y, [&](auto labels) { return train_on_batch_model(*this, inputs, labels); });
    }
    // The same on a batch kept in the model's device memory (DeviceTensor; latent::cuda): no
    // copy from the host per call.
    template <shape_type XS, shape_type YS>
        requires(on_device && input_count == 1 && output_count == 1)
    double train_on_batch(const DeviceTensor<policy, XS>& x, const DeviceTensor<policy, YS>& y) {
        return train_on_batch_model(*this, x, y);
    }
    // With several inputs or outputs: std::tuples of tensors, as fit takes them; returns the
    // batch's losses as evaluate names them ("loss", and "<output>_loss" with several outputs).
    template <class X, class Y>
        requires(input_count > 1 || output_count > 1)
    std::map<std::string, double> train_on_batch(const X& x, const Y& y) {
        return train_on_batch_outputs_model(*this, x, y);
    }
    // Keras' optimizer.finalize_variable_values after a loop of train_on_batch: with the
    // optimizer's use_ema, the trainable weights take their moving averages (fit does it itself).
    void finalize_variable_values() {
        if constexpr (input_count == 1 && output_count == 1)
            finalize_variable_values_model(*this);
        else
            finalize_variable_values_outputs_model(*this);
    }
    detail::compiled_state* compiled_state() const noexcept { return compiled_.get(); }
    void set_compiled_state(std::unique_ptr<detail::compiled_state> state) { compiled_.reset(std::move(state)); }

    // Keras' model.summary(): one row per layer (after an InputLayer row), then the totals.
    void summary(std::ostream& out = std::cout) const {
        std::vector<detail::summary_row> rows;
        for (std::size_t id : input_nodes_) {
            const Node& in = store_->nodes[id];
            rows.push_back({in.input_name, "InputLayer", in.dims, 0, true});
        }
        for (std::size_t l : layers_)
            rows.push_back({store_->layers[l].layer->name(), std::string(store_->layers[l].type_name),
                            first_node_dims(l), store_->layers[l].size});
        const std::size_t total = count_params(), trainable = count_trainable_params();
        detail::print_summary(out, name_, rows, total, trainable, total - trainable);
    }

private:
    // predict over several inputs, whichever way they were given.
    template <class... X>
    prediction predict_several(std::size_t batch_size, const X&... xs) {
        static_assert(sizeof...(X) == input_count, "latent: predict needs one tensor per model input");
        check_inputs<X...>(std::make_index_sequence<sizeof...(X)>{});
        if (batch_size == 0) throw value_error("latent.graph.predict.batch_size", "predict needs batch_size >= 1");
        const std::vector<std::size_t> counts{xs.batch()...};
        for (std::size_t c : counts)
            if (c != counts[0])
                throw shape_error("latent.graph.predict.batch", "predict got inputs with " + std::to_string(counts[0]) +
                                                                    " and " + std::to_string(c) + " samples");
        return predict_arrays({xs.data()...}, {std::remove_cvref_t<X>::sample_size...}, counts[0], batch_size);
    }

    // The nodes the output depends on, in creation order (a topological order: a node is
    // recorded after the nodes it reads), and the layers they call, in order of first use.
    void connect(std::vector<std::pair<std::shared_ptr<detail::GraphStore>, std::size_t>> inputs,
                 std::vector<std::pair<std::shared_ptr<detail::GraphStore>, std::size_t>> outputs) {
        // Resolve again: building the outputs may have merged the inputs' graphs.
        for (auto& in : inputs) in = detail::resolve(in.first, in.second);
        for (auto& out : outputs) out = detail::resolve(out.first, out.second);
        store_ = outputs[0].first;
        for (const auto& x : inputs)
            if (x.first != store_)
                throw value_error("latent.graph.disconnected", "model \"" + name_ +
                                                                   "\": its outputs were not computed from its inputs "
                                                                   "(they belong to separate graphs)");
        for (const auto& x : outputs) {
            if (x.first != store_)
                throw value_error("latent.graph.disconnected",
                                  "model \"" + name_ + "\": its outputs belong to separate graphs");
            output_nodes_.push_back(x.second);
        }
        for (const auto& in : inputs) {
            if (store_->nodes[in.second].layer != none)
                throw value_error("latent.graph.inputs", "model \"" + name_ +
                                                             "\": an input must come from input<...>(), not from a layer");
            input_nodes_.push_back(in.second);
        }
        plan_nodes();
    }

    bool is_input(std::size_t id) const {
        return std::find(input_nodes_.begin(), input_nodes_.end(), id) != input_nodes_.end();
    }

    void plan_nodes() {
        std::vector<bool> needed(store_->nodes.size(), false);
        std::vector<std::size_t> stack(output_nodes_.begin(), output_nodes_.end());
        while (!stack.empty()) {
            const std::size_t id = stack.back();
            stack.pop_back();
            if (needed[id]) continue;
            needed[id] = true;
            const Node& n = store_->nodes[id];
            if (is_input(id)) continue;
            if (n.layer == none)
                throw value_error("latent.graph.disconnected",
                                  "model \"" + name_ + "\": its output depends on input \"" + n.input_name +
                                      "\", which is not the model's input (Keras: graph disconnected)");
            for (std::size_t i : n.inputs) stack.push_back(i);
        }
        for (std::size_t id : input_nodes_)
            if (!needed[id])
                throw value_error("latent.graph.disconnected", "model \"" + name_ + "\": its output does not depend on input \"" +
                                                                   store_->nodes[id].input_name + "\"");
        position_.assign(store_->nodes.size(), none);
        for (std::size_t id = 0; id < store_->nodes.size(); ++id)
            if (needed[id]) {
                position_[id] = order_.size();
                order_.push_back(id);
            }
        for (std::size_t k = 0; k < input_nodes_.size(); ++k)
            if (store_->nodes[input_nodes_[k]].input_name.empty())
                store_->nodes[input_nodes_[k]].input_name = "input_" + std::to_string(k + 1);
        in_model_.assign(store_->layers.size(), false);
        for (std::size_t id : order_) {
            const std::size_t l = store_->nodes[id].layer;
            if (l != none && !in_model_[l]) {
                in_model_[l] = true;
                layers_.push_back(l);
            }
        }
        // A node needs its output gradient when some layer at or below it has trainable
        // parameters; recomputed whenever trainability changes.
        update_wants_grad();
        activations_.resize(order_.size());
        workspaces_.resize(order_.size());
        grads_.resize(order_.size());
    }

    void update_wants_grad() {
        wants_grad_.assign(order_.size(), false);
        for (std::size_t k = 0; k < order_.size(); ++k) {
            const Node& n = store_->nodes[order_[k]];
            if (n.layer == none) continue;
            const auto& l = store_->layers[n.layer];
            bool wants = l.trainable && l.size > 0 && has_trainable_slot(l);
            for (std::size_t in : n.inputs) wants = wants || wants_grad_[position_[in]];
            wants_grad_[k] = wants;
        }
    }
    bool has_trainable_slot(const detail::GraphLayer& l) const {
        for (std::size_t s = 0; s < l.slot_count; ++s)
            if (store_->params.slots()[l.first_slot + s].trainable) return true;
        return false;
    }

    void set_layer_trainable(std::size_t layer, bool on) {
        store_->set_trainable(layer, on);
        update_wants_grad();
    }

    bool in_model(std::size_t layer) const { return layer < in_model_.size() && in_model_[layer]; }

    std::vector<std::size_t> first_node_dims(std::size_t layer) const {
        for (std::size_t id : order_)
            if (store_->nodes[id].layer == layer) return store_->nodes[id].dims;
        return {};
    }

    ParameterArena<float> own_arena() const {
        store_->sync_host();
        std::vector<ParamSlot> slots;
        for (const auto& slot : store_->params.slots())
            if (in_model(slot.layer)) slots.push_back(slot);
        ParameterArena<float> mine(std::move(slots));
        for (const auto& slot : mine.slots()) {
            const auto* home = store_->params.find(slot.name);
            std::copy_n(store_->params.data() + home->offset, slot.size, mine.data() + slot.offset);
        }
        return mine;
    }

    // `bases` in the host's memory, or (`bases_there`) in the model's device memory.
    prediction predict_arrays(const std::vector<const float*>& bases, const std::vector<std::size_t>& sizes,
                              std::size_t count, std::size_t batch_size, bool bases_there = false) {
        prediction out = [&]<std::size_t... K>(std::index_sequence<K...>) {
            if constexpr (output_count == 1)
                return prediction(count);
            else
                return prediction(Tensor<typename detail::output_list<Out>::template shape<K>>(count)...);
        }(std::make_index_sequence<output_count>{});
        [[maybe_unused]] const auto scope = context_scope();
        for (std::size_t first = 0; first < count; first += batch_size) {
            const std::size_t n = std::min(batch_size, count - first);
            std::vector<const float*> at;
            [[maybe_unused]] const auto recorded =
                detail::step_scope<policy>(detail::step_kind::predict, n, step_salt());
            for (std::size_t k = 0; k < bases.size(); ++k) {
                at.push_back(bases[k] + first * sizes[k]);
                if constexpr (on_device) {
                    if (bases_there) at[k] = device_input_from(at[k], n, k);  // forward reads it in place
                }
            }
            forward_inputs(at, n, Mode::infer);
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (copy_output<K>(out, first, n), ...);
            }(std::make_index_sequence<output_count>{});
        }
        return out;
    }
    template <std::size_t K>
    void copy_output(prediction& out, std::size_t first, std::size_t n) const {
        auto& tensor = [&]() -> auto& {
            if constexpr (output_count == 1)
                return out;
            else
                return std::get<K>(out);
        }();
        constexpr std::size_t size = std::remove_cvref_t<decltype(tensor)>::sample_size;
        download<policy>(tensor.data() + first * size, output_at(K), n * size);
    }

    void put_back(const ParameterArena<float>& mine) {
        for (const auto& slot : mine.slots()) {
            const auto* home = store_->params.find(slot.name);
            std::copy_n(mine.data() + slot.offset, slot.size, store_->params.data() + home->offset);
        }
        store_->host_changed();
    }

    std::size_t node_size(std::size_t k) const { return store_->nodes[order_[k]].size; }
    const float* activation(std::size_t node) const {
        for (std::size_t k = 0; k < input_nodes_.size(); ++k)
            if (input_nodes_[k] == node) return inputs_[k];
        return activations_[position_[node]].data();
    }
    // The graph's parameters and gradients where this model computes with them.
    float* param_base(bool will_change) {
        if constexpr (on_device)
            return device().params(*store_, will_change);
        else
            return store_->params.data();
    }
    float* grad_base() {
        if constexpr (on_device)
            return device().grads(*store_);
        else
            return store_->grads.data();
    }
    // The graph's device copy, made by the first model on it that needs it.
    detail::graph_device<policy>& device() const { return detail::device_of<policy>(*store_); }

    // Buffers for `batch` samples (only grow): each node's output and input gradient, its
    // layer's workspace, and scratch for the input gradients a layer writes before they are
    // added where they belong (a node read by several layers sums their gradients).
    void plan_buffers(std::size_t batch) {
        if (batch <= planned_batch_) return;
        std::size_t widest = 0, max_inputs = 0;
        for (std::size_t k = 0; k < order_.size(); ++k) {
            const Node& n = store_->nodes[order_[k]];
            widest = std::max(widest, n.size);
            max_inputs = std::max(max_inputs, n.inputs.size());
            if (n.layer == none) continue;
            activations_[k].resize_discard(batch * n.size);
            grads_[k].resize_discard(batch * n.size);
            workspaces_[k].resize_discard(batch * n.kernels->workspace_per_sample + n.kernels->workspace_fixed + 1);
        }
        scratch_.resize(max_inputs);
        for (auto& s : scratch_) s.resize_discard(batch * widest);
        if constexpr (on_device) device_inputs_.resize(input_nodes_.size());
        planned_batch_ = batch;
    }

    std::shared_ptr<detail::GraphStore> store_;
    std::string name_;
    std::vector<std::size_t> input_nodes_;  // in the order the model was given them
    std::vector<std::size_t> output_nodes_;  // in the order the model was given them
    std::vector<std::size_t> order_;     // node ids in run order
    std::vector<std::size_t> position_;  // node id -> index in order_ (none if not in the model)
    std::vector<std::size_t> layers_;    // layer indices in order of first use
    std::vector<bool> in_model_;         // per layer of the graph
    std::vector<bool> wants_grad_;       // per position
    std::vector<backend_buffer<B, float>> activations_, workspaces_, grads_, scratch_;
    std::vector<backend_buffer<B, float>> device_inputs_;  // device backends: the inputs copied there
    std::size_t planned_batch_ = 0, batch_ = 0;
    std::vector<const float*> inputs_;
    detail::compiled_slot compiled_;
};

template <class I, class O>
Model(const I&, const O&) -> Model<typename detail::symbolic_args<I>::backend, typename detail::symbolic_args<I>::inputs,
                                   typename detail::symbolic_args<O>::outputs>;
template <class I, class O>
Model(const I&, const O&, std::string) -> Model<typename detail::symbolic_args<I>::backend,
                                                typename detail::symbolic_args<I>::inputs,
                                                typename detail::symbolic_args<O>::outputs>;

// Copies the weights of every layer of `to` whose name `from` also has (Sequential or Model,
// either way round); skip_mismatch leaves layers whose shapes differ as they are instead of
// failing. All or nothing; the report lists what was copied and skipped.
template <class From, class To>
io::LoadReport transfer_weights(const From& from, To& to, bool skip_mismatch = false) {
    std::map<std::string, io::detail::NamedValues> source;
    const ParameterArena<float> weights = from.named_weights();
    for (const auto& slot : weights.slots()) {
        const auto values = weights.slot_values(slot);
        source[slot.name] = {slot.dims, {values.begin(), values.end()}};
    }
    return to.assign_weights_by_name(source, skip_mismatch, "model \"" + from.name() + "\"");
}
template <class In, class Out, class B>
Model(const Symbolic<In, B>&, const Symbolic<Out, B>&, std::string) -> Model<B, In, Out>;
template <class... S, class Out, class B>
Model(const std::tuple<Symbolic<S, B>...>&, const Symbolic<Out, B>&) -> Model<B, Inputs<S...>, Out>;
template <class... S, class Out, class B>
Model(const std::tuple<Symbolic<S, B>...>&, const Symbolic<Out, B>&, std::string) -> Model<B, Inputs<S...>, Out>;

}  // namespace latent
