// The training loop behind compile(), fit() and evaluate(): batches drawn in a seeded order,
// forward, loss (fused with a final Softmax/Sigmoid), backward into the gradient arena, one
// optimizer pass over the trainable ranges, metrics, progress and History.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/device_tensor.hpp"
#include "../backend/memory.hpp"
#include "../backend/ops.hpp"
#include "../core/buffer.hpp"
#include "../core/diagnostics.hpp"
#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../data/batching.hpp"
#include "../graph/compiled.hpp"
#include "../layers/activation.hpp"
#include "../loss/loss.hpp"
#include "../metrics/metric.hpp"
#include "../optim/optimizer.hpp"
#include "callback.hpp"
#include "checkpoint.hpp"
#include "history.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace latent {

namespace detail {

// Whether Loss is computed from the logits of a model ending in this kind of activation.
template <class Loss>
constexpr bool loss_fuses_with(output_activation kind) {
    return (Loss::fuses_with == loss::fusion::softmax && kind == output_activation::softmax) ||
           (Loss::fuses_with == loss::fusion::sigmoid && kind == output_activation::sigmoid);
}

// A loss bound to a model type: it knows whether the model ends in the activation the loss
// fuses with, and then works from that layer's input (the logits).
template <class Net>
class erased_loss {
public:
    virtual ~erased_loss() = default;
    virtual std::unique_ptr<erased_loss> clone() const = 0;
    virtual std::string_view name() const = 0;
    virtual std::size_t label_size() const = 0;
    // Mean loss of the last forward pass; writes its gradient into grad: with respect to the
    // output, or (from_logits set) to the input of the final Softmax/Sigmoid it fused with.
    virtual double compute(Net& net, const float* labels, std::size_t batch, float* grad, bool& from_logits) const = 0;
    // Throws if some label can never be valid for this loss (a class index out of range), so
    // that fit fails before the first step rather than halfway through an epoch.
    virtual void check_labels(const float* labels, std::size_t count) const = 0;
};

template <class Net, class Loss>
class bound_loss final : public erased_loss<Net> {
    using Out = typename Net::output_shape;

    static bool fuses(const Net& net) { return loss_fuses_with<Loss>(net.output_activation_kind()); }

public:
    explicit bound_loss(Loss l) : loss_(std::move(l)) {}
    std::unique_ptr<erased_loss<Net>> clone() const override { return std::make_unique<bound_loss>(*this); }
    std::string_view name() const override { return Loss::name; }
    std::size_t label_size() const override { return Loss::template label_size<Out>; }

    void check_labels(const float* labels, std::size_t count) const override {
        if constexpr (requires { Loss::check_classes(labels, count, std::size_t{1}); })
            Loss::check_classes(labels, count * label_size(), Out::dims[Out::rank - 1]);
    }

