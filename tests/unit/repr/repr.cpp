// The representation-learning parts: input corruption, the Autoencoder composition (encoder and
// decoder share the model's weights, denoising training), the linear probe, sparse and
// variational autoencoders, greedy layer-wise pretraining.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <latent/latent.hpp>
#include <latent/repr/autoencoder.hpp>
#include <latent/repr/corruption.hpp>
#include <latent/repr/greedy.hpp>
#include <latent/repr/linear_probe.hpp>
#include <latent/repr/vae.hpp>

#include "support/messages.hpp"

using namespace latent;

namespace {
Tensor<Shape<8>> grey_batch(std::size_t n, std::uint64_t seed) {
    Tensor<Shape<8>> x(n);
    Generator g(seed);
    for (auto& v : x.values()) v = static_cast<float>(g.uniform(0.2, 0.8));
    return x;
}
template <class T>
std::vector<float> values_of(const T& t) {
    return std::vector<float>(t.data(), t.data() + t.size());
}
}  // namespace

TEST_CASE("corruption: Gaussian, masking and salt-and-pepper noise at their levels, seeded") {
    const auto x = grey_batch(2000, 1);  // 16,000 values
    Generator g(5);
    const auto noisy = repr::corrupt(x, repr::Corruption::gaussian(0.05), g);
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double d = noisy[i] - x[i];
        sum += d;
        sq += d * d;
    }
    const double n = static_cast<double>(x.size());
    CHECK(std::abs(sum / n) < 0.002);
    CHECK(std::sqrt(sq / n) == doctest::Approx(0.05).epsilon(0.03));

    const auto masked = repr::corrupt(x, repr::Corruption::masking(0.25), g);
    std::size_t zeros = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (masked[i] == 0.0f) ++zeros;
        else CHECK(masked[i] == x[i]);
    }
    CHECK(static_cast<double>(zeros) / n == doctest::Approx(0.25).epsilon(0.05));

    const auto salted = repr::corrupt(x, repr::Corruption::salt_and_pepper(0.1), g);
    std::size_t salt = 0, pepper = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (salted[i] == 1.0f) ++salt;
        else if (salted[i] == 0.0f) ++pepper;
        else CHECK(salted[i] == x[i]);
    }
    CHECK(static_cast<double>(salt + pepper) / n == doctest::Approx(0.1).epsilon(0.1));
    CHECK(static_cast<double>(salt) / static_cast<double>(salt + pepper) == doctest::Approx(0.5).epsilon(0.1));

    // Clipping keeps images in range; the same seed gives the same corruption; level 0 is a copy.
    const auto loud = repr::corrupt(x, repr::Corruption::gaussian(2.0), g);
    for (float v : loud.values()) CHECK((v >= 0.0f && v <= 1.0f));
    Generator a(9), b(9);
    CHECK(values_of(repr::corrupt(x, repr::Corruption::masking(0.5), a)) ==
          values_of(repr::corrupt(x, repr::Corruption::masking(0.5), b)));
    CHECK(values_of(repr::corrupt(x, repr::Corruption::gaussian(0.0), a)) == values_of(x));

    LATENT_CHECK_ERROR(value_error, repr::corrupt(x, repr::Corruption::masking(1.5), g), "latent.repr.corruption",
                       "must be in [0, 1], got 1.5");
    LATENT_CHECK_ERROR(value_error, repr::corrupt(x, repr::Corruption::gaussian(-0.1), g), "latent.repr.corruption",
                       "needs a finite stddev >= 0");
}

TEST_CASE("an Autoencoder's encoder and decoder are the model's weights, before and after training") {
    using Encoder = Sequential<Input<8>, Dense<3>, Tanh>;
    using Decoder = Sequential<Input<3>, Dense<8>, Sigmoid>;
    repr::Autoencoder<Encoder, Decoder> ae(Encoder(1), Decoder(2));
    static_assert(std::is_same_v<decltype(ae)::code_shape, Shape<3>>);
    CHECK(ae.model().count_params() == 27 + 32);
    const auto x = grey_batch(64, 3);
    const auto check_shared = [&] {
        const auto through = ae.decode(ae.encode(x));
        const auto whole = ae.predict(x);
        const auto a = values_of(through), b = values_of(whole);
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
    };
    check_shared();

    ae.compile(optim::Adam{.lr = 0.02}, loss::MeanSquaredError{});
    const double before = ae.evaluate(x, x).at("loss");
    const auto history = ae.fit(x, {.epochs = 30, .batch_size = 16, .verbose = Verbosity::silent});
    CHECK(history.epochs == 30);
    CHECK(ae.evaluate(x, x).at("loss") < 0.5 * before);
    check_shared();  // training the whole trained the halves

    // Training a half (here the decoder alone, on the codes) is seen by the whole.
    const auto codes = ae.encode(x);
    ae.decoder().compile(optim::SGD{.lr = 0.5}, loss::MeanSquaredError{});
    ae.decoder().fit(codes, x, {.epochs = 1, .batch_size = 64, .verbose = Verbosity::silent});
    check_shared();

    // Moving the Autoencoder keeps the links (the halves live on the heap).
    auto moved = std::move(ae);
    const auto direct = moved.predict(x);
    const auto halves = moved.decode(moved.encode(x));
    CHECK(values_of(direct) == values_of(halves));
}

