// One and two update steps of each optimizer against the formulas Keras uses, freezing by
// range, and rejection of impossible settings.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/optim/adadelta.hpp>
#include <latent/optim/adagrad.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/adamax.hpp>
#include <latent/optim/lion.hpp>
#include <latent/optim/nadam.hpp>
#include <latent/optim/rmsprop.hpp>
#include <latent/optim/sgd.hpp>

#include "support/messages.hpp"

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

// ---- Keras 3's settings of every optimizer: decoupled weight decay and gradient clipping ----

TEST_CASE("weight_decay is decoupled, w -= lr * weight_decay * w before the update, as Keras 3") {
    Run r;
    auto sgd = optim::SGD{.lr = 0.1, .weight_decay = 0.5}.build<B>();
    r.step(*sgd);
    // w (1 - 0.05) - 0.1 g, with w = (1, -2, 0.5) and g = (0.5, -1, 2)
    CHECK(r.w[0] == doctest::Approx(0.9));
    CHECK(r.w[1] == doctest::Approx(-1.8));
    CHECK(r.w[2] == doctest::Approx(0.275));

    // AdamW is Adam with weight_decay 0.004 by default, bit for bit, under its own name.
    Run a, b;
    auto adamw = optim::AdamW{.lr = 0.1}.build<B>();
    auto adam = optim::Adam{.lr = 0.1, .weight_decay = 0.004}.build<B>();
    CHECK(adamw->name() == "AdamW");
    for (int i = 0; i < 3; ++i) {
        a.step(*adamw);
        b.step(*adam);
    }
    CHECK(a.w == b.w);
    // One AdamW step by hand: t = 1, m = 0.1 g, v = 0.001 g^2.
    Run c;
    auto one = optim::AdamW{.lr = 0.1, .weight_decay = 0.2}.build<B>();
    c.step(*one);
    const double w0[3] = {1.0, -2.0, 0.5}, g0[3] = {0.5, -1.0, 2.0};
    for (int i = 0; i < 3; ++i) {
        const double alpha = 0.1 * std::sqrt(1 - 0.999) / (1 - 0.9);
        const double m = 0.1 * g0[i], v = 0.001 * g0[i] * g0[i];
        CHECK(c.w[i] == doctest::Approx(w0[i] * (1 - 0.1 * 0.2) - alpha * m / (std::sqrt(v) + 1e-7)));
    }

    // A range's learning-rate scale (fine-tuning) scales its decay too.
    Run scaled;
    scaled.all = {ArenaRange{0, 3, 0.5}};
    auto half = optim::SGD{.lr = 0.1, .weight_decay = 0.5}.build<B>();
    scaled.step(*half);
    CHECK(scaled.w[0] == doctest::Approx(1 - 0.025 - 0.025));
}

TEST_CASE("clipvalue clips each gradient element to [-clipvalue, clipvalue]") {
    Run r;
    auto o = optim::SGD{.lr = 1.0, .clipvalue = 0.75}.build<B>();
    r.step(*o);
    CHECK(r.w[0] == doctest::Approx(0.5));    // g 0.5 as it is
    CHECK(r.w[1] == doctest::Approx(-1.25));  // g -1 to -0.75
    CHECK(r.w[2] == doctest::Approx(-0.25));  // g 2 to 0.75
}

TEST_CASE("global_clipnorm scales all gradients together; clipnorm each weight's on its own") {
    // Two weight tensors side by side, as a model reports them: (w0) and (w1, w2).
    const std::vector<ArenaRange> two{ArenaRange{0, 1}, ArenaRange{1, 3}};
    const double norm = std::sqrt(0.25 + 1 + 4);
    Run global;
    global.all = two;
    auto g = optim::SGD{.lr = 1.0, .global_clipnorm = 1.0}.build<B>();
    global.step(*g);
    CHECK(global.w[0] == doctest::Approx(1 - 0.5 / norm));
    CHECK(global.w[1] == doctest::Approx(-2 + 1 / norm));
    CHECK(global.w[2] == doctest::Approx(0.5 - 2 / norm));

    Run each;
    each.all = two;
    auto e = optim::SGD{.lr = 1.0, .clipnorm = 1.0}.build<B>();
    each.step(*e);
    CHECK(each.w[0] == doctest::Approx(0.5));  // norm 0.5: under the limit, unchanged
    CHECK(each.w[1] == doctest::Approx(-2 + 1 / std::sqrt(5.0)));
    CHECK(each.w[2] == doctest::Approx(0.5 - 2 / std::sqrt(5.0)));

    // Under the limit, clipping changes nothing: the same bits as without it, step after step.
    Run loose, plain;
    loose.all = plain.all = two;
    auto with = optim::Adam{.global_clipnorm = 100.0}.build<B>();
    auto without = optim::Adam{}.build<B>();
    for (int i = 0; i < 3; ++i) {
        loose.step(*with);
        plain.step(*without);
    }
    CHECK(loose.w == plain.w);

    // Frozen weights (absent from the ranges) count in no norm.
    Run frozen;
    frozen.all = {ArenaRange{1, 3}};
    auto f = optim::SGD{.lr = 1.0, .global_clipnorm = 1.0}.build<B>();
    frozen.step(*f);
    CHECK(frozen.w[0] == 1.0f);
    CHECK(frozen.w[1] == doctest::Approx(-2 + 1 / std::sqrt(5.0)));
}

