// Loss values against hand-computed Keras results, double-precision gradient checks of every
// loss (probability and logit paths), and agreement of the fused and unfused paths.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/core/errors.hpp>
#include <latent/core/random.hpp>
#include <latent/loss/binary_crossentropy.hpp>
#include <latent/loss/binary_focal_crossentropy.hpp>
#include <latent/loss/categorical_crossentropy.hpp>
#include <latent/loss/categorical_focal_crossentropy.hpp>
#include <latent/loss/contrastive.hpp>
#include <latent/loss/cosine_similarity.hpp>
#include <latent/loss/hinge.hpp>
#include <latent/loss/huber.hpp>
#include <latent/loss/kl_divergence.hpp>
#include <latent/loss/log_cosh.hpp>
#include <latent/loss/mean_absolute_error.hpp>
#include <latent/loss/mean_squared_error.hpp>
#include <latent/loss/mean_squared_logarithmic_error.hpp>
#include <latent/loss/nt_xent.hpp>
#include <latent/loss/poisson.hpp>
#include <latent/loss/sparse_categorical_crossentropy.hpp>

using namespace latent;
using B = cpu::reference;

template <class Loss>
double value(const Loss& l, std::vector<double> pred, std::vector<double> y, std::size_t batch, std::size_t last,
             bool logits = false) {
    std::vector<double> grad(pred.size());
    const std::size_t size = pred.size() / batch;
    if constexpr (Loss::fuses_with != loss::fusion::none)
        if (logits) return l.template compute_from_logits<B>(pred.data(), y.data(), batch, size, last, grad.data());
    return l.template compute<B>(pred.data(), y.data(), batch, size, last, grad.data());
}

// d loss / d pred against central differences.
template <class Loss>
void check_loss_gradient(const Loss& l, std::vector<double> pred, const std::vector<double>& y, std::size_t batch,
                         std::size_t last, bool logits = false) {
    const std::size_t size = pred.size() / batch;
    std::vector<double> grad(pred.size());
    if constexpr (Loss::fuses_with != loss::fusion::none)
        if (logits) l.template compute_from_logits<B>(pred.data(), y.data(), batch, size, last, grad.data());
    if (!logits) l.template compute<B>(pred.data(), y.data(), batch, size, last, grad.data());
    const double h = 1e-6;
    for (std::size_t i = 0; i < pred.size(); ++i) {
        const double keep = pred[i];
        pred[i] = keep + h;
        const double up = value(l, pred, y, batch, last, logits);
        pred[i] = keep - h;
        const double down = value(l, pred, y, batch, last, logits);
        pred[i] = keep;
        const double numeric = (up - down) / (2 * h);
        INFO("element " << i << ": analytic " << grad[i] << ", numeric " << numeric);
        CHECK(std::abs(grad[i] - numeric) < 1e-6 * std::max(1.0, std::abs(numeric)));
    }
}

std::vector<double> random_values(std::size_t n, double low, double high, std::uint64_t seed) {
    Generator g(seed);
    std::vector<double> v(n);
    for (auto& x : v) x = g.uniform(low, high);
    return v;
}

// The softmax of each row of `cols` logits, and the sigmoid of each logit: what the logit paths
// must agree with through the probability paths.
std::vector<double> softmax_rows(const std::vector<double>& z, std::size_t cols) {
    std::vector<double> p(z.size());
    for (std::size_t r = 0; r < z.size() / cols; ++r) {
        double total = 0;
        for (std::size_t c = 0; c < cols; ++c) total += p[r * cols + c] = std::exp(z[r * cols + c]);
        for (std::size_t c = 0; c < cols; ++c) p[r * cols + c] /= total;
    }
    return p;
}
std::vector<double> sigmoids(const std::vector<double>& z) {
    std::vector<double> p(z.size());
    for (std::size_t i = 0; i < z.size(); ++i) p[i] = 1 / (1 + std::exp(-z[i]));
    return p;
}

