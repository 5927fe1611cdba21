// The metrics against Keras' documented examples and its formulas, their errors, and how fit
// reports them (History keys, the regression metrics on a model's regression output).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <tuple>
#include <vector>

#include <latent/latent.hpp>

#include "support/outputs_cases.hpp"

using namespace latent;

namespace {
// One update of a freshly built metric with (y_pred, y_true) of `batch` samples whose last
// axis has `last` elements (labels of `label_size` per sample: the output's size by default).
template <class M>
double measure(const M& settings, std::vector<float> pred, std::vector<float> labels, std::size_t batch,
               std::size_t last, std::size_t label_size = 0) {
    auto m = settings.build();
    const std::size_t out = pred.size() / batch;
    m->update(pred.data(), labels.data(), batch, out, last, label_size ? label_size : out);
    return m->result();
}
}  // namespace

TEST_CASE("the regression metrics: Keras' documented examples") {
    // y_true [[0, 1], [0, 0]], y_pred [[1, 1], [0, 0]]
    CHECK(measure(metrics::MeanAbsoluteError{}, {1, 1, 0, 0}, {0, 1, 0, 0}, 2, 2) == doctest::Approx(0.25));
    CHECK(measure(metrics::MeanSquaredError{}, {1, 1, 0, 0}, {0, 1, 0, 0}, 2, 2) == doctest::Approx(0.25));
    CHECK(measure(metrics::RootMeanSquaredError{}, {1, 1, 0, 0}, {0, 1, 0, 0}, 2, 2) == doctest::Approx(0.5));
    // y_true [[0, 1], [1, 1]], y_pred [[1, 0], [1, 1]]: cosines 0 and 1
    CHECK(measure(metrics::CosineSimilarity{}, {1, 0, 1, 1}, {0, 1, 1, 1}, 2, 2) == doctest::Approx(0.5));

    // Across batches: the mean of every element seen, not of the batches' means.
    auto mae = metrics::MeanAbsoluteError{}.build();
    const std::vector<float> a{1, 2, 3}, zero{0, 0, 0};
    mae->update(a.data(), zero.data(), 1, 3, 3, 3);   // |e| sum 6 over 3
    mae->update(zero.data(), zero.data(), 1, 1, 1, 1);  // 0 over 1
    CHECK(mae->result() == doctest::Approx(6.0 / 4));
    mae->reset();
    CHECK(mae->result() == 0.0);
    CHECK(mae->name() == "mean_absolute_error");
    CHECK_THROWS_WITH_AS(mae->update(a.data(), zero.data(), 1, 3, 3, 1), doctest::Contains("labels of 1 elements"),
                         shape_error);
}

TEST_CASE("top-k accuracy: Keras' documented examples, ties at the boundary count") {
    // y_true [[0, 0, 1], [0, 1, 0]] (classes 2, 1), y_pred [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k = 1
    const std::vector<float> scores{0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0.0f};
    CHECK(measure(metrics::TopKCategoricalAccuracy{.k = 1}, scores, {0, 0, 1, 0, 1, 0}, 2, 3) == doctest::Approx(0.5));
    CHECK(measure(metrics::SparseTopKCategoricalAccuracy{.k = 1}, scores, {2, 1}, 2, 3, 1) == doctest::Approx(0.5));
    CHECK(measure(metrics::TopKCategoricalAccuracy{.k = 2}, scores, {0, 0, 1, 0, 1, 0}, 2, 3) == 1.0);
    CHECK(measure(metrics::SparseTopKCategoricalAccuracy{}, scores, {0, 2}, 2, 3, 1) == 1.0);  // k 5 > 3 classes
    // class 0 ties with class 2 for second place: both are in the top 2
    CHECK(measure(metrics::SparseTopKCategoricalAccuracy{.k = 2}, {0.3f, 0.4f, 0.3f}, {0}, 1, 3, 1) == 1.0);
    CHECK(measure(metrics::SparseTopKCategoricalAccuracy{.k = 1}, {0.3f, 0.4f, 0.3f}, {0}, 1, 3, 1) == 0.0);

    CHECK_THROWS_WITH_AS(measure(metrics::SparseTopKCategoricalAccuracy{}, scores, {2, 3}, 2, 3, 1),
                         doctest::Contains("label of row 1 of the batch is 3.000000, not a class index in [0, 3)"),
                         value_error);
    CHECK_THROWS_WITH_AS(measure(metrics::TopKCategoricalAccuracy{}, scores, {2, 1}, 2, 3, 1),
                         doctest::Contains("one-hot rows"), shape_error);
    CHECK_THROWS_WITH_AS(metrics::TopKCategoricalAccuracy{.k = 0}.build(), doctest::Contains("k must be at least 1"),
                         value_error);
}

