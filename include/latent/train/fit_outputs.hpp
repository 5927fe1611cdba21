// Training a functional Model with several inputs or outputs (Keras' multi-output compile and
// fit): one loss per output with loss weights, metrics per output, inputs and labels given as
// std::tuples of tensors. History keys as Keras: "loss", "<output>_loss", "<output>_accuracy";
// a model with one output (and several inputs) reports "loss", "accuracy" as a one-input model.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/memory.hpp"
#include "../backend/ops.hpp"
#include "../core/buffer.hpp"
#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../data/batching.hpp"
#include "../graph/compiled.hpp"
#include "../graph/model.hpp"
#include "../loss/loss.hpp"
#include "../metrics/metric.hpp"
#include "../optim/optimizer.hpp"
#include "fit.hpp"
#include "history.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace latent {

namespace loss {
// One loss per model output, each weighted (Keras' compile(loss=[...], loss_weights=[...])).
// The training loss is the weighted sum.
template <class... L>
struct PerOutput {
    std::tuple<L...> losses;
    std::array<double, sizeof...(L)> weights;

    PerOutput& weighted(std::array<double, sizeof...(L)> w) {
        for (double v : w)
            if (!(v >= 0.0 && std::isfinite(v)))
                throw value_error("latent.loss.weights", "loss weights must be finite and >= 0, got " + std::to_string(v));
        weights = w;
        return *this;
    }
};

template <class... L>
PerOutput<L...> per_output(L... losses) {
    PerOutput<L...> p{{std::move(losses)...}, {}};
    p.weights.fill(1.0);
    return p;
}
}  // namespace loss

namespace detail {

// The key of output k's `what` ("loss", "accuracy") in a history or a result, as Keras names it:
// prefixed by the output's name when the model has several outputs, plain when it has one (its
// loss is then "loss" alone, the total).
template <class Net>
std::string output_key(const Net& net, std::size_t outputs, std::size_t k, const std::string& what) {
    return outputs > 1 ? net.output_name(k) + "_" + what : what;
}

// One output's loss, bound to the model type and to the output's position.
template <class Net>
class erased_output_loss {
public:
    virtual ~erased_output_loss() = default;
    virtual std::unique_ptr<erased_output_loss> clone() const = 0;
    virtual std::size_t label_size() const = 0;
    virtual std::size_t output_size() const = 0;
    virtual std::size_t last_axis() const = 0;
    virtual void check_labels(const float* labels, std::size_t count) const = 0;
    virtual double compute(Net& net, const float* labels, std::size_t batch, float* grad, bool& from_logits) const = 0;
};

template <class Net, std::size_t K, class Loss>
class bound_output_loss final : public erased_output_loss<Net> {
    using Out = typename detail::output_list<typename Net::output_shape>::template shape<K>;

public:
    explicit bound_output_loss(Loss l) : loss_(std::move(l)) {}
    std::unique_ptr<erased_output_loss<Net>> clone() const override { return std::make_unique<bound_output_loss>(*this); }
    std::size_t label_size() const override { return Loss::template label_size<Out>; }
    std::size_t output_size() const override { return Out::size; }
    std::size_t last_axis() const override { return Out::dims[Out::rank - 1]; }
    void check_labels(const float* labels, std::size_t count) const override {
        if constexpr (requires { Loss::check_classes(labels, count, std::size_t{1}); })
            Loss::check_classes(labels, count * label_size(), Out::dims[Out::rank - 1]);
    }
    double compute(Net& net, const float* labels, std::size_t batch, float* grad, bool& from_logits) const override {
        using B = typename Net::policy;
        constexpr std::size_t size = Out::size;
        constexpr std::size_t last = Out::dims[Out::rank - 1];
        from_logits = false;
        if constexpr (Loss::fuses_with != loss::fusion::none) {
            from_logits = !loss_.from_logits && loss_fuses_with<Loss>(net.output_activation_at(K));
            if (from_logits)
                return loss_.template compute_from_logits<B>(net.logits_at(K), labels, batch, size, last, grad);
        }
        return loss_.template compute<B>(net.output_at(K), labels, batch, size, last, grad);
    }

private:
    Loss loss_;
};

template <class Net>
struct outputs_setup final : compiled_state {
    std::unique_ptr<optim::Optimizer> optimizer;
    std::vector<std::unique_ptr<erased_output_loss<Net>>> losses;  // one per output
    std::vector<double> weights;
    std::vector<std::vector<std::unique_ptr<metrics::Metric>>> metrics;  // per output
    // train_on_batch's own state: its dropout generator and the buffers it reuses (per output:
    // the loss gradient, and on a device backend the labels copied there).
    Generator batch_rng{0};
    std::vector<backend_buffer<typename Net::policy, float>> batch_grads, batch_labels;