TEST_CASE("MeanSquaredError") {
    CHECK(value(loss::MeanSquaredError{}, {1, 2, 3, 4}, {1, 0, 3, 0}, 2, 2) == doctest::Approx((4.0 + 16.0) / 4));
    check_loss_gradient(loss::MeanSquaredError{}, random_values(12, -2, 2, 1), random_values(12, -2, 2, 2), 3, 4);
}

TEST_CASE("KLDivergence") {
    // Keras' documented example: 0.458 (y_true clipped to 1e-7 where it is 0).
    const double eps = 1e-7;
    const double row1 = eps * std::log(eps / 0.6) + std::log(1 / 0.4);
    const double row2 = eps * std::log(eps / 0.4) + eps * std::log(eps / 0.6);
    const double kl = value(loss::KLDivergence{}, {0.6, 0.4, 0.4, 0.6}, {0, 1, 0, 0}, 2, 2);
    CHECK(kl == doctest::Approx((row1 + row2) / 2));
    CHECK(kl == doctest::Approx(0.458).epsilon(1e-3));
    // Averaged over every axis but the last: two samples of (2, 3) hold four distributions.
    const auto p = random_values(12, 0.05, 1, 12), y = random_values(12, 0, 1, 13);
    double sum = 0;
    for (std::size_t i = 0; i < 12; ++i) sum += std::max(y[i], eps) * std::log(std::max(y[i], eps) / p[i]);
    CHECK(value(loss::KLDivergence{}, p, y, 2, 3) == doctest::Approx(sum / 4));
    check_loss_gradient(loss::KLDivergence{}, p, y, 2, 3);
    // An output of 0 is clipped: a large finite loss, and no gradient through the clip.
    CHECK(value(loss::KLDivergence{}, {0.0, 1.0}, {0.5, 0.5}, 1, 2) ==
          doctest::Approx(0.5 * std::log(0.5 / eps) + 0.5 * std::log(0.5)));
}

TEST_CASE("BinaryCrossentropy") {
    // Keras: -mean(y log p + (1 - y) log(1 - p))
    const double expected = -(std::log(0.9) + std::log(1 - 0.2)) / 2;
    CHECK(value(loss::BinaryCrossentropy{}, {0.9, 0.2}, {1, 0}, 2, 1) == doctest::Approx(expected));
    // Clipped at 1e-7, so p = 0 gives a large finite loss.
    CHECK(std::isfinite(value(loss::BinaryCrossentropy{}, {0.0}, {1}, 1, 1)));
    CHECK(value(loss::BinaryCrossentropy{}, {0.0}, {1}, 1, 1) == doctest::Approx(-std::log(1e-7)));
    check_loss_gradient(loss::BinaryCrossentropy{}, random_values(8, 0.05, 0.95, 3), random_values(8, 0, 1, 4), 2, 4);
    SUBCASE("from logits agrees with sigmoid then the probability path") {
        const auto z = random_values(6, -4, 4, 5);
        const auto y = random_values(6, 0, 1, 6);
        const auto p = sigmoids(z);
        CHECK(value(loss::BinaryCrossentropy{}, z, y, 2, 3, true) ==
              doctest::Approx(value(loss::BinaryCrossentropy{}, p, y, 2, 3)));
        CHECK(value(loss::BinaryCrossentropy{.from_logits = true}, z, y, 2, 3) ==
              doctest::Approx(value(loss::BinaryCrossentropy{}, p, y, 2, 3)));
        check_loss_gradient(loss::BinaryCrossentropy{}, z, y, 2, 3, true);
        // Stable for huge logits.
        CHECK(std::isfinite(value(loss::BinaryCrossentropy{}, {1000.0, -1000.0}, {0, 1}, 1, 2, true)));
    }
}