TEST_CASE("weight decay and clipping: impossible settings are refused, naming them, as Keras") {
    CHECK_THROWS_WITH_AS(optim::Adam{.weight_decay = -0.1}.build<B>(), doctest::Contains("Adam: weight_decay"),
                         value_error);
    CHECK_THROWS_WITH_AS(optim::SGD{.clipnorm = std::nan("")}.build<B>(), doctest::Contains("SGD: clipnorm"),
                         value_error);
    CHECK_THROWS_WITH_AS((optim::RMSprop{.clipvalue = 1.0, .global_clipnorm = 1.0}.build<B>()),
                         doctest::Contains("only one of clipnorm, clipvalue and global_clipnorm can be set"),
                         value_error);
    CHECK_THROWS_WITH_AS(optim::AdamW{.beta_2 = 1.0}.build<B>(), doctest::Contains("AdamW: beta_2"), value_error);
    CHECK_NOTHROW((optim::AdamW{.weight_decay = 0.0, .clipnorm = 1.0}.build<B>()));
}

// ---- Adagrad, Adamax, Nadam, Lion and Adadelta, two steps each against Keras 3's update_step in double ----

namespace {
// Runs two steps of `o` on Run's w and g (the same gradient twice), then checks each weight
// against `expected(i)`, that weight after two steps by the formula.
template <class Expected>
void check_two_steps(optim::Optimizer& o, Expected expected) {
    Run r;
    r.step(o);
    r.step(o);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(r.w[i] == doctest::Approx(expected(i)).epsilon(1e-5));
    }
    CHECK(o.iterations() == 2);
}
constexpr double w0[3] = {1.0, -2.0, 0.5}, g0[3] = {0.5, -1.0, 2.0};
}  // namespace

TEST_CASE("Adagrad, as Keras: accumulators start at 0.1") {
    auto o = optim::Adagrad{.lr = 0.1}.build<B>();
    CHECK(o->name() == "Adagrad");
    check_two_steps(*o, [](std::size_t i) {
        const double g = g0[i], a1 = 0.1 + g * g, a2 = a1 + g * g;
        return w0[i] - 0.1 * g / std::sqrt(a1 + 1e-7) - 0.1 * g / std::sqrt(a2 + 1e-7);
    });
    // the accumulator is the optimizer's state, under Keras' name, starting at the initial value
    auto fresh = optim::Adagrad{.initial_accumulator_value = 0.5}.build<B>();
    const auto state = fresh->state_buffers(3);
    REQUIRE(state.size() == 1);
    CHECK(state[0].first == "accumulator");
    CHECK((*state[0].second)[1] == 0.5f);
    CHECK_THROWS_WITH_AS((optim::Adagrad{.initial_accumulator_value = -1}.build<B>()),
                         doctest::Contains("Adagrad: initial_accumulator_value"), value_error);
}

TEST_CASE("Adamax, as Keras: the infinity norm in place of Adam's second moment") {
    auto o = optim::Adamax{.lr = 0.1}.build<B>();
    check_two_steps(*o, [](std::size_t i) {
        const double g = g0[i];
        double w = w0[i], m = 0, u = 0;
        for (int t = 1; t <= 2; ++t) {
            m += 0.1 * (g - m);
            u = std::max(0.999 * u, std::abs(g));
            w -= 0.1 / (1 - std::pow(0.9, t)) * m / (u + 1e-7);
        }
        return w;
    });
}