    std::unique_ptr<compiled_state> clone() const override {
        auto copy = std::make_unique<outputs_setup>();
        copy->optimizer = optimizer->clone();
        for (const auto& l : losses) copy->losses.push_back(l->clone());
        copy->weights = weights;
        for (const auto& per : metrics) {
            copy->metrics.emplace_back();
            for (const auto& m : per) copy->metrics.back().push_back(m->clone());
        }
        copy->batch_rng = batch_rng;
        return copy;
    }
};

inline void gather_rows(const ArrayRef& a, std::span<const std::size_t> rows, float* out) {
    for (std::size_t i = 0; i < rows.size(); ++i)
        std::copy_n(a.data + rows[i] * a.sample_size, a.sample_size, out + i * a.sample_size);
}

template <class Net>
outputs_setup<Net>& outputs_setup_of(Net& net, const char* caller) {
    auto* setup = dynamic_cast<outputs_setup<Net>*>(net.compiled_state());
    if (!setup)
        throw value_error("latent.train.not_compiled",
                          std::string(caller) + " of a model with several inputs or outputs needs compile(optimizer, "
                                                "loss::per_output(...), metrics...) first");
    return *setup;
}

template <class Net>
void check_arrays(const Net& net, outputs_setup<Net>& setup, const std::vector<ArrayRef>& xs,
                  const std::vector<ArrayRef>& ys, const char* caller) {
    if (xs.size() != Net::input_count || ys.size() != setup.losses.size())
        throw shape_error("latent.train.arrays", std::string(caller) + " needs " + std::to_string(Net::input_count) +
                                                     " input arrays and " + std::to_string(setup.losses.size()) +
                                                     " label arrays, got " + std::to_string(xs.size()) + " and " +
                                                     std::to_string(ys.size()));
    const std::size_t count = xs[0].count;
    for (const auto& a : xs)
        if (a.count != count)
            throw shape_error("latent.train.batch", std::string(caller) + ": the input arrays hold " +
                                                        std::to_string(count) + " and " + std::to_string(a.count) +
                                                        " samples");
    for (std::size_t k = 0; k < ys.size(); ++k) {
        if (ys[k].count != count)
            throw shape_error("latent.train.batch", std::string(caller) + " got " + std::to_string(count) +
                                                        " inputs but " + std::to_string(ys[k].count) +
                                                        " labels for output \"" + net.output_name(k) + "\"");
        if (ys[k].sample_size != setup.losses[k]->label_size())
            throw shape_error("latent.train.labels", "output \"" + net.output_name(k) + "\" needs labels of " +
                                                         std::to_string(setup.losses[k]->label_size()) +
                                                         " elements per sample, got " +
                                                         std::to_string(ys[k].sample_size));
        setup.losses[k]->check_labels(ys[k].data, ys[k].count);
    }
}

// The arrays' values are finite: a NaN or infinity names the array, the sample and the element.
template <class Net>
void check_arrays_finite(const Net& net, const std::vector<ArrayRef>& xs, const std::vector<ArrayRef>& ys,
                         const char* caller) {
    for (std::size_t i = 0; i < xs.size(); ++i)
        check_finite(xs[i].data, xs[i].count, xs[i].sample_size,
                     (std::string(caller) + ": input \"" + net.input_name(i) + "\"").c_str());
    for (std::size_t k = 0; k < ys.size(); ++k)
        check_finite(ys[k].data, ys[k].count, ys[k].sample_size,
                     (std::string(caller) + ": labels of output \"" + net.output_name(k) + "\"").c_str());
}

// One training step of a model with several inputs or outputs on `n` samples whose inputs and
// labels are where the model reads them: forward, each output's loss and its weighted gradient
// (into grads), backward, the optimizer's step (host_params() gives the host arena on a host
// backend). Each output's loss goes into `losses`; returns the weighted total, the layers' own
// terms included. A non-finite loss throws before the optimizer's step: where() begins its
// message ("epoch 2, step 5"), `tail` ends it.
template <class Net, class HostParams, class Where>
double outputs_step(Net& net, outputs_setup<Net>& setup, std::size_t n, const std::vector<const float*>& inputs,
                    const std::vector<const float*>& labels,
                    std::vector<backend_buffer<typename Net::policy, float>>& grads, Generator* rng,
                    HostParams host_params, const std::vector<ArenaRange>& ranges, std::vector<double>& losses,
                    const Where& where, const char* tail) {
    using B = typename Net::policy;
    const std::size_t outputs = setup.losses.size();
    net.forward_inputs(inputs, n, Mode::train, rng);
    zero_gradients(net);
    std::vector<const float*> dys;
    std::vector<bool> from_logits(outputs, false);
    losses.assign(outputs, 0.0);
    double total = net.added_loss();  // layers' own terms, once; per-output losses exclude them
    for (std::size_t k = 0; k < outputs; ++k) {
        bool fused = false;
        const double l = setup.losses[k]->compute(net, labels[k], n, grads[k].data(), fused);
        from_logits[k] = fused;
        if (!std::isfinite(l))
            throw value_error("latent.train.non_finite_loss",
                              where() + ": the loss of output \"" + net.output_name(k) + "\" is " + std::to_string(l) +
                                  "; " + net.describe_non_finite(n) + "; lower the learning rate or check the data" +
                                  tail);
        float* g = grads[k].data();
        scale_by<B>(g, n * setup.losses[k]->output_size(), static_cast<float>(setup.weights[k]));
        dys.push_back(g);
        losses[k] = l;
        total += setup.weights[k] * l;
    }
    net.backward_outputs(dys, from_logits);
    optimizer_step(net, *setup.optimizer, host_params, ranges);
    return total;
}

// Loss (weighted total and per output) and metrics over samples [first, first + count), in
// inference mode. `there`, where given and held, holds the same arrays in the device's memory:
// the batches are read there instead of copied over.
template <class Net>
std::vector<std::pair<std::string, double>> evaluate_outputs(Net& net, outputs_setup<Net>& setup,
                                                             const std::vector<ArrayRef>& xs,
                                                             const std::vector<ArrayRef>& ys, std::size_t first,
                                                             std::size_t count, std::size_t batch_size,
                                                             arrays_there<Net>* there = nullptr) {
    if (there && !there->held()) there = nullptr;
    using B = typename Net::policy;
    const std::size_t outputs = setup.losses.size();
    std::vector<double> sums(outputs, 0.0);
    for (auto& per : setup.metrics)
        for (auto& m : per) m->reset();
    [[maybe_unused]] const auto scope = model_scope(net);
    // Where the model computes: the loss gradients, and on a device backend the labels copied there.
    const std::size_t widest = std::min(batch_size, std::max<std::size_t>(count, 1));
    std::vector<backend_buffer<B, float>> grads(outputs), labels_there(outputs);
    for (std::size_t k = 0; k < outputs; ++k) grads[k].resize_discard(widest * setup.losses[k]->output_size());
    AlignedBuffer<float> out_here;  // device backends: an output brought back for the metrics
    std::vector<const float*> inputs, labels;
    double added_sum = 0;  // layers' own loss terms (activity penalties), counted once in the total
    for (std::size_t at = first; at < first + count; at += batch_size) {
        const std::size_t n = std::min(batch_size, first + count - at);
        inputs.clear();
        labels.clear();
        if (!there) {
            for (const auto& a : xs) inputs.push_back(a.data + at * a.sample_size);
            // The labels go over before the step, so that a recorded step waits only for the losses.
            for (std::size_t k = 0; k < outputs; ++k)
                labels.push_back(labels_for_loss<Net>(ys[k].data + at * ys[k].sample_size, n * ys[k].sample_size,
                                                      labels_there[k]));
        }
        {
            [[maybe_unused]] const auto recorded = model_step_scope(net, step_kind::evaluate, n);
            if (there) there->in_order(net, at, n, inputs, labels);
            net.forward_inputs(inputs, n, Mode::infer);
            added_sum += net.added_loss() * static_cast<double>(n);
            for (std::size_t k = 0; k < outputs; ++k) {
                bool from_logits = false;
                sums[k] += setup.losses[k]->compute(net, labels[k], n, grads[k].data(), from_logits) *
                           static_cast<double>(n);
            }
        }
        for (std::size_t k = 0; k < outputs; ++k) {
            if (setup.metrics[k].empty()) continue;
            const float* out = outputs_for_metrics<Net>(net.output_at(k), n * setup.losses[k]->output_size(), out_here);
            for (auto& m : setup.metrics[k])
                m->update(out, ys[k].data + at * ys[k].sample_size, n, setup.losses[k]->output_size(),
                          setup.losses[k]->last_axis(), ys[k].sample_size);
        }
    }
    double total = added_sum / static_cast<double>(count);
    for (std::size_t k = 0; k < outputs; ++k) total += setup.weights[k] * sums[k] / static_cast<double>(count);
    std::vector<std::pair<std::string, double>> result{{"loss", total}};
    if (outputs > 1)
        for (std::size_t k = 0; k < outputs; ++k)
            result.emplace_back(output_key(net, outputs, k, "loss"), sums[k] / static_cast<double>(count));
    for (std::size_t k = 0; k < outputs; ++k)
        for (auto& m : setup.metrics[k]) result.emplace_back(output_key(net, outputs, k, m->name()), m->result());
    return result;
}

template <class Loss>
void validate_loss(const Loss& loss) {
    if constexpr (requires { loss.validate(); }) loss.validate();
}

}  // namespace detail