TEST_CASE("CategoricalCrossentropy") {
    CHECK(value(loss::CategoricalCrossentropy{}, {0.7, 0.2, 0.1, 0.25, 0.25, 0.5}, {1, 0, 0, 0, 0, 1}, 2, 3) ==
          doctest::Approx(-(std::log(0.7) + std::log(0.5)) / 2));
    // Unnormalized outputs are normalized first, as Keras does.
    CHECK(value(loss::CategoricalCrossentropy{}, {1.4, 0.4, 0.2}, {1, 0, 0}, 1, 3) ==
          doctest::Approx(-std::log(0.7)));
    check_loss_gradient(loss::CategoricalCrossentropy{}, random_values(12, 0.05, 1, 7), random_values(12, 0, 1, 8), 3,
                        4);
    SUBCASE("from logits agrees with softmax then the probability path, and is stable") {
        const auto z = random_values(8, -3, 3, 9);
        const std::vector<double> y{0, 1, 0, 0, 0.5, 0, 0, 0.5};
        const auto p = softmax_rows(z, 4);
        CHECK(value(loss::CategoricalCrossentropy{}, z, y, 2, 4, true) ==
              doctest::Approx(value(loss::CategoricalCrossentropy{}, p, y, 2, 4)));
        check_loss_gradient(loss::CategoricalCrossentropy{}, z, y, 2, 4, true);
        CHECK(value(loss::CategoricalCrossentropy{}, {1000.0, 0.0}, {0, 1}, 1, 2, true) == doctest::Approx(1000.0));
    }
}

TEST_CASE("label_smoothing: Keras' y (1 - s) + s / classes (categorical) and y (1 - s) + s / 2 (binary)") {
    SUBCASE("categorical, probabilities and logits (PyTorch's CrossEntropyLoss(label_smoothing) is the same)") {
        const loss::CategoricalCrossentropy smoothed{.label_smoothing = 0.1};
        const double hi = 0.9 + 0.1 / 3, lo = 0.1 / 3;
        CHECK(value(smoothed, {0.7, 0.2, 0.1}, {1, 0, 0}, 1, 3) ==
              doctest::Approx(-(hi * std::log(0.7) + lo * std::log(0.2) + lo * std::log(0.1))));
        const auto z = random_values(8, -3, 3, 31);
        const std::vector<double> y{0, 1, 0, 0, 0.5, 0, 0, 0.5};
        const auto p = softmax_rows(z, 4);
        CHECK(value(smoothed, z, y, 2, 4, true) == doctest::Approx(value(smoothed, p, y, 2, 4)));
        CHECK(value(smoothed, z, y, 2, 4, true) !=
              doctest::Approx(value(loss::CategoricalCrossentropy{}, z, y, 2, 4, true)));
        check_loss_gradient(smoothed, z, y, 2, 4, true);
        check_loss_gradient(smoothed, random_values(12, 0.05, 1, 32), random_values(12, 0, 1, 33), 3, 4);
        // s = 1: every label is uniform, so a uniform prediction is the minimum: zero gradient
        const loss::CategoricalCrossentropy uniform{.label_smoothing = 1.0};
        const std::vector<double> same_logits{0.5, 0.5, 0.5}, one_hot{1, 0, 0};
        std::vector<double> grad(3);
        uniform.compute_from_logits<B>(same_logits.data(), one_hot.data(), 1, 3, 3, grad.data());
        for (double g : grad) CHECK(g == doctest::Approx(0.0));
    }
    SUBCASE("binary, probabilities and logits") {
        const loss::BinaryCrossentropy smoothed{.label_smoothing = 0.2};
        const double one = -(0.9 * std::log(0.9) + 0.1 * std::log(0.1));   // y = 1 -> 0.9, p = 0.9
        const double zero = -(0.1 * std::log(0.2) + 0.9 * std::log(0.8));  // y = 0 -> 0.1, p = 0.2
        const double expected = (one + zero) / 2;
        CHECK(value(smoothed, {0.9, 0.2}, {1, 0}, 2, 1) == doctest::Approx(expected));
        const auto z = random_values(6, -4, 4, 34);
        const auto y = random_values(6, 0, 1, 35);
        const auto p = sigmoids(z);
        CHECK(value(smoothed, z, y, 2, 3, true) == doctest::Approx(value(smoothed, p, y, 2, 3)));
        check_loss_gradient(smoothed, z, y, 2, 3, true);
        check_loss_gradient(smoothed, random_values(8, 0.05, 0.95, 36), random_values(8, 0, 1, 37), 2, 4);
    }
    SUBCASE("outside [0, 1] it is refused, naming the loss") {
        CHECK_THROWS_WITH_AS(loss::CategoricalCrossentropy{.label_smoothing = -0.1}.validate(),
                             doctest::Contains("CategoricalCrossentropy: label_smoothing must be in [0, 1], got -0.1"),
                             value_error);
        CHECK_THROWS_WITH_AS(loss::BinaryCrossentropy{.label_smoothing = 1.5}.validate(),
                             doctest::Contains("BinaryCrossentropy: label_smoothing must be in [0, 1]"), value_error);
        CHECK_THROWS_AS(loss::BinaryCrossentropy{.label_smoothing = std::nan("")}.validate(), value_error);
        CHECK_NOTHROW(loss::CategoricalCrossentropy{.label_smoothing = 1.0}.validate());
    }
}