    double compute(Net& net, const float* labels, std::size_t batch, float* grad, bool& from_logits) const override {
        using B = typename Net::policy;
        constexpr std::size_t size = Out::size;
        constexpr std::size_t last = Out::dims[Out::rank - 1];
        from_logits = false;
        // Layers' own terms (activity penalties) count in the loss, as in Keras; their
        // gradients come from the layers' backward passes.
        const double added = net.added_loss();
        if constexpr (Loss::fuses_with != loss::fusion::none) {
            from_logits = !loss_.from_logits && fuses(net);
            if (from_logits)  // backward starts below the Softmax/Sigmoid
                return loss_.template compute_from_logits<B>(net.final_logits(), labels, batch, size, last, grad) +
                       added;
        }
        return loss_.template compute<B>(net.final_output(), labels, batch, size, last, grad) + added;
    }

private:
    Loss loss_;
};

// Whether the model computes in device memory (latent::cuda): the loop then copies each batch's
// labels over, and its outputs back for the metrics.
template <class Net>
inline constexpr bool on_device_v = !host_backend_v<typename Net::policy>;

// Labels (host, n x size) where the loss reads them: as they are on a host backend, copied into
// `device` on a device backend.
template <class Net>
const float* labels_for_loss(const float* host, std::size_t count, backend_buffer<typename Net::policy, float>& device) {
    if constexpr (on_device_v<Net>) {
        if (device.size() < count) device.resize_discard(count);
        upload<typename Net::policy>(device.data(), host, count);
        return device.data();
    } else {
        return host;
    }
}
// Outputs (n x size, in the backend's memory) where the metrics read them: on the host.
template <class Net>
const float* outputs_for_metrics(const float* out, std::size_t count, AlignedBuffer<float>& host) {
    if constexpr (on_device_v<Net>) {
        if (host.size() < count) host.resize_discard(count);
        download<typename Net::policy>(host.data(), out, count);
        return host.data();
    } else {
        return out;
    }
}
// The model's own context (its stream on latent::cuda) for the loss, optimizer and copies
// around it; nothing for models without one.
template <class Net>
auto model_scope(const Net& net) {
    if constexpr (on_device_v<Net>)
        return net.context_scope();
    else
        return no_backend_context{};
}
// Brackets one step of the model (recorded and replayed on latent::cuda); a functional model's
// steps are told apart from those of the other models on its graph, which share its stream.
template <class Net>
auto model_step_scope(const Net& net, step_kind kind, std::size_t batch) {
    if constexpr (requires { net.step_salt(); })
        return step_scope<typename Net::policy>(kind, batch, net.step_salt());
    else
        return step_scope<typename Net::policy>(kind, batch);
}
template <class Net>
void zero_gradients(Net& net) {
    if constexpr (on_device_v<Net>) {
        net.zero_gradients();
    } else {
        auto gradients = net.gradients();
        std::fill(gradients.begin(), gradients.end(), 0.0f);
    }
}
// One optimizer step on the model's parameters where they live: the host arena that
// host_params() returns, or the model's copy on its device.
template <class Net, class HostParams>
void optimizer_step(Net& net, optim::Optimizer& optimizer, HostParams host_params,
                    const std::vector<ArenaRange>& ranges) {
    if (optimizer.needs_variable_names(ranges)) optimizer.set_variable_names(ranges, net.trainable_names());
    if constexpr (on_device_v<Net>) {
        optimizer.step(net.backend_parameters(), net.backend_gradients(), net.backend_param_count(), ranges);
    } else {
        auto gradients = net.gradients();
        optimizer.step(host_params(), gradients.data(), gradients.size(), ranges);
    }
}

// Keras' finalize_variable_values on the model's parameters where they live (as optimizer_step):
// with use_ema, the trained weights take their moving averages; otherwise nothing.
template <class Net, class HostParams>
void finalize_optimizer(Net& net, optim::Optimizer& optimizer, HostParams host_params,
                        const std::vector<ArenaRange>& ranges) {
    if (!optimizer.averages_weights()) return;
    if constexpr (on_device_v<Net>) {
        optimizer.finalize_variable_values(net.backend_parameters(), net.backend_param_count(), ranges);
    } else {
        const std::size_t size = net.gradients().size();
        optimizer.finalize_variable_values(host_params(), size, ranges);
    }
}

// fit's arrays in a device's memory. On a device backend fit copies the training samples and
// labels over once (one array per model input and per output), with each epoch's order, and
// every step gathers its batch there into the model's input buffers: no host-to-device copy per
// step (an MLP does about 1 MFLOP of training arithmetic per 3 KB MNIST image, less GPU time than
// the image's copy from pageable memory). Where they would take more than half of the device's
// free memory, or the copy fails for want of it, nothing is held and fit copies one batch per
// step instead. Validation data is read in its order: validation_split's at the end of the
// training arrays, the caller's held the same way beside them.
template <class Net>
class arrays_there {
    using B = typename Net::policy;

public:
    bool held() const noexcept { return held_; }

