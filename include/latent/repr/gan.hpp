// GAN<Generator, Discriminator>: a generative adversarial network (Goodfellow et al. 2014) trained
// the usual alternating way: a discriminator step on real and generated samples, then a generator
// step through the frozen discriminator with the non-saturating loss -log D(G(z)).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../data/batching.hpp"
#include "../graph/functional.hpp"
#include "../graph/model.hpp"
#include "../loss/binary_crossentropy.hpp"
#include "../train/fit.hpp"
#include "../train/history.hpp"
#include "../train/options.hpp"
#include "autoencoder.hpp"

namespace latent::repr {

struct GanOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 64;
    // The discriminator's target for real samples: 1, or a little less for one-sided label
    // smoothing (Salimans et al. 2016 use 0.9), which keeps the discriminator from saturating.
    double real_label = 1.0;
    std::uint64_t seed = 0;
    Verbosity verbose = Verbosity::one_line_per_epoch;
    std::ostream* out = nullptr;  // std::cout when null
};

// GeneratorNet maps noise (its input shape) to samples; DiscriminatorNet maps samples to one
// probability per sample (it ends in Sigmoid: its loss is then computed from the logits); a
// discriminator that does not take the generator's output shape is the usual one wiring error
// (call_shape_mismatch, naming both shapes) where the two are composed. Both
// are Sequential networks (or classes deriving from one), kept on the heap so that the GAN can
// move while the combined model refers to them.
template <class GeneratorNet, class DiscriminatorNet>
class GAN {
public:
    using policy = typename GeneratorNet::policy;
    using noise_shape = typename GeneratorNet::input_shape;
    using sample_shape = typename GeneratorNet::output_shape;
    using model_type = Model<policy, noise_shape, typename DiscriminatorNet::output_shape>;
    static_assert(std::is_same_v<typename DiscriminatorNet::output_shape, Shape<1>>,
                  "latent: a GAN's discriminator must give one probability per sample (output shape Shape<1>)");

    explicit GAN(GeneratorNet generator = GeneratorNet{}, DiscriminatorNet discriminator = DiscriminatorNet{},
                 std::string name = "gan")
        : generator_(std::make_unique<GeneratorNet>(std::move(generator))),
          discriminator_(std::make_unique<DiscriminatorNet>(std::move(discriminator))),
          combined_(build(*generator_, *discriminator_, std::move(name))) {}

    GeneratorNet& generator() noexcept { return *generator_; }
    const GeneratorNet& generator() const noexcept { return *generator_; }
    DiscriminatorNet& discriminator() noexcept { return *discriminator_; }
    const DiscriminatorNet& discriminator() const noexcept { return *discriminator_; }
    // noise -> generator -> discriminator: what the generator step trains (its discriminator
    // part frozen meanwhile).
    model_type& combined() noexcept { return combined_; }

    // Each network gets its own optimizer (their states must not mix); the loss is binary
    // cross-entropy for both, which for the generator step on "real" targets is the
    // non-saturating loss.
    template <class GeneratorOptimizer, class DiscriminatorOptimizer>
    void compile(GeneratorOptimizer generator_optimizer, DiscriminatorOptimizer discriminator_optimizer) {
        discriminator_->compile(std::move(discriminator_optimizer), loss::BinaryCrossentropy{});
        combined_.compile(std::move(generator_optimizer), loss::BinaryCrossentropy{});
    }

    // One discriminator step (a batch of real samples labelled real_label, then as many
    // generated ones labelled 0) and one generator step (a fresh noise batch labelled 1, the
    // discriminator frozen). Returns {discriminator loss (mean of its two batches), generator loss}.
    template <float_batch X>
    std::pair<double, double> train_on_batch(const X& real, Generator& rng, double real_label = 1.0) {
        const std::size_t n = real.batch();
        if (n == 0) throw value_error("latent.repr.gan.empty", "GAN::train_on_batch got no samples");
        check_label(real_label);
        Tensor<noise_shape> z(n);
        fill_noise(z, rng);
        const auto fake = generator_->predict(z, n);
        const double d_real = discriminator_->train_on_batch(real, labels(n, real_label));
        const double d_fake = discriminator_->train_on_batch(fake, labels(n, 0.0));
        fill_noise(z, rng);
        const double g = generator_step(z);
        return {(d_real + d_fake) / 2, g};
    }

