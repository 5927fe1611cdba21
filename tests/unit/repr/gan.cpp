// The GAN: which weights each step moves (the discriminator is frozen while the generator
// learns, and only then), and that the alternating game pulls the generator to the data;
// greedy layer-wise pretraining: which layers it trains and in what order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <latent/latent.hpp>
#include <latent/repr/gan.hpp>
#include <latent/repr/greedy.hpp>

using namespace latent;

namespace {
using GeneratorNet = Sequential<Input<2>, Dense<1>>;  // z -> w . z + b
using DiscriminatorNet = Sequential<Input<1>, Dense<8>, Tanh, Dense<1>, Sigmoid>;
using Gan = repr::GAN<GeneratorNet, DiscriminatorNet>;

std::vector<float> weights_of(auto& net) {
    const auto& p = net.parameters();
    return std::vector<float>(p.data(), p.data() + p.size());
}
// One-dimensional data: N(3, 0.5).
Tensor<Shape<1>> real_data(std::size_t n) {
    Tensor<Shape<1>> x(n);
    Generator g(11);
    for (auto& v : x.values()) v = static_cast<float>(3.0 + 0.5 * g.normal());
    return x;
}
double mean_of(const Tensor<Shape<1>>& t) {
    double s = 0;
    for (float v : t.values()) s += v;
    return s / static_cast<double>(t.batch());
}
}  // namespace

TEST_CASE("a GAN step: the discriminator learns on real and fake, the generator through a frozen discriminator") {
    Gan gan(GeneratorNet(1), DiscriminatorNet(2));
    gan.compile(optim::Adam{.lr = 1e-2}, optim::Adam{.lr = 1e-2});
    gan.discriminator().set_trainable(2, false);  // a user's own freezing survives the generator step
    const auto g0 = weights_of(gan.generator());
    const auto d0 = weights_of(gan.discriminator());
    const auto frozen0 = gan.discriminator().layer(2).weights()[0].second;
    const std::vector<float> frozen_before(frozen0.begin(), frozen0.end());

    // The generator step alone (the discriminator frozen): the generator moves, the discriminator not.
    Tensor<Shape<2>> z(16);
    Generator rng(3);
    for (auto& v : z.values()) v = static_cast<float>(rng.normal());
    {
        gan.discriminator().set_trainable(false);
        Tensor<Shape<1>> ones(16);
        std::fill(ones.values().begin(), ones.values().end(), 1.0f);
        gan.combined().train_on_batch(z, ones);
        gan.discriminator().set_trainable(true);
        gan.discriminator().set_trainable(2, false);
    }
    CHECK(weights_of(gan.generator()) != g0);
    CHECK(weights_of(gan.discriminator()) == d0);

    const auto g1 = weights_of(gan.generator());
    const auto [d_loss, g_loss] = gan.train_on_batch(real_data(16), rng);
    CHECK(std::isfinite(d_loss));
    CHECK(std::isfinite(g_loss));
    CHECK(weights_of(gan.generator()) != g1);
    CHECK(weights_of(gan.discriminator()) != d0);
    // The layer the user froze stayed frozen through both steps, and trainable states are as they were.
    const auto frozen1 = gan.discriminator().layer(2).weights()[0].second;
    CHECK(std::vector<float>(frozen1.begin(), frozen1.end()) == frozen_before);
    CHECK(gan.discriminator().trainable(0));
    CHECK_FALSE(gan.discriminator().trainable(2));

    CHECK_THROWS_AS(gan.train_on_batch(real_data(4), rng, 0.0), value_error);
    CHECK_THROWS_AS(gan.fit(real_data(4), {.batch_size = 0}), value_error);
}

TEST_CASE("adversarial training pulls the generator's samples to the data's distribution") {
    Gan gan(GeneratorNet(4), DiscriminatorNet(5));
    gan.compile(optim::Adam{.lr = 2e-2, .beta_1 = 0.5}, optim::Adam{.lr = 2e-2, .beta_1 = 0.5});
    Generator rng(9);
    const double before = mean_of(gan.generate(2000, rng));
    const auto history = gan.fit(real_data(512), {.epochs = 40, .batch_size = 64, .seed = 1,
                                                  .verbose = Verbosity::silent});
    CHECK(history.epochs == 40);
    CHECK(history.at("d_loss").size() == 40);
    CHECK(history.at("g_loss").size() == 40);
    const auto samples = gan.generate(2000, rng);
    const double after = mean_of(samples);
    MESSAGE("generated mean " << before << " -> " << after << " (data: 3)");
    CHECK(std::abs(before - 3.0) > 1.5);
    CHECK(std::abs(after - 3.0) < 0.5);
    // The discriminator, near the equilibrium, cannot tell the two apart well.
    const double p_real = mean_of(gan.discriminate(real_data(500)));
    const double p_fake = mean_of(gan.discriminate(samples));
    CHECK(std::abs(p_real - p_fake) < 0.25);
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