// compile(optimizer, loss::per_output(l1, l2).weighted({1, 0.5}), metrics...): each
// classification metric is kept for every output trained with a cross-entropy, each regression
// metric for every other output.
template <class Net, class Optimizer, class... L, class... Metrics>
void compile_model(Net& net, Optimizer optimizer, loss::PerOutput<L...> losses, Metrics... metrics) {
    static_assert(sizeof...(L) == Net::output_count, "latent: per_output needs one loss per model output");
    std::apply([](const auto&... each) { (detail::validate_loss(each), ...); }, losses.losses);
    auto setup = std::make_unique<detail::outputs_setup<Net>>();
    setup->optimizer = optimizer.template build<typename Net::policy>();
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        (setup->losses.push_back(std::make_unique<detail::bound_output_loss<Net, K, std::tuple_element_t<K, std::tuple<L...>>>>(
             std::get<K>(losses.losses))),
         ...);
    }(std::make_index_sequence<sizeof...(L)>{});
    setup->weights.assign(losses.weights.begin(), losses.weights.end());
    // Accuracy means something only where the output is a classification, a mean absolute error
    // only where it is not: classification metrics are kept for the outputs trained with a
    // cross-entropy, the regression metrics (MeanAbsoluteError, ...) for the others.
    [[maybe_unused]] constexpr std::array<bool, sizeof...(L)> classifies{(L::fuses_with != loss::fusion::none)...};
    for (std::size_t k = 0; k < sizeof...(L); ++k) {
        setup->metrics.emplace_back();
        ((classifies[k] == latent::metrics::classification_metric<Metrics>() ? setup->metrics.back().push_back(metrics.build())
                                                                      : void()),
         ...);
    }
    net.set_compiled_state(std::move(setup));
}

