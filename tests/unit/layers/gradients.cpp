// Double-precision finite-difference gradient checks for every layer.
#include <doctest/doctest.h>

#include <latent/layers/activation.hpp>
#include <latent/layers/contractive.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/dropout.hpp>
#include <latent/layers/prelu.hpp>
#include <latent/layers/regularization.hpp>
#include <latent/layers/reshape.hpp>
#include <latent/layers/sampling.hpp>

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
    SUBCASE("ELU") { CHECK(check_layer_gradients<Shape<8>>(ELU{0.7}, {.input_low = -4, .input_high = 4}) > 0); }
    SUBCASE("SELU") { CHECK(check_layer_gradients<Shape<8>>(SELU{}, {.input_low = -4, .input_high = 4}) > 0); }
    SUBCASE("GELU") { CHECK(check_layer_gradients<Shape<8>>(GELU{}, {.input_low = -4, .input_high = 4}) > 0); }
    SUBCASE("GELU, tanh form") {
        CHECK(check_layer_gradients<Shape<8>>(GELU{true}, {.input_low = -4, .input_high = 4}) > 0);
    }
    SUBCASE("SiLU") { CHECK(check_layer_gradients<Shape<8>>(SiLU{}, {.input_low = -6, .input_high = 6}) > 0); }
    SUBCASE("Softplus") { CHECK(check_layer_gradients<Shape<8>>(Softplus{}, {.input_low = -6, .input_high = 6}) > 0); }
    SUBCASE("Softsign") { CHECK(check_layer_gradients<Shape<8>>(Softsign{}, {.input_low = -4, .input_high = 4}) > 0); }
    SUBCASE("HardSigmoid") {
        CHECK(check_layer_gradients<Shape<8>>(HardSigmoid{}, {.input_low = -5, .input_high = 5}) > 0);
    }
    SUBCASE("HardSiLU") { CHECK(check_layer_gradients<Shape<8>>(HardSiLU{}, {.input_low = -5, .input_high = 5}) > 0); }
    SUBCASE("Mish") { CHECK(check_layer_gradients<Shape<8>>(Mish{}, {.input_low = -5, .input_high = 5}) > 0); }
    SUBCASE("ReLU6") { CHECK(check_layer_gradients<Shape<8>>(ReLU6{}, {.input_low = -3, .input_high = 9}) > 0); }
    SUBCASE("Activation<linear>") { CHECK(check_layer_gradients<Shape<4>>(Activation<activations::linear>{}) > 0); }
    SUBCASE("Softmax over the last axis") {
        CHECK(check_layer_gradients<Shape<5>>(Softmax{}, {.input_low = -4, .input_high = 4}) > 0);
        CHECK(check_layer_gradients<Shape<2, 3>>(Softmax{}) > 0);
    }
}