TEST_CASE("Precision, Recall and AUC: Keras' documented examples") {
    // y_true [0, 1, 1, 1], y_pred [1, 0, 1, 1]
    CHECK(measure(metrics::Precision{}, {1, 0, 1, 1}, {0, 1, 1, 1}, 4, 1) == doctest::Approx(2.0 / 3));
    CHECK(measure(metrics::Recall{}, {1, 0, 1, 1}, {0, 1, 1, 1}, 4, 1) == doctest::Approx(2.0 / 3));
    CHECK(measure(metrics::Precision{}, {0, 0}, {1, 1}, 2, 1) == 0.0);  // nothing predicted: 0, not NaN
    // y_true [0, 0, 1, 1], y_pred [0, 0.5, 0.3, 0.9], three thresholds: 0.75
    CHECK(measure(metrics::AUC{.num_thresholds = 3}, {0, 0.5f, 0.3f, 0.9f}, {0, 0, 1, 1}, 4, 1) ==
          doctest::Approx(0.75));
    CHECK_THROWS_WITH_AS(metrics::AUC{.num_thresholds = 1}.build(), doctest::Contains("num_thresholds"), value_error);
    CHECK_THROWS_AS(metrics::Precision{.threshold = 1.5}.build(), value_error);
}

TEST_CASE("F1Score and FBetaScore: Keras' documented examples, and its three averages") {
    // Keras: y_true [[1, 1, 1], [1, 0, 0], [1, 1, 0]], y_pred [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6],
    // [0.6, 0.8, 0.0]], threshold 0.5: per class F1 [0.5, 0.8, 0.6666667], F2 [0.3846154,
    // 0.90909094, 0.8333332].
    const std::vector<float> pred{0.2f, 0.6f, 0.7f, 0.2f, 0.6f, 0.6f, 0.6f, 0.8f, 0.0f};
    const std::vector<float> labels{1, 1, 1, 1, 0, 0, 1, 1, 0};
    CHECK(measure(metrics::F1Score{.threshold = 0.5}, pred, labels, 3, 3) ==
          doctest::Approx((0.5 + 0.8 + 2.0 / 3) / 3).epsilon(1e-6));
    CHECK(measure(metrics::FBetaScore{.beta = 2.0, .threshold = 0.5}, pred, labels, 3, 3) ==
          doctest::Approx((0.3846154 + 0.90909094 + 0.8333332) / 3).epsilon(1e-6));
    // weighted by the labels per class (3, 2, 1); micro from the summed counts tp 4, fp 2, fn 2
    CHECK(measure(metrics::F1Score{.average = metrics::Average::weighted, .threshold = 0.5}, pred, labels, 3, 3) ==
          doctest::Approx((3 * 0.5 + 2 * 0.8 + 1 * 2.0 / 3) / 6).epsilon(1e-6));
    CHECK(measure(metrics::F1Score{.average = metrics::Average::micro, .threshold = 0.5}, pred, labels, 3, 3) ==
          doctest::Approx(2.0 / 3).epsilon(1e-6));
    // Without a threshold each row's largest prediction is its positive: one-hot classification.
    // Rows predict classes 2, 1, 1 for labels 2, 1, 0: class 0 F1 0, class 1 2/3, class 2 1.
    CHECK(measure(metrics::F1Score{}, {0.1f, 0.2f, 0.7f, 0.3f, 0.6f, 0.1f, 0.2f, 0.5f, 0.3f},
                  {0, 0, 1, 0, 1, 0, 1, 0, 0}, 3, 3) == doctest::Approx((0.0 + 2.0 / 3 + 1.0) / 3).epsilon(1e-6));
    CHECK_THROWS_WITH_AS(metrics::FBetaScore{.beta = 0.0}.build(), doctest::Contains("fbeta_score: beta"),
                         value_error);
    CHECK_THROWS_WITH_AS(metrics::F1Score{.threshold = 0.0}.build(), doctest::Contains("f1_score: threshold"),
                         value_error);
    CHECK_THROWS_AS(measure(metrics::F1Score{}, {0.1f, 0.9f}, {1}, 1, 2, 1), shape_error);  // labels must be one-hot
}