template <class L>
inline constexpr bool is_per_output_v = false;
template <class... L>
inline constexpr bool is_per_output_v<loss::PerOutput<L...>> = true;

// Model::compile for several inputs or outputs: a single loss serves a single output.
template <class Net, class Optimizer, class Loss, class... Metrics>
void compile_outputs_model(Net& net, Optimizer optimizer, Loss loss, Metrics... metrics) {
    if constexpr (is_per_output_v<Loss>) {
        compile_model(net, std::move(optimizer), std::move(loss), std::move(metrics)...);
    } else {
        static_assert(Net::output_count == 1,
                      "latent: a model with several outputs needs one loss per output: loss::per_output(l1, l2, ...)");
        compile_model(net, std::move(optimizer), loss::per_output(std::move(loss)), std::move(metrics)...);
    }
}

namespace detail {
// The arrays of validation data given to fit of a model with several inputs or outputs, checked
// against the training arrays `xs`: one per input and per output, of their sizes, finite.
template <class Net>
std::pair<std::vector<ArrayRef>, std::vector<ArrayRef>> validation_arrays(const Net& net, outputs_setup<Net>& setup,
                                                                          const ValidationData& v,
                                                                          const std::vector<ArrayRef>& xs) {
    std::vector<ArrayRef> val_xs = v.inputs, val_ys = v.labels;
    if (val_xs.empty()) val_xs.push_back({v.x, v.count, v.x_sample_size});  // its fields set one by one
    if (val_ys.empty()) val_ys.push_back({v.y, v.count, v.y_sample_size});
    check_arrays(net, setup, val_xs, val_ys, "fit: validation data");
    for (std::size_t i = 0; i < xs.size(); ++i)
        if (val_xs[i].sample_size != xs[i].sample_size)
            throw shape_error("latent.train.validation", "validation data for input \"" + net.input_name(i) +
                                                             "\" has samples of " + std::to_string(val_xs[i].sample_size) +
                                                             " elements; the model needs " +
                                                             std::to_string(xs[i].sample_size));
    if (val_xs[0].count == 0) throw value_error("latent.train.validation", "the validation data has no samples");
    check_arrays_finite(net, val_xs, val_ys, "fit: validation data");
    return {std::move(val_xs), std::move(val_ys)};
}
}  // namespace detail