    // Copies every sample of xs and ys, and room for an order of the first `n_train` and for
    // the labels of batches of up to `batch_size`, where they fit.
    void hold(const std::vector<ArrayRef>& xs, const std::vector<ArrayRef>& ys, std::size_t n_train,
              std::size_t batch_size) {
        if constexpr (on_device_v<Net>) {
            const std::size_t count = xs.empty() ? 0 : xs[0].count;
            std::size_t input_floats = 0, label_floats = 0;
            for (const auto& a : xs) input_floats += a.sample_size;
            for (const auto& a : ys) label_floats += a.sample_size;
            const std::size_t bytes = (count * (input_floats + label_floats) + batch_size * label_floats) * sizeof(float) +
                                      n_train * sizeof(std::size_t);
            if (bytes > device_memory_free<B>() / 2) return;
            try {
                x_.resize(xs.size());
                y_.resize(ys.size());
                labels_.resize(ys.size());
                for (std::size_t i = 0; i < xs.size(); ++i) x_[i].resize_discard(count * xs[i].sample_size);
                for (std::size_t k = 0; k < ys.size(); ++k) {
                    y_[k].resize_discard(count * ys[k].sample_size);
                    labels_[k].resize_discard(batch_size * ys[k].sample_size);
                }
                order_.resize_discard(n_train);
            } catch (const std::bad_alloc&) {
                release();
                return;
            } catch (const error&) {  // latent::cuda_error: out of device memory
                release();
                return;
            }
            for (std::size_t i = 0; i < xs.size(); ++i) {
                upload<B>(x_[i].data(), xs[i].data, count * xs[i].sample_size);
                x_sizes_.push_back(xs[i].sample_size);
            }
            for (std::size_t k = 0; k < ys.size(); ++k) {
                upload<B>(y_[k].data(), ys[k].data, count * ys[k].sample_size);
                y_sizes_.push_back(ys[k].sample_size);
            }
            held_ = true;
        }
    }
    // This epoch's order of the training samples (a permutation of [0, n_train)).
    void set_order(std::span<const std::size_t> order) { upload<B>(order_.data(), order.data(), order.size()); }
    // The `n` samples at positions [first, first + n) of the epoch's order, gathered into the
    // model's input buffers (`inputs`, where forward reads them) and their labels (`labels`).
    void gather(Net& net, std::size_t first, std::size_t n, std::vector<const float*>& inputs,
                std::vector<const float*>& labels) {
        if constexpr (on_device_v<Net>) {
            inputs.clear();
            labels.clear();
            for (std::size_t i = 0; i < x_.size(); ++i) {
                float* input = net.device_input_for(n, i);
                ops::gather_rows<B>(n, x_sizes_[i], order_.data() + first, x_[i].data(), input);
                inputs.push_back(input);
            }
            for (std::size_t k = 0; k < y_.size(); ++k) {
                ops::gather_rows<B>(n, y_sizes_[k], order_.data() + first, y_[k].data(), labels_[k].data());
                labels.push_back(labels_[k].data());
            }
        }
    }
    // The samples [first, first + n) as stored (validation's): copied into the model's
    // input buffers; the labels read where they are.
    void in_order(Net& net, std::size_t first, std::size_t n, std::vector<const float*>& inputs,
                  std::vector<const float*>& labels) {
        if constexpr (on_device_v<Net>) {
            inputs.clear();
            labels.clear();
            for (std::size_t i = 0; i < x_.size(); ++i)
                inputs.push_back(net.device_input_from(x_[i].data() + first * x_sizes_[i], n, i));
            for (std::size_t k = 0; k < y_.size(); ++k) labels.push_back(y_[k].data() + first * y_sizes_[k]);
        }
    }

private:
    void release() {
        x_.clear();
        y_.clear();
        labels_.clear();
        order_ = {};
    }
    std::vector<backend_buffer<B, float>> x_, y_;  // per input (count, size), per output (count, label)
    std::vector<backend_buffer<B, float>> labels_;  // per output (batch, label)
    backend_buffer<B, std::size_t> order_;
    std::vector<std::size_t> x_sizes_, y_sizes_;  // floats per sample, per label
    bool held_ = false;
};

template <class Net>
struct training_setup final : compiled_state {
    std::unique_ptr<optim::Optimizer> optimizer;
    std::unique_ptr<erased_loss<Net>> loss;
    std::vector<std::unique_ptr<metrics::Metric>> metrics;
    // train_on_batch's own state: its dropout generator and the buffers it reuses (the loss
    // gradient, and on a device backend the labels copied there).
    Generator batch_rng{0};
    backend_buffer<typename Net::policy, float> batch_grad;
    backend_buffer<typename Net::policy, float> batch_labels;

