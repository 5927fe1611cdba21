// Embedding: shapes and parameter counts as Keras', rows looked up, the table's gradient
// (repeated indices add up), indices that name no row refused, Keras' initializer, the weights'
// name in a file, and a model that learns from token indices.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <utility>
#include <vector>

#include <latent/latent.hpp>

#include "support/gradient_check.hpp"
#include "support/messages.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;

namespace {
// 240 sequences of 4 tokens out of 6; the label: whether token 3 occurs.
std::pair<Tensor<Shape<4>>, Tensor<Shape<1>>> token_data(std::uint64_t seed) {
    constexpr std::size_t n = 240;
    Tensor<Shape<4>> x(n);
    Tensor<Shape<1>> y(n);
    Generator g(seed);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < 4; ++j) x[4 * i + j] = static_cast<float>(g.next_u64() % 6);
        y[i] = std::count(x.data() + 4 * i, x.data() + 4 * i + 4, 3.0f) > 0 ? 1.0f : 0.0f;
    }
    return {std::move(x), std::move(y)};
}
}  // namespace

TEST_CASE("Embedding: Shape<L> in, Shape<L, OutputDim> out, InputDim x OutputDim parameters as Keras counts") {
    using Net = Sequential<Input<10>, Embedding<100, 8>, Flatten, Dense<2>>;
    static_assert(std::is_same_v<Net::output_shape, Shape<2>>);
    static_assert(Net::param_count == 100 * 8 + 80 * 2 + 2);
    static_assert(std::is_same_v<Embedding<100, 8>::output_shape<Shape<10>>, Shape<10, 8>>);
    static_assert(!Embedding<100, 8>::accepts<Shape<10, 2>>);  // one index per position
}

TEST_CASE("Embedding looks rows up, and its table starts uniform in [-0.05, 0.05] as Keras'") {
    Sequential<Input<3>, Embedding<5, 2>> net(4);
    const auto table = net.parameters().values();
    REQUIRE(table.size() == 10);
    CHECK(std::all_of(table.begin(), table.end(), [](float v) { return v >= -0.05f && v <= 0.05f; }));
    CHECK(std::any_of(table.begin(), table.end(), [](float v) { return std::abs(v) > 0.01f; }));
    Tensor<Shape<3>> x(2);
    const float indices[] = {4, 0, 2, 2, 2, 1};
    std::copy(std::begin(indices), std::end(indices), x.data());
    const auto y = net.predict(x);
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t c = 0; c < 2; ++c) {
            INFO("index " << i << ", column " << c);
            CHECK(y.data()[i * 2 + c] == table[static_cast<std::size_t>(indices[i]) * 2 + c]);
        }
}

TEST_CASE("Embedding gradients: the table's, repeated rows adding up") {
    const testing::GradientCheck options{
        .batch = 3,
        .prepare_inputs = [](std::vector<double>& x) {
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i * 3 % 4);
        },
        .differentiate_inputs = false};
    CHECK(check_layer_gradients<Shape<5>>(Embedding<4, 3>{}, options) == 4 * 3);
}

TEST_CASE("Embedding refuses an index that names no row, saying where it is") {
    Sequential<Input<3>, Embedding<5, 2>> net;
    Tensor<Shape<3>> x(2);
    const auto with = [&](float value) {
        std::fill(x.data(), x.data() + x.size(), 1.0f);
        x.data()[5] = value;
        return net.predict(x);
    };
    LATENT_CHECK_ERROR(value_error, with(5.0f), "latent.layers.embedding.index",
                       "Embedding \"embedding\": sample 1, position 2 holds 5.000000; an index must be a whole number "
                       "in [0, 5)");
    LATENT_CHECK_ERROR(value_error, with(-1.0f), "latent.layers.embedding.index", "holds -1.000000");
    LATENT_CHECK_ERROR(value_error, with(2.5f), "latent.layers.embedding.index", "holds 2.500000");
    LATENT_CHECK_ERROR(value_error, with(std::numeric_limits<float>::quiet_NaN()), "latent.layers.embedding.index",
                       "holds nan");
    CHECK(with(4.0f).batch() == 2);
}

TEST_CASE("an Embedding's table is saved as \"<name>/embeddings\" (InputDim, OutputDim), as Keras names it") {
    Sequential<Input<3>, Embedding<5, 2>, Flatten, Dense<1>> net;
    const auto path = std::filesystem::path(LATENT_TEST_TMP_DIR) / "embedding.safetensors";
    net.save_weights(path);
    const auto file = io::read_safetensors(path);
    REQUIRE(file.tensors.count("embedding/embeddings") == 1);
    CHECK(file.tensors.at("embedding/embeddings").dims == std::vector<std::size_t>{5, 2});
}

