// SimCLR<Encoder, Head>: contrastive self-supervised learning (Chen et al. 2020). Each step takes
// N images, makes two random views of each, runs both through the encoder and the projection
// head, and trains both with the NT-Xent loss; afterwards the encoder is the representation.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../backend/default.hpp"
#include "../backend/memory.hpp"
#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../data/batching.hpp"
#include "../graph/functional.hpp"
#include "../graph/model.hpp"
#include "../loss/nt_xent.hpp"
#include "../optim/optimizer.hpp"
#include "../train/callback.hpp"
#include "../train/fit.hpp"
#include "../train/history.hpp"
#include "../train/options.hpp"
#include "../train/progress.hpp"
#include "augment.hpp"
#include "autoencoder.hpp"

namespace latent::repr {

struct SimCLROptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 256;  // N images, 2N views per step
    double temperature = 0.5;
    Augmentation augmentation{};
    std::uint64_t seed = 0;
    Verbosity verbose = Verbosity::one_line_per_epoch;
    std::ostream* out = nullptr;  // std::cout when null
    // As fit's (train/callback.hpp): the logs have "loss" and "contrastive_accuracy";
    // ModelCheckpoint saves the encoder and the head.
    std::vector<Callback> callbacks{};
};

// Encoder maps images (H x W x C) to the representation; Head (the projection head, e.g.
// Dense, ReLU, Dense) maps the representation to the vectors the loss compares. Both are
// Sequential networks (or classes deriving from one), kept on the heap so that the object can
// move while the model refers to them.
template <class Encoder, class Head>
class SimCLR {
public:
    using policy = typename Encoder::policy;
    using input_shape = typename Encoder::input_shape;
    using representation_shape = typename Encoder::output_shape;
    using projection_shape = typename Head::output_shape;
    using model_type = Model<policy, input_shape, projection_shape>;
    static_assert(input_shape::rank == 3, "latent: SimCLR's encoder takes images of shape (height, width, channels)");

    explicit SimCLR(Encoder encoder = Encoder{}, Head head = Head{}, std::string name = "simclr")
        : encoder_(std::make_unique<Encoder>(std::move(encoder))),
          head_(std::make_unique<Head>(std::move(head))),
          model_(build(*encoder_, *head_, std::move(name))) {}

    Encoder& encoder() noexcept { return *encoder_; }
    const Encoder& encoder() const noexcept { return *encoder_; }
    Head& head() noexcept { return *head_; }
    model_type& model() noexcept { return model_; }

    template <class Optimizer>
    void compile(Optimizer optimizer) {
        optimizer_ = optimizer.template build<policy>();
    }

    // One step on these images: two views of each, NT-Xent over the 2N projections (plus any
    // loss terms of the layers). Returns {loss, contrastive accuracy}.
    template <float_batch X>
    std::pair<double, double> train_on_batch(const X& images, const loss::NTXent& loss, const Augmentation& augmentation,
                                             Generator& rng) {
        if (!optimizer_) throw value_error("latent.repr.simclr.compile", "SimCLR: call compile(optimizer) before training");
        const std::size_t n = images.batch();
        if (n < 2)
            throw value_error("latent.repr.simclr.batch",
                              "SimCLR needs at least 2 images per step (each view's negatives are the other images), got " +
                                  std::to_string(n));
        if (views_.batch() != 2 * n) views_ = Tensor<input_shape>(2 * n);
        for (std::size_t i = 0; i < n; ++i) {
            detail::image_dims<input_shape>::augment(images.data() + i * input_shape::size,
                                                     views_.data() + i * input_shape::size, augmentation, rng);
            detail::image_dims<input_shape>::augment(images.data() + i * input_shape::size,
                                                     views_.data() + (n + i) * input_shape::size, augmentation, rng);
        }
        const std::size_t count = 2 * n * projection_shape::size;
        const float* z = model_.forward(views_.data(), 2 * n, Mode::train, &rng);
        grad_.resize(count);
        std::size_t hits = 0;
        double value = 0;
        if constexpr (host_backend_v<policy>) {
            value = loss.template compute<policy>(z, 2 * n, projection_shape::size, grad_.data(), &hits);
        } else {
            // On a device the loss works on the host (the 2N projections are small; its 2N x 2N
            // similarities and the row-wise softmax are not worth kernels): z comes over, the
            // gradient goes back.
            [[maybe_unused]] const auto scope = model_.context_scope();
            z_here_.resize(count);
            download<policy>(z_here_.data(), z, count);
            value = loss.template compute<default_backend>(z_here_.data(), 2 * n, projection_shape::size, grad_.data(),
                                                           &hits);
        }
        value += model_.added_loss();
        if (!std::isfinite(value))
            throw value_error("latent.train.non_finite_loss",
                              "SimCLR: the loss is " + std::to_string(value) + "; lower the learning rate");
        if (const auto ranges = model_.trainable_ranges(); optimizer_->needs_variable_names(ranges))
            optimizer_->set_variable_names(ranges, model_.trainable_names());
        if constexpr (host_backend_v<policy>) {
            auto gradients = model_.gradients();
            std::fill(gradients.begin(), gradients.end(), 0.0f);
            model_.backward(grad_.data());
            optimizer_->step(model_.parameters().data(), gradients.data(), gradients.size(), model_.trainable_ranges());
        } else {
            [[maybe_unused]] const auto scope = model_.context_scope();
            if (grad_there_.size() < count) grad_there_.resize_discard(count);
            upload<policy>(grad_there_.data(), grad_.data(), count);
            model_.zero_gradients();
            model_.backward(grad_there_.data());
            optimizer_->step(model_.backend_parameters(), model_.backend_gradients(), model_.backend_param_count(),
                             model_.trainable_ranges());
        }
        return {value, static_cast<double>(hits) / static_cast<double>(2 * n)};
    }

