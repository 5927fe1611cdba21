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
    check_layer_gradients<Shape<5>>(Dense<4>{});
    check_layer_gradients<Shape<1>>(Dense<3>{}, {.batch = 1});
}

TEST_CASE("activation gradients") {
    SUBCASE("ReLU") { check_layer_gradients<Shape<7>>(ReLU{}); }
    SUBCASE("LeakyReLU") { check_layer_gradients<Shape<7>>(LeakyReLU{0.2}); }
    SUBCASE("Sigmoid") { check_layer_gradients<Shape<2, 3>>(Sigmoid{}, {.input_low = -6, .input_high = 6}); }
    SUBCASE("Tanh") { check_layer_gradients<Shape<6>>(Tanh{}, {.input_low = -3, .input_high = 3}); }
    SUBCASE("Activation<linear>") { check_layer_gradients<Shape<4>>(Activation<activations::linear>{}); }
    SUBCASE("Softmax over the last axis") {
        check_layer_gradients<Shape<5>>(Softmax{}, {.input_low = -4, .input_high = 4});
        check_layer_gradients<Shape<2, 3>>(Softmax{});
    }
}

TEST_CASE("shape layer gradients") {
    check_layer_gradients<Shape<2, 3, 2>>(Flatten{});
    check_layer_gradients<Shape<12>>(Reshape<3, 4>{});
}

TEST_CASE("Dropout gradients with a fixed mask, in training and inference") {
    check_layer_gradients<Shape<20>>(Dropout{0.3}, {.mode = Mode::train});
    check_layer_gradients<Shape<20>>(Dropout{0.3}, {.mode = Mode::infer});
}
