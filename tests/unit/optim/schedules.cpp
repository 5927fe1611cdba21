// Learning-rate schedules: Keras' formulas at chosen steps, an optimizer following one step by
// step, their validation, and a rate that cannot be set while a schedule drives it.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/schedules.hpp>
#include <latent/optim/sgd.hpp>

using namespace latent;
using namespace latent::optim::schedules;
using B = cpu::reference;

TEST_CASE("ExponentialDecay and InverseTimeDecay, smooth and staircase") {
    const ExponentialDecay smooth{.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5};
    CHECK(smooth(0) == doctest::Approx(0.1));
    CHECK(smooth(5) == doctest::Approx(0.1 * std::sqrt(0.5)));
    CHECK(smooth(10) == doctest::Approx(0.05));
    CHECK(smooth(25) == doctest::Approx(0.1 * std::pow(0.5, 2.5)));
    const ExponentialDecay stairs{.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5, .staircase = true};
    CHECK(stairs(9) == doctest::Approx(0.1));
    CHECK(stairs(25) == doctest::Approx(0.025));

    const InverseTimeDecay inverse{.initial_learning_rate = 0.1, .decay_steps = 4, .decay_rate = 0.5};
    CHECK(inverse(2) == doctest::Approx(0.1 / 1.25));
    const InverseTimeDecay inverse_stairs{
        .initial_learning_rate = 0.1, .decay_steps = 4, .decay_rate = 0.5, .staircase = true};
    CHECK(inverse_stairs(3) == doctest::Approx(0.1));
    CHECK(inverse_stairs(9) == doctest::Approx(0.1 / 2.0));
}

TEST_CASE("PiecewiseConstantDecay switches after each boundary (Keras' example)") {
    const PiecewiseConstantDecay piecewise{.boundaries = {100000, 110000}, .values = {1.0, 0.5, 0.1}};
    CHECK(piecewise(0) == 1.0);
    CHECK(piecewise(100000) == 1.0);
    CHECK(piecewise(100001) == 0.5);
    CHECK(piecewise(110000) == 0.5);
    CHECK(piecewise(110001) == 0.1);
}

TEST_CASE("PolynomialDecay, with and without cycles") {
    const PolynomialDecay linear{.initial_learning_rate = 0.1, .decay_steps = 10, .end_learning_rate = 0.01};
    CHECK(linear(0) == doctest::Approx(0.1));
    CHECK(linear(5) == doctest::Approx(0.055));
    CHECK(linear(30) == doctest::Approx(0.01));
    const PolynomialDecay squared{
        .initial_learning_rate = 0.1, .decay_steps = 10, .end_learning_rate = 0.01, .power = 2.0, .cycle = true};
    CHECK(squared(5) == doctest::Approx(0.09 * 0.25 + 0.01));
    CHECK(squared(15) == doctest::Approx(0.09 * 0.0625 + 0.01));  // decay_steps grows to 20
}

TEST_CASE("CosineDecay, with alpha and with Keras 3's linear warm-up") {
    const CosineDecay cosine{.initial_learning_rate = 1.0, .decay_steps = 100};
    CHECK(cosine(0) == doctest::Approx(1.0));
    CHECK(cosine(50) == doctest::Approx(0.5));
    CHECK(cosine(25) == doctest::Approx(0.5 * (1 + std::cos(std::numbers::pi / 4))));
    CHECK(cosine(100) == doctest::Approx(0.0));
    CHECK(cosine(500) == doctest::Approx(0.0));
    const CosineDecay floor{.initial_learning_rate = 1.0, .decay_steps = 100, .alpha = 0.1};
    CHECK(floor(100) == doctest::Approx(0.1));
    const CosineDecay warm{.initial_learning_rate = 0.0, .decay_steps = 100, .warmup_target = 0.2, .warmup_steps = 10};
    CHECK(warm(0) == doctest::Approx(0.0));
    CHECK(warm(5) == doctest::Approx(0.1));
    CHECK(warm(10) == doctest::Approx(0.2));
    CHECK(warm(60) == doctest::Approx(0.1));
    CHECK(warm(1000) == doctest::Approx(0.0));
}