    // Keras' finalize_variable_values (fit does it after its last epoch): with the optimizer's
    // use_ema, the trainable weights take their moving averages.
    void finalize_variable_values() {
        if (!optimizer_ || !optimizer_->averages_weights()) return;
        if constexpr (host_backend_v<policy>) {
            optimizer_->finalize_variable_values(model_.parameters().data(), model_.gradients().size(),
                                                 model_.trainable_ranges());
        } else {
            [[maybe_unused]] const auto scope = model_.context_scope();
            optimizer_->finalize_variable_values(model_.backend_parameters(), model_.backend_param_count(),
                                                 model_.trainable_ranges());
        }
    }

    // options.epochs passes over the images in shuffled batches of options.batch_size (a last
    // batch of fewer than 2 images is skipped). The history has "loss" and
    // "contrastive_accuracy" (the share of views whose most similar other view is their
    // partner) per epoch, the means over its batches.
    template <float_batch X>
    History fit(const X& images, const SimCLROptions& options = {}) {
        const loss::NTXent loss{options.temperature};
        loss.validate();
        options.augmentation.check();
        if (options.batch_size < 2)
            throw value_error("latent.repr.simclr.batch", "SimCLR::fit needs batch_size >= 2, got " +
                                                              std::to_string(options.batch_size));
        if (images.batch() < 2)
            throw value_error("latent.repr.simclr.batch", "SimCLR::fit needs at least 2 images, got " +
                                                              std::to_string(images.batch()));
        if (!optimizer_) throw value_error("latent.repr.simclr.compile", "SimCLR: call compile(optimizer) before training");
        Generator rng(options.seed ^ 0xC2B2AE3D27D4EB4Full);
        std::ostream& out = options.out ? *options.out : std::cout;
        History history;
        data::BatchSampler batches(images.batch(), options.batch_size, true, rng);
        Tensor<input_shape> batch;
        latent::detail::model_callbacks<model_type> callbacks(model_, *optimizer_, options.callbacks, options.epochs,
                                                              batches.batches(),
                                                              {"loss", "contrastive_accuracy", "learning_rate"}, out);
        callbacks.train_begin();
        std::vector<std::pair<std::string, double>> shown;
        for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
            const auto started = std::chrono::steady_clock::now();
            if (epoch > 0) batches.next_epoch();
            callbacks.epoch_begin(epoch);
            double loss_sum = 0, accuracy_sum = 0;
            std::size_t steps = 0;
            for (std::size_t i = 0; i < batches.batches(); ++i) {
                const auto indices = batches.batch(i);
                if (indices.size() < 2) break;  // a last batch of one image has no negatives
                if (batch.batch() != indices.size()) batch = Tensor<input_shape>(indices.size());
                data::gather(as_const_view(images), indices, batch.data());
                callbacks.batch_begin(i);
                const auto [l, a] = train_on_batch(batch, loss, options.augmentation, rng);
                loss_sum += l;
                accuracy_sum += a;
                ++steps;
                shown.assign({{"loss", loss_sum / static_cast<double>(steps)},
                              {"contrastive_accuracy", accuracy_sum / static_cast<double>(steps)}});
                callbacks.batch_end(i, shown);
                if (callbacks.stop_training() && i + 1 < batches.batches()) {  // as fit: the epoch is not recorded
                    finalize_variable_values();
                    callbacks.train_end(shown);
                    return history;
                }
            }
            callbacks.epoch_end(epoch, shown);
            for (const auto& [key, value] : shown) history.history[key].push_back(value);
            ++history.epochs;
            if (options.verbose != Verbosity::silent) {
                char line[64];
                std::snprintf(line, sizeof line, "Epoch %zu/%zu - %.1fs", epoch + 1, options.epochs,
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
                out << line << latent::detail::format_metrics(shown) << std::endl;
            }
            callbacks.flush();
            if (callbacks.stop_training()) break;
        }
        finalize_variable_values();
        callbacks.train_end(shown);
        return history;
    }

    // The representation (the encoder's output, not the projection), as SimCLR uses downstream.
    template <float_batch X>
    Tensor<representation_shape> encode(const X& x, std::size_t batch_size = 256) {
        return encoder_->predict(x, batch_size);
    }

private:
    static model_type build(Encoder& encoder, Head& head, std::string name) {
        auto x = detail::model_input<policy>(static_cast<input_shape*>(nullptr), "views");
        auto z = head(encoder(x));
        return model_type(x, z, std::move(name));
    }

    std::unique_ptr<Encoder> encoder_;
    std::unique_ptr<Head> head_;
    model_type model_;
    std::unique_ptr<optim::Optimizer> optimizer_;
    Tensor<input_shape> views_;
    std::vector<float> grad_;
    std::vector<float> z_here_;                    // device backends: the projections, on the host
    backend_buffer<policy, float> grad_there_;     // device backends: the loss gradient, there
};

}  // namespace latent::repr