TEST_CASE("Nadam, as Keras 3: momentum schedule u_t = b1 (1 - 0.5 * 0.96^t)") {
    auto o = optim::Nadam{.lr = 0.1}.build<B>();
    check_two_steps(*o, [](std::size_t i) {
        const double g = g0[i], b1 = 0.9, b2 = 0.999;
        const auto u = [&](double t) { return b1 * (1 - 0.5 * std::pow(0.96, t)); };
        double w = w0[i], m = 0, v = 0, product = 1;
        for (int t = 1; t <= 2; ++t) {
            product *= u(t);
            const double product_next = product * u(t + 1);
            m += (1 - b1) * (g - m);
            v += (1 - b2) * (g * g - v);
            const double m_hat = u(t + 1) * m / (1 - product_next) + (1 - u(t)) * g / (1 - product);
            const double v_hat = v / (1 - std::pow(b2, t));
            w -= 0.1 * m_hat / (std::sqrt(v_hat) + 1e-7);
        }
        return w;
    });
    // After a checkpoint sets the step count, the schedule's product is recomputed for it.
    auto resumed = optim::Nadam{.lr = 0.1}.build<B>();
    Run a, b;
    o = optim::Nadam{.lr = 0.1}.build<B>();
    for (int i = 0; i < 3; ++i) a.step(*o);
    b.w = std::vector<float>(a.w);
    resumed->set_iterations(3);
    auto from = o->state_buffers(3), to = resumed->state_buffers(3);
    for (std::size_t k = 0; k < from.size(); ++k) *to[k].second = *from[k].second;
    a.step(*o);
    b.step(*resumed);
    CHECK(a.w == b.w);
}

TEST_CASE("Lion, as Keras 3: steps of lr * sign(b1 m + (1 - b1) g), then m = b2 m + (1 - b2) g") {
    auto o = optim::Lion{.lr = 0.1}.build<B>();
    CHECK(o->name() == "Lion");
    check_two_steps(*o, [](std::size_t i) {
        const double g = g0[i];
        double w = w0[i], m = 0;
        for (int t = 1; t <= 2; ++t) {
            const double c = 0.9 * m + 0.1 * g;
            w -= 0.1 * (c > 0 ? 1.0 : (c < 0 ? -1.0 : 0.0));
            m = 0.99 * m + 0.01 * g;
        }
        return w;
    });
    // Every weight moves by exactly lr whatever its gradient's size; a zero gradient moves none.
    Run r;
    const std::vector<float> g{1e-6f, -100.0f, 0.0f};
    auto lion = optim::Lion{.lr = 0.25}.build<B>();
    lion->step(r.w.data(), g.data(), 3, r.all);
    CHECK(r.w == std::vector<float>{0.75f, -1.75f, 0.5f});
    const auto state = lion->state_buffers(3);
    REQUIRE(state.size() == 1);
    CHECK(state[0].first == "momentum");
    CHECK((*state[0].second)[1] == doctest::Approx(-1.0));  // 0.01 * -100
    CHECK_THROWS_WITH_AS(optim::Lion{.beta_1 = 0.0}.build<B>(),
                         doctest::Contains("Lion: beta_1 must be in (0, 1] (at 0 Lion degenerates to SignSGD), got 0"),
                         value_error);
    CHECK_THROWS_WITH_AS(optim::Lion{.beta_2 = 1.0}.build<B>(), doctest::Contains("Lion: beta_2"), value_error);
    CHECK_NOTHROW(optim::Lion{.beta_1 = 1.0}.build<B>());
}

TEST_CASE("Adadelta, as Keras: the step's scale from the running averages of g^2 and of the steps") {
    auto o = optim::Adadelta{.lr = 1.0}.build<B>();
    check_two_steps(*o, [](std::size_t i) {
        const double g = g0[i], rho = 0.95, eps = 1e-7;
        double w = w0[i], a = 0, d = 0;
        for (int t = 1; t <= 2; ++t) {
            a = rho * a + (1 - rho) * g * g;
            const double delta = -std::sqrt(d + eps) / std::sqrt(a + eps) * g;
            d = rho * d + (1 - rho) * delta * delta;
            w += 1.0 * delta;
        }
        return w;
    });
    const auto state = o->state_buffers(3);
    REQUIRE(state.size() == 2);
    CHECK(state[0].first == "accumulated_grad");
    CHECK(state[1].first == "accumulated_delta_var");
    CHECK_THROWS_WITH_AS(optim::Adadelta{.rho = 1.0}.build<B>(), doctest::Contains("Adadelta: rho must be in [0, 1)"),
                         value_error);
    CHECK_THROWS_WITH_AS(optim::Adadelta{.epsilon = 0.0}.build<B>(), doctest::Contains("Adadelta: epsilon"),
                         value_error);
}

