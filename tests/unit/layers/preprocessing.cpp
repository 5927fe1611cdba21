// Rescaling and Normalization, Keras' preprocessing layers inside a model: values as Keras'
// docstrings give them, adapt() on the training data, gradients, and every bad setting refused.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <latent/latent.hpp>

#include "support/gradient_check.hpp"
#include "support/messages.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;

TEST_CASE("Rescaling computes x * scale + offset; its scale must be given and finite") {
    Sequential<Input<3>, Rescaling> net;
    LATENT_CHECK_ERROR(value_error, net.predict(Tensor<Shape<3>>(1, {0, 1, 255})), "latent.layers.rescaling.scale",
                       "Rescaling \"rescaling\": scale was never set");
    net.layer<0>().scale(1.0 / 127.5).offset(-1.0);  // Keras' example: [0, 255] to [-1, 1]
    const auto y = net.predict(Tensor<Shape<3>>(1, {0, 127.5f, 255}));
    CHECK(y[0] == doctest::Approx(-1.0));
    CHECK(y[1] == doctest::Approx(0.0));
    CHECK(y[2] == doctest::Approx(1.0));
    CHECK(Rescaling{0.5}.offset() == 0.0);
    LATENT_CHECK_ERROR(value_error, Rescaling{std::nan("")}, "latent.layers.rescaling.scale",
                       "scale must be a finite number, got nan");
    LATENT_CHECK_ERROR(value_error, Rescaling{1.0}.offset(std::numeric_limits<double>::infinity()),
                       "latent.layers.rescaling.offset", "offset must be a finite number, got inf");
    CHECK(check_layer_gradients<Shape<2, 3>>(Rescaling{0.25, 2.0}) > 0);
}

TEST_CASE("Normalization, adapted as Keras' layer.adapt(data), gives each feature zero mean and unit variance") {
    // Keras' docstring: adapt on [[0, 7, 4], [2, 9, 6], [0, 7, 4], [2, 9, 6]], then [0, 7, 4] -> [-1, -1, -1]
    using Net = Sequential<Input<3>, Normalization>;
    static_assert(Net::param_count == 6);
    Net net;
    const Tensor<Shape<3>> data(4, {0, 7, 4, 2, 9, 6, 0, 7, 4, 2, 9, 6});
    CHECK(net.predict(data)[1] == 7.0f);  // before adapt: mean 0, variance 1, the identity
    adapt(net.layer("normalization"), data);
    const auto stats = net.layer("normalization").get_weights();
    CHECK(stats[0] == std::vector<float>{1, 8, 5});
    CHECK(stats[1] == std::vector<float>{1, 1, 1});
    const auto y = net.predict(Tensor<Shape<3>>(1, {0, 7, 4}));
    for (int i = 0; i < 3; ++i) CHECK(y[i] == doctest::Approx(-1.0));
    CHECK(net.count_trainable_params() == 0);  // statistics, not learned
    CHECK(net.parameters().slots()[0].name == "normalization/mean");
    CHECK(net.parameters().slots()[1].name == "normalization/variance");

    // Keras' Normalization(mean=3, variance=2) on [1, 2, 3], as set_weights gives them
    Sequential<Input<1>, Normalization> given;
    given.layer("normalization").set_weights({{3.0f}, {2.0f}});
    const auto z = given.predict(Tensor<Shape<1>>(3, {1, 2, 3}));
    CHECK(z[0] == doctest::Approx(-1.4142135));
    CHECK(z[1] == doctest::Approx(-0.70710677));
    CHECK(z[2] == doctest::Approx(0.0));
    LATENT_CHECK_ERROR(shape_error, given.layer("normalization").set_weights({{3.0f, 1.0f}, {2.0f}}),
                       "latent.graph.set_weights", "weight 0 (normalization/mean): expected 1 values");

    // invert: back from normalized values (Keras' invert=True)
    Sequential<Input<3>, Normalization> back;
    back.layer<0>().invert(true);
    CHECK(Normalization{true}.invert());
    adapt(back.layer("normalization"), data);
    const auto x = back.predict(Tensor<Shape<3>>(1, {-1, -1, -1}));
    CHECK(std::vector<float>(x.data(), x.data() + 3) == std::vector<float>{0, 7, 4});

    // a feature of zero variance divides by 1e-7 (Keras' epsilon), not by 0
    Sequential<Input<2>, Normalization> flat;
    adapt(flat.layer("normalization"), Tensor<Shape<2>>(2, {5, 1, 5, 3}));
    const auto f = flat.predict(Tensor<Shape<2>>(1, {5, 3}));
    CHECK(f[0] == 0.0f);
    CHECK(f[1] == doctest::Approx(1.0));
}

TEST_CASE("Normalization normalizes the last axis at every position, in functional models too") {
    auto in = input<2, 2>("pairs");
    auto out = Normalization{}(in);
    Model model(in, out);
    // features (c0, c1) over 2 samples x 2 positions: c0 in {1, 3, 5, 7}, c1 in {2, 2, 2, 2}
    const Tensor<Shape<2, 2>> data(2, {1, 2, 3, 2, 5, 2, 7, 2});
    adapt(model.get_layer("normalization"), data);
    const auto stats = model.get_layer("normalization").get_weights();
    CHECK(stats[0] == std::vector<float>{4, 2});
    CHECK(stats[1] == std::vector<float>{5, 0});
    const auto y = model.predict(Tensor<Shape<2, 2>>(1, {4, 2, 9, 2}));
    CHECK(y[0] == 0.0f);
    CHECK(y[2] == doctest::Approx(5 / std::sqrt(5.0)));
    CHECK(check_layer_gradients<Shape<3, 4>>(Normalization{}, {.prepare_params = [](std::vector<double>& p) {
                                                  for (std::size_t i = 4; i < 8; ++i) p[i] = 0.5 + 0.25 * i;
                                              }}) > 0);
    CHECK(check_layer_gradients<Shape<4>>(Normalization{true}, {.prepare_params = [](std::vector<double>& p) {
                                              for (std::size_t i = 4; i < 8; ++i) p[i] = 2.0;
                                          }}) > 0);
}

TEST_CASE("adapt refuses what it cannot use, and then changes nothing") {
    Sequential<Input<2, 3>, Normalization, Flatten, Dense<2>> net;
    const auto before = net.layer("normalization").get_weights();
    LATENT_CHECK_ERROR(value_error, adapt(net.layer("dense"), Tensor<Shape<2, 3>>(2)), "latent.layers.adapt",
                       "adapt(layer \"dense\"): adapt sets a Normalization's statistics; this layer is a Dense");
    Tensor<Shape<2, 3>> bad(2);
    bad[4] = std::nanf("");
    LATENT_CHECK_ERROR(value_error, adapt(net.layer("normalization"), bad), "latent.layers.adapt",
                       "sample 0 holds nan (feature 1); the data must be finite");
    LATENT_CHECK_ERROR(shape_error, adapt(net.layer("normalization"), Tensor<Shape<4>>(2)), "latent.layers.adapt",
                       "its 3 features do not divide the data's samples of 4 values");
    LATENT_CHECK_ERROR(value_error, adapt(net.layer("normalization"), Tensor<Shape<2, 3>>(0)), "latent.layers.adapt",
                       "the data has no samples");
    CHECK(net.layer("normalization").get_weights() == before);
}