TEST_CASE("AUC's curves and summation methods give Keras' values") {
    // Keras' AUC.result(), transcribed in NumPy (float64), for these 12 predictions; with 200
    // thresholds and no two of them in one bucket, the ROC area is the exact (Mann-Whitney) one.
    const std::vector<float> y{1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1};
    const std::vector<float> p{0.93f, 0.12f, 0.55f, 0.71f, 0.48f, 0.05f, 0.38f, 0.62f, 0.81f, 0.27f, 0.33f, 0.66f};
    using metrics::Curve, metrics::Summation;
    CHECK(measure(metrics::AUC{}, p, y, 12, 1) == doctest::Approx(0.9166666666666667));
    CHECK(measure(metrics::AUC{.summation_method = Summation::minoring}, p, y, 12, 1) ==
          doctest::Approx(0.9166666666666667));
    CHECK(measure(metrics::AUC{.curve = Curve::pr}, p, y, 12, 1) == doctest::Approx(0.9251026096595));
    CHECK(measure(metrics::AUC{.curve = Curve::pr, .summation_method = Summation::minoring}, p, y, 12, 1) ==
          doctest::Approx(0.7523809523809524));
    CHECK(measure(metrics::AUC{.curve = Curve::pr, .summation_method = Summation::majoring}, p, y, 12, 1) ==
          doctest::Approx(0.9305555555555556));
    // from logits: the same predictions through the inverse sigmoid
    std::vector<float> logits(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) logits[i] = std::log(p[i] / (1 - p[i]));
    CHECK(measure(metrics::AUC{.from_logits = true}, logits, y, 12, 1) == doctest::Approx(0.9166666666666667));
    // batches add up: two halves give the whole
    auto auc = metrics::AUC{.curve = Curve::pr}.build();
    auc->update(p.data(), y.data(), 5, 1, 1, 1);
    auc->update(p.data() + 5, y.data() + 5, 7, 1, 1, 1);
    CHECK(auc->result() == doctest::Approx(0.9251026096595));
}

TEST_CASE("fit reports the metrics under Keras' names; regression metrics go to regression outputs") {
    using Net = Sequential<Input<3>, Dense<8>, Tanh, Dense<2>>;
    Tensor<Shape<3>> x(40);
    Tensor<Shape<2>> y(40);
    Generator g(5);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.normal());
    for (std::size_t i = 0; i < 40; ++i) {
        y[2 * i] = x[3 * i] - 0.5f * x[3 * i + 1];
        y[2 * i + 1] = x[3 * i + 2];
    }
    Net net(2);
    net.compile(optim::AdamW{.lr = 1e-2, .global_clipnorm = 1.0}, loss::Huber{}, metrics::MeanAbsoluteError{},
                metrics::RootMeanSquaredError{});
    const auto history = net.fit(x, y, {.epochs = 3, .batch_size = 8, .validation_split = 0.25,
                                        .verbose = Verbosity::silent});
    for (const char* key : {"loss", "mean_absolute_error", "root_mean_squared_error", "val_loss",
                            "val_mean_absolute_error", "val_root_mean_squared_error"})
        CHECK(history.contains(key));
    CHECK(history.last("mean_absolute_error") > 0.0);
    const auto scores = net.evaluate(x, y);
    const auto pred = net.predict(x);
    double abs_sum = 0, sq_sum = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
        abs_sum += std::abs(pred[i] - y[i]);
        sq_sum += (pred[i] - y[i]) * (pred[i] - y[i]);
    }
    CHECK(scores.at("mean_absolute_error") == doctest::Approx(abs_sum / 80).epsilon(1e-5));
    CHECK(scores.at("root_mean_squared_error") == doctest::Approx(std::sqrt(sq_sum / 80)).epsilon(1e-5));

    // Huber's delta is checked when the model is compiled.
    CHECK_THROWS_WITH_AS(net.compile(optim::Adam{}, loss::Huber{.delta = 0.0}), doctest::Contains("Huber: delta"),
                         value_error);

    // A classifier head and a regression head: accuracy for the one, mean absolute error for the other.
    auto model = testing::two_by_two<cpu::simd>(3);
    model.compile(optim::Adam{.lr = 1e-2},
                  loss::per_output(loss::CategoricalCrossentropy{}, loss::Huber{}).weighted({1.0, 0.5}),
                  metrics::Accuracy{}, metrics::MeanAbsoluteError{}, metrics::TopKCategoricalAccuracy{.k = 2},
                  metrics::F1Score{});
    testing::TwoByTwoData d;
    const auto run = model.fit(d.x(), d.y(), {.epochs = 1, .batch_size = 30, .verbose = Verbosity::silent});
    for (const char* key :
         {"digit_accuracy", "digit_top_k_categorical_accuracy", "level_mean_absolute_error", "digit_f1_score"})
        CHECK(run.contains(key));
    for (const char* key :
         {"level_accuracy", "digit_mean_absolute_error", "level_top_k_categorical_accuracy", "level_f1_score"})
        CHECK_FALSE(run.contains(key));
}
