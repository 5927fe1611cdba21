// Keras' functional API, first half: symbolic tensors. input<28, 28, 1>("inputs") starts a
// graph; calling a layer on symbolic tensors checks their shapes at compile time, records the
// call and returns the result as a new symbolic tensor. Model (graph/model.hpp) runs the calls.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/default.hpp"
#include "../backend/memory.hpp"
#include "../core/arena.hpp"
#include "../core/buffer.hpp"
#include "../core/diagnostics.hpp"
#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/shape.hpp"
#include "../layers/activation.hpp"
#include "../layers/initializers.hpp"
#include "../layers/layer.hpp"
#include "../layers/merge.hpp"
#include "graph_link.hpp"

namespace latent {

template <class S, backend_policy B>
class Symbolic;
template <class... Args>
class Sequential;

namespace detail {

// How one recorded call runs on backend B, instantiated where the layer is called: only there
// are the layer's type and its input shapes known.
struct NodeKernels {
    std::size_t workspace_per_sample = 0;
    std::size_t workspace_fixed = 0;
    std::size_t flops_per_sample = 0;
    output_activation activation = output_activation::none;
    void (*forward)(const LayerBase& layer, const float* const* xs, std::size_t count, float* y, const float* params,
                    float* state, float* workspace, std::size_t batch, Mode mode, Generator* rng, bool trainable) = nullptr;
    // dxs[k] may be null (input k needs no gradient); dx is overwritten, never accumulated.
    void (*backward)(const LayerBase& layer, const float* const* xs, std::size_t count, const float* y, const float* dy,
                     float* const* dxs, const float* params, float* dparams, float* workspace,
                     std::size_t batch) = nullptr;
    // Layers that add to the loss (ActivityRegularization, Sampling): the term for the last forward pass.
    double (*loss_term)(const LayerBase& layer, const float* x, float* workspace, std::size_t batch) = nullptr;
};

template <class L>
inline constexpr bool is_merge_v = [] {
    if constexpr (requires { L::is_merge; })
        return L::is_merge;
    else
        return false;
}();

// Whether a call of L on inputs In... runs through the merge contract (layers/merge.hpp): a merge
// layer's, and any layer's called on several inputs (MultiHeadAttention's cross-attention).
template <class L, class... In>
inline constexpr bool merge_call_v = is_merge_v<L> || sizeof...(In) > 1;

template <class L, class B, class... In>
struct kernels_of {
    static void forward(const LayerBase& base, const float* const* xs, std::size_t count, float* y, const float* params,
                        float* state, float* workspace, std::size_t batch, Mode mode, Generator* rng, bool trainable) {
        const L& layer = static_cast<const L&>(base);
        if constexpr (merge_call_v<L, In...>) {
            (void)state, (void)trainable;
            MergeForwardArgs<float> a{xs, count, y, batch, params, workspace, mode, rng};
            layer.template forward<B, float, In...>(a);
        } else {
            (void)count;
            ForwardArgs<float> a;
            a.x = xs[0];
            a.y = y;
            a.params = params;
            a.workspace = workspace;
            a.batch = batch;
            a.mode = mode;
            a.rng = rng;
            a.state = state;
            a.trainable = trainable;
            layer.template forward<In..., B, float>(a);
        }
    }
    static void backward(const LayerBase& base, const float* const* xs, std::size_t count, const float* y,
                         const float* dy, float* const* dxs, const float* params, float* dparams, float* workspace,
                         std::size_t batch) {
        const L& layer = static_cast<const L&>(base);
        if constexpr (merge_call_v<L, In...>) {
            MergeBackwardArgs<float> a{xs, count, y, dy, dxs, batch, params, dparams, workspace};
            layer.template backward<B, float, In...>(a);
        } else {
            (void)count;
            BackwardArgs<float> a;
            a.x = xs[0];
            a.y = y;
            a.dy = dy;
            a.dx = dxs[0];
            a.params = params;
            a.dparams = dparams;
            a.workspace = workspace;
            a.batch = batch;
            layer.template backward<In..., B, float>(a);
        }
    }
    static constexpr NodeKernels value = [] {
        NodeKernels k;
        if constexpr (!merge_call_v<L, In...>)
            k.workspace_per_sample = workspace_per_sample_on_v<L, std::tuple_element_t<0, std::tuple<In...>>, B>;
        else
            k.workspace_per_sample = L::template workspace_per_sample<In...>;
        k.workspace_fixed = L::template workspace_fixed<In...>;
        k.flops_per_sample = L::template flops_per_sample<In...>;
        k.activation = output_activation_of<L>();
        k.forward = &kernels_of::forward;
        k.backward = &kernels_of::backward;
        if constexpr (!merge_call_v<L, In...>) {
            using First = std::tuple_element_t<0, std::tuple<In...>>;
            if constexpr (adds_loss_term<L, First, B>)
                k.loss_term = [](const LayerBase& base, const float* x, float* workspace, std::size_t batch) {
                    return static_cast<const L&>(base).template loss_term<First, B, float>(x, workspace, batch);
                };
        }
        return k;
    }();
};

// A layer object recorded in a graph (a copy of the one the user called), with its slice of
// the graph's parameter arena. Calling the same layer object again reuses this record, and
// with it the weights (shared layers).
struct GraphLayer {
    std::unique_ptr<LayerBase> layer;
    std::unique_ptr<LayerBase> (*copy)(const LayerBase&) = nullptr;
    std::string_view type_name;
    std::string_view default_name;
    std::uint64_t uid = 0;
    std::vector<ParamSpec> specs;
    std::size_t first_slot = 0, slot_count = 0;
    std::size_t offset = 0, size = 0;  // elements of the graph's arena
    bool trainable = true;
    float lr_multiplier = 1.0f;  // fine-tuning: this layer learns at lr * lr_multiplier
    bool auto_named = false;  // named by the graph (Keras' default names), so it may be renamed
};

// One recorded call (or a model input): the layer, the nodes it read, its sample shape.
struct GraphNode {
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t layer = none;          // none: a model input
    std::vector<std::size_t> inputs;   // node ids
    std::vector<std::size_t> dims;     // output sample shape
    std::size_t size = 0;              // elements per sample
    const NodeKernels* kernels = nullptr;
    std::string input_name;            // inputs only
};

// The copy of a graph's parameters that its models compute with on a device backend
// (graph_device<B>, below). It belongs to the graph, not to one model: sub-models and
// shared layers read one set of weights there, on one stream.
class graph_device_base {
public:
    virtual ~graph_device_base() = default;
    // Brings the values the device changed (training, BatchNorm's moving statistics) to `host`.
    virtual void pull(ParameterArena<float>& host) = 0;
};

// Everything one functional graph has recorded: layers, calls and the parameter arena they
// share. Symbolic tensors and models hold it by shared_ptr; when two graphs meet (a merge of
// two inputs' branches) one is moved into the other and forwards there.
class GraphStore {
public:
    explicit GraphStore(std::uint64_t seed = 0) : init_(seed) {}