    std::unique_ptr<compiled_state> clone() const override {
        auto copy = std::make_unique<training_setup>();
        copy->optimizer = optimizer->clone();
        copy->loss = loss->clone();
        for (const auto& m : metrics) copy->metrics.push_back(m->clone());
        copy->batch_rng = batch_rng;
        return copy;
    }
};

template <class Net>
training_setup<Net>& setup_of(Net& net, const char* caller) {
    auto* setup = dynamic_cast<training_setup<Net>*>(net.compiled_state());
    if (!setup)
        throw value_error("latent.train.not_compiled", std::string(caller) +
                                                           " needs a compiled model: call compile(optimizer, loss, "
                                                           "metrics...) first");
    return *setup;
}

// The labels fit the compiled loss, one per input sample; `caller` names the call in the message.
template <class Net, class YS>
void check_labels_for(const training_setup<Net>& setup, std::size_t inputs, std::size_t labels, const char* caller) {
    if (YS::size != setup.loss->label_size())
        throw shape_error("latent.train.labels",
                          concat("loss ", setup.loss->name(), " needs labels of ",
                                 std::to_string(setup.loss->label_size()), " elements per sample, got ",
                                 YS::to_string()));
    if (inputs != labels)
        throw shape_error("latent.train.batch",
                          concat(caller, " got ", std::to_string(inputs), " inputs but ", std::to_string(labels),
                                 " labels"));
}

// Labels of sample shape YS fit an output of shape Out (the model's one output by default):
// Out itself, flattened, or class indices along its last axis.
template <class Net, class YS, class Out = typename Net::output_shape>
constexpr void check_label_shape() {
    constexpr std::size_t last = Out::dims[Out::rank - 1];
    constexpr bool dense_labels = std::is_same_v<YS, Out> || (YS::rank == 1 && YS::size == Out::size);
    constexpr bool class_indices = last > 1 && YS::size * last == Out::size;
    if constexpr (!dense_labels && !class_indices)
        (void)sizeof(label_shape_mismatch<Net, got<YS>, expected<Out>>);
}

inline void check_finite(const float* data, std::size_t count, std::size_t sample_size, const char* what) {
    for (std::size_t i = 0; i < count * sample_size; ++i)
        if (!std::isfinite(data[i]))
            throw value_error("latent.train.non_finite_data",
                              concat(what, ": sample ", std::to_string(i / sample_size), ", element ",
                                     std::to_string(i % sample_size), " is ", std::to_string(data[i]),
                                     "; training data must be finite"));
}

// What fit's callbacks act through: the compiled optimizer's learning rate and the model's
// weights.
template <class Net>
class model_access final : public TrainingContext::Access {
public:
    model_access(Net& net, optim::Optimizer& optimizer) : net_(net), optimizer_(optimizer) {}
    double learning_rate() const override { return optimizer_.learning_rate(); }
    void set_learning_rate(double lr) override { optimizer_.set_learning_rate(lr); }
    bool learning_rate_scheduled() const override { return optimizer_.learning_rate_scheduled(); }
    std::span<float> weights() override { return net_.parameters().values(); }
    void save_weights(const std::filesystem::path& path) override { net_.save_weights(path); }

private:
    Net& net_;
    optim::Optimizer& optimizer_;
};
// A training loop's callbacks on a model: what they act through (the model and its compiled
// optimizer), their context and their runner, made together.
template <class Net>
struct model_callback_state {
    model_access<Net> access;
    TrainingContext training_context;
    model_callback_state(Net& net, optim::Optimizer& optimizer, std::size_t epochs, std::size_t steps,
                         std::vector<std::string> log_keys)
        : access(net, optimizer), training_context(access, epochs, steps, std::move(log_keys)) {}
};
template <class Net>
class model_callbacks : private model_callback_state<Net>, public callback_runner {
public:
    model_callbacks(Net& net, optim::Optimizer& optimizer, const std::vector<Callback>& callbacks, std::size_t epochs,
                    std::size_t steps, std::vector<std::string> log_keys, std::ostream& out)
        : model_callback_state<Net>(net, optimizer, epochs, steps, std::move(log_keys)),
          callback_runner(callbacks, this->training_context, out) {}
};

// The keys of an epoch's logs: the step's figures (`step_keys`), then each as "val_..." where
// there is validation data, then "learning_rate", which the learning-rate callbacks add.
inline std::vector<std::string> epoch_log_keys(std::vector<std::string> step_keys, bool validation) {
    if (validation) {
        const std::size_t n = step_keys.size();
        for (std::size_t i = 0; i < n; ++i) step_keys.push_back("val_" + step_keys[i]);
    }
    step_keys.emplace_back("learning_rate");
    return step_keys;
}

// Where fit starts: the first epoch and step to run.
struct RunStart {
    std::size_t epoch = 0, step = 0;
};
// With options.resume and a checkpoint file at options.checkpoint, fit carries on from it: the
// arena, the optimizer's state, the history and the generators as the file has them, and the
// interrupted epoch's order drawn again by `sampler` (which draws from `shuffle_rng`); a file
// that cannot be resumed changes nothing. Otherwise fit starts at (0, 0). `steps`: the steps of an epoch. (A
// template with nothing to deduce: compiled only where called; bench/README.md, "Compile time".)
template <class = void>
RunStart resume_run(const FitOptions& options, ParameterArena<float>& arena, optim::Optimizer& optimizer,
                    History& history, std::size_t steps, data::BatchSampler& sampler, Generator& shuffle_rng,
                    Generator& epoch_shuffle, Generator& dropout_rng) {
    if (!options.resume || options.checkpoint.empty() || !std::filesystem::exists(options.checkpoint.path())) return {};
    RunPosition at;
    options.checkpoint.load(arena, optimizer, at, history, steps, options.callbacks);
    dropout_rng = at.dropout;
    shuffle_rng = at.epoch_shuffle;
    epoch_shuffle = at.epoch_shuffle;
    sampler.next_epoch();  // draws the interrupted epoch's order again
    return {at.epoch, at.step};
}

// Loss and metrics over (count) samples in inference mode, batch after batch. `there`, where
// given and held, holds the same samples in the device's memory (fit's validation data): the
// batches are read there instead of copied over.
template <class Net>
std::vector<std::pair<std::string, double>> evaluate_arrays(Net& net, training_setup<Net>& setup, const float* x,
                                                            const float* y, std::size_t count, std::size_t batch_size,
                                                            arrays_there<Net>* there = nullptr) {
    if (there && !there->held()) there = nullptr;
    using In = typename Net::input_shape;
    using Out = typename Net::output_shape;
    constexpr std::size_t last = Out::dims[Out::rank - 1];
    const std::size_t label = setup.loss->label_size();
    [[maybe_unused]] const auto scope = model_scope(net);
    const std::size_t widest = std::min(batch_size, std::max<std::size_t>(count, 1));
    backend_buffer<typename Net::policy, float> grad(widest * Out::size), labels_there;
    AlignedBuffer<float> out_here;
    std::vector<const float*> held_inputs, held_labels;  // where `there` has the batch
    for (auto& m : setup.metrics) m->reset();
    double loss_sum = 0;
    for (std::size_t first = 0; first < count; first += batch_size) {
        const std::size_t n = std::min(batch_size, count - first);
        const float* labels = there ? nullptr : labels_for_loss<Net>(y + first * label, n * label, labels_there);
        const float* out = nullptr;
        {
            [[maybe_unused]] const auto recorded = model_step_scope(net, step_kind::evaluate, n);
            const float* input = x + first * In::size;
            if (there) {
                there->in_order(net, first, n, held_inputs, held_labels);
                input = held_inputs[0];
                labels = held_labels[0];
            }
            out = net.forward(input, n, Mode::infer);
            bool from_logits = false;
            loss_sum += setup.loss->compute(net, labels, n, grad.data(), from_logits) * static_cast<double>(n);
        }
        if (!setup.metrics.empty()) out = outputs_for_metrics<Net>(out, n * Out::size, out_here);
        for (auto& m : setup.metrics) m->update(out, y + first * label, n, Out::size, last, label);
    }
    std::vector<std::pair<std::string, double>> result{{"loss", count ? loss_sum / static_cast<double>(count) : 0.0}};
    for (auto& m : setup.metrics) result.emplace_back(m->name(), m->result());
    return result;
}

}  // namespace detail