TEST_CASE("denoising training corrupts the inputs afresh each epoch and reconstructs the clean ones") {
    using Encoder = Sequential<Input<8>, Dense<4>, Tanh>;
    using Decoder = Sequential<Input<4>, Dense<8>, Sigmoid>;
    const auto x = grey_batch(64, 4);
    const auto train = [&](std::uint64_t seed) {
        repr::Autoencoder<Encoder, Decoder> ae(Encoder(1), Decoder(2));
        ae.compile(optim::Adam{.lr = 0.02}, loss::MeanSquaredError{});
        const auto h = ae.fit_denoising(x, repr::Corruption::masking(0.3),
                                        {.epochs = 20, .batch_size = 16, .seed = seed, .verbose = Verbosity::silent});
        CHECK(h.epochs == 20);
        CHECK(h.at("loss").size() == 20);
        CHECK(h.at("loss").back() < h.at("loss").front());
        return values_of(ae.predict(x));
    };
    CHECK(train(1) == train(1));  // seeded
    CHECK(train(1) != train(2));
    repr::Autoencoder<Encoder, Decoder> ae;
    ae.compile(optim::Adam{}, loss::MeanSquaredError{});
    LATENT_CHECK_ERROR(value_error, ae.fit_denoising(x, repr::Corruption::salt_and_pepper(-1.0)),
                       "latent.repr.corruption", "must be in [0, 1]");
}

TEST_CASE("denoising training calls fit's callbacks around the whole run, not around each epoch's fit") {
    using Encoder = Sequential<Input<8>, Dense<4>, Tanh>;
    using Decoder = Sequential<Input<4>, Dense<8>, Sigmoid>;
    const auto x = grey_batch(64, 4);
    repr::Autoencoder<Encoder, Decoder> ae(Encoder(1), Decoder(2));
    ae.compile(optim::Adam{.lr = 0.02}, loss::MeanSquaredError{});
    // No loss falls by 10: the first epoch is the best, and patience 2 ends the third.
    callbacks::EarlyStopping early{.monitor = "val_loss", .min_delta = 10.0, .patience = 2};
    std::size_t begun = 0;
    std::vector<std::size_t> epochs;
    const auto h = ae.fit_denoising(
        x, repr::Corruption::masking(0.3),
        {.epochs = 20, .batch_size = 16, .validation_split = 0.25, .verbose = Verbosity::silent,
         .callbacks = {early, callbacks::LambdaCallback{.on_train_begin = [&] { ++begun; },
                                                        .on_epoch_begin = [&](std::size_t e) { epochs.push_back(e); }},
                       callbacks::LearningRateScheduler{.schedule = [](std::size_t, double lr) { return lr * 0.5; }}}});
    CHECK(h.epochs == 3);
    CHECK(early.stopped_epoch == 2);
    CHECK(begun == 1);
    CHECK(epochs == std::vector<std::size_t>{0, 1, 2});
    CHECK(h.at("learning_rate") == std::vector<double>{0.01, 0.005, 0.0025});
    CHECK(h.at("val_loss").size() == 3);
}