// fit for several inputs or outputs: xs and ys are std::tuples of tensors (a single tensor for
// a single input). Validation data (FitOptions::validation) takes std::tuples the same way;
// without it, validation_split holds out the last fraction of every array. Checkpoints, resume
// and stop requests work as for one input and one output.
template <class Net>
History fit_outputs_arrays(Net& net, const std::vector<detail::ArrayRef>& xs, const std::vector<detail::ArrayRef>& ys,
                           const FitOptions& options) {
    auto& setup = detail::outputs_setup_of(net, "fit");
    detail::check_arrays(net, setup, xs, ys, "fit");
    if (options.batch_size == 0) throw value_error("latent.train.batch_size", "fit needs batch_size >= 1, got 0");
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0))
        throw value_error("latent.train.validation_split",
                          "validation_split must be in [0, 1), got " + std::to_string(options.validation_split));
    const bool checkpointing = !options.checkpoint.empty();
    if (checkpointing && options.checkpoint_every == 0)
        throw value_error("latent.train.checkpoint_every", "checkpoint_every must be at least 1 epoch");
    const std::size_t count = xs[0].count;
    // Validation reads samples [val_first, val_first + n_val) of val_xs and val_ys: the caller's
    // arrays (Keras' validation_data, which takes precedence), else the training arrays' last
    // validation_split, held out before any shuffling.
    const bool given = options.validation.present();
    std::vector<detail::ArrayRef> val_xs = xs, val_ys = ys;
    if (given) std::tie(val_xs, val_ys) = detail::validation_arrays(net, setup, options.validation, xs);
    const std::size_t n_train =
        given ? count
              : static_cast<std::size_t>(std::floor(static_cast<double>(count) * (1.0 - options.validation_split)));
    if (n_train == 0) throw value_error("latent.train.empty", "fit has no training samples");
    const std::size_t val_first = given ? 0 : n_train;
    const std::size_t n_val = given ? val_xs[0].count : count - n_train;
    detail::check_arrays_finite(net, xs, ys, "fit");

    Generator root(options.seed);
    Generator shuffle_rng = root.split();
    Generator dropout_rng = root.split();
    Generator epoch_shuffle = shuffle_rng;  // the generator as it was when this epoch's order was drawn
    const std::size_t batch_size = std::min(options.batch_size, n_train);
    data::BatchSampler sampler(n_train, batch_size, options.shuffle, shuffle_rng);
    const std::size_t steps = sampler.batches();
    const std::size_t outputs = ys.size();
    using B = typename Net::policy;
    [[maybe_unused]] const auto scope = detail::model_scope(net);
    // The batch on the host (unless the arrays are held on the device; labels for the metrics).
    std::vector<AlignedBuffer<float>> xb, yb;
    // Where the model computes: the loss gradients, and on a device backend the labels copied there.
    std::vector<backend_buffer<B, float>> grads(outputs), labels_there(outputs);
    AlignedBuffer<float> out_here;  // device backends: an output brought back for the metrics
    detail::arrays_there<Net> there;  // device backends: the arrays copied over once
    there.hold(xs, ys, n_train, batch_size);
    detail::arrays_there<Net> validation_there;  // and the caller's validation arrays, where given
    if (given && there.held()) validation_there.hold(val_xs, val_ys, 0, 0);
    detail::arrays_there<Net>* val_there = given ? &validation_there : &there;
    for (const auto& a : xs) xb.emplace_back(there.held() ? 0 : batch_size * a.sample_size);
    for (std::size_t k = 0; k < outputs; ++k) {
        yb.emplace_back(batch_size * ys[k].sample_size);
        grads[k].resize_discard(batch_size * setup.losses[k]->output_size());
    }
    auto& arena = net.parameters();
    const auto ranges = net.trainable_ranges();

    History history;
    std::vector<std::string> step_keys{"loss"};  // as `shown` has them below
    if (outputs > 1)
        for (std::size_t k = 0; k < outputs; ++k) step_keys.push_back(detail::output_key(net, outputs, k, "loss"));
    for (std::size_t k = 0; k < outputs; ++k)
        for (auto& m : setup.metrics[k]) step_keys.push_back(detail::output_key(net, outputs, k, m->name()));
    detail::model_callbacks<Net> callbacks(net, *setup.optimizer, options.callbacks, options.epochs, steps,
                                           detail::epoch_log_keys(step_keys, n_val > 0),
                                           options.out ? *options.out : std::cout);
    callbacks.train_begin();
    const detail::RunStart start = detail::resume_run(options, arena, *setup.optimizer, history, steps, sampler,
                                                      shuffle_rng, epoch_shuffle, dropout_rng);
    callbacks.context().set_initial_epoch(start.epoch);
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
        detail::finalize_optimizer(net, *setup.optimizer, [&] { return arena.data(); }, ranges);  // as fit's
        callbacks.train_end(last_logs);
        return history;
    };
    std::vector<const float*> inputs, labels;
    std::vector<double> step_losses;
    for (std::size_t epoch = start.epoch; epoch < options.epochs; ++epoch) {
        if (epoch > start.epoch) {
            epoch_shuffle = shuffle_rng;
            sampler.next_epoch();
        }
        if (there.held()) there.set_order(sampler.order());
        for (auto& per : setup.metrics)
            for (auto& m : per) m->reset();
        epoch_learning_rate = setup.optimizer->learning_rate();
        callbacks.epoch_begin(epoch);
        progress.begin_epoch(epoch, options.epochs, steps);
        std::vector<double> sums(outputs, 0.0);
        double total_sum = 0;
        std::size_t seen = 0;
        std::vector<std::pair<std::string, double>> shown;
        for (std::size_t step = epoch == start.epoch ? start.step : 0; step < steps; ++step) {
            const auto rows = sampler.batch(step);
            const std::size_t n = rows.size();
            inputs.clear();
            labels.clear();
            // The labels on the host: for the metrics, or to copy over.
            for (std::size_t k = 0; k < outputs; ++k)
                if (!there.held() || !setup.metrics[k].empty()) detail::gather_rows(ys[k], rows, yb[k].data());
            if (!there.held()) {
                for (std::size_t i = 0; i < xs.size(); ++i) {
                    detail::gather_rows(xs[i], rows, xb[i].data());
                    inputs.push_back(xb[i].data());
                }
                // The labels go over before the step's first kernel, so that a recorded step (CUDA
                // graphs) waits for the device only where the losses are read.
                for (std::size_t k = 0; k < outputs; ++k)
                    labels.push_back(
                        detail::labels_for_loss<Net>(yb[k].data(), n * ys[k].sample_size, labels_there[k]));
            }
            double total = 0;
            callbacks.batch_begin(step);
            {
                [[maybe_unused]] const auto recorded = detail::model_step_scope(net, detail::step_kind::train, n);
                if (there.held()) there.gather(net, step * batch_size, n, inputs, labels);
                total = detail::outputs_step(
                    net, setup, n, inputs, labels, grads, &dropout_rng, [&] { return arena.data(); }, ranges,
                    step_losses,
                    [&] { return "epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step + 1); },
                    checkpointing ? " (the last checkpoint is intact)" : "");
            }
            for (std::size_t k = 0; k < outputs; ++k) sums[k] += step_losses[k] * static_cast<double>(n);
            for (std::size_t k = 0; k < outputs; ++k) {
                if (setup.metrics[k].empty()) continue;
                const float* out =
                    detail::outputs_for_metrics<Net>(net.output_at(k), n * setup.losses[k]->output_size(), out_here);
                for (auto& m : setup.metrics[k])
                    m->update(out, yb[k].data(), n, setup.losses[k]->output_size(), setup.losses[k]->last_axis(),
                              ys[k].sample_size);
            }
            total_sum += total * static_cast<double>(n);
            seen += n;
            shown.assign({{"loss", total_sum / static_cast<double>(seen)}});
            if (outputs > 1)
                for (std::size_t k = 0; k < outputs; ++k)
                    shown.emplace_back(detail::output_key(net, outputs, k, "loss"), sums[k] / static_cast<double>(seen));
            for (std::size_t k = 0; k < outputs; ++k)
                for (auto& m : setup.metrics[k])
                    shown.emplace_back(detail::output_key(net, outputs, k, m->name()), m->result());
            progress.step(step + 1, shown);
            callbacks.batch_end(step, shown);
            if (step + 1 < steps && (stop_requested() || callbacks.stop_training())) {
                if (checkpointing) write_checkpoint(epoch, step + 1);
                progress.end_epoch(shown);
                callbacks.flush();
                last_logs = shown;
                return finish();
            }
        }
        if (n_val > 0)
            for (const auto& [key, value] :
                 detail::evaluate_outputs(net, setup, val_xs, val_ys, val_first, n_val, options.batch_size, val_there))
                shown.emplace_back("val_" + key, value);
        callbacks.epoch_end(epoch, shown);
        for (const auto& [key, value] : shown) history.history[key].push_back(value);
        history.epochs = epoch + 1;
        progress.end_epoch(shown);
        callbacks.flush();
        last_logs = shown;
        const bool stopping = stop_requested() || callbacks.stop_training();
        if (checkpointing && ((epoch + 1) % options.checkpoint_every == 0 || stopping || epoch + 1 == options.epochs))
            write_checkpoint(epoch + 1, 0);
        if (stopping) return finish();
    }
    return finish();
}