// net.compile(optimizer, loss, metrics...): binds them to the model (found by ADL from Sequential).
template <class Net, class Optimizer, class Loss, class... Metrics>
void compile_model(Net& net, Optimizer optimizer, Loss loss, Metrics... metrics) {
    static_assert(requires { optimizer.template build<typename Net::policy>(); },
                  "latent: compile's first argument must be an optimizer (optim::SGD, optim::Adam, optim::AdamW, optim::RMSprop, ...)");
    static_assert(requires { Loss::name; Loss::fuses_with; },
                  "latent: compile's second argument must be a loss (loss::MeanSquaredError, ...)");
    static_assert((requires { metrics.build(); } && ...),
                  "latent: compile's further arguments must be metrics (metrics::Accuracy, metrics::MeanAbsoluteError, ...)");
    if constexpr (requires { loss.validate(); }) loss.validate();  // settings such as Huber's delta
    auto setup = std::make_unique<detail::training_setup<Net>>();
    setup->optimizer = optimizer.template build<typename Net::policy>();
    setup->loss = std::make_unique<detail::bound_loss<Net, Loss>>(std::move(loss));
    (setup->metrics.push_back(metrics.build()), ...);
    net.set_compiled_state(std::move(setup));
}

template <class Net, class XS, class YS>
History fit_model(Net& net, TensorView<XS, const float> x, TensorView<YS, const float> y, const FitOptions& options) {
    Net::template check_input<TensorView<XS, const float>>();
    detail::check_label_shape<Net, YS>();
    using In = typename Net::input_shape;
    using Out = typename Net::output_shape;
    constexpr std::size_t last = Out::dims[Out::rank - 1];

    auto& setup = detail::setup_of(net, "fit");
    detail::check_labels_for<Net, YS>(setup, x.batch(), y.batch(), "fit");
    const std::size_t label = setup.loss->label_size();
    if (options.batch_size == 0) throw value_error("latent.train.batch_size", "fit needs batch_size >= 1, got 0");
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
        throw value_error("latent.train.validation_split",
                          detail::concat("validation_split must be in [0, 1), got ",
                                         std::to_string(options.validation_split)));

    // Keras holds out the *last* fraction, before any shuffling.
    std::size_t n_train = x.batch();
    ValidationData validation = options.validation;
    if (validation.present() && !validation.x)
        throw shape_error("latent.train.validation",
                          detail::concat("validation data has ", std::to_string(validation.inputs.size()),
                                         " input arrays and ", std::to_string(validation.labels.size()),
                                         " label arrays; this model has one input and one output: give one tensor "
                                         "of each"));
    if (!validation.present() && options.validation_split > 0.0) {
        n_train = static_cast<std::size_t>(std::floor(static_cast<double>(x.batch()) * (1.0 - options.validation_split)));
        validation.x = x.data() + n_train * In::size;
        validation.y = y.data() + n_train * YS::size;
        validation.count = x.batch() - n_train;
        validation.x_sample_size = In::size;
        validation.y_sample_size = YS::size;
    }
    if (validation.present() && (validation.x_sample_size != In::size || validation.y_sample_size != label))
        throw shape_error("latent.train.validation",
                          detail::concat("validation data has samples of ", std::to_string(validation.x_sample_size),
                                         " and labels of ", std::to_string(validation.y_sample_size),
                                         " elements; the model needs ", std::to_string(In::size), " and ",
                                         std::to_string(label)));
    if (n_train == 0) throw value_error("latent.train.empty", "fit has no training samples");
    if (validation.present() && validation.count == 0)
        throw value_error("latent.train.validation",
                          detail::concat("the validation data has no samples (validation_split ",
                                         std::to_string(options.validation_split), " of ", std::to_string(x.batch()),
                                         " samples holds out none)"));
    detail::check_finite(x.data(), x.batch(), In::size, "fit: x");
    detail::check_finite(y.data(), y.batch(), YS::size, "fit: y");
    if (validation.present() && validation.x != x.data() + n_train * In::size) {
        detail::check_finite(validation.x, validation.count, In::size, "fit: validation x");
        detail::check_finite(validation.y, validation.count, label, "fit: validation y");
    }
    setup.loss->check_labels(y.data(), y.batch());
    if (validation.present()) setup.loss->check_labels(validation.y, validation.count);

    [[maybe_unused]] const auto scope = detail::model_scope(net);
    Generator root(options.seed);
    Generator shuffle_rng = root.split();
    Generator dropout_rng = root.split();
    Generator epoch_shuffle = shuffle_rng;  // the generator as it was when this epoch's order was drawn

    const std::size_t batch_size = std::min(options.batch_size, n_train);
    data::BatchSampler sampler(n_train, batch_size, options.shuffle, shuffle_rng);
    const std::size_t steps = sampler.batches();
    AlignedBuffer<float> xb;                           // (batch, in), unless the set is held on the device
    AlignedBuffer<float> yb(batch_size * label);       // (batch, label)
    backend_buffer<typename Net::policy, float> grad(batch_size * Out::size);  // (batch, out), where the model computes
    backend_buffer<typename Net::policy, float> yb_there;  // device backends: the labels there
    AlignedBuffer<float> out_here;                          // device backends: the outputs back, for metrics
    auto& arena = net.parameters();
    const auto ranges = net.trainable_ranges();
    const bool checkpointing = !options.checkpoint.empty();
    if (checkpointing && options.checkpoint_every == 0)
        throw value_error("latent.train.checkpoint_every", "checkpoint_every must be at least 1 epoch");

    detail::arrays_there<Net> there;  // device backends: the training set copied over once
    there.hold({{x.data(), n_train, In::size}}, {{y.data(), n_train, label}}, n_train, batch_size);
    if (!there.held()) xb.resize_discard(batch_size * In::size);
    detail::arrays_there<Net> validation_there;  // and the validation data
    if (there.held() && validation.present())
        validation_there.hold({{validation.x, validation.count, In::size}}, {{validation.y, validation.count, label}}, 0,
                              0);
    std::vector<const float*> held_inputs, held_labels;  // where `there` has a step's batch

    History history;
    std::vector<std::string> step_keys{"loss"};
    for (const auto& m : setup.metrics) step_keys.emplace_back(m->name());
    detail::model_callbacks<Net> callbacks(net, *setup.optimizer, options.callbacks, options.epochs, steps,
                                           detail::epoch_log_keys(step_keys, validation.present()),
                                           options.out ? *options.out : std::cout);
    callbacks.train_begin();
    const detail::RunStart start = detail::resume_run(options, arena, *setup.optimizer, history, steps, sampler,
                                                      shuffle_rng, epoch_shuffle, dropout_rng);
    callbacks.context().set_initial_epoch(start.epoch);
    const std::size_t first_epoch = start.epoch, first_step = start.step;
    auto stop_requested = [&] { return options.stop && options.stop->load(); };
    double epoch_learning_rate = setup.optimizer->learning_rate();  // before this epoch's callbacks
    auto write_checkpoint = [&](std::size_t epoch, std::size_t step) {
        // A device backend's training left the current values there: parameters() fetches them.
        if constexpr (detail::on_device_v<Net>) net.parameters();
        options.checkpoint.save(arena, *setup.optimizer,
                                {epoch, step, step == 0 ? shuffle_rng : epoch_shuffle, dropout_rng,
                                 step == 0 ? setup.optimizer->learning_rate() : epoch_learning_rate},
                                history, options.callbacks);
    };

    detail::Progress progress(options.verbose, options.out);
    std::vector<std::pair<std::string, double>> last_logs;  // what on_train_end sees
    auto finish = [&] {
        // Keras: after the last epoch (or a stop), before on_train_end (EarlyStopping's restore)
        detail::finalize_optimizer(net, *setup.optimizer, [&] { return arena.data(); }, ranges);
        callbacks.train_end(last_logs);
        return history;
    };
    for (std::size_t epoch = first_epoch; epoch < options.epochs; ++epoch) {
        if (epoch > first_epoch) {
            epoch_shuffle = shuffle_rng;
            sampler.next_epoch();
        }
        if (there.held()) there.set_order(sampler.order());
        for (auto& m : setup.metrics) m->reset();
        epoch_learning_rate = setup.optimizer->learning_rate();
        callbacks.epoch_begin(epoch);
        progress.begin_epoch(epoch, options.epochs, steps);
        double loss_sum = 0;
        std::size_t seen = 0;
        std::vector<std::pair<std::string, double>> shown;
        for (std::size_t step = epoch == first_epoch ? first_step : 0; step < steps; ++step) {
            const auto indices = sampler.batch(step);
            const std::size_t n = indices.size();
            if (!there.held() || !setup.metrics.empty())  // the labels on the host: for the metrics, or to copy
                data::gather(y, indices, yb.data());
            const float* input = xb.data();
            const float* labels = nullptr;
            if (!there.held()) {
                data::gather(x, indices, xb.data());
                // The labels go over before the step's first kernel, so that a recorded step (CUDA
                // graphs) waits for the device only where the loss is read.
                labels = detail::labels_for_loss<Net>(yb.data(), n * label, yb_there);
            }
            const float* out = nullptr;
            double loss = 0;
            callbacks.batch_begin(step);
            {
                [[maybe_unused]] const auto recorded = detail::model_step_scope(net, detail::step_kind::train, n);
                if (there.held()) {
                    there.gather(net, step * batch_size, n, held_inputs, held_labels);
                    input = held_inputs[0];
                    labels = held_labels[0];
                }
                out = net.forward(input, n, Mode::train, &dropout_rng);
                detail::zero_gradients(net);
                bool from_logits = false;
                loss = setup.loss->compute(net, labels, n, grad.data(), from_logits);
                if (!std::isfinite(loss))
                    throw value_error("latent.train.non_finite_loss",
                                      detail::concat("epoch ", std::to_string(epoch + 1), ", step ",
                                                     std::to_string(step + 1), ": the loss is ", std::to_string(loss),
                                                     "; ", net.describe_non_finite(n),
                                                     "; lower the learning rate or check the data",
                                                     checkpointing ? " (the last checkpoint is intact)" : ""));
                net.backward_from_output(grad.data(), from_logits);
                detail::optimizer_step(net, *setup.optimizer, [&] { return arena.data(); }, ranges);
            }

            loss_sum += loss * static_cast<double>(n);
            seen += n;
            if (!setup.metrics.empty()) out = detail::outputs_for_metrics<Net>(out, n * Out::size, out_here);
            for (auto& m : setup.metrics) m->update(out, yb.data(), n, Out::size, last, label);
            shown.clear();
            shown.emplace_back("loss", loss_sum / static_cast<double>(seen));
            for (auto& m : setup.metrics) shown.emplace_back(m->name(), m->result());
            progress.step(step + 1, shown);
            callbacks.batch_end(step, shown);
            if (step + 1 < steps && (stop_requested() || callbacks.stop_training())) {
                if (checkpointing) write_checkpoint(epoch, step + 1);
                progress.end_epoch(shown);
                callbacks.flush();
                last_logs = std::move(shown);  // (not read again this epoch)
                return finish();
            }
        }
        if (validation.present()) {
            const auto val = detail::evaluate_arrays(net, setup, validation.x, validation.y, validation.count,
                                                     options.batch_size, &validation_there);
            for (const auto& [key, value] : val) shown.emplace_back("val_" + key, value);
        }
        callbacks.epoch_end(epoch, shown);
        for (const auto& [key, value] : shown) history.history[key].push_back(value);
        history.epochs = epoch + 1;
        progress.end_epoch(shown);
        callbacks.flush();
        last_logs = std::move(shown);  // (not read again this epoch)
        const bool stopping = stop_requested() || callbacks.stop_training();
        if (checkpointing && ((epoch + 1) % options.checkpoint_every == 0 || stopping || epoch + 1 == options.epochs))
            write_checkpoint(epoch + 1, 0);
        if (stopping) return finish();
    }
    return finish();
}