    // Trains for options.epochs passes over `real` in shuffled batches (the last one may be
    // smaller). The history has "d_loss" and "g_loss" per epoch, the means over its batches.
    template <float_batch X>
    History fit(const X& real, const GanOptions& options = {}) {
        if (options.batch_size == 0) throw value_error("latent.repr.gan.batch_size", "GAN::fit needs batch_size >= 1");
        if (real.batch() == 0) throw value_error("latent.repr.gan.empty", "GAN::fit got no samples");
        check_label(options.real_label);
        Generator rng(options.seed ^ 0x5DEECE66Dull);
        std::ostream& out = options.out ? *options.out : std::cout;
        History history;
        data::BatchSampler batches(real.batch(), options.batch_size, true, rng);
        Tensor<sample_shape> batch;
        for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
            const auto started = std::chrono::steady_clock::now();
            if (epoch > 0) batches.next_epoch();
            double d_sum = 0, g_sum = 0;
            const std::size_t steps = batches.batches();
            for (std::size_t i = 0; i < steps; ++i) {
                const auto indices = batches.batch(i);
                if (batch.batch() != indices.size()) batch = Tensor<sample_shape>(indices.size());
                data::gather(as_const_view(real), indices, batch.data());
                const auto [d, g] = train_on_batch(batch, rng, options.real_label);
                d_sum += d;
                g_sum += g;
            }
            history.history["d_loss"].push_back(d_sum / static_cast<double>(steps));
            history.history["g_loss"].push_back(g_sum / static_cast<double>(steps));
            ++history.epochs;
            if (options.verbose != Verbosity::silent) {
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                char line[160];
                std::snprintf(line, sizeof line, "Epoch %zu/%zu - %.1fs - d_loss: %.4f - g_loss: %.4f", epoch + 1,
                              options.epochs, seconds, history.history["d_loss"].back(),
                              history.history["g_loss"].back());
                out << line << std::endl;
            }
        }
        return history;
    }

    // n samples from noise drawn from N(0, 1).
    Tensor<sample_shape> generate(std::size_t n, Generator& rng) {
        Tensor<noise_shape> z(n);
        fill_noise(z, rng);
        return generator_->predict(z, 256);
    }
    // The discriminator's probabilities that x is real.
    template <float_batch X>
    Tensor<Shape<1>> discriminate(const X& x) {
        return discriminator_->predict(x, 256);
    }

private:
    static model_type build(GeneratorNet& generator, DiscriminatorNet& discriminator, std::string name) {
        auto z = detail::model_input<policy>(static_cast<noise_shape*>(nullptr), "noise");
        auto p = discriminator(generator(z));
        return model_type(z, p, std::move(name));
    }
    static void check_label(double real_label) {
        if (!(real_label > 0.0 && real_label <= 1.0))
            throw value_error("latent.repr.gan.real_label",
                              "GAN: real_label must be in (0, 1], got " + std::to_string(real_label));
    }
    static Tensor<Shape<1>> labels(std::size_t n, double value) {
        Tensor<Shape<1>> y(n);
        std::fill(y.values().begin(), y.values().end(), static_cast<float>(value));
        return y;
    }
    static void fill_noise(Tensor<noise_shape>& z, Generator& rng) {
        for (auto& v : z.values()) v = static_cast<float>(rng.normal());
    }
    // The generator learns to make the discriminator say "real": with the discriminator's
    // layers frozen (as they were before, afterwards), only the generator's weights move.
    double generator_step(const Tensor<noise_shape>& z) {
        std::vector<bool> was(DiscriminatorNet::layer_count);
        for (std::size_t i = 0; i < was.size(); ++i) was[i] = discriminator_->trainable(i);
        discriminator_->set_trainable(false);
        struct restore {
            DiscriminatorNet& d;
            const std::vector<bool>& was;
            ~restore() {
                for (std::size_t i = 0; i < was.size(); ++i) d.set_trainable(i, was[i]);
            }
        } restore_on_exit{*discriminator_, was};
        return combined_.train_on_batch(z, labels(z.batch(), 1.0));
    }

    std::unique_ptr<GeneratorNet> generator_;
    std::unique_ptr<DiscriminatorNet> discriminator_;
    model_type combined_;
};

}  // namespace latent::repr
