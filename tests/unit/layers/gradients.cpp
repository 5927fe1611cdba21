// Double-precision finite-difference gradient checks for every layer.
#include <doctest/doctest.h>

#include <latent/layers/activation.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/dropout.hpp>
#include <latent/layers/reshape.hpp>

#include "support/gradient_check.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;

TEST_CASE("Dense gradients") {
    CHECK(check_layer_gradients<Shape<5>>(Dense<4>{}) > 0);
    CHECK(check_layer_gradients<Shape<1>>(Dense<3>{}, {.batch = 1}) > 0);
}

TEST_CASE("activation gradients") {
    SUBCASE("ReLU") { CHECK(check_layer_gradients<Shape<7>>(ReLU{}) > 0); }
    SUBCASE("LeakyReLU") { CHECK(check_layer_gradients<Shape<7>>(LeakyReLU{0.2}) > 0); }
    SUBCASE("Sigmoid") { CHECK(check_layer_gradients<Shape<2, 3>>(Sigmoid{}, {.input_low = -6, .input_high = 6}) > 0); }
    SUBCASE("Tanh") { CHECK(check_layer_gradients<Shape<6>>(Tanh{}, {.input_low = -3, .input_high = 3}) > 0); }
    SUBCASE("Activation<linear>") { CHECK(check_layer_gradients<Shape<4>>(Activation<activations::linear>{}) > 0); }
    SUBCASE("Softmax over the last axis") {
        CHECK(check_layer_gradients<Shape<5>>(Softmax{}, {.input_low = -4, .input_high = 4}) > 0);
        CHECK(check_layer_gradients<Shape<2, 3>>(Softmax{}) > 0);
    }
}

TEST_CASE("shape layer gradients") {
    CHECK(check_layer_gradients<Shape<2, 3, 2>>(Flatten{}) > 0);
    CHECK(check_layer_gradients<Shape<12>>(Reshape<3, 4>{}) > 0);
}

TEST_CASE("Dropout gradients with a fixed mask, in training and inference") {
    CHECK(check_layer_gradients<Shape<20>>(Dropout{0.3}, {.mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<20>>(Dropout{0.3}, {.mode = Mode::infer}) > 0);
}