template <class Net>
std::map<std::string, double> evaluate_outputs_arrays(Net& net, const std::vector<detail::ArrayRef>& xs,
                                                      const std::vector<detail::ArrayRef>& ys, std::size_t batch_size) {
    auto& setup = detail::outputs_setup_of(net, "evaluate");
    detail::check_arrays(net, setup, xs, ys, "evaluate");
    if (batch_size == 0) throw value_error("latent.train.batch_size", "evaluate needs batch_size >= 1, got 0");
    if (xs[0].count == 0) throw value_error("latent.train.empty", "evaluate got no samples");
    const auto result = detail::evaluate_outputs(net, setup, xs, ys, 0, xs[0].count, batch_size);
    return {result.begin(), result.end()};
}

// Keras' train_on_batch for a model with several inputs or outputs: one optimizer step on
// exactly this batch (no shuffling, metrics untouched), dropout drawn from the compiled model's
// own generator (seeded 0 at compile). Returns the batch's losses as evaluate names them:
// "loss" (the weighted total) and, with several outputs, "<output>_loss".
template <class Net>
std::map<std::string, double> train_on_batch_outputs_arrays(Net& net, const std::vector<detail::ArrayRef>& xs,
                                                            const std::vector<detail::ArrayRef>& ys) {
    auto& setup = detail::outputs_setup_of(net, "train_on_batch");
    detail::check_arrays(net, setup, xs, ys, "train_on_batch");
    const std::size_t n = xs[0].count;
    if (n == 0) throw value_error("latent.train.empty", "train_on_batch got no samples");
    const std::size_t outputs = ys.size();
    [[maybe_unused]] const auto scope = detail::model_scope(net);
    setup.batch_grads.resize(outputs);
    setup.batch_labels.resize(outputs);
    std::vector<const float*> inputs, labels;
    for (const auto& a : xs) inputs.push_back(a.data);
    for (std::size_t k = 0; k < outputs; ++k) {
        const std::size_t size = n * setup.losses[k]->output_size();
        if (setup.batch_grads[k].size() < size) setup.batch_grads[k].resize_discard(size);
        labels.push_back(detail::labels_for_loss<Net>(ys[k].data, n * ys[k].sample_size, setup.batch_labels[k]));
    }
    std::vector<double> losses;
    double total = 0;
    {
        [[maybe_unused]] const auto recorded = detail::model_step_scope(net, detail::step_kind::train, n);
        total = detail::outputs_step(
            net, setup, n, inputs, labels, setup.batch_grads, &setup.batch_rng, [&] { return net.parameters().data(); },
            net.trainable_ranges(), losses, [] { return std::string("train_on_batch"); }, "");
    }
    std::map<std::string, double> result{{"loss", total}};
    if (outputs > 1)
        for (std::size_t k = 0; k < outputs; ++k) result[detail::output_key(net, outputs, k, "loss")] = losses[k];
    return result;
}