    std::vector<GraphLayer> layers;
    std::vector<GraphNode> nodes;
    ParameterArena<float> params;  // the host's copy
    AlignedBuffer<float> grads;  // same layout as params (host backends)
    std::vector<ParamSpec> slot_specs;

    // Models on a device backend: the device's copy, made by the first of them, and the count
    // of changes made to the host's copy (the device copy is uploaded again when it moved on).
    std::unique_ptr<graph_device_base> device;
    std::uint64_t host_version = 0;
    // Before the host's copy is read or changed: the device's newer values come back first.
    void sync_host() {
        if (device) device->pull(params);
    }
    // After the host's copy changed (weights set or loaded, layers added).
    void host_changed() noexcept { ++host_version; }

    // Where this store's content went when it was merged into another, and the shift of its
    // node ids there.
    std::shared_ptr<GraphStore> merged_into;
    std::size_t node_shift = 0;

    std::size_t find_layer(std::uint64_t uid) const {
        for (std::size_t i = 0; i < layers.size(); ++i)
            if (layers[i].uid == uid) return i;
        return GraphNode::none;
    }

    std::size_t find_layer(std::string_view name) const {
        for (std::size_t i = 0; i < layers.size(); ++i)
            if (layers[i].layer->name() == name) return i;
        return GraphNode::none;
    }

