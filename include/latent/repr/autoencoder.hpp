// Autoencoder<Encoder, Decoder>: an encoder and a decoder network composed into one trainable
// model whose encoder() and decoder() are the same weights (Keras' Model(x, decoder(encoder(x)))),
// with denoising training that corrupts the inputs afresh every epoch.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../graph/functional.hpp"
#include "../graph/model.hpp"
#include "../train/fit.hpp"
#include "../train/history.hpp"
#include "../train/options.hpp"
#include "../train/progress.hpp"
#include "corruption.hpp"

namespace latent::repr {

namespace detail {
template <backend_policy B, std::size_t... D>
auto model_input(Shape<D...>*, std::string name) {
    return input<B, D...>(std::move(name));
}
}  // namespace detail

// Encoder and Decoder are Sequential networks (or classes deriving from one); the decoder's
// input shape must be the encoder's output shape (a compile error naming both otherwise). The
// networks live on the heap so that the object can move while the model refers to them.
// Weights are shared between the halves and the whole; layer settings (a Dropout rate, an
// ActivityRegularization's l1, a Sampling's beta) are copied into the model when it is
// composed, so set them on the networks before passing them in.
template <class Encoder, class Decoder>
class Autoencoder {
public:
    using policy = typename Encoder::policy;
    using input_shape = typename Encoder::input_shape;
    using code_shape = typename Encoder::output_shape;
    using output_shape = typename Decoder::output_shape;
    using model_type = Model<policy, input_shape, output_shape>;

    explicit Autoencoder(Encoder encoder = Encoder{}, Decoder decoder = Decoder{}, std::string name = "autoencoder")
        : encoder_(std::make_unique<Encoder>(std::move(encoder))),
          decoder_(std::make_unique<Decoder>(std::move(decoder))),
          model_(build(*encoder_, *decoder_, std::move(name))) {}

    // The two halves, sharing their weights with the whole: training the autoencoder trains
    // them, and encoder().predict(x) gives the codes.
    Encoder& encoder() noexcept { return *encoder_; }
    const Encoder& encoder() const noexcept { return *encoder_; }
    Decoder& decoder() noexcept { return *decoder_; }
    const Decoder& decoder() const noexcept { return *decoder_; }
    model_type& model() noexcept { return model_; }
    const model_type& model() const noexcept { return model_; }

    template <class Optimizer, class Loss, class... Metrics>
    void compile(Optimizer optimizer, Loss loss, Metrics... metrics) {
        model_.compile(std::move(optimizer), std::move(loss), std::move(metrics)...);
    }
    // Reconstruction training: the inputs are their own targets.
    template <class X>
    History fit(const X& x, const FitOptions& options = {}) {
        return model_.fit(x, x, options);
    }
    // Denoising training: every epoch draws a new corruption of x (seeded by options.seed and
    // the epoch) as the input; the target is the clean x. Validation data, when given, is
    // reconstructed from clean inputs. Callbacks see the whole run, as in fit, but for their
    // per-step hooks, which are not called.
    template <float_batch X>
    History fit_denoising(const X& x, const Corruption& corruption, const FitOptions& options = {}) {
        corruption.check();
        auto& setup = latent::detail::setup_of(model_, "fit_denoising");
        History all;
        Generator rng(options.seed ^ 0x9E3779B97F4A7C15ull);
        FitOptions one = options;
        one.epochs = 1;
        // One fit per epoch, each silent: the progress lines are written here, numbered right;
        // the callbacks are called here too, around the whole run.
        one.verbose = Verbosity::silent;
        one.callbacks.clear();
        std::ostream& out = options.out ? *options.out : std::cout;
        std::vector<std::string> step_keys{"loss"};
        for (const auto& m : setup.metrics) step_keys.emplace_back(m->name());
        const bool validation = options.validation.present() || options.validation_split > 0.0;
        const std::vector<std::string> keys = latent::detail::epoch_log_keys(step_keys, validation);
        const std::size_t n_train =
            options.validation.present()
                ? x.batch()
                : static_cast<std::size_t>(static_cast<double>(x.batch()) * (1.0 - options.validation_split));
        const std::size_t batch = std::max<std::size_t>(1, std::min(options.batch_size, n_train));
        latent::detail::model_callbacks<model_type> callbacks(model_, *setup.optimizer, options.callbacks,
                                                              options.epochs, (n_train + batch - 1) / batch, keys, out);
        callbacks.train_begin();
        std::vector<std::pair<std::string, double>> shown;
        for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
            const auto started = std::chrono::steady_clock::now();
            const auto noisy = corrupt(x, corruption, rng);
            one.seed = options.seed + epoch;
            callbacks.epoch_begin(epoch);
            const History h = model_.fit(noisy, x, one);
            if (h.epochs == 0) break;  // a stop request
            shown.clear();
            for (const auto& key : keys)
                if (h.contains(key)) shown.emplace_back(key, h.last(key));
            callbacks.epoch_end(epoch, shown);
            for (const auto& [key, value] : shown) all.history[key].push_back(value);
            ++all.epochs;
            if (options.verbose != Verbosity::silent) {
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                char line[64];
                std::snprintf(line, sizeof line, "Epoch %zu/%zu - %.1fs", epoch + 1, options.epochs, seconds);
                out << line << latent::detail::format_metrics(shown) << std::endl;
            }
            callbacks.flush();
            if (callbacks.stop_training()) break;
        }
        callbacks.train_end(shown);
        return all;
    }
    template <class X, class Y>
    auto evaluate(const X& x, const Y& y, std::size_t batch_size = 32) {
        return model_.evaluate(x, y, batch_size);
    }
    template <class X>
    Tensor<output_shape> predict(const X& x, std::size_t batch_size = 32) {
        return model_.predict(x, batch_size);
    }
    template <class X>
    Tensor<code_shape> encode(const X& x, std::size_t batch_size = 32) {
        return encoder_->predict(x, batch_size);
    }
    template <class X>
    Tensor<output_shape> decode(const X& codes, std::size_t batch_size = 32) {
        return decoder_->predict(codes, batch_size);
    }
    void summary(std::ostream& out = std::cout) const { model_.summary(out); }

private:
    static model_type build(Encoder& encoder, Decoder& decoder, std::string name) {
        auto x = detail::model_input<policy>(static_cast<input_shape*>(nullptr), "inputs");
        auto code = encoder(x);
        auto reconstruction = decoder(code);
        return model_type(x, reconstruction, std::move(name));
    }

    std::unique_ptr<Encoder> encoder_;
    std::unique_ptr<Decoder> decoder_;
    model_type model_;
};

}  // namespace latent::repr