TEST_CASE("BinaryFocalCrossentropy, as Keras 3: (1 - p_t)^gamma * bce, optionally weighted by alpha") {
    // Keras' documented example: y_true [[0, 1], [0, 0]], y_pred [[0.6, 0.4], [0.4, 0.6]], gamma 2:
    // per row [0.330, 0.206]
    const std::vector<double> p{0.6, 0.4, 0.4, 0.6}, y{0, 1, 0, 0};
    const double row1 = 0.36 * -std::log(0.4), row2 = (0.16 * -std::log(0.6) + 0.36 * -std::log(0.4)) / 2;
    CHECK(row1 == doctest::Approx(0.330).epsilon(2e-3));
    CHECK(row2 == doctest::Approx(0.206).epsilon(2e-3));
    CHECK(value(loss::BinaryFocalCrossentropy{}, p, y, 2, 2) == doctest::Approx((row1 + row2) / 2));
    SUBCASE("gamma 0 is BinaryCrossentropy; class balancing weighs class 1 by alpha and class 0 by 1 - alpha") {
        const auto q = random_values(8, 0.05, 0.95, 41);
        const std::vector<double> labels{1, 0, 0, 1, 1, 1, 0, 0};
        CHECK(value(loss::BinaryFocalCrossentropy{.gamma = 0.0}, q, labels, 2, 4) ==
              doctest::Approx(value(loss::BinaryCrossentropy{}, q, labels, 2, 4)));
        double balanced = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            const double pt = labels[i] ? q[i] : 1 - q[i];
            balanced += (labels[i] ? 0.25 : 0.75) * (1 - pt) * (1 - pt) * -std::log(pt);
        }
        CHECK(value(loss::BinaryFocalCrossentropy{.apply_class_balancing = true}, q, labels, 2, 4) ==
              doctest::Approx(balanced / 8));
    }
    SUBCASE("from logits: the sigmoid's probabilities, then the same loss") {
        const auto z = random_values(6, -4, 4, 42);
        const std::vector<double> labels{1, 0, 1, 1, 0, 0};
        const auto s = sigmoids(z);
        CHECK(value(loss::BinaryFocalCrossentropy{.from_logits = true}, z, labels, 2, 3) ==
              doctest::Approx(value(loss::BinaryFocalCrossentropy{}, s, labels, 2, 3)));
    }
    SUBCASE("gradients, every setting") {
        const auto q = random_values(8, 0.05, 0.95, 43), z = random_values(8, -3, 3, 44);
        const std::vector<double> labels{1, 0, 0, 1, 1, 1, 0, 0};
        for (const double gamma : {0.0, 0.5, 1.0, 2.0, 3.5}) {
            CAPTURE(gamma);
            check_loss_gradient(loss::BinaryFocalCrossentropy{.gamma = gamma}, q, labels, 2, 4);
            check_loss_gradient(loss::BinaryFocalCrossentropy{.gamma = gamma, .from_logits = true}, z, labels, 2, 4);
        }
        const loss::BinaryFocalCrossentropy all{
            .apply_class_balancing = true, .alpha = 0.4, .gamma = 1.5, .label_smoothing = 0.2};
        check_loss_gradient(all, q, labels, 2, 4);
        check_loss_gradient(all, q, random_values(8, 0, 1, 45), 2, 4);  // soft labels
    }
    SUBCASE("impossible settings are refused, naming them") {
        CHECK_THROWS_WITH_AS(loss::BinaryFocalCrossentropy{.gamma = -1.0}.validate(),
                             doctest::Contains("BinaryFocalCrossentropy: gamma must be a finite number >= 0"),
                             value_error);
        CHECK_THROWS_WITH_AS(loss::BinaryFocalCrossentropy{.alpha = 1.5}.validate(),
                             doctest::Contains("BinaryFocalCrossentropy: alpha must be in [0, 1]"), value_error);
        CHECK_THROWS_AS(loss::BinaryFocalCrossentropy{.label_smoothing = 2.0}.validate(), value_error);
    }
}