    // Keras' automatic names: "dense", "dense_1", ..., unique within the graph.
    std::string unique_name(std::string_view base) const {
        std::string candidate(base);
        for (std::size_t k = 1; taken(candidate); ++k) candidate = std::string(base) + "_" + std::to_string(k);
        return candidate;
    }
    bool taken(const std::string& name) const {
        for (const auto& l : layers)
            if (l.layer->name() == name) return true;
        for (const auto& n : nodes)
            if (n.layer == GraphNode::none && n.input_name == name) return true;
        return false;
    }

    // Appends a layer and its parameters (initialized as Keras does: Glorot-uniform kernels
    // drawn from the graph's generator in the order layers are first called).
    std::size_t add_layer(GraphLayer record) {
        sync_host();  // the arena is laid out again from the host's values
        if (record.layer->name().empty()) {
            record.layer->set_name(unique_name(default_name_of(record)));
            record.auto_named = true;
        } else if (taken(record.layer->name()))
            throw value_error("latent.graph.duplicate_name",
                              "a layer named \"" + record.layer->name() + "\" is already in this graph; layer names "
                              "must be unique");
        std::vector<ParamSlot> slots = params.slots();
        const std::size_t layer_index = layers.size();
        record.first_slot = slots.size();
        record.slot_count = record.specs.size();
        record.offset = params.size();
        record.size = 0;
        for (const auto& spec : record.specs) {
            slots.push_back(ParamSlot{record.layer->name() + "/" + std::string(spec.name), spec.dim_vector(), 0,
                                      spec.size(), spec.trainable, layer_index});
            slot_specs.push_back(spec);
            record.size += spec.size();
        }
        grow_arena(std::move(slots));
        layers.push_back(std::move(record));
        initialize_layer(layers.back());
        host_changed();
        return layer_index;
    }

    // Keras' layer.trainable: a frozen layer's parameters leave the optimizer's ranges.
    void set_trainable(std::size_t layer, bool on) {
        GraphLayer& l = layers[layer];
        l.trainable = on;
        for (std::size_t s = 0; s < l.slot_count; ++s)
            params.slots()[l.first_slot + s].trainable = on && slot_specs[l.first_slot + s].trainable;
    }

    void initialize_layer(const GraphLayer& l) {
        for (std::size_t s = l.first_slot; s < l.first_slot + l.slot_count; ++s) {
            const ParamSpec& spec = slot_specs[s];
            auto values = params.slot_values(params.slots()[s]);
            detail::initialize_parameter(spec, values, init_);
        }
    }

    // Moves everything of `other` in here; other forwards its tensors here from now on.
    void absorb(GraphStore& other, const std::shared_ptr<GraphStore>& self) {
        sync_host();
        other.sync_host();
        const std::size_t node_shift_now = nodes.size();
        const std::size_t layer_shift = layers.size();
        // Default names collide when two inputs' graphs each have a "dense": the joining graph's
        // layers get the next free names (its parameters follow); names users gave must differ.
        for (auto& l : other.layers) {
            if (!taken(l.layer->name())) continue;
            if (!l.auto_named)
                throw value_error("latent.graph.duplicate_name",
                                  "two graphs joined by a merge both have a layer named \"" + l.layer->name() +
                                      "\"; name one of them");
            std::string fresh = unique_name(l.default_name);
            for (std::size_t k = 1; other.taken(fresh) || taken(fresh); ++k)
                fresh = std::string(l.default_name) + "_" + std::to_string(k);
            for (std::size_t s = l.first_slot; s < l.first_slot + l.slot_count; ++s)
                other.params.slots()[s].name = fresh + "/" + std::string(other.slot_specs[s].name);
            l.layer->set_name(std::move(fresh));
        }
        std::vector<ParamSlot> slots = params.slots();
        const std::size_t base_offset = params.size();
        const std::size_t slot_shift = slots.size();
        for (auto s : other.params.slots()) {
            s.layer += layer_shift;
            slots.push_back(std::move(s));
        }
        AlignedBuffer<float> keep(other.params.size());
        std::copy(other.params.values().begin(), other.params.values().end(), keep.data());
        grow_arena(std::move(slots));
        std::copy(keep.data(), keep.data() + keep.size(), params.data() + base_offset);
        slot_specs.insert(slot_specs.end(), other.slot_specs.begin(), other.slot_specs.end());
        for (auto& l : other.layers) {
            l.offset += base_offset;
            l.first_slot += slot_shift;
            layers.push_back(std::move(l));
        }
        for (auto& n : other.nodes) {
            if (n.layer != GraphNode::none) n.layer += layer_shift;
            for (auto& i : n.inputs) i += node_shift_now;
            nodes.push_back(std::move(n));
        }
        other.layers.clear();
        other.nodes.clear();
        other.params = {};
        other.device.reset();
        other.merged_into = self;
        other.node_shift = node_shift_now;
        host_changed();
    }

private:
    static std::string_view default_name_of(const GraphLayer& l) { return l.default_name; }