TEST_CASE("Adam and AdamW with amsgrad divide by the largest second moment so far, as Keras") {
    // beta_2 = 0.5 and a large gradient then a small one: v falls at step 2, v_hat keeps step 1's.
    const double lr = 0.1, b1 = 0.9, b2 = 0.5, eps = 1e-7;
    const std::vector<float> g1{2.0f, -2.0f, 1.0f}, g2{0.1f, -0.1f, 1.0f};
    auto expected = [&](std::size_t i, bool amsgrad, double decay) {
        double w = w0[i], m = 0, v = 0, v_hat = 0;
        for (int t = 1; t <= 2; ++t) {
            const double g = t == 1 ? g1[i] : g2[i];
            w -= lr * decay * w;
            m += (1 - b1) * (g - m);
            v += (1 - b2) * (g * g - v);
            v_hat = std::max(v_hat, v);
            const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
            w -= alpha * m / (std::sqrt(amsgrad ? v_hat : v) + eps);
        }
        return w;
    };
    for (const bool amsgrad : {false, true}) {
        CAPTURE(amsgrad);
        Run adam, adamw;
        auto a = optim::Adam{.lr = lr, .beta_2 = b2, .amsgrad = amsgrad}.build<B>();
        auto aw = optim::AdamW{.lr = lr, .beta_2 = b2, .amsgrad = amsgrad}.build<B>();
        for (const auto* g : {&g1, &g2}) {
            a->step(adam.w.data(), g->data(), 3, adam.all);
            aw->step(adamw.w.data(), g->data(), 3, adamw.all);
        }
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(adam.w[i] == doctest::Approx(expected(i, amsgrad, 0.0)).epsilon(1e-5));
            CHECK(adamw.w[i] == doctest::Approx(expected(i, amsgrad, 0.004)).epsilon(1e-5));
        }
        // v_hat is state (checkpointed) only with amsgrad
        const auto state = a->state_buffers(3);
        REQUIRE(state.size() == (amsgrad ? 3u : 2u));
        if (amsgrad) {
            CHECK(state[2].first == "v_hat");
            CHECK((*state[2].second)[0] == doctest::Approx(2.0));  // step 1's v: 0.5 * 2^2
            CHECK((*state[1].second)[0] == doctest::Approx(1.005));
        }
    }
}

TEST_CASE("use_ema keeps the weights' moving average, as Keras 3, and finalize_variable_values swaps it in") {
    // SGD (lr 0.1) on a constant gradient: w_t = w_0 - 0.1 t g. Keras: the average is w_1 after
    // step 1, then average = momentum * average + (1 - momentum) * w_t.
    const double lr = 0.1, momentum = 0.5;
    Run r;
    auto o = optim::SGD{.lr = lr, .use_ema = true, .ema_momentum = momentum}.build<B>();
    CHECK(o->averages_weights());
    const double w0[3] = {1.0, -2.0, 0.5};
    std::vector<double> average(3);
    for (int t = 1; t <= 3; ++t) {
        r.step(*o);
        for (std::size_t i = 0; i < 3; ++i) {
            const double w = w0[i] - lr * t * r.g[i];
            CHECK(r.w[i] == doctest::Approx(w));  // the weights themselves are SGD's
            average[i] = t == 1 ? w : momentum * average[i] + (1 - momentum) * w;
        }
    }
    const auto state = o->state_buffers(3);
    REQUIRE(state.size() == 1);  // SGD without momentum keeps only the average
    CHECK(state[0].first == "average");
    for (std::size_t i = 0; i < 3; ++i) CHECK((*state[0].second)[i] == doctest::Approx(average[i]));
    o->finalize_variable_values(r.w.data(), 3, r.all);
    for (std::size_t i = 0; i < 3; ++i) CHECK(r.w[i] == doctest::Approx(average[i]));

    // without use_ema nothing is averaged, and finalizing changes nothing
    Run plain;
    auto p = optim::Adam{}.build<B>();
    CHECK_FALSE(p->averages_weights());
    plain.step(*p);
    const auto trained = plain.w;
    p->finalize_variable_values(plain.w.data(), 3, plain.all);
    CHECK(plain.w == trained);
    CHECK(p->state_buffers(3).size() == 2);
}

