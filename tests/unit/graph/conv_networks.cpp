// Convolutional networks as a whole: the seeds' MiniVGGNet counts exactly like Keras (also with
// its convolutional base frozen), a small CNN with BatchNorm learns, its weights (moving
// statistics included) survive a save and load, and cpu::simd agrees with cpu::reference.
#include <doctest/doctest.h>

#include <sstream>

#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

#include "support/files.hpp"

using namespace latent;

namespace {

template <class Backend>
using MiniVGGOn = Sequential<Backend, Input<28, 28, 1>,
                             Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                             Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                             MaxPool2D<2>, Dropout,
                             Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                             Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                             MaxPool2D<2>, Dropout,
                             Flatten, Dense<512>, ReLU, BatchNorm, Dropout,
                             Dense<10>, Softmax>;
using MiniVGG = MiniVGGOn<cpu::reference>;

// Keras' model.count_params() for MiniVGGNet; BatchNorm's moving statistics are non-trainable.
static_assert(MiniVGG::param_count == 1'679'082);
static_assert(MiniVGG::non_trainable_param_count == 2 * (32 + 32 + 64 + 64 + 512));
static_assert(MiniVGG::trainable_param_count == 1'679'082 - 1'408);
static_assert(std::is_same_v<MiniVGG::layer_output_shape<6>, Shape<14, 14, 32>>);
static_assert(std::is_same_v<MiniVGG::layer_output_shape<16>, Shape<3136>>);
static_assert(std::is_same_v<MiniVGG::output_shape, Shape<10>>);

// The convolutional autoencoder of examples/conv_autoencoder, with a 2-unit bottleneck.
using ConvAutoencoder = Sequential<Input<28, 28, 1>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<16, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
    Conv2D<8, 3, Padding::same>, ReLU, BatchNorm,
    Flatten, Dense<2>,
    Dense<8 * 7 * 7>, ReLU, Reshape<7, 7, 8>,
    Conv2D<8, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<16, 3, Padding::same>, ReLU, BatchNorm, UpSampling2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm, UpSampling2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<1, 3, Padding::same>, Sigmoid>;
static_assert(std::is_same_v<ConvAutoencoder::layer_output_shape<15>, Shape<2>>);
static_assert(std::is_same_v<ConvAutoencoder::output_shape, Shape<28, 28, 1>>);

// A small CNN that must tell an image bright in its top half from one bright in its bottom half.
template <class Backend = cpu::reference>
using SmallCnn = Sequential<Backend, Input<8, 8, 1>, Conv2D<4, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
                            Conv2D<4, 3>, ReLU, Flatten, Dense<2>, Softmax>;

void make_halves(Tensor<Shape<8, 8, 1>>& x, Tensor<Shape<2>>& y, std::uint64_t seed) {
    Generator g(seed);
    for (std::size_t n = 0; n < x.batch(); ++n) {
        const bool top = g.below(2) == 0;
        auto s = x.sample(n);
        for (std::size_t i = 0; i < 64; ++i)
            s[i] = static_cast<float>(g.uniform_float() * 0.5 + (((i / 8) < 4) == top ? 0.5 : 0.0));
        y.sample(n)[0] = top ? 1.0f : 0.0f;
        y.sample(n)[1] = top ? 0.0f : 1.0f;
    }
}

}  // namespace

TEST_CASE("MiniVGGNet's summary and frozen counts match Keras") {
    MiniVGG net;
    net.layer<16>().set_name("features");
    std::ostringstream out;
    net.summary(out);
    const std::string s = out.str();
    CHECK(s.find(" conv2d (Conv2D)             (None, 28, 28, 32)        320       \n") != std::string::npos);
    // Names too long for their column wrap onto the next line, as Keras prints them.
    CHECK(s.find(" batch_normalization (BatchN  (None, 28, 28, 32)       128       \n"
                 " ormalization)                                                   \n") != std::string::npos);
    CHECK(s.find(" max_pooling2d (MaxPooling2D  (None, 14, 14, 32)       0         \n"
                 " )                                                               \n") != std::string::npos);
    CHECK(s.find(" features (Flatten)          (None, 3136)              0         \n") != std::string::npos);
    CHECK(s.find("Total params: 1,679,082\nTrainable params: 1,677,674\nNon-trainable params: 1,408\n") !=
          std::string::npos);
    // Transfer learning freezes the convolutional base (everything below "features").
    for (std::size_t i = 0; i < 16; ++i) net.layer(i).set_trainable(false);
    CHECK(net.count_trainable_params() == 1'612'298);
    CHECK(net.param_count - net.count_trainable_params() == 66'784);
}

TEST_CASE("a small CNN with BatchNorm learns, and its moving statistics move") {
    Tensor<Shape<8, 8, 1>> x(256);
    Tensor<Shape<2>> y(256);
    make_halves(x, y, 1);
    SmallCnn<> net(4);
    net.compile(optim::Adam{.lr = 1e-2}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    const auto before = net.evaluate(x, y);
    const auto moving_before = net.layer("batch_normalization").weights()[2].second;
    const std::vector<float> mean_before(moving_before.begin(), moving_before.end());
    const auto history = net.fit(x, y, {.epochs = 6, .batch_size = 32, .verbose = Verbosity::silent});
    const auto after = net.evaluate(x, y);
    CHECK(history.at("loss").back() < history.at("loss").front());
    CHECK(after.at("loss") < before.at("loss"));
    CHECK(after.at("accuracy") >= 0.9);
    const auto moving_after = net.layer("batch_normalization").weights()[2].second;
    CHECK_FALSE(std::equal(mean_before.begin(), mean_before.end(), moving_after.begin()));

    SUBCASE("inference is deterministic and per-sample") {
        const auto a = net.predict(x);
        const auto b = net.predict(x, 7);
        CHECK(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
    }
    SUBCASE("weights, moving statistics included, survive a save and load") {
        const auto path = latent::testing::fresh_dir("graph", "conv_weights") / "small_cnn.safetensors";
        net.save_weights(path);
        SmallCnn<> other(99);
        other.load_weights(path);
        const auto a = net.predict(x);
        const auto b = other.predict(x);
        CHECK(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
    }
}

TEST_CASE("cpu::simd agrees with cpu::reference through a convolutional network") {
    Tensor<Shape<8, 8, 1>> x(16);
    Tensor<Shape<2>> y(16);
    make_halves(x, y, 3);
    SmallCnn<cpu::reference> ref(5);
    SmallCnn<cpu::simd> fast(5);
    const float* out_ref = ref.forward(x.data(), 16, Mode::train);
    const float* out_fast = fast.forward(x.data(), 16, Mode::train);
    for (std::size_t i = 0; i < 32; ++i) CHECK(out_fast[i] == doctest::Approx(out_ref[i]).epsilon(1e-5));
    std::vector<float> dy(32);
    for (std::size_t i = 0; i < 32; ++i) dy[i] = static_cast<float>(i % 5) * 0.1f - 0.2f;
    auto g_ref = ref.gradients();
    auto g_fast = fast.gradients();
    std::fill(g_ref.begin(), g_ref.end(), 0.0f);
    std::fill(g_fast.begin(), g_fast.end(), 0.0f);
    ref.backward(dy.data());
    fast.backward(dy.data());
    REQUIRE(g_ref.size() == g_fast.size());
    for (std::size_t i = 0; i < g_ref.size(); ++i)
        CHECK(g_fast[i] == doctest::Approx(g_ref[i]).epsilon(1e-4).scale(1e-3));
}