    // Re-lays the arena with more slots, keeping the values already there.
    void grow_arena(std::vector<ParamSlot> slots) {
        ParameterArena<float> grown(std::move(slots));
        std::copy(params.values().begin(), params.values().end(), grown.data());
        params = std::move(grown);
        grads.resize_discard(params.size());
    }

    Generator init_;
};

// Follows merges to the store that holds a node now.
inline std::pair<std::shared_ptr<GraphStore>, std::size_t> resolve(std::shared_ptr<GraphStore> store, std::size_t node) {
    while (store->merged_into) {
        node += store->node_shift;
        store = store->merged_into;
    }
    return {std::move(store), node};
}

}  // namespace detail

// A symbolic tensor: the output of one recorded call, whose sample shape S is in its type.
// The backend B travels with it from input<...>() to the Model built from it.
template <class S, backend_policy B = default_backend>
class Symbolic {
public:
    using shape = S;
    using backend = B;

    Symbolic(std::shared_ptr<detail::GraphStore> store, std::size_t node) : store_(std::move(store)), node_(node) {}

    // The store that holds this tensor's node now, and the node's id there.
    std::pair<std::shared_ptr<detail::GraphStore>, std::size_t> resolved() const { return detail::resolve(store_, node_); }

private:
    std::shared_ptr<detail::GraphStore> store_;
    std::size_t node_;
};

template <class X>
inline constexpr bool is_symbolic_v = false;
template <class S, class B>
inline constexpr bool is_symbolic_v<Symbolic<S, B>> = true;

// input<28, 28, 1>("inputs"): a model input of that sample shape, on the default backend;
// input<cpu::simd, 28, 28, 1>("inputs") picks the backend. Keras' keras.Input(shape=...).
template <std::size_t... D>
    requires(sizeof...(D) > 0)
Symbolic<Shape<D...>> input(std::string name = {}, std::uint64_t seed = 0) {
    auto store = std::make_shared<detail::GraphStore>(seed);
    detail::GraphNode n;
    n.dims = {D...};
    n.size = Shape<D...>::size;
    n.input_name = std::move(name);
    store->nodes.push_back(std::move(n));
    return {std::move(store), 0};
}
template <backend_policy B, std::size_t... D>
    requires(sizeof...(D) > 0)
Symbolic<Shape<D...>, B> input(std::string name = {}, std::uint64_t seed = 0) {
    auto s = input<D...>(std::move(name), seed);
    auto [store, node] = s.resolved();
    return {std::move(store), node};
}

// Compile-time diagnostics of the functional API, one per mistake.
template <class Layer, class Got, class Expected>
struct call_shape_mismatch {
    static_assert(detail::dependent_false<Layer>,
                  "latent: call_shape_mismatch: this layer cannot take the symbolic tensor it is called on; the type "
                  "call_shape_mismatch<Layer, got<Shape>, expected<Need>> names the layer, the shape it got and what "
                  "it needs. Fix: insert Flatten before a Dense that follows an image, or make the shapes agree.");
};
template <class Layer, class Expected, class... Got>
struct merge_shape_mismatch {
    static_assert(detail::dependent_false<Layer>,
                  "latent: merge_shape_mismatch: these symbolic tensors cannot be merged by this layer; the type "
                  "merge_shape_mismatch<Layer, expected<Need>, got<Shape>...> names the layer, what it needs and the "
                  "shapes it got. Add, Subtract, "
                  "Multiply, Average, Maximum and Minimum need identical shapes (Subtract exactly two); Concatenate "
                  "needs equal shapes except along its axis; Dot and EuclideanDistance need two vectors of one size "
                  "(Flatten feature maps first); MultiHeadAttention (query, value[, key]) needs (steps, features) "
                  "sequences, the key of as many steps as the value (query_value_key_sequences), and Attention also "
                  "a query and key of one width (query_key_of_one_width); their fourth input, the attention mask, is "
                  "(query steps, key steps) (query_value_key_and_attention_mask).");
};
template <class Network, class Got, class Expected>
struct network_backend_mismatch {
    static_assert(detail::dependent_false<Network>,
                  "latent: network_backend_mismatch: a Sequential was called on a symbolic tensor of another backend; "
                  "the type network_backend_mismatch<Network, got<Backend>, expected<Backend>> names both. Start the "
                  "model's input with the network's backend, e.g. input<cpu::simd, 28, 28, 1>(...).");
};
template <class Layer>
struct mixed_backends {
    static_assert(detail::dependent_false<Layer>,
                  "latent: mixed_backends: a layer was called on symbolic tensors of different backends; start every "
                  "input of a model with the same backend, e.g. input<cpu::simd, 28, 28, 1>(...).");
};

namespace detail {

template <class L>
std::unique_ptr<LayerBase> copy_layer(const LayerBase& l) {
    return std::make_unique<L>(static_cast<const L&>(l));
}

// Records layer(inputs...) in the graph of the inputs and returns the new node's id there.
// With `rename_if_taken`, a layer whose name the graph already has gets the next free default
// name there (a Sequential's default-named layers called inside a model).
template <class L, class B, class... In>
std::pair<std::shared_ptr<GraphStore>, std::size_t> record_call(const L& layer,
                                                                std::vector<std::pair<std::shared_ptr<GraphStore>, std::size_t>> inputs,
                                                                std::vector<ParamSpec> specs,
                                                                bool rename_if_taken = false) {
    // Inputs from separate graphs (two input() calls) join the first input's graph, and so
    // does the graph where this layer object was called before (a layer shared across inputs).
    inputs[0] = resolve(inputs[0].first, inputs[0].second);
    const std::shared_ptr<GraphStore> store = inputs[0].first;
    for (auto& in : inputs) {
        in = resolve(in.first, in.second);
        if (in.first != store) {
            store->absorb(*in.first, store);
            in = resolve(in.first, in.second);
        }
    }
    if (auto home = std::static_pointer_cast<GraphStore>(layer.graph_home())) {
        home = resolve(home, 0).first;
        if (home != store) store->absorb(*home, store);
    }
    layer.set_graph_home(store);

    std::size_t index = store->find_layer(layer.uid());
    if (index == GraphNode::none) {
        GraphLayer record;
        record.layer = copy_layer<L>(layer);
        record.copy = &copy_layer<L>;
        record.type_name = L::type_name;
        record.default_name = L::default_name;
        record.uid = layer.uid();
        record.specs = std::move(specs);
        if (rename_if_taken && store->taken(record.layer->name())) record.layer->set_name({});
        index = store->add_layer(std::move(record));
    } else {
        // A shared layer: its weights were built for its first call's input shapes.
        const auto& known = store->layers[index].specs;
        bool same = known.size() == specs.size();
        for (std::size_t i = 0; same && i < specs.size(); ++i) same = known[i].dim_vector() == specs[i].dim_vector();
        if (!same)
            throw shape_error("latent.graph.shared_layer",
                              "layer \"" + store->layers[index].layer->name() + "\" (" + std::string(L::type_name) +
                                  ") is called again on an input whose shape needs other weights than its first "
                                  "call's; a shared layer must see inputs its weights fit");
    }
    GraphNode n;
    n.layer = index;
    for (const auto& [s, node] : inputs) n.inputs.push_back(node);
    using Out = typename L::template output_shape<In...>;
    n.dims.assign(Out::dims.begin(), Out::dims.end());
    n.size = Out::size;
    n.kernels = &kernels_of<L, B, In...>::value;
    store->nodes.push_back(std::move(n));
    return {store, store->nodes.size() - 1};
}

// A graph's parameters and gradients in device backend B's memory, and the context (on
// latent::cuda, the stream) that every model on the graph computes on: one copy and one stream,
// so a sub-model reads what the whole model trained, in order. The host's copy (the graph's
// arena) and this one are kept apart by versions: host changes bump GraphStore::host_version
// and are uploaded before the next device use; device changes (training) are pulled back
// before the host's copy is read or changed.
template <class B>
class graph_device final : public graph_device_base {
public:
    graph_device() = default;
    graph_device(const graph_device&) = delete;
    graph_device& operator=(const graph_device&) = delete;
    ~graph_device() override {
        // Work held back for a recorded step may still use the buffers: free them in the context,
        // if it was made (making one here could throw, from a destructor: CUDA unusable).
        if constexpr (has_backend_context<B>) {
            if (auto* made = context_.if_made()) {
                [[maybe_unused]] const typename B::context_scope scope(*made);
                params_ = {};
                grads_ = {};
            }
        }
    }

