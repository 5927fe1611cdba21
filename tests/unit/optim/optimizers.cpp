// One and two update steps of each optimizer against the formulas Keras uses, freezing by
// range, and rejection of impossible settings.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/rmsprop.hpp>
#include <latent/optim/sgd.hpp>

using namespace latent;
using B = cpu::reference;

struct Run {
    std::vector<float> w{1.0f, -2.0f, 0.5f};
    const std::vector<float> g{0.5f, -1.0f, 2.0f};
    std::vector<ArenaRange> all = std::vector<ArenaRange>(1, ArenaRange{0, 3});
    void step(optim::Optimizer& o) { o.step(w.data(), g.data(), w.size(), all); }
};

TEST_CASE("SGD without momentum: w -= lr g") {
    Run r;
    auto o = optim::SGD{.lr = 0.1}.build<B>();
    r.step(*o);
    CHECK(r.w[0] == doctest::Approx(0.95));
    CHECK(r.w[1] == doctest::Approx(-1.9));
    CHECK(r.w[2] == doctest::Approx(0.3));
    CHECK(o->iterations() == 1);
}

TEST_CASE("SGD with momentum and Nesterov, as Keras") {
    const double lr = 0.1, m = 0.9, g = 0.5;
    Run plain, nesterov;
    auto a = optim::SGD{.lr = lr, .momentum = m}.build<B>();
    auto b = optim::SGD{.lr = lr, .momentum = m, .nesterov = true}.build<B>();
    plain.step(*a);
    plain.step(*a);
    nesterov.step(*b);
    nesterov.step(*b);
    const double v1 = -lr * g, v2 = m * v1 - lr * g;
    CHECK(plain.w[0] == doctest::Approx(1.0 + v1 + v2));
    CHECK(nesterov.w[0] == doctest::Approx(1.0 + (m * v1 - lr * g) + (m * v2 - lr * g)));
}

TEST_CASE("Adam, as Keras (bias-corrected step size)") {
    Run r;
    auto o = optim::Adam{.lr = 0.01}.build<B>();
    r.step(*o);
    r.step(*o);
    double w = 1.0, m = 0, v = 0;
    for (int t = 1; t <= 2; ++t) {
        const double g = 0.5;
        m += (1 - 0.9) * (g - m);
        v += (1 - 0.999) * (g * g - v);
        const double alpha = 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
        w -= alpha * m / (std::sqrt(v) + 1e-7);
    }
    CHECK(r.w[0] == doctest::Approx(w).epsilon(1e-6));
}

TEST_CASE("RMSprop, with and without momentum, as Keras") {
    for (double momentum : {0.0, 0.5}) {
        Run r;
        auto o = optim::RMSprop{.lr = 0.01, .momentum = momentum}.build<B>();
        r.step(*o);
        r.step(*o);
        double w = -2.0, v = 0, mom = 0;
        for (int t = 1; t <= 2; ++t) {
            const double g = -1.0;
            v = 0.9 * v + 0.1 * g * g;
            const double step = 0.01 * g / std::sqrt(v + 1e-7);
            if (momentum > 0) {
                mom = momentum * mom + step;
                w -= mom;
            } else {
                w -= step;
            }
        }
        CHECK(r.w[1] == doctest::Approx(w).epsilon(1e-6));
    }
}

TEST_CASE("only the given ranges change (frozen parameters stay bit-identical)") {
    Run r;
    r.all = {{1, 2}};
    auto o = optim::Adam{}.build<B>();
    r.step(*o);
    CHECK(r.w[0] == 1.0f);
    CHECK(r.w[1] != -2.0f);
    CHECK(r.w[2] == 0.5f);
}

TEST_CASE("impossible settings are rejected with the setting's name") {
    CHECK_THROWS_WITH_AS(optim::SGD{.lr = -1}.build<B>(), doctest::Contains("SGD: lr"), value_error);
    CHECK_THROWS_WITH_AS(optim::SGD{.momentum = 1.0}.build<B>(), doctest::Contains("momentum"), value_error);
    CHECK_THROWS_WITH_AS(optim::Adam{.beta_1 = 1.5}.build<B>(), doctest::Contains("beta_1"), value_error);
    CHECK_THROWS_WITH_AS(optim::RMSprop{.lr = std::nan("")}.build<B>(), doctest::Contains("RMSprop: lr"), value_error);
    auto o = optim::SGD{}.build<B>();
    CHECK(o->learning_rate() == doctest::Approx(0.01));
    o->set_learning_rate(0.5);
    CHECK(o->learning_rate() == doctest::Approx(0.5));
    CHECK_THROWS_AS(o->set_learning_rate(0), value_error);
}