namespace detail {
// train_on_batch's checks of what it was given (shapes, batch sizes, a compiled model); returns
// the compiled setup.
template <class Net, class XS, class YS>
training_setup<Net>& checked_for_train_on_batch(Net& net, std::size_t inputs, std::size_t labels) {
    Net::template check_input<TensorView<XS, const float>>();
    check_label_shape<Net, YS>();
    auto& setup = setup_of(net, "train_on_batch");
    check_labels_for<Net, YS>(setup, inputs, labels, "train_on_batch");
    if (inputs == 0) throw value_error("latent.train.empty", "train_on_batch got no samples");
    return setup;
}

// train_on_batch's step once its checks are done: the labels are where the loss reads them, and
// place_input() (called inside the step, so that a recorded step includes its kernels) returns
// the samples where forward reads them. `unchecked` ends a non-finite loss's message.
template <class Net, class PlaceInput>
double train_on_batch_step(Net& net, training_setup<Net>& setup, std::size_t n, const float* labels,
                           PlaceInput place_input, const char* unchecked) {
    using Out = typename Net::output_shape;
    if (setup.batch_grad.size() < n * Out::size) setup.batch_grad.resize_discard(n * Out::size);
    [[maybe_unused]] const auto recorded = model_step_scope(net, step_kind::train, n);
    net.forward(place_input(), n, Mode::train, &setup.batch_rng);
    zero_gradients(net);
    bool from_logits = false;
    const double loss = setup.loss->compute(net, labels, n, setup.batch_grad.data(), from_logits);
    if (!std::isfinite(loss))
        throw value_error("latent.train.non_finite_loss",
                          concat("train_on_batch: the loss is ", std::to_string(loss), "; ", net.describe_non_finite(n),
                                 "; lower the learning rate or check the data", unchecked));
    net.backward_from_output(setup.batch_grad.data(), from_logits);
    optimizer_step(net, *setup.optimizer, [&] { return net.parameters().data(); }, net.trainable_ranges());
    return loss;
}
}  // namespace detail