    auto context_scope() const {
        if constexpr (has_backend_context<B>)
            return typename B::context_scope(context_.get());
        else
            return no_backend_context{};
    }
    typename context_of<B>::type& context() const { return context_.get(); }

    void pull(ParameterArena<float>& host) override {
        if (!device_newer_) return;
        [[maybe_unused]] const auto scope = context_scope();
        download<B>(host.data(), params_.data(), std::min(host.size(), params_.size()));
        device_newer_ = false;
    }
    // The device's copy of the graph's parameters, brought up to the host's values first when
    // those changed. `will_change`: the caller writes them (training, moving statistics).
    float* params(GraphStore& store, bool will_change) {
        if (version_ != store.host_version || params_.size() != store.params.size()) {
            [[maybe_unused]] const auto scope = context_scope();
            if (params_.size() != store.params.size()) {
                params_.resize_discard(store.params.size());
                grads_.resize_discard(store.params.size());
            }
            upload<B>(params_.data(), store.params.data(), store.params.size());
            version_ = store.host_version;
        }
        if (will_change) device_newer_ = true;
        return params_.data();
    }
    float* grads(GraphStore& store) {
        params(store, false);  // sized with the parameters
        return grads_.data();
    }

private:
    lazy_context<typename context_of<B>::type> context_;  // declared first: outlives the buffers
    backend_buffer<B, float> params_, grads_;
    std::uint64_t version_ = static_cast<std::uint64_t>(-1);  // the host_version params_ holds
    bool device_newer_ = false;
};

// The graph's device copy, made by the first model or network on it that needs one.
template <class B>
graph_device<B>& device_of(GraphStore& store) {
    if (!store.device) store.device = std::make_unique<graph_device<B>>();
    auto* mine = dynamic_cast<graph_device<B>*>(store.device.get());
    if (!mine) throw value_error("latent.graph.backend", "a graph's models compute on one backend; this one is another");
    return *mine;
}

template <std::size_t K>
std::vector<ParamSpec> spec_vector(const std::array<ParamSpec, K>& specs) {
    return {specs.begin(), specs.end()};
}

// A Sequential's weights and trainability, once it was called inside a functional model: they
// live in that graph (found by the layers' uids, again after the graph joins another one).
class sequential_in_graph : public SharedValues<float>, public graph_membership {
public:
    sequential_in_graph(std::shared_ptr<GraphStore> store, std::vector<std::uint64_t> uids)
        : store_(std::move(store)), uids_(std::move(uids)) {}