namespace detail {
// The arrays fit, evaluate and train_on_batch take from a model with several inputs or outputs,
// checked at compile time. X and Y are std::tuples of tensors, one per input and one per output
// in the model's order (a single tensor where there is one); each input tensor has its input's
// sample shape, and each label tensor fits its output as check_label_shape says.
template <class X>
inline constexpr bool is_tuple_v = requires { std::tuple_size<X>::value; };
template <class X>
constexpr std::size_t array_count() {
    if constexpr (is_tuple_v<X>)
        return std::tuple_size_v<X>;
    else
        return 1;
}
// check(position K, the array type A) for every array of X (tags rather than explicit template
// arguments: nvcc wants a lambda's template parameters deducible).
template <class X, class Check>
constexpr void for_each_array(Check check) {
    if constexpr (is_tuple_v<X>)
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (check(std::integral_constant<std::size_t, K>{},
                   std::type_identity<std::remove_cvref_t<std::tuple_element_t<K, X>>>{}),
             ...);
        }(std::make_index_sequence<std::tuple_size_v<X>>{});
    else
        check(std::integral_constant<std::size_t, 0>{}, std::type_identity<std::remove_cvref_t<X>>{});
}
template <class Net, class X, class Y>
constexpr void check_array_shapes() {
    if constexpr (!is_tuple_v<X> && Net::input_count != 1)
        static_assert(dependent_false<X>,
                      "latent: this model has several inputs: give fit, evaluate and train_on_batch a std::tuple "
                      "of tensors, one per input");
    else if constexpr (array_count<X>() != Net::input_count)
        static_assert(dependent_false<X>,
                      "latent: fit, evaluate and train_on_batch need one array per model input: a std::tuple "
                      "of tensors in the order the model was given its inputs");
    else
        for_each_array<X>([]<std::size_t K, class A>(std::integral_constant<std::size_t, K>, std::type_identity<A>) {
            Net::template check_one_input<K, A>();
        });
    if constexpr (!is_tuple_v<Y> && Net::output_count != 1)
        static_assert(dependent_false<Y>,
                      "latent: this model has several outputs: give fit, evaluate and train_on_batch a std::tuple of "
                      "label tensors, one per output");
    else if constexpr (array_count<Y>() != Net::output_count)
        static_assert(dependent_false<Y>,
                      "latent: fit, evaluate and train_on_batch need one label array per model output: a std::tuple "
                      "of tensors in the order of the model's outputs");
    else
        for_each_array<Y>([]<std::size_t K, class A>(std::integral_constant<std::size_t, K>, std::type_identity<A>) {
            check_label_shape<Net, typename A::shape,
                              typename output_list<typename Net::output_shape>::template shape<K>>();
        });
}
}  // namespace detail