TEST_CASE("the linear probe scores separable codes perfectly and random labels near chance") {
    // Codes whose first feature is the class (plus noise at a far larger scale elsewhere,
    // which standardization tames).
    const auto make = [](std::size_t n, std::uint64_t seed, bool random_labels) {
        Tensor<Shape<4>> codes(n);
        Tensor<Shape<1>> labels(n);
        Generator g(seed);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = i % 3;
            labels[i] = static_cast<float>(random_labels ? g.below(3) : k);
            codes.sample(i)[0] = static_cast<float>(k) + static_cast<float>(g.normal() * 0.1);
            codes.sample(i)[1] = static_cast<float>(k == 1) + static_cast<float>(g.normal() * 0.1);
            for (std::size_t j = 2; j < 4; ++j) codes.sample(i)[j] = static_cast<float>(g.normal() * 1000.0);
        }
        return std::pair{codes, labels};
    };
    const auto [train_codes, train_labels] = make(150, 1, false);
    const auto [val_codes, val_labels] = make(60, 2, false);
    const auto good = repr::linear_probe<3>(train_codes, train_labels, val_codes, val_labels, {.epochs = 60});
    CHECK(good.train_accuracy > 0.97);
    CHECK(good.validation_accuracy > 0.97);

    const auto [noise_codes, noise_labels] = make(150, 3, true);
    const auto [noise_val, noise_val_labels] = make(300, 4, true);
    const auto chance = repr::linear_probe<3>(noise_codes, noise_labels, noise_val, noise_val_labels, {.epochs = 60});
    CHECK(chance.validation_accuracy < 0.5);

    // From an encoder network: the same numbers as probing its predictions.
    Sequential<Input<8>, Dense<4>, Tanh> encoder(7);
    const auto x = grey_batch(90, 5), xv = grey_batch(30, 6);
    Tensor<Shape<1>> y(90), yv(30);
    for (std::size_t i = 0; i < 90; ++i) y[i] = static_cast<float>(i % 3);
    for (std::size_t i = 0; i < 30; ++i) yv[i] = static_cast<float>(i % 3);
    const auto via_encoder = repr::linear_probe<3>(encoder, x, y, xv, yv, {.epochs = 5});
    const auto via_codes = repr::linear_probe<3>(encoder.predict(x), y, encoder.predict(xv), yv, {.epochs = 5});
    CHECK(via_encoder.validation_accuracy == via_codes.validation_accuracy);
}

TEST_CASE("a sparse autoencoder: the activity penalty counts in the loss and makes the code sparser") {
    const auto x = grey_batch(64, 7);
    const auto mean_abs = [](const auto& t) {
        double s = 0;
        for (float v : t.values()) s += std::abs(v);
        return s / static_cast<double>(t.size());
    };

    // In a Sequential: the loss evaluate reports is the reconstruction error plus
    // l1 * sum|code| / batch.
    using Net = Sequential<Input<8>, Dense<6>, ReLU, ActivityRegularization, Dense<8>, Sigmoid>;
    const auto trained_code = [&](double l1) {
        Net net(3);
        net.layer<2>().l1(l1);
        net.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
        net.fit(x, x, {.epochs = 40, .batch_size = 16, .verbose = Verbosity::silent});
        net.forward(x.data(), x.batch(), Mode::infer);
        Tensor<Shape<6>> code(x.batch());
        std::copy(net.output(2), net.output(2) + code.size(), code.data());
        const auto out = net.predict(x);
        double mse = 0;
        for (std::size_t i = 0; i < x.size(); ++i) mse += std::pow(double(out[i]) - x[i], 2);
        mse /= static_cast<double>(x.size());
        const double penalty = l1 * mean_abs(code) * 6;  // sum over the 6 units, mean over samples
        CHECK(net.evaluate(x, x, 64).at("loss") == doctest::Approx(mse + penalty).epsilon(1e-4));
        return mean_abs(code);
    };
    const double dense = trained_code(0.0), sparse = trained_code(0.05);
    CHECK(sparse < 0.5 * dense);

    // In an Autoencoder (a functional model): set before composing, the same term is counted.
    using Encoder = Sequential<Input<8>, Dense<6>, ReLU, ActivityRegularization>;
    using Decoder = Sequential<Input<6>, Dense<8>, Sigmoid>;
    Encoder encoder(1);
    encoder.layer<2>().l1(0.02);
    repr::Autoencoder<Encoder, Decoder> ae(std::move(encoder), Decoder(2));
    ae.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});
    const auto codes = ae.encode(x);
    const auto out = ae.predict(x);
    double mse = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mse += std::pow(double(out[i]) - x[i], 2);
    mse /= static_cast<double>(x.size());
    CHECK(ae.evaluate(x, x, 64).at("loss") == doctest::Approx(mse + 0.02 * mean_abs(codes) * 6).epsilon(1e-4));
    LATENT_CHECK_ERROR(value_error, ActivityRegularization(-1.0), "latent.layers.activity_regularization",
                       "l1 must be a finite number >= 0, got -1");
}