    float* data() override { return store().params.data() + store().layers[index(0)].offset; }
    bool trainable(std::size_t layer) override { return store().layers[index(layer)].trainable; }
    void set_trainable(std::size_t layer, bool on) override { store().set_trainable(index(layer), on); }

protected:
    GraphStore& store() {
        if (store_->merged_into) store_ = resolve(store_, 0).first;
        return *store_;
    }
    std::size_t index(std::size_t layer) {
        GraphStore& s = store();
        if (indexed_ != &s) {
            indices_.clear();
            for (auto uid : uids_) indices_.push_back(s.find_layer(uid));
            indexed_ = &s;
        }
        return indices_[layer];
    }

private:
    std::shared_ptr<GraphStore> store_;
    std::vector<std::uint64_t> uids_;
    std::vector<std::size_t> indices_;
    const GraphStore* indexed_ = nullptr;
};

// The same for a network on device backend B: its weights there are the graph's device copy.
template <class B>
class device_sequential_in_graph final : public sequential_in_graph,
                                         public device_graph_membership<typename context_of<B>::type> {
public:
    using sequential_in_graph::sequential_in_graph;
    float* device_params(bool will_change) override {
        GraphStore& s = store();
        return device_of<B>(s).params(s, will_change) + s.layers[index(0)].offset;
    }
    typename context_of<B>::type& context() override { return device_of<B>(store()).context(); }
    void sync_host() override { store().sync_host(); }
    void host_changed() noexcept override { store().host_changed(); }
};

// Records a Sequential's layers, one call each, and moves its weights into the graph.
struct sequential_access {
    using at_node = std::pair<std::shared_ptr<GraphStore>, std::size_t>;