template <class Net, class X, class Y>
History fit_outputs_model(Net& net, const X& x, const Y& y, const FitOptions& options) {
    detail::check_array_shapes<Net, X, Y>();
    return fit_outputs_arrays(net, detail::refs_of(x), detail::refs_of(y), options);
}
template <class Net, class X, class Y>
std::map<std::string, double> train_on_batch_outputs_model(Net& net, const X& x, const Y& y) {
    detail::check_array_shapes<Net, X, Y>();
    return train_on_batch_outputs_arrays(net, detail::refs_of(x), detail::refs_of(y));
}
// finalize_variable_values_model's (train/fit.hpp) for a model with several inputs or outputs.
template <class Net>
void finalize_variable_values_outputs_model(Net& net) {
    auto& setup = detail::outputs_setup_of(net, "finalize_variable_values");
    [[maybe_unused]] const auto scope = detail::model_scope(net);
    detail::finalize_optimizer(net, *setup.optimizer, [&] { return net.parameters().data(); },
                               net.trainable_ranges());
}
template <class Net, class X, class Y>
std::map<std::string, double> evaluate_outputs_model(Net& net, const X& x, const Y& y, std::size_t batch_size) {
    detail::check_array_shapes<Net, X, Y>();
    return evaluate_outputs_arrays(net, detail::refs_of(x), detail::refs_of(y), batch_size);
}

}  // namespace latent