// Keras' train_on_batch: one optimizer step on exactly this batch (no shuffling, no
// validation, metrics untouched); returns the batch's mean loss. Dropout draws from the
// compiled model's own generator (seeded 0 at compile). After the first call of a batch size
// it allocates nothing but the optimizer's list of trainable ranges.
template <class Net, class XS, class YS>
double train_on_batch_model(Net& net, TensorView<XS, const float> x, TensorView<YS, const float> y) {
    auto& setup = detail::checked_for_train_on_batch<Net, XS, YS>(net, x.batch(), y.batch());
    const std::size_t n = x.batch();
    setup.loss->check_labels(y.data(), n);
    [[maybe_unused]] const auto scope = detail::model_scope(net);
    const float* labels = detail::labels_for_loss<Net>(y.data(), n * setup.loss->label_size(), setup.batch_labels);
    return detail::train_on_batch_step(net, setup, n, labels, [&] { return x.data(); }, "");
}

// train_on_batch on a batch already in the model's device memory (DeviceTensor): the samples
// are copied on the device into the model's input buffer, the labels read where they are. Their
// values are not seen on the host, so a class index out of range shows as a non-finite loss.
template <class Net, class XS, class YS>
double train_on_batch_model(Net& net, const DeviceTensor<typename Net::policy, XS>& x,
                            const DeviceTensor<typename Net::policy, YS>& y) {
    auto& setup = detail::checked_for_train_on_batch<Net, XS, YS>(net, x.batch(), y.batch());
    const std::size_t n = x.batch();
    [[maybe_unused]] const auto scope = detail::model_scope(net);
    const auto place_input = [&] { return net.device_input_from(x.data(), n); };
    return detail::train_on_batch_step(net, setup, n, y.data(), place_input,
                                       " (the labels are on the device, unchecked: a class index outside the "
                                       "model's classes makes the loss NaN)");
}