    template <class Seq, class B>
    static at_node call(Seq& seq, at_node at) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((at = record<Seq, B, I>(seq, std::move(at))), ...);
        }(std::make_index_sequence<Seq::layer_count>{});
        link(seq, at.first);
        return at;
    }

    template <class Seq, class B, std::size_t I>
    static at_node record(Seq& seq, at_node at) {
        using L = typename Seq::template layer_type<I>;
        using In = typename Seq::template layer_input_shape<I>;
        auto& layer = seq.template layer<I>();
        const bool default_named = !seq.default_names_[I].empty() && seq.default_names_[I] == layer.name();
        return record_call<L, B, In>(layer, {std::move(at)}, spec_vector(L::template params<In>), default_named);
    }

    template <class Seq>
    static void link(Seq& seq, const std::shared_ptr<GraphStore>& store) {
        std::vector<std::uint64_t> uids;
        std::vector<std::size_t> index;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (uids.push_back(seq.template layer<I>().uid()), ...);
        }(std::make_index_sequence<Seq::layer_count>{});
        for (auto uid : uids) index.push_back(store->find_layer(uid));
        // The network's weights are one block of the graph's arena, laid out as its own arena.
        const std::size_t start = store->layers[index[0]].offset;
        for (std::size_t i = 0; i < index.size(); ++i)
            if (store->layers[index[i]].offset != start + seq.param_offsets_[i])
                throw value_error("latent.graph.sequential_split",
                                  "the layers of Sequential \"" + seq.name() + "\" are not one block in the graph it "
                                  "is called in (layer " + std::to_string(i) + " \"" + seq.layer_name(i) +
                                  "\" was called there on its own before); call the network as a whole");
        if (seq.graph_.get()) return;  // it lives in this graph already
        using B = typename Seq::policy;
        std::shared_ptr<sequential_in_graph> shared;
        if constexpr (host_backend_v<B>)
            shared = std::make_shared<sequential_in_graph>(store, std::move(uids));
        else
            shared = std::make_shared<device_sequential_in_graph<B>>(store, std::move(uids));
        seq.pull_params();  // what the network trained on its own device copy
        if constexpr (!host_backend_v<B>) {
            [[maybe_unused]] const auto scope = seq.context_scope();
            seq.device_params_ = {};  // from now on it computes with the graph's copy
        }
        store->sync_host();
        std::copy_n(seq.params_.data(), Seq::param_count, store->params.data() + start);
        store->host_changed();
        for (std::size_t i = 0; i < index.size(); ++i) store->set_trainable(index[i], seq.layer_trainable_[i]);
        seq.params_.share_values(shared);
        seq.graph_.reset(std::move(shared));
    }
};

}  // namespace detail