TEST_CASE("ema_overwrite_frequency puts the average into the weights every N steps, as Keras") {
    Run r, reference;
    auto o = optim::Adam{.lr = 0.1, .use_ema = true, .ema_momentum = 0.9, .ema_overwrite_frequency = 2}.build<B>();
    auto same = optim::Adam{.lr = 0.1, .use_ema = true, .ema_momentum = 0.9}.build<B>();
    r.step(*o);
    reference.step(*same);
    CHECK(r.w == reference.w);  // step 1: no overwrite
    r.step(*o);
    reference.step(*same);
    CHECK(r.w != reference.w);
    same->finalize_variable_values(reference.w.data(), 3, reference.all);
    CHECK(r.w == reference.w);  // step 2: the weights are the average
}

TEST_CASE("use_ema: a weight first trained later starts its own average; frozen ones keep theirs") {
    Run r;
    r.all = {{0, 1}};
    auto o = optim::SGD{.lr = 0.1, .use_ema = true, .ema_momentum = 0.9}.build<B>();
    r.step(*o);  // w0 = 0.95, its average 0.95
    r.all = {{0, 1}, {1, 3}};  // the rest unfrozen
    r.step(*o);  // w0 = 0.9; w1 = -1.9 and w2 = 0.3 after their first update
    o->finalize_variable_values(r.w.data(), 3, r.all);
    CHECK(r.w[0] == doctest::Approx(0.9 * 0.95 + 0.1 * 0.9));
    CHECK(r.w[1] == doctest::Approx(-1.9));  // its own first value, not pulled towards 0
    CHECK(r.w[2] == doctest::Approx(0.3));
}

TEST_CASE("use_ema: ema_momentum outside [0, 1] is refused, naming it") {
    CHECK_THROWS_WITH_AS((optim::AdamW{.use_ema = true, .ema_momentum = 1.5}.build<B>()),
                         doctest::Contains("AdamW: ema_momentum must be in [0, 1] with use_ema, got 1.5"), value_error);
    CHECK_THROWS_AS((optim::Lion{.use_ema = true, .ema_momentum = -0.1}.build<B>()), value_error);
    CHECK_NOTHROW((optim::Lion{.ema_momentum = 1.5}.build<B>()));  // as Keras: checked only with use_ema
}

TEST_CASE("exclude_from_weight_decay leaves the weights whose name contains one of its strings undecayed, as Keras") {
    // Two weights side by side: "dense/kernel" (w0) and "dense/bias" (w1, w2).
    const std::vector<ArenaRange> weights{{0, 1}, {1, 3}};
    const std::vector<std::string> names{"dense/kernel", "dense/bias"};
    for (const bool clipped : {false, true}) {
        CAPTURE(clipped);
        Run r;
        r.all = weights;
        auto o = optim::SGD{.lr = 0.1, .weight_decay = 0.5, .clipvalue = clipped ? 10.0 : 0.0,
                            .exclude_from_weight_decay = {"bias"}}
                     .build<B>();
        CHECK(o->needs_variable_names(weights));
        LATENT_CHECK_ERROR(value_error, r.step(*o), "latent.optim.names",
                           "SGD: exclude_from_weight_decay matches weights by name, and this step's weights have none");
        o->set_variable_names(weights, names);
        CHECK_FALSE(o->needs_variable_names(weights));
        r.step(*o);
        CHECK(r.w[0] == doctest::Approx(1.0 * (1 - 0.1 * 0.5) - 0.1 * 0.5));  // decayed, then the step
        CHECK(r.w[1] == doctest::Approx(-2.0 + 0.1));                         // the step alone
        CHECK(r.w[2] == doctest::Approx(0.5 - 0.2));
    }
    // neighbours both excluded (a LayerNormalization's gamma and beta) go as one range, undecayed
    Run ln;
    ln.all = {{0, 1}, {1, 2}, {2, 3}};
    auto o = optim::SGD{.lr = 0.1, .weight_decay = 0.5, .exclude_from_weight_decay = {"layer_normalization"}}
                 .build<B>();
    o->set_variable_names(ln.all, {"dense/kernel", "layer_normalization/gamma", "layer_normalization/beta"});
    ln.step(*o);
    CHECK(ln.w[0] == doctest::Approx(1.0 * (1 - 0.1 * 0.5) - 0.1 * 0.5));
    CHECK(ln.w[1] == doctest::Approx(-2.0 + 0.1));
    CHECK(ln.w[2] == doctest::Approx(0.5 - 0.2));
    CHECK_FALSE(optim::SGD{.weight_decay = 0.5}.build<B>()->needs_variable_names(weights));
    LATENT_CHECK_ERROR(value_error, (optim::AdamW{.exclude_from_weight_decay = {""}}.build<B>()),
                       "latent.optim.setting", "AdamW: exclude_from_weight_decay holds an empty name");
}
