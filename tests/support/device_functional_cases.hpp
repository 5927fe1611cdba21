// Functional models (Model over a graph) on a device backend against the same graphs on the
// CPU: several inputs and outputs, sub-models and shared layers reading the graph's one device
// copy of the weights, training (fit, evaluate, train_on_batch, several outputs), weights
// changed, loaded and frozen on the host between steps, the errors, and the representation
// helpers that compose Sequential networks into a graph.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <latent/latent.hpp>

#include "device_model_cases.hpp"

namespace latent::testing {

// One graph, three models: a classifier and an autoencoder on one encoder, and the encoder
// alone (Keras' sub-model). Every model reads and trains the same weights.
template <class B>
struct TrunkGraph {
    Model<B, Shape<6>, Shape<3>> classifier;
    Model<B, Shape<6>, Shape<6>> autoencoder;
    Model<B, Shape<6>, Shape<4>> encoder;
};
template <class B>
TrunkGraph<B> trunk_graph(std::uint64_t seed) {
    auto inputs = input<B, 6>("inputs", seed);
    auto hidden = BatchNorm{"enc_bn"}(ReLU{}(Dense<16>{"enc_1"}(inputs)));
    auto code = Tanh{"code"}(Dense<4>{"enc_2"}(hidden));
    auto classes = Softmax{"classes"}(Dense<3>{"head"}(code));
    auto reconstruction = Dense<6>{"decoder"}(ReLU{}(Dense<8>{"dec_1"}(code)));
    return {Model<B, Shape<6>, Shape<3>>(inputs, classes, "classifier"),
            Model<B, Shape<6>, Shape<6>>(inputs, reconstruction, "autoencoder"),
            Model<B, Shape<6>, Shape<4>>(inputs, code, "encoder")};
}

// Two inputs, two outputs: a layer shared by both branches, a merge, BatchNorm and Dropout.
template <class B>
auto two_input_graph() {
    auto left = input<B, 6>("left", 21);
    auto right = input<B, 6>("right");
    Dense<5> shared{"shared"};
    auto a = ReLU{}(shared(left));
    auto b = Tanh{}(shared(right));
    auto joined = Dropout{0.5}(BatchNorm{"joined_bn"}(Concatenate<>{}(a, b)));
    auto digit = Softmax{"digit"}(Dense<3>{"digit_logits"}(joined));
    auto sign = Sigmoid{"sign"}(Dense<1>{"sign_logit"}(Subtract{}(a, b)));
    return Model(std::tuple{left, right}, std::tuple{digit, sign}, "two_heads");
}

template <class B>
void check_functional_device_predict(double tol) {
    const auto x1 = random_batch<Shape<6>>(11, 31), x2 = random_batch<Shape<6>>(11, 32);
    auto want = two_input_graph<cpu::reference>();
    auto got = two_input_graph<B>();
    const auto compare = [&] {
        const auto [digit0, sign0] = want.predict(x1, x2);
        const auto [digit1, sign1] = got.predict(x1, x2);
        CHECK(digit1.batch() == 11);
        CHECK(relative_error(values_of(digit1), values_of(digit0)) < tol);
        CHECK(relative_error(values_of(sign1), values_of(sign0)) < tol);
    };
    compare();
    // Weights set on the host reach the device before the next prediction.
    const std::vector<std::vector<float>> kernel_and_bias{values_of(random_batch<Shape<30>>(1, 33)),
                                                          values_of(random_batch<Shape<5>>(1, 34))};
    want.get_layer("shared").set_weights(kernel_and_bias);
    got.get_layer("shared").set_weights(kernel_and_bias);
    compare();
    CHECK(got.get_layer("shared").get_weights() == kernel_and_bias);

    // One input, a last short batch of 3.
    auto trunk_want = trunk_graph<cpu::reference>(5);
    auto trunk_got = trunk_graph<B>(5);
    const auto x = random_batch<Shape<6>>(13, 35);
    CHECK(relative_error(values_of(trunk_got.classifier.predict(x, 5)), values_of(trunk_want.classifier.predict(x, 5))) <
          tol);
    CHECK(relative_error(values_of(trunk_got.autoencoder.predict(x, 5)),
                         values_of(trunk_want.autoencoder.predict(x, 5))) < tol);
}

template <class B>
struct TrunkRun {
    History history;
    std::map<std::string, double> evaluation;
    std::vector<double> batch_losses;
    std::vector<float> weights, code, reconstruction, frozen_before, frozen_after, head_before, head_after;
};

// The classifier trains with fit, then the autoencoder and the classifier take turns with
// train_on_batch (as a GAN's two models do) on the weights they share; then the first layer is
// frozen and the classifier trains on.
template <class B>
TrunkRun<B> train_trunk(const std::filesystem::path& saved) {
    ToyData d;
    auto g = trunk_graph<B>(9);
    g.classifier.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    g.autoencoder.compile(optim::SGD{.lr = 0.05, .momentum = 0.9}, loss::MeanSquaredError{});
    TrunkRun<B> run;
    run.history = g.classifier.fit(d.x, d.y, {.epochs = 3, .batch_size = 16, .validation_split = 0.2, .seed = 2,
                                              .verbose = Verbosity::silent});
    run.evaluation = g.classifier.evaluate(d.x, d.y);
    for (int turn = 0; turn < 3; ++turn) {
        run.batch_losses.push_back(g.autoencoder.train_on_batch(d.x, d.x));
        run.batch_losses.push_back(g.classifier.train_on_batch(d.x, d.y));
    }
    const auto code = g.encoder.predict(d.x);
    run.code = values_of(code);

    g.classifier.get_layer("enc_1").set_trainable(false);
    run.frozen_before = g.classifier.get_layer("enc_1").get_weights()[0];
    run.head_before = g.classifier.get_layer("head").get_weights()[0];
    run.batch_losses.push_back(g.classifier.train_on_batch(d.x, d.y));
    run.frozen_after = g.classifier.get_layer("enc_1").get_weights()[0];
    run.head_after = g.classifier.get_layer("head").get_weights()[0];
    run.reconstruction = values_of(g.autoencoder.predict(d.x));
    g.autoencoder.save_weights(saved);
    const auto values = g.classifier.parameters().values();
    run.weights.assign(values.begin(), values.end());
    return run;
}

template <class B>
void check_functional_device_training(double tol, const std::filesystem::path& saved) {
    const auto want = train_trunk<cpu::reference>(saved);
    const auto got = train_trunk<B>(saved);
    check_same_fit_and_evaluation(want, got, 3, tol);
    REQUIRE(got.batch_losses.size() == want.batch_losses.size());
    for (std::size_t i = 0; i < got.batch_losses.size(); ++i) {
        INFO("train_on_batch " << i);
        CHECK(got.batch_losses[i] == doctest::Approx(want.batch_losses[i]).epsilon(tol));
    }
    // The sub-model read what its two parents trained, BatchNorm's moving statistics included.
    CHECK(relative_error(got.code, want.code) < tol);
    CHECK(relative_error(got.weights, want.weights) < tol);
    // A frozen layer keeps its weights bit for bit on the device; the head still learns.
    CHECK(got.frozen_after == got.frozen_before);
    CHECK(got.head_after != got.head_before);

    // What the device trained, saved to disk, loads into the same graph on the CPU and on the
    // device, and predicts there what the CPU's training ended with.
    ToyData d;
    auto on_cpu = trunk_graph<cpu::reference>(1);
    on_cpu.autoencoder.load_weights(saved);
    auto on_device = trunk_graph<B>(1);
    on_device.autoencoder.load_weights(saved);
    const auto reconstruction = values_of(on_device.autoencoder.predict(d.x));
    CHECK(relative_error(reconstruction, values_of(on_cpu.autoencoder.predict(d.x))) < tol);
    CHECK(relative_error(reconstruction, want.reconstruction) < tol);
}

// Several outputs trained together with weighted losses and per-output metrics.
template <class B>
std::pair<History, std::map<std::string, double>> train_two_heads() {
    ToyData d;
    Tensor<Shape<1>> sign(90);
    for (std::size_t i = 0; i < 90; ++i) sign[i] = d.x[6 * i + 3] > 0 ? 1.0f : 0.0f;
    Tensor<Shape<3>> digit(90);
    for (std::size_t i = 0; i < 90; ++i) digit[3 * i + static_cast<std::size_t>(d.y[i])] = 1.0f;
    auto inputs = input<B, 6>("inputs", 4);
    auto trunk = BatchNorm{"trunk_bn"}(Tanh{}(Dense<8>{"trunk"}(inputs)));
    auto digit_out = Softmax{"digit"}(Dense<3>{}(trunk));
    auto sign_out = Sigmoid{"sign"}(Dense<1>{}(trunk));
    Model model(inputs, std::tuple{digit_out, sign_out});
    model.compile(optim::Adam{.lr = 2e-2},
                  loss::per_output(loss::CategoricalCrossentropy{}, loss::BinaryCrossentropy{}).weighted({1.0, 0.5}),
                  metrics::Accuracy{});
    auto history = model.fit(d.x, std::tuple{digit, sign},
                             {.epochs = 3, .batch_size = 16, .validation_split = 0.2, .verbose = Verbosity::silent});
    return {std::move(history), model.evaluate(d.x, std::tuple{digit, sign})};
}

template <class B>
void check_functional_device_outputs(double tol) {
    const auto [want, want_eval] = train_two_heads<cpu::reference>();
    const auto [got, got_eval] = train_two_heads<B>();
    for (const char* key : {"loss", "digit_loss", "sign_loss", "digit_accuracy", "sign_accuracy", "val_loss",
                            "val_digit_accuracy", "val_sign_accuracy"})
        for (std::size_t e = 0; e < 3; ++e) {
            INFO(key << ", epoch " << e + 1);
            CHECK(got[key][e] == doctest::Approx(want[key][e]).epsilon(tol));
        }
    for (const auto& entry : want_eval) {
        const std::string& key = entry.first;  // (clang 14 cannot capture a structured binding in INFO)
        INFO(key);
        CHECK(got_eval.at(key) == doctest::Approx(entry.second).epsilon(tol));
    }
}

// Cross-attention (MultiHeadAttention on several inputs), self-attention with the causal mask and
// positions, Keras' dot-product Attention and AdditiveAttention, trained in one functional model:
// the multi-input layer contract's weights and workspace on the device, and attention masks given
// as inputs (some query steps masked from every key). (No dropout: a device draws its own random
// numbers.)
template <class B>
std::pair<History, std::vector<float>> train_attention() {
    ToyData d;
    const std::size_t n = d.x.batch();
    Tensor<Shape<3, 2>> cross_mask(n);
    Tensor<Shape<3, 3>> dot_mask(n);
    for (std::size_t i = 0; i < cross_mask.size(); ++i) cross_mask[i] = (i % 7) % 3 != 0 ? 1.0f : 0.0f;
    for (std::size_t i = 0; i < dot_mask.size(); ++i) dot_mask[i] = (i % 11) % 4 != 1 ? 1.0f : 0.0f;
    auto inputs = input<B, 6>("inputs", 5);
    auto cross_allowed = input<B, 3, 2>("cross_mask");
    auto dot_allowed = input<B, 3, 3>("dot_mask");
    auto sequence = Reshape<3, 2>{}(inputs);
    auto positioned = Add{}(sequence, PositionEmbedding<3>{}(sequence));
    auto self = MultiHeadAttention<2, 3>{true}(positioned);
    auto other = Reshape<2, 3>{}(inputs);
    auto cross = MultiHeadAttention<2, 4, 3>{"cross"}(self, other, other, cross_allowed);
    auto dot = Attention{true}(positioned, self, self, dot_allowed);  // Keras' Attention: no weights of its own
    auto additive = AdditiveAttention<>{}(positioned, self, positioned);  // Bahdanau's: a scale per feature
    auto out = Softmax{}(Dense<3>{}(Flatten{}(Add{}(cross, dot, additive))));
    Model model(std::tuple{inputs, cross_allowed, dot_allowed}, out);
    model.compile(optim::Adam{.lr = 1e-2}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto history = model.fit(std::tuple{d.x, cross_mask, dot_mask}, d.y,
                             {.epochs = 3, .batch_size = 16, .seed = 2, .verbose = Verbosity::silent});
    const auto values = model.parameters().values();
    return {std::move(history), std::vector<float>(values.begin(), values.end())};
}

template <class B>
void check_functional_device_attention(double tol) {
    const auto [want, want_weights] = train_attention<cpu::reference>();
    const auto [got, got_weights] = train_attention<B>();
    for (const char* key : {"loss", "accuracy"})
        for (std::size_t e = 0; e < 3; ++e) {
            INFO(key << ", epoch " << e + 1);
            CHECK(got[key][e] == doctest::Approx(want[key][e]).epsilon(tol));
        }
    CHECK(relative_error(got_weights, want_weights) < tol);
}

// The CPU's errors, word for word: a diverged loss names the graph's first layer whose output
// is not finite; a batch of the wrong size is refused.
template <class B>
void check_functional_device_errors() {
    check_errors_as_on_cpu<B>(
        []<class BB>(std::type_identity<BB>, bool poisoned) {
            auto g = trunk_graph<BB>(1);
            g.classifier.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
            auto head = g.classifier.get_layer("head").get_weights();
            if (poisoned) head[1][2] = std::numeric_limits<float>::quiet_NaN();  // its bias
            g.classifier.get_layer("head").set_weights(head);
            return std::move(g.classifier);
        },
        "layer \"head\"");
}

// The representation-learning helpers (Autoencoder, GAN, SimCLR, VAE) on a device backend,
// which compose Sequential networks into one graph: the networks then compute with the graph's
// device copy of their weights, on its stream, so what the composed model trains the networks
// predict, and what a network trains on its own (a GAN's discriminator) the composed model reads.
template <class B>
struct GanRun {
    std::vector<std::pair<double, double>> losses;
    std::vector<float> generator_weights, discriminator_weights;
};
// A GAN: its discriminator (a Sequential called in the combined model's graph) trains on its
// own, and the combined model's generator step reads it, on one stream.
template <class B>
GanRun<B> train_gan() {
    using GeneratorNet = Sequential<B, Input<2>, Dense<4>, Tanh, Dense<1>>;
    using DiscriminatorNet = Sequential<B, Input<1>, Dense<8>, Tanh, Dense<1>, Sigmoid>;
    repr::GAN<GeneratorNet, DiscriminatorNet> gan(GeneratorNet(1), DiscriminatorNet(2));
    gan.compile(optim::Adam{.lr = 1e-2}, optim::Adam{.lr = 1e-2});
    Tensor<Shape<1>> real(32);
    Generator g(11);
    for (auto& v : real.values()) v = static_cast<float>(3.0 + 0.5 * g.normal());
    Generator rng(3);
    GanRun<B> run;
    for (int step = 0; step < 4; ++step) run.losses.push_back(gan.train_on_batch(real, rng));
    const auto gv = gan.generator().parameters().values(), dv = gan.discriminator().parameters().values();
    run.generator_weights.assign(gv.begin(), gv.end());
    run.discriminator_weights.assign(dv.begin(), dv.end());
    return run;
}
template <class B>
void check_gan_on_device(double tol) {
    const auto want = train_gan<cpu::reference>();
    const auto got = train_gan<B>();
    REQUIRE(got.losses.size() == want.losses.size());
    for (std::size_t i = 0; i < got.losses.size(); ++i) {
        INFO("GAN step " << i);
        CHECK(got.losses[i].first == doctest::Approx(want.losses[i].first).epsilon(tol));
        CHECK(got.losses[i].second == doctest::Approx(want.losses[i].second).epsilon(tol));
    }
    CHECK(relative_error(got.generator_weights, want.generator_weights) < tol);
    CHECK(relative_error(got.discriminator_weights, want.discriminator_weights) < tol);
}

template <class B>
struct ReprRun {
    History autoencoder, simclr;
    std::vector<float> representation, codes, encoder_weights;
};
template <class B>
ReprRun<B> train_repr() {
    ToyData d;
    ReprRun<B> run;
    using Encoder = Sequential<B, Input<6>, Dense<8>, ReLU, BatchNorm, Dense<3>, Tanh>;
    using Decoder = Sequential<B, Input<3>, Dense<6>>;
    Encoder encoder(1);
    encoder.compile(optim::SGD{}, loss::MeanSquaredError{});
    encoder.train_on_batch(d.x, Tensor<Shape<3>>(90));  // trained alone first, on its own device copy
    repr::Autoencoder<Encoder, Decoder> ae(std::move(encoder), Decoder(2));
    ae.compile(optim::Adam{}, loss::MeanSquaredError{});
    run.autoencoder = ae.fit(d.x, {.epochs = 3, .batch_size = 16, .verbose = Verbosity::silent});
    run.codes = values_of(ae.encoder().predict(d.x));
    const auto values = ae.encoder().parameters().values();
    run.encoder_weights.assign(values.begin(), values.end());

    // SimCLR's loss is computed on the host in either case (the same views, the same numbers).
    using ImageEncoder = Sequential<B, Input<6, 6, 1>, Flatten, Dense<8>, ReLU>;
    using Head = Sequential<B, Input<8>, Dense<4>>;
    repr::SimCLR<ImageEncoder, Head> simclr(ImageEncoder(1), Head(2));
    simclr.compile(optim::Adam{.lr = 3e-3});
    const auto images = random_batch<Shape<6, 6, 1>>(16, 41);
    run.simclr = simclr.fit(images, {.epochs = 2, .batch_size = 8, .seed = 3, .verbose = Verbosity::silent});
    run.representation = values_of(simclr.encode(images));
    return run;
}

template <class B>
void check_repr_on_device(double tol) {
    const auto want = train_repr<cpu::reference>();
    const auto got = train_repr<B>();
    for (std::size_t e = 0; e < 3; ++e)
        CHECK(got.autoencoder["loss"][e] == doctest::Approx(want.autoencoder["loss"][e]).epsilon(tol));
    CHECK(relative_error(got.codes, want.codes) < tol);
    CHECK(relative_error(got.encoder_weights, want.encoder_weights) < tol);
    check_gan_on_device<B>(tol);
    for (const char* key : {"loss", "contrastive_accuracy"})
        for (std::size_t e = 0; e < 2; ++e) {
            INFO("SimCLR " << key << ", epoch " << e + 1);
            CHECK(got.simclr[key][e] == doctest::Approx(want.simclr[key][e]).epsilon(tol));
        }
    CHECK(relative_error(got.representation, want.representation) < tol);

    // A variational autoencoder's sampling draws from the backend's generator (another stream of
    // numbers than the CPU's): it learns on the device, and generates from its prior.
    using Encoder = Sequential<B, Input<6>, Dense<8>, Tanh, Dense<4>, Sampling>;
    using Decoder = Sequential<B, Input<2>, Dense<6>>;
    repr::VariationalAutoencoder<Encoder, Decoder> vae(Encoder(1), Decoder(2));
    vae.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    ToyData d;
    const double before = vae.evaluate(d.x, d.x, 90).at("loss");
    const auto h = vae.fit(d.x, {.epochs = 20, .batch_size = 16, .verbose = Verbosity::silent});
    CHECK(h.at("loss").back() < h.at("loss").front());
    CHECK(vae.evaluate(d.x, d.x, 90).at("loss") < before);
    Generator a(3);
    CHECK(vae.generate(4, a).batch() == 4);
}

}  // namespace latent::testing