TEST_CASE("CategoricalFocalCrossentropy, as Keras 3: alpha (1 - p)^gamma * -y log p, summed over the classes") {
    // Keras' documented example: y_true [[0, 1, 0], [0, 0, 1]], y_pred [[0.05, 0.9, 0.05],
    // [0.1, 0.85, 0.05]] give per row [2.63401289e-04, 6.75912094e-01].
    const std::vector<double> p{0.05, 0.9, 0.05, 0.1, 0.85, 0.05}, y{0, 1, 0, 0, 0, 1};
    CHECK(value(loss::CategoricalFocalCrossentropy{}, p, y, 2, 3) ==
          doctest::Approx((2.63401289e-04 + 6.75912094e-01) / 2).epsilon(1e-6));
    SUBCASE("gamma 0 and alpha 1 is CategoricalCrossentropy; logits are their softmax") {
        const auto q = random_values(12, 0.05, 1, 51);
        const auto labels = random_values(12, 0, 1, 52);  // soft labels
        const loss::CategoricalFocalCrossentropy plain{.alpha = 1.0, .gamma = 0.0};
        CHECK(value(plain, q, labels, 3, 4) ==
              doctest::Approx(value(loss::CategoricalCrossentropy{}, q, labels, 3, 4)));
        const auto z = random_values(8, -3, 3, 53);
        const std::vector<double> one_hot{0, 1, 0, 0, 0, 0, 0, 1};
        const auto s = softmax_rows(z, 4);
        CHECK(value(loss::CategoricalFocalCrossentropy{.from_logits = true}, z, one_hot, 2, 4) ==
              doctest::Approx(value(loss::CategoricalFocalCrossentropy{}, s, one_hot, 2, 4)));
        const loss::CategoricalFocalCrossentropy logits{.from_logits = true};
        CHECK(std::isfinite(value(logits, {1000.0, 0.0}, {0, 1}, 1, 2)));
    }
    SUBCASE("gradients, every setting") {
        const auto q = random_values(12, 0.05, 1, 54), z = random_values(12, -3, 3, 55);
        const std::vector<double> labels{0, 1, 0, 0, 0, 0, 1, 0, 0.5, 0, 0, 0.5};
        for (const double gamma : {0.0, 0.5, 1.0, 2.0, 3.0}) {
            CAPTURE(gamma);
            check_loss_gradient(loss::CategoricalFocalCrossentropy{.gamma = gamma}, q, labels, 3, 4);
            check_loss_gradient(loss::CategoricalFocalCrossentropy{.gamma = gamma, .from_logits = true}, z, labels, 3,
                                4);
        }
        check_loss_gradient(loss::CategoricalFocalCrossentropy{.alpha = 0.7, .label_smoothing = 0.1}, q, labels, 3, 4);
    }
    SUBCASE("impossible settings are refused, naming them") {
        CHECK_THROWS_WITH_AS(loss::CategoricalFocalCrossentropy{.alpha = -0.5}.validate(),
                             doctest::Contains("CategoricalFocalCrossentropy: alpha"), value_error);
        CHECK_THROWS_WITH_AS(loss::CategoricalFocalCrossentropy{.gamma = std::nan("")}.validate(),
                             doctest::Contains("CategoricalFocalCrossentropy: gamma"), value_error);
        CHECK_THROWS_AS(loss::CategoricalFocalCrossentropy{.label_smoothing = -1.0}.validate(), value_error);
    }
}

