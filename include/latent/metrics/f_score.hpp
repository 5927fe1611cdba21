// FBetaScore and F1Score, as Keras 3 counts them: per class (the last axis), true and false
// positives and false negatives over the epoch, F = (1 + beta^2) P R / (beta^2 P + R), then
// averaged over the classes (macro), from the summed counts (micro) or weighted by each class's
// share of the labels (weighted). A prediction is positive above `threshold`, or without one
// where it is its row's largest (Keras' threshold=None).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/errors.hpp"
#include "confusion.hpp"
#include "metric.hpp"

namespace latent::metrics {

// How the per-class scores become one number. Keras' default, average=None, gives one score
// per class; a logged metric here is one number, so the default is macro.
enum class Average { macro, micro, weighted };

namespace detail {
template <class = void>
class FScoreMetric final : public Metric {
public:
    FScoreMetric(std::string name, Average average, double beta, std::optional<double> threshold)
        : name_(std::move(name)), average_(average), beta_(beta), threshold_(threshold) {
        if (!(beta > 0.0) || !std::isfinite(beta))
            throw value_error("latent.metrics.f_score",
                              name_ + ": beta must be a positive finite number, got " + std::to_string(beta));
        if (threshold && !(*threshold > 0.0 && *threshold <= 1.0))
            throw value_error("latent.metrics.threshold",
                              name_ + ": threshold must be in (0, 1], got " + std::to_string(*threshold));
    }
    std::string name() const override { return name_; }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<FScoreMetric>(*this); }
    void reset() override {
        for (auto* counts : {&true_positives_, &false_positives_, &false_negatives_, &label_weights_})
            std::fill(counts->begin(), counts->end(), 0.0);
    }
    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t last,
                std::size_t label_size) override {
        check_labels_match(name_, label_size, out_size);
        if (true_positives_.empty()) {
            for (auto* counts : {&true_positives_, &false_positives_, &false_negatives_, &label_weights_})
                counts->assign(last, 0.0);
        } else if (true_positives_.size() != last) {
            throw shape_error("latent.metrics.classes", name_ + ": counted " + std::to_string(true_positives_.size()) +
                                                            " classes, now given " + std::to_string(last));
        }
        const std::size_t rows = batch * out_size / last;
        for (std::size_t r = 0; r < rows; ++r) {
            const float* p = y_pred + r * last;
            const float* y = y_true + r * last;
            const float top = *std::max_element(p, p + last);
            for (std::size_t c = 0; c < last; ++c) {
                const double predicted = threshold_ ? (p[c] > *threshold_ ? 1.0 : 0.0) : (p[c] >= top ? 1.0 : 0.0);
                true_positives_[c] += predicted * y[c];
                false_positives_[c] += predicted * (1.0 - y[c]);
                false_negatives_[c] += (1.0 - predicted) * y[c];
                label_weights_[c] += y[c];
            }
        }
    }
    double result() const override {
        if (true_positives_.empty()) return 0.0;
        const double b2 = beta_ * beta_, eps = 1e-7;  // Keras' epsilon in precision and recall
        const auto f_score = [&](double tp, double fp, double fn) {
            const double precision = tp / (tp + fp + eps), recall = tp / (tp + fn + eps);
            return (1.0 + b2) * divide_no_nan(precision * recall, b2 * precision + recall);
        };
        const std::size_t classes = true_positives_.size();
        if (average_ == Average::micro) {
            double tp = 0, fp = 0, fn = 0;
            for (std::size_t c = 0; c < classes; ++c)
                tp += true_positives_[c], fp += false_positives_[c], fn += false_negatives_[c];
            return f_score(tp, fp, fn);
        }
        double total_weight = 0.0;
        for (double w : label_weights_) total_weight += w;
        double sum = 0.0;
        for (std::size_t c = 0; c < classes; ++c) {
            const double f = f_score(true_positives_[c], false_positives_[c], false_negatives_[c]);
            sum += average_ == Average::weighted ? f * divide_no_nan(label_weights_[c], total_weight) : f;
        }
        return average_ == Average::weighted ? sum : sum / static_cast<double>(classes);
    }

private:
    std::string name_;
    Average average_;
    double beta_;
    std::optional<double> threshold_;
    std::vector<double> true_positives_, false_positives_, false_negatives_, label_weights_;
};
}  // namespace detail

struct FBetaScore {
    static constexpr const char* name = "fbeta_score";
    Average average = Average::macro;
    double beta = 1.0;
    std::optional<double> threshold{};  // none: the row's largest prediction is its positive
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::FScoreMetric<V>>(name, average, beta, threshold);
    }
};

struct F1Score {
    static constexpr const char* name = "f1_score";
    Average average = Average::macro;
    std::optional<double> threshold{};
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::FScoreMetric<V>>(name, average, 1.0, threshold);
    }
};

}  // namespace latent::metrics