TEST_CASE("a variational autoencoder trains, generates from the prior and interpolates") {
    using Encoder = Sequential<Input<8>, Dense<6>, Tanh, Dense<4>, Sampling>;
    using Decoder = Sequential<Input<2>, Dense<8>, Sigmoid>;
    repr::VariationalAutoencoder<Encoder, Decoder> vae(Encoder(1), Decoder(2));
    static_assert(std::is_same_v<decltype(vae)::code_shape, Shape<2>>);
    const auto x = grey_batch(64, 11);
    vae.compile(optim::Adam{.lr = 0.01}, loss::MeanSquaredError{});

    // The loss evaluate reports is the reconstruction error (from the means: Sampling gives
    // the mean in inference) plus the KL term of the encoder's means and log-variances.
    const auto check_loss = [&] {
        const auto out = vae.predict(x, 64);
        double mse = 0;
        for (std::size_t i = 0; i < x.size(); ++i) mse += std::pow(double(out[i]) - x[i], 2);
        mse /= static_cast<double>(x.size());
        vae.encoder().forward(x.data(), x.batch(), Mode::infer);
        const float* stats = vae.encoder().output(2);  // the Dense<4>: (mean, log_var) per sample
        double kl = 0;
        for (std::size_t b = 0; b < x.batch(); ++b)
            for (std::size_t j = 0; j < 2; ++j) {
                const double m = stats[b * 4 + j], lv = stats[b * 4 + 2 + j];
                kl += (std::exp(lv) + m * m - 1 - lv) / 2;
            }
        kl /= static_cast<double>(x.batch());
        CHECK(vae.evaluate(x, x, 64).at("loss") == doctest::Approx(mse + kl).epsilon(1e-4));
        return kl;
    };
    check_loss();
    const auto h = vae.fit(x, {.epochs = 30, .batch_size = 16, .verbose = Verbosity::silent});
    CHECK(h.at("loss").back() < h.at("loss").front());
    check_loss();

    Generator a(3), b(3);
    const auto drawn = vae.generate(5, a);
    CHECK(drawn.batch() == 5);
    CHECK(values_of(drawn) == values_of(vae.generate(5, b)));  // seeded
    const auto line = vae.interpolate(x, 0, x, 1, 4);
    REQUIRE(line.batch() == 4);
    // The ends decode the two inputs' codes.
    const auto ends = vae.predict(x.slice(0, 2));
    for (std::size_t j = 0; j < 8; ++j) {
        CHECK(line.sample(0)[j] == doctest::Approx(ends.sample(0)[j]).epsilon(1e-5));
        CHECK(line.sample(3)[j] == doctest::Approx(ends.sample(1)[j]).epsilon(1e-5));
    }
    LATENT_CHECK_ERROR(value_error, vae.interpolate(x, 0, x, 1, 1), "latent.repr.interpolate", "at least 2 steps");
    LATENT_CHECK_ERROR(value_error, Sampling(-0.5), "latent.layers.sampling.beta", "beta must be a finite number >= 0");
}

TEST_CASE("greedy layer-wise pretraining trains the Dense + Sigmoid pairs bottom up and leaves the head alone") {
    using Net = Sequential<Input<4, 3>, Flatten, Dense<6>, Sigmoid, Dense<3>, Sigmoid, Dense<2>, Softmax>;
    // Data on a low-dimensional manifold in [0, 1]^12, so that 6 and then 3 units can code it.
    Tensor<Shape<4, 3>> x(256);
    Generator g(4);
    for (std::size_t i = 0; i < x.batch(); ++i) {
        const double a = g.uniform(0, 1), b = g.uniform(0, 1);
        for (std::size_t j = 0; j < 12; ++j)
            x.sample(i)[j] = static_cast<float>(0.5 + 0.4 * std::sin(a * static_cast<double>(j) + 3 * b));
    }
    auto weights_at = [](Net& net, std::size_t layer) {
        std::vector<float> w;
        for (const auto& [slot, values] : net.layer(layer).weights()) w.insert(w.end(), values.begin(), values.end());
        return w;
    };
    Net short_run(1), long_run(1);
    const auto dense0 = weights_at(long_run, 1), dense1 = weights_at(long_run, 3), head = weights_at(long_run, 5);
    const repr::GreedyOptions quiet{.epochs = 1, .batch_size = 32, .lr = 1e-2, .contraction = 0.01,
                                    .verbose = Verbosity::silent};
    const auto first = repr::greedy_pretrain<2>(short_run, x, quiet);
    auto longer = quiet;
    longer.epochs = 30;
    std::ostringstream log;
    longer.verbose = Verbosity::one_line_per_epoch;
    longer.out = &log;
    const auto last = repr::greedy_pretrain<2>(long_run, x, longer);
    REQUIRE(first.size() == 2);
    REQUIRE(last.size() == 2);
    MESSAGE("stage losses after 1 epoch " << first[0] << ", " << first[1] << "; after 30: " << last[0] << ", " << last[1]);
    CHECK(last[0] < first[0]);
    CHECK(last[1] < first[1]);
    CHECK(weights_at(long_run, 1) != dense0);
    CHECK(weights_at(long_run, 3) != dense1);
    CHECK(weights_at(long_run, 5) == head);
    CHECK(log.str().find("stage 2: layer 3 \"dense_1\" (Dense<3>) on 6 inputs") != std::string::npos);

    // Inputs outside [0, 1] cannot be reconstructed through a sigmoid.
    auto scaled = x;
    scaled.sample(3)[5] = 1.5f;
    CHECK_THROWS_WITH_AS(repr::greedy_pretrain<1>(short_run, scaled, quiet),
                         doctest::Contains("must lie in [0, 1]; the data spans [0"), value_error);
}