TEST_CASE("SparseCategoricalCrossentropy") {
    CHECK(value(loss::SparseCategoricalCrossentropy{}, {0.7, 0.2, 0.1, 0.25, 0.25, 0.5}, {0, 2}, 2, 3) ==
          doctest::Approx(-(std::log(0.7) + std::log(0.5)) / 2));
    check_loss_gradient(loss::SparseCategoricalCrossentropy{}, random_values(12, 0.05, 1, 10), {3, 0, 1}, 3, 4);
    check_loss_gradient(loss::SparseCategoricalCrossentropy{}, random_values(12, -3, 3, 11), {3, 0, 1}, 3, 4, true);
    SUBCASE("agrees with CategoricalCrossentropy on one-hot labels") {
        const auto z = random_values(6, -3, 3, 12);
        CHECK(value(loss::SparseCategoricalCrossentropy{}, z, {2, 1}, 2, 3, true) ==
              doctest::Approx(value(loss::CategoricalCrossentropy{}, z, {0, 0, 1, 0, 1, 0}, 2, 3, true)));
    }
    SUBCASE("labels that are not class indices are rejected") {
        CHECK_THROWS_WITH_AS(value(loss::SparseCategoricalCrossentropy{}, {0.5, 0.5}, {2}, 1, 2),
                             doctest::Contains("expected a class index in [0, 2)"), value_error);
        CHECK_THROWS_AS(value(loss::SparseCategoricalCrossentropy{}, {0.5, 0.5}, {0.5}, 1, 2, true), value_error);
        CHECK_THROWS_AS(value(loss::SparseCategoricalCrossentropy{}, {0.5, 0.5}, {std::nan("")}, 1, 2), value_error);
    }
}