// Keras' optimizer.finalize_variable_values(model.trainable_variables), for a loop of
// train_on_batch: with the compiled optimizer's use_ema, the trainable weights take their moving
// averages (fit does it after its last epoch); without, nothing changes.
template <class Net>
void finalize_variable_values_model(Net& net) {
    auto& setup = detail::setup_of(net, "finalize_variable_values");
    [[maybe_unused]] const auto scope = detail::model_scope(net);
    detail::finalize_optimizer(net, *setup.optimizer, [&] { return net.parameters().data(); },
                               net.trainable_ranges());
}

// Loss and metrics on (x, y) in inference mode: {"loss": ..., "accuracy": ...}.
template <class Net, class XS, class YS>
std::map<std::string, double> evaluate_model(Net& net, TensorView<XS, const float> x, TensorView<YS, const float> y,
                                             std::size_t batch_size) {
    Net::template check_input<TensorView<XS, const float>>();
    detail::check_label_shape<Net, YS>();
    auto& setup = detail::setup_of(net, "evaluate");
    detail::check_labels_for<Net, YS>(setup, x.batch(), y.batch(), "evaluate");
    if (batch_size == 0) throw value_error("latent.train.batch_size", "evaluate needs batch_size >= 1, got 0");
    if (x.batch() == 0) throw value_error("latent.train.empty", "evaluate got no samples");
    setup.loss->check_labels(y.data(), y.batch());
    const auto result = detail::evaluate_arrays(net, setup, x.data(), y.data(), x.batch(), batch_size);
    return {result.begin(), result.end()};
}

}  // namespace latent