TEST_CASE("an optimizer follows its schedule, one step after another") {
    std::vector<float> w{1.0f};
    const std::vector<float> g{1.0f};
    const std::vector<ArenaRange> all{ArenaRange{0, 1}};
    auto o = optim::SGD{.lr = PiecewiseConstantDecay{.boundaries = {1}, .values = {0.5, 0.25}}}.build<B>();
    CHECK(o->learning_rate_scheduled());
    std::vector<double> rates;
    for (int i = 0; i < 3; ++i) {
        rates.push_back(o->learning_rate());
        o->step(w.data(), g.data(), 1, all);
    }
    CHECK(rates == std::vector<double>{0.5, 0.5, 0.25});
    CHECK(w[0] == doctest::Approx(1.0 - 0.5 - 0.5 - 0.25));
    o->set_iterations(100);  // a checkpoint's count: the schedule follows it
    CHECK(o->learning_rate() == 0.25);

    // Any callable of the step count is a schedule.
    auto custom = optim::Adam{.lr = [](std::size_t step) { return 0.1 / static_cast<double>(1 + step); }}.build<B>();
    CHECK(custom->learning_rate() == doctest::Approx(0.1));
    custom->set_iterations(4);
    CHECK(custom->learning_rate() == doctest::Approx(0.02));
    auto negative = optim::SGD{.lr = [](std::size_t step) { return 0.1 - 0.1 * static_cast<double>(step); }}.build<B>();
    negative->step(w.data(), g.data(), 1, all);
    negative->step(w.data(), g.data(), 1, all);  // step 1: 0, still a rate
    CHECK_THROWS_WITH_AS(negative->step(w.data(), g.data(), 1, all),
                         doctest::Contains("SGD: its learning-rate schedule gave -0.100000 for step 2"), value_error);
}

TEST_CASE("impossible schedules are refused when the optimizer is built, naming the setting") {
    const auto build = [](auto settings) { return settings.template build<B>(); };
    CHECK_THROWS_WITH_AS(build(optim::SGD{.lr = ExponentialDecay{.initial_learning_rate = 0.1, .decay_rate = 0.9}}),
                         doctest::Contains("ExponentialDecay: decay_steps must be at least 1"), value_error);
    CHECK_THROWS_WITH_AS(build(optim::SGD{.lr = PiecewiseConstantDecay{{10, 5}, {1.0, 0.5, 0.1}}}),
                         doctest::Contains("PiecewiseConstantDecay: boundaries must increase"), value_error);
    CHECK_THROWS_WITH_AS(build(optim::SGD{.lr = PiecewiseConstantDecay{{10}, {1.0}}}),
                         doctest::Contains("needs one value more than boundaries"), value_error);
    CHECK_THROWS_WITH_AS(build(optim::Adam{.lr = CosineDecay{0.0, 10}}),
                         doctest::Contains("CosineDecay: initial_learning_rate must be positive"), value_error);
    const CosineDecay warm_up_without_steps{.initial_learning_rate = 0.0, .decay_steps = 10, .warmup_target = 0.1};
    CHECK_THROWS_WITH_AS(build(optim::Adam{.lr = warm_up_without_steps}),
                         doctest::Contains("warmup_target needs warmup_steps"), value_error);
}

TEST_CASE("a scheduled learning rate cannot be set") {
    auto o = optim::Adam{.lr = ExponentialDecay{.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5}}
                 .build<B>();
    CHECK_THROWS_WITH_AS(o->set_learning_rate(0.01),
                         doctest::Contains("Adam: the learning rate follows a schedule (ExponentialDecay) and cannot be set"), value_error);
    CHECK(o->learning_rate() == doctest::Approx(0.1));
}