TEST_CASE("NTXent: SimCLR's contrastive loss, its value, gradient and contrastive accuracy") {
    // Two examples, four views: (1, 0) and (0, 1) each seen twice. View 0's partner is view 2
    // (cosine 1), the others are at cosine 0: its loss is -1/t + log(e^(1/t) + 2), and so for each.
    const double t = 0.5;
    std::vector<double> z{1, 0, 0, 2, 3, 0, 0, 1}, grad(8);
    std::size_t hits = 0;
    const double l = loss::NTXent{t}.compute<B>(z.data(), 4, 2, grad.data(), &hits);
    CHECK(l == doctest::Approx(-1 / t + std::log(std::exp(1 / t) + 2)));
    CHECK(hits == 4);
    // Only directions count (cosine similarity), so each view's gradient is orthogonal to it.
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(grad[2 * i] * z[2 * i] + grad[2 * i + 1] * z[2 * i + 1] == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(grad[1] > 0);  // the loss grows as view 0 turns toward its negatives (along y)

    // Finite differences on random projections, several temperatures and batch sizes.
    struct Case {
        std::size_t views, dim;
        double temperature;
    };
    for (const Case& c : {Case{6, 3, 0.5}, Case{4, 5, 0.1}, Case{8, 2, 1.0}}) {
        const std::size_t views = c.views, dim = c.dim;
        const double temperature = c.temperature;
        auto pred = random_values(views * dim, -1.5, 1.5, views + dim);
        std::vector<double> analytic(pred.size());
        const loss::NTXent nt{temperature};
        nt.compute<B>(pred.data(), views, dim, analytic.data());
        for (std::size_t i = 0; i < pred.size(); ++i) {
            std::vector<double> unused(pred.size());
            const double keep = pred[i];
            pred[i] = keep + 1e-6;
            const double up = nt.compute<B>(pred.data(), views, dim, unused.data());
            pred[i] = keep - 1e-6;
            const double down = nt.compute<B>(pred.data(), views, dim, unused.data());
            pred[i] = keep;
            const double numeric = (up - down) / 2e-6;
            INFO("views " << views << ", element " << i << ": analytic " << analytic[i] << ", numeric " << numeric);
            CHECK(std::abs(analytic[i] - numeric) < 1e-6 * std::max(1.0, std::abs(numeric)));
        }
    }

    std::vector<double> odd(6), g6(6);
    CHECK_THROWS_WITH_AS(loss::NTXent{}.compute<B>(odd.data(), 3, 2, g6.data()),
                         doctest::Contains("even number of views"), shape_error);
    CHECK_THROWS_WITH_AS(loss::NTXent{0.0}.compute<B>(odd.data(), 2, 3, g6.data()),
                         doctest::Contains("temperature must be a positive finite number"), value_error);
}

// ---- the regression and margin losses: Keras' values (its formulas in float64, and PyTorch's
// L1Loss and HuberLoss where they are the same loss), and their gradients -------------------

TEST_CASE("MeanAbsoluteError, Huber and LogCosh") {
    const std::vector<double> p{0.2, 0.7, -0.4, 1.5, 3.0, 0.9}, y{0.0, 1.0, -1.0, 2.0, 0.5, 0.9};
    CHECK(value(loss::MeanAbsoluteError{}, p, y, 2, 3) == doctest::Approx(0.6833333333333332));
    CHECK(value(loss::Huber{}, p, y, 2, 3) == doctest::Approx(0.395));
    CHECK(value(loss::Huber{.delta = 0.5}, p, y, 3, 2) == doctest::Approx(0.24833333333333332));
    CHECK(value(loss::LogCosh{}, p, y, 2, 3) == doctest::Approx(0.3613378005719139));
    // an element on its target has gradient 0 (no kink picked at random)
    std::vector<double> grad(6);
    loss::MeanAbsoluteError{}.compute<B>(p.data(), y.data(), 1, 6, 6, grad.data());
    CHECK(grad[5] == 0.0);
    CHECK(grad[0] == doctest::Approx(1.0 / 6));
    // far from the target, log cosh is |e| - log 2, without overflow
    CHECK(value(loss::LogCosh{}, {1000.0}, {0.0}, 1, 1) == doctest::Approx(1000 - std::log(2.0)));

    const auto pred = random_values(12, -2, 2, 3), target = random_values(12, -2, 2, 4);
    check_loss_gradient(loss::MeanAbsoluteError{}, pred, target, 4, 3);
    check_loss_gradient(loss::Huber{}, pred, target, 4, 3);
    check_loss_gradient(loss::Huber{.delta = 0.3}, pred, target, 3, 4);
    check_loss_gradient(loss::LogCosh{}, pred, target, 4, 3);
}

TEST_CASE("MeanSquaredLogarithmicError and Poisson") {
    const std::vector<double> p{0.2, 0.7, 0.4, 1.5, 3.0, 0.0}, y{0.0, 1.0, 2.0, 2.0, 0.5, 0.9};
    CHECK(value(loss::MeanSquaredLogarithmicError{}, p, y, 2, 3) == doctest::Approx(0.3412924052409629));
    CHECK(value(loss::Poisson{}, p, y, 2, 3) == doctest::Approx(3.5225508900236804));
    const auto pred = random_values(12, 0.1, 3, 5), target = random_values(12, 0, 3, 6);
    check_loss_gradient(loss::MeanSquaredLogarithmicError{}, pred, target, 4, 3);
    check_loss_gradient(loss::Poisson{}, pred, target, 4, 3);
    // below the clip (y_pred <= 1e-7) the prediction has no gradient, as the clip has none
    std::vector<double> grad(2);
    const std::vector<double> clipped{-0.5, 0.0}, labels{1.0, 1.0};
    loss::MeanSquaredLogarithmicError{}.compute<B>(clipped.data(), labels.data(), 1, 2, 2, grad.data());
    CHECK(grad == std::vector<double>{0.0, 0.0});
}

TEST_CASE("Hinge and SquaredHinge, with labels -1/1 or 0/1") {
    const std::vector<double> p{0.3, -2.0, 0.5, 1.5, 0.2, -0.1}, y{1, 0, -1, 1, 0, 1};
    CHECK(value(loss::Hinge{}, p, y, 2, 3) == doctest::Approx(0.75));
    CHECK(value(loss::SquaredHinge{}, p, y, 2, 3) == doctest::Approx(0.8983333333333333));
    // 0/1 labels are -1/1 labels
    CHECK(value(loss::Hinge{}, {0.3, -0.4}, {1, 0}, 1, 2) == value(loss::Hinge{}, {0.3, -0.4}, {1, -1}, 1, 2));
    const auto pred = random_values(12, -2, 2, 7);
    std::vector<double> labels(12);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = i % 3 == 0 ? 1.0 : (i % 3 == 1 ? -1.0 : 0.0);
    check_loss_gradient(loss::Hinge{}, pred, labels, 4, 3);
    check_loss_gradient(loss::SquaredHinge{}, pred, labels, 4, 3);
}

TEST_CASE("CosineSimilarity: minus the cosine along the last axis, averaged over the rows") {
    // rows (1, 2, 2)|(2, 0, 1), (0, 0, 0)|(1, 1, 1) (a zero row: cosine 0), (-1, .5, 3)|(1, -.5, -3)
    const std::vector<double> p{1, 2, 2, 0, 0, 0, -1, 0.5, 3}, y{2, 0, 1, 1, 1, 1, 1, -0.5, -3};
    CHECK(value(loss::CosineSimilarity{}, p, y, 3, 3) == doctest::Approx(0.13457173533335207));
    CHECK(value(loss::CosineSimilarity{}, {3, 4}, {6, 8}, 1, 2) == doctest::Approx(-1.0));
    check_loss_gradient(loss::CosineSimilarity{}, random_values(12, -2, 2, 8), random_values(12, -2, 2, 9), 4, 3);
    check_loss_gradient(loss::CosineSimilarity{}, random_values(12, -2, 2, 10), random_values(12, -2, 2, 11), 2, 2);
}

TEST_CASE("Contrastive: y d^2 for similar pairs, max(margin - d, 0)^2 for dissimilar ones (TensorFlow Addons')") {
    // distances 0.2, 1.5 (similar pairs), 0.4, 0.0 (dissimilar): 0.04 + 2.25 + 0.36 + 1 over 4
    const std::vector<double> d{0.2, 1.5, 0.4, 0.0}, y{1, 1, 0, 0};
    CHECK(value(loss::Contrastive{}, d, y, 4, 1) == doctest::Approx(0.9125));
    CHECK(value(loss::Contrastive{.margin = 0.5}, d, y, 2, 2) == doctest::Approx((0.04 + 2.25 + 0.01 + 0.25) / 4));
    // a dissimilar pair beyond the margin costs nothing and gets no gradient
    std::vector<double> grad(2);
    const std::vector<double> far{1.5, 0.5}, dissimilar{0, 0};
    CHECK(loss::Contrastive{}.compute<B>(far.data(), dissimilar.data(), 1, 2, 2, grad.data()) ==
          doctest::Approx(0.125));
    CHECK(grad[0] == 0.0);
    CHECK(grad[1] == doctest::Approx(-0.5));  // 2 * -(1 - 0.5) / 2
    auto labels = random_values(12, 0, 1, 13);
    for (auto& v : labels) v = v < 0.5 ? 0.0 : 1.0;
    check_loss_gradient(loss::Contrastive{}, random_values(12, 0.05, 0.95, 14), labels, 4, 3);
    check_loss_gradient(loss::Contrastive{.margin = 2.0}, random_values(12, 0.1, 1.9, 15), labels, 6, 2);
    CHECK_THROWS_WITH_AS(loss::Contrastive{.margin = 0.0}.validate(), doctest::Contains("Contrastive: margin"),
                         value_error);
    CHECK_THROWS_AS(loss::Contrastive{.margin = std::nan("")}.validate(), value_error);
    CHECK_NOTHROW(loss::Contrastive{.margin = 0.5}.validate());
}

TEST_CASE("Huber's delta must be positive: compile refuses it, naming it") {
    CHECK_THROWS_WITH_AS(loss::Huber{.delta = 0.0}.validate(), doctest::Contains("Huber: delta"), value_error);
    CHECK_THROWS_AS(loss::Huber{.delta = -1.0}.validate(), value_error);
    CHECK_NOTHROW(loss::Huber{.delta = 2.0}.validate());
}