// layer(x): found by Layer::operator() through argument-dependent lookup. A wrong shape is one
// compile error naming the layer, the shape it got and what it needs.
// The return types are spelled out (not deduced), so that a wrong call reports its one
// diagnostic instead of also failing overload resolution of Layer::operator().
template <class L, class S, class B>
Symbolic<typename L::template output_shape<S>, B> call_layer(const L& layer, const Symbolic<S, B>& x) {
    if constexpr (detail::is_merge_v<L>) {
        (void)sizeof(merge_shape_mismatch<L, expected<typename L::template requirement_for<S>>, got<S>>);
        return {x.resolved().first, x.resolved().second};
    } else if constexpr (!L::template accepts<S>) {
        (void)sizeof(call_shape_mismatch<L, got<S>, expected<typename L::requirement>>);
        return {x.resolved().first, x.resolved().second};
    } else {
        using Out = typename L::template output_shape<S>;
        auto [store, node] = detail::record_call<L, B, S>(layer, {x.resolved()}, detail::spec_vector(L::template params<S>));
        return Symbolic<Out, B>(std::move(store), node);
    }
}

// A Sequential called like a layer (Keras' nested Sequential): its layers are recorded in x's
// graph, and from then on its weights live there, shared by the Sequential and every model
// built on the graph; freezing its layers through either freezes them in both. Calling it
// again shares the same weights. Default-named layers whose name the graph already has are
// renamed there ("dense" -> "dense_2"); layers named by the user must be unique.
template <class... A, class S, class B>
Symbolic<typename Sequential<A...>::output_shape, B> call_layer(Sequential<A...>& net, const Symbolic<S, B>& x) {
    using Net = Sequential<A...>;
    if constexpr (!std::is_same_v<B, typename Net::policy>) {
        (void)sizeof(network_backend_mismatch<Net, got<B>, expected<typename Net::policy>>);
        return {x.resolved().first, x.resolved().second};
    } else if constexpr (!std::is_same_v<S, typename Net::input_shape>) {
        (void)sizeof(call_shape_mismatch<Net, got<S>, expected<typename Net::input_shape>>);
        return {x.resolved().first, x.resolved().second};
    } else if constexpr (!Net::is_valid) {
        return {x.resolved().first, x.resolved().second};  // the network reports its own wiring error
    } else {
        auto [store, node] = detail::sequential_access::call<Net, B>(net, x.resolved());
        return Symbolic<typename Net::output_shape, B>(std::move(store), node);
    }
}

// A merge layer on two or more symbolic tensors: Add{}(a, b), Concatenate<>{}(a, b, c).
namespace detail {
template <class L, class B, class S0, class... S>
struct merge_call_result {
    using type = Symbolic<S0, B>;
};
template <class L, class... In>
concept takes_several_inputs = requires { L::template accepts_inputs<In...>; };
template <class L, class B, class S0, class... S>
    requires takes_several_inputs<L, S0, S...>
struct merge_call_result<L, B, S0, S...> {
    using type = Symbolic<typename L::template output_shape<S0, S...>, B>;
};
}  // namespace detail

template <class L, class S0, class B, class... S, class... Bs>
    requires(sizeof...(S) > 0)
typename detail::merge_call_result<L, B, S0, S...>::type call_layer(const L& layer, const Symbolic<S0, B>& x0,
                                                                     const Symbolic<S, Bs>&... xs) {
    if constexpr (!(std::is_same_v<B, Bs> && ...)) {
        (void)sizeof(mixed_backends<L>);
        return {x0.resolved().first, x0.resolved().second};
    } else if constexpr (!detail::takes_several_inputs<L, S0, S...>) {
        (void)sizeof(call_shape_mismatch<L, got<S0>, expected<typename L::requirement>>);
        return {x0.resolved().first, x0.resolved().second};
    } else if constexpr (!L::template accepts_inputs<S0, S...>) {
        (void)sizeof(merge_shape_mismatch<L, expected<typename L::template requirement_for<S0, S...>>, got<S0>, got<S>...>);
        return {x0.resolved().first, x0.resolved().second};
    } else {
        using Out = typename L::template output_shape<S0, S...>;
        auto [store, node] = detail::record_call<L, B, S0, S...>(layer, {x0.resolved(), xs.resolved()...},
                                                                 detail::spec_vector(L::template params<S0, S...>));
        return Symbolic<Out, B>(std::move(store), node);
    }
}

}  // namespace latent
