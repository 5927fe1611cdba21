// Contrastive learning: the seeded image augmentations (each one alone, exactly) and the SimCLR
// trainer (two views per image, NT-Xent, the encoder learning to tell images apart).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <vector>

#include <latent/latent.hpp>
#include <latent/repr/augment.hpp>
#include <latent/repr/simclr.hpp>

using namespace latent;

namespace {
Tensor<Shape<4, 5, 2>> ramp_images(std::size_t n) {
    Tensor<Shape<4, 5, 2>> x(n);
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < 40; ++i) x.sample(b)[i] = static_cast<float>((i * 7 + b * 3) % 41) / 40.0f;
    return x;
}
std::vector<float> values_of(const auto& t) { return std::vector<float>(t.data(), t.data() + t.size()); }
}  // namespace

TEST_CASE("augmentations: each alone does exactly what it says, and a seed gives the same views") {
    const auto x = ramp_images(3);
    Generator g(1);
    CHECK(values_of(repr::augment(x, repr::Augmentation::none(), g)) == values_of(x));

    auto flip = repr::Augmentation::none();
    flip.flip_probability = 1.0;
    const auto mirrored = repr::augment(x, flip, g);
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 5; ++c)
            for (std::size_t ch = 0; ch < 2; ++ch)
                CHECK(mirrored.sample(1)[(r * 5 + c) * 2 + ch] == x.sample(1)[(r * 5 + (4 - c)) * 2 + ch]);

    auto bright = repr::Augmentation::none();
    bright.brightness = 0.1;
    const auto shifted = repr::augment(x, bright, g);
    const double shift = shifted[0] - x[0];
    CHECK(std::abs(shift) <= 0.1);
    for (std::size_t i = 0; i < 40; ++i) CHECK(shifted.sample(0)[i] == doctest::Approx(x.sample(0)[i] + shift).epsilon(1e-6));

    // A crop at half the area magnifies: the view is smoother than the image (neighbours closer).
    auto crop = repr::Augmentation::none();
    crop.crop_min_area = 0.25;
    crop.crop_max_aspect = 1.0;
    Tensor<Shape<8, 8, 1>> checker(1);
    for (std::size_t i = 0; i < 64; ++i) checker[i] = static_cast<float>((i / 8 + i % 8) % 2);
    Generator gc(5);
    const auto zoomed = repr::augment(checker, crop, gc);
    for (float v : zoomed.values()) CHECK((v >= 0.0f && v <= 1.0f));
    double jump = 0;
    for (std::size_t i = 0; i + 1 < 64; ++i) jump += std::abs(zoomed[i + 1] - zoomed[i]);
    CHECK(jump < 63 * 0.99);

    // The full recipe: values stay in [0, 1]; the same seed, the same views; another seed, others.
    Generator a(7), b(7), c(8);
    const auto va = repr::augment(x, repr::Augmentation{}, a), vb = repr::augment(x, repr::Augmentation{}, b),
               vc = repr::augment(x, repr::Augmentation{}, c);
    CHECK(values_of(va) == values_of(vb));
    CHECK(values_of(va) != values_of(vc));
    for (float v : va.values()) CHECK((v >= 0.0f && v <= 1.0f));

    auto bad = repr::Augmentation{};
    bad.crop_min_area = 0.0;
    CHECK_THROWS_WITH_AS(repr::augment(x, bad, g), doctest::Contains("crop_min_area must be in (0, 1], got 0"),
                         value_error);
}