TEST_CASE("a model on token indices learns through its Embedding") {
    const auto [x, y] = token_data(5);
    Sequential<Input<4>, Embedding<6, 4>, Flatten, Dense<8>, ReLU, Dense<1>, Sigmoid> net(2);
    net.compile(optim::Adam{.lr = 2e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
    const auto before = net.parameters().values();
    const std::vector<float> table_before(before.begin(), before.begin() + 24);
    const History history = net.fit(x, y, {.epochs = 30, .batch_size = 32, .verbose = Verbosity::silent});
    CHECK(history.last("accuracy") > 0.95);
    const auto after = net.parameters().values();
    CHECK(std::vector<float>(after.begin(), after.begin() + 24) != table_before);  // the table trained
}

TEST_CASE("GlobalAveragePooling1D: (steps, channels) -> (channels), the mean over the steps; its gradients") {
    using Net = Sequential<Input<4>, Embedding<6, 3>, GlobalAveragePooling1D>;
    static_assert(std::is_same_v<Net::output_shape, Shape<3>>);
    static_assert(!GlobalAveragePooling1D::accepts<Shape<4, 4, 3>>);
    Net net(1);
    Tensor<Shape<4>> x(1);
    const float tokens[] = {5, 0, 5, 2};
    std::copy(std::begin(tokens), std::end(tokens), x.data());
    const auto table = net.parameters().values();
    const auto y = net.predict(x);
    for (std::size_t c = 0; c < 3; ++c) {
        const double mean = (2.0 * table[5 * 3 + c] + table[0 * 3 + c] + table[2 * 3 + c]) / 4.0;
        CHECK(y.data()[c] == doctest::Approx(mean).epsilon(1e-6));
    }
    CHECK(check_layer_gradients<Shape<5, 3>>(GlobalAveragePooling1D{}) > 0);
}

TEST_CASE("a bag of embeddings (Embedding, GlobalAveragePooling1D) learns which token a sequence holds") {
    const auto [x, y] = token_data(6);
    Sequential<Input<4>, Embedding<6, 8>, GlobalAveragePooling1D, Dense<8>, ReLU, Dense<1>, Sigmoid> net(3);
    net.compile(optim::Adam{.lr = 2e-2}, loss::BinaryCrossentropy{}, metrics::Accuracy{});
    const History history = net.fit(x, y, {.epochs = 40, .batch_size = 32, .verbose = Verbosity::silent});
    CHECK(history.last("accuracy") > 0.95);
}

TEST_CASE("PositionEmbedding gives every sample the table's first `steps` rows, as KerasHub's; Add puts them on x") {
    using L = PositionEmbedding<5>;
    constexpr auto specs = L::params<Shape<3, 2>>;
    CHECK(specs[0].name == "embeddings");
    CHECK(specs[0].dim_vector() == std::vector<std::size_t>{5, 2});  // sequence_length rows
    CHECK(specs[0].init == Init::glorot_uniform);
    static_assert(accepts_v<L, Shape<5, 2>> && accepts_v<L, Shape<3, 2>> && !accepts_v<L, Shape<6, 2>>);
    static_assert(!accepts_v<L, Shape<10>>);
    static_assert(std::is_same_v<L::requirement, sequence_at_most<5>>);
    const std::vector<float> table{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    std::vector<float> x{9, 9, 9, 9, 9, 9, -1, -1, -1, -1, -1, -1}, y(12), ws(1);
    ForwardArgs<float> a{x.data(), y.data(), table.data(), ws.data(), 2, Mode::infer, nullptr};
    L{}.forward<Shape<3, 2>, cpu::reference, float>(a);
    CHECK(y == std::vector<float>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6});
    CHECK(check_layer_gradients<Shape<3, 2>>(L{}) > 0);

    // x + its positions, in a functional model
    auto in = input<3, 2>("tokens");
    auto out = Add{}(in, PositionEmbedding<4>{}(in));
    auto model = Model(in, out);
    std::copy(table.begin(), table.begin() + 8, model.parameters().values().begin());
    const auto added = model.predict(Tensor<Shape<3, 2>>(1, {1, 1, 1, 1, 1, 1}));
    CHECK(std::vector<float>(added.data(), added.data() + 6) == std::vector<float>{2, 3, 4, 5, 6, 7});
}
