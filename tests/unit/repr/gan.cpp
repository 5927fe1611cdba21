// The GAN: which weights each step moves (the discriminator is frozen while the generator
// learns, and only then), and that the alternating game pulls the generator to the data, also
// with a spectrally normalized discriminator.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <latent/latent.hpp>
#include <latent/repr/gan.hpp>

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

TEST_CASE("a spectrally normalized discriminator: frozen for the generator's step, and the game still converges") {
    using CriticNet =
        Sequential<Input<1>, SpectralNormalization<Dense<8>>, Tanh, SpectralNormalization<Dense<1>>, Sigmoid>;
    repr::GAN<GeneratorNet, CriticNet> gan(GeneratorNet(4), CriticNet(5));
    gan.compile(optim::Adam{.lr = 2e-2, .beta_1 = 0.5}, optim::Adam{.lr = 2e-2, .beta_1 = 0.5});
    Generator rng(9);
    {
        // The generator's step goes through the frozen discriminator: its kernels and vector_u stay.
        const auto d0 = weights_of(gan.discriminator());
        Tensor<Shape<2>> z(16);
        for (auto& v : z.values()) v = static_cast<float>(rng.normal());
        gan.discriminator().set_trainable(false);
        Tensor<Shape<1>> ones(16);
        std::fill(ones.values().begin(), ones.values().end(), 1.0f);
        gan.combined().train_on_batch(z, ones);
        gan.discriminator().set_trainable(true);
        CHECK(weights_of(gan.discriminator()) == d0);
    }
    const double before = mean_of(gan.generate(2000, rng));
    gan.fit(real_data(512), {.epochs = 40, .batch_size = 64, .seed = 1, .verbose = Verbosity::silent});
    const double after = mean_of(gan.generate(2000, rng));
    MESSAGE("generated mean " << before << " -> " << after << " (data: 3)");
    CHECK(std::abs(before - 3.0) > 1.5);
    CHECK(std::abs(after - 3.0) < 0.5);
}