TEST_CASE("SimCLR: the encoder learns to tell images apart from two random views of each") {
    // 64 images, each a bright bar at its own place and angle on a dark 8x8 field.
    Tensor<Shape<8, 8, 1>> images(64);
    for (std::size_t b = 0; b < 64; ++b) {
        const double angle = 3.14159 * static_cast<double>(b % 8) / 8, offset = static_cast<double>(b / 8) - 3.5;
        for (std::size_t r = 0; r < 8; ++r)
            for (std::size_t c = 0; c < 8; ++c) {
                const double d = (static_cast<double>(c) - 3.5) * std::cos(angle) +
                                 (static_cast<double>(r) - 3.5) * std::sin(angle) - offset * 0.5;
                images.sample(b)[r * 8 + c] = static_cast<float>(std::exp(-d * d));
            }
    }
    using Encoder = Sequential<Input<8, 8, 1>, Flatten, Dense<32>, ReLU>;
    using Head = Sequential<Input<32>, Dense<16>>;
    repr::SimCLR<Encoder, Head> simclr(Encoder(1), Head(2));
    const auto before = values_of(simclr.encode(images));
    CHECK_THROWS_WITH_AS(simclr.fit(images), doctest::Contains("call compile(optimizer)"), value_error);
    simclr.compile(optim::Adam{.lr = 3e-3});
    auto mild = repr::Augmentation{};
    mild.crop_min_area = 0.7;
    mild.noise_stddev = 0.02;
    const auto history = simclr.fit(images, {.epochs = 30, .batch_size = 32, .temperature = 0.5,
                                             .augmentation = mild, .seed = 3, .verbose = Verbosity::silent});
    REQUIRE(history.epochs == 30);
    const auto& loss = history.at("loss");
    const auto& accuracy = history.at("contrastive_accuracy");
    MESSAGE("NT-Xent " << loss.front() << " -> " << loss.back() << ", contrastive accuracy " << accuracy.front()
                       << " -> " << accuracy.back());
    CHECK(loss.back() < loss.front() - 0.5);
    // Chance is 1 in 63 other views; a random encoder already finds some partners.
    CHECK(accuracy.back() > accuracy.front() + 0.05);
    // The representation moved (the encoder is the model's weights) and is 32 wide.
    const auto after = simclr.encode(images);
    CHECK(values_of(after) != before);
    CHECK(after.batch() == 64);

    CHECK_THROWS_WITH_AS(simclr.fit(images, {.batch_size = 1}), doctest::Contains("batch_size >= 2"), value_error);
    CHECK_THROWS_AS(simclr.fit(images, {.temperature = -1.0}), value_error);
}

TEST_CASE("SimCLR::fit takes fit's callbacks") {
    Tensor<Shape<8, 8, 1>> images(40);
    Generator g(5);
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(g.uniform(0.0, 1.0));
    using Encoder = Sequential<Input<8, 8, 1>, Flatten, Dense<16>, ReLU>;
    using Head = Sequential<Input<16>, Dense<8>>;
    repr::SimCLR<Encoder, Head> simclr(Encoder(1), Head(2));
    simclr.compile(optim::SGD{.lr = 0.1});
    const auto path = std::filesystem::path(LATENT_TEST_TMP_DIR) / "simclr_{epoch}.safetensors";
    callbacks::EarlyStopping early{.monitor = "loss", .min_delta = 10.0, .patience = 1};
    std::ostringstream out;
    const auto history = simclr.fit(
        images, {.epochs = 10, .batch_size = 20, .seed = 1, .out = &out,
                 .callbacks = {early,
                               callbacks::LearningRateScheduler{
                                   .schedule = [](std::size_t epoch, double lr) { return epoch == 0 ? lr : lr / 2; }},
                               callbacks::ModelCheckpoint{.filepath = path.string()}}});
    CHECK(history.epochs == 2);  // no loss falls by 10: the second epoch ends it
    CHECK(early.stopped_epoch == 1);
    CHECK(history.at("learning_rate") == std::vector<double>{0.1, 0.05});
    CHECK(out.str().find("Epoch 2/10 - ") != std::string::npos);
    CHECK(out.str().find(" - learning_rate: 0.0500") != std::string::npos);
    // The checkpoint of the last epoch holds the weights the model ends with.
    repr::SimCLR<Encoder, Head> loaded(Encoder(7), Head(8));
    loaded.model().load_weights(std::filesystem::path(LATENT_TEST_TMP_DIR) / "simclr_2.safetensors");
    const auto a = simclr.model().parameters().values(), b = loaded.model().parameters().values();
    CHECK(std::vector<float>(a.begin(), a.end()) == std::vector<float>(b.begin(), b.end()));
}