TEST_CASE("PReLU gradients, alpha's too, with and without shared axes") {
    CHECK(check_layer_gradients<Shape<2, 3>>(PReLU<>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<2, 3, 2>>(PReLU<1, 2>{}, {.batch = 2}) > 0);
    // shared axes that do not lead: alpha's gradient sums the reordered summands
    CHECK(check_layer_gradients<Shape<3, 2, 4>>(PReLU<2>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<3, 2, 4>>(PReLU<1, 3>{}, {.batch = 3}) > 0);
}

TEST_CASE("shape layer gradients") {
    CHECK(check_layer_gradients<Shape<2, 3, 2>>(Flatten{}) > 0);
    CHECK(check_layer_gradients<Shape<12>>(Reshape<3, 4>{}) > 0);
    CHECK(check_layer_gradients<Shape<2, 3, 4>>(Permute<2, 3, 1>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3>>(Permute<2, 1>{}, {.batch = 2}) > 0);
}

TEST_CASE("Dropout gradients with a fixed mask, in training and inference") {
    CHECK(check_layer_gradients<Shape<20>>(Dropout{0.3}, {.mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<20>>(Dropout{0.3}, {.mode = Mode::infer}) > 0);
}

TEST_CASE("ActivityRegularization: its penalty and that penalty's gradient") {
    CHECK(check_layer_gradients<Shape<6>>(ActivityRegularization{0.1}) > 0);
    CHECK(check_layer_gradients<Shape<2, 3>>(ActivityRegularization{0.0, 0.3}, {.batch = 4}) > 0);
    CHECK(check_layer_gradients<Shape<5>>(ActivityRegularization{0.05, 0.2}, {.batch = 1}) > 0);

    // The term itself, divided by the batch size as Keras does: x = (1, -2 | 0, 3).
    const ActivityRegularization both{0.1, 0.5};
    const double x[4] = {1, -2, 0, 3};
    double scratch[4];
    CHECK(both.loss_term<Shape<2>, cpu::reference, double>(x, scratch, 2) ==
          doctest::Approx((0.1 * 6 + 0.5 * 14) / 2));
    CHECK(ActivityRegularization{}.loss_term<Shape<2>, cpu::reference, double>(x, scratch, 2) == 0.0);
}

TEST_CASE("Sampling: the reparameterized draw and the KL term, differentiated together") {
    // The same eps in every evaluation (the check reseeds the generator), so the draw is a
    // smooth function of the means and log-variances.
    CHECK(check_layer_gradients<Shape<6>>(Sampling{}, {.mode = Mode::train, .input_low = -1.5, .input_high = 1.5}) > 0);
    CHECK(check_layer_gradients<Shape<4>>(Sampling{0.25}, {.batch = 5, .mode = Mode::train}) > 0);
    CHECK(check_layer_gradients<Shape<2>>(Sampling{0.0}, {.batch = 1, .mode = Mode::train}) > 0);

    // KL(N(m, e^lv) || N(0, 1)) = (e^lv + m^2 - 1 - lv) / 2 per unit; in inference z is the mean.
    const Sampling sampling{2.0};
    const double x[4] = {0.5, -1.0, std::log(2.0), 0.0};  // means (0.5, -1), log-variances (ln 2, 0)
    double workspace[4] = {}, z[2] = {};
    const double kl = ((2.0 + 0.25 - 1 - std::log(2.0)) + (1.0 + 1.0 - 1 - 0.0)) / 2;
    CHECK(sampling.loss_term<Shape<4>, cpu::reference, double>(x, workspace, 1) == doctest::Approx(2.0 * kl));
    ForwardArgs<double> a{x, z, nullptr, workspace, 1, Mode::infer};
    sampling.forward<Shape<4>, cpu::reference, double>(a);
    CHECK(z[0] == 0.5);
    CHECK(z[1] == -1.0);
    static_assert(std::is_same_v<Sampling::output_shape<Shape<4>>, Shape<2>>);
    static_assert(!Sampling::accepts<Shape<3>> && !Sampling::accepts<Shape<2, 2>>);
}

TEST_CASE("ContractiveDense: sigmoid(xW + b) and its Jacobian penalty, differentiated together") {
    CHECK(check_layer_gradients<Shape<5>>(ContractiveDense<4>{0.3}, {.input_low = -2, .input_high = 2}) > 0);
    CHECK(check_layer_gradients<Shape<3>>(ContractiveDense<6>{2.0}, {.batch = 1}) > 0);
    CHECK(check_layer_gradients<Shape<4>>(ContractiveDense<2>{0.0}, {.batch = 4}) > 0);

    // The penalty is the squared Frobenius norm of dh/dx, here measured by central differences.
    constexpr std::size_t in = 3, units = 2;
    const ContractiveDense<units> layer{0.5};
    const double params[in * units + units] = {0.3, -0.7, 1.1, 0.2, -0.4, 0.9, 0.1, -0.2};
    const double x[in] = {0.5, -1.0, 2.0};
    auto run = [&](const double* input, double* h, double* workspace) {
        ForwardArgs<double> a{input, h, params, workspace, 1, Mode::infer};
        layer.forward<Shape<in>, cpu::reference, double>(a);
    };
    double h[units], workspace[units + 1 + units];
    run(x, h, workspace);
    const double term = layer.loss_term<Shape<in>, cpu::reference, double>(x, workspace, 1);
    double frobenius = 0.0;
    for (std::size_t i = 0; i < in; ++i) {
        double plus[in], minus[in], hp[units], hm[units], scratch[units + 1 + units];
        std::copy(x, x + in, plus);
        std::copy(x, x + in, minus);
        plus[i] += 1e-5;
        minus[i] -= 1e-5;
        run(plus, hp, scratch);
        run(minus, hm, scratch);
        for (std::size_t j = 0; j < units; ++j) frobenius += std::pow((hp[j] - hm[j]) / 2e-5, 2);
    }
    CHECK(term == doctest::Approx(0.5 * frobenius).epsilon(1e-6));
    CHECK(h[0] == doctest::Approx(1.0 / (1.0 + std::exp(-(0.5 * 0.3 - 1.0 * 1.1 + 2.0 * -0.4 + 0.1)))));
    CHECK_THROWS_WITH_AS(ContractiveDense<2>{-1.0}, doctest::Contains("contraction must be a finite number >= 0"),
                         value_error);
}
