// The metrics counted from true and false positives, as Keras': Precision and Recall at a
// threshold (0.5), and AUC, the area under the ROC or precision-recall curve from the counts at
// num_thresholds thresholds (200) spread evenly over [0, 1]. Labels count as positive where
// non-zero; every element of the output is one prediction (Keras' multi_label=False).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../core/errors.hpp"
#include "metric.hpp"

namespace latent::metrics {

namespace detail {
template <class = void>
void check_labels_match(const std::string& name, std::size_t label_size, std::size_t out_size) {
    if (label_size != out_size)
        throw shape_error("latent.metrics.labels", name + ": labels of " + std::to_string(label_size) +
                                                       " elements for an output of " + std::to_string(out_size) +
                                                       " (one 0/1 label per predicted probability)");
}

inline double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

// Templates (V = void) so that including this header compiles none of them until one is used.
template <class = void>
class PrecisionRecallMetric final : public Metric {
public:
    PrecisionRecallMetric(bool recall, double threshold) : recall_(recall), threshold_(threshold) {
        if (!(threshold >= 0.0 && threshold <= 1.0))
            throw value_error("latent.metrics.threshold", name() + ": thresholds must be in [0, 1], got " +
                                                              std::to_string(threshold));
    }
    std::string name() const override { return recall_ ? "recall" : "precision"; }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<PrecisionRecallMetric>(*this); }
    void reset() override { true_positives_ = other_ = 0; }
    double result() const override {
        return divide_no_nan(static_cast<double>(true_positives_), static_cast<double>(true_positives_ + other_));
    }
    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t,
                std::size_t label_size) override {
        check_labels_match(name(), label_size, out_size);
        for (std::size_t i = 0; i < batch * out_size; ++i) {
            const bool predicted = y_pred[i] > threshold_, positive = y_true[i] != 0.0f;
            true_positives_ += predicted && positive;
            other_ += recall_ ? (!predicted && positive) : (predicted && !positive);  // FN or FP
        }
    }

private:
    bool recall_;
    double threshold_;
    std::size_t true_positives_ = 0, other_ = 0;
};
}  // namespace detail

struct Precision {
    static constexpr const char* name = "precision";
    double threshold = 0.5;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::PrecisionRecallMetric<V>>(false, threshold);
    }
};

struct Recall {
    static constexpr const char* name = "recall";
    double threshold = 0.5;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::PrecisionRecallMetric<V>>(true, threshold);
    }
};

// AUC's curve and how it sums the area between thresholds (Keras' curve and summation_method).
enum class Curve { roc, pr };
enum class Summation { interpolation, minoring, majoring };

namespace detail {
template <class = void>
class AucMetric final : public Metric {
public:
    AucMetric(std::size_t num_thresholds, Curve curve, Summation summation, bool from_logits)
        : curve_(curve), summation_(summation), from_logits_(from_logits) {
        if (num_thresholds <= 1)
            throw value_error("latent.metrics.auc", "AUC: num_thresholds must be greater than 1, got " +
                                                        std::to_string(num_thresholds));
        // Keras' thresholds: just below 0, (i + 1) / (n - 1) for i < n - 2, just above 1.
        const double epsilon = 1e-7;
        thresholds_.push_back(0.0 - epsilon);
        for (std::size_t i = 0; i + 2 < num_thresholds; ++i)
            thresholds_.push_back(static_cast<double>(i + 1) / static_cast<double>(num_thresholds - 1));
        thresholds_.push_back(1.0 + epsilon);
        positives_above_.assign(num_thresholds + 1, 0.0);
        negatives_above_.assign(num_thresholds + 1, 0.0);
    }
    std::string name() const override { return "auc"; }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<AucMetric>(*this); }
    void reset() override {
        std::fill(positives_above_.begin(), positives_above_.end(), 0.0);
        std::fill(negatives_above_.begin(), negatives_above_.end(), 0.0);
    }
    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t,
                std::size_t label_size) override {
        check_labels_match("auc", label_size, out_size);
        for (std::size_t i = 0; i < batch * out_size; ++i) {
            double p = y_pred[i];
            if (from_logits_) p = p >= 0 ? 1.0 / (1.0 + std::exp(-p)) : std::exp(p) / (1.0 + std::exp(p));
            // how many thresholds it is above: it counts as predicted positive at those
            const auto above =
                static_cast<std::size_t>(std::lower_bound(thresholds_.begin(), thresholds_.end(), p) - thresholds_.begin());
            (y_true[i] != 0.0f ? positives_above_ : negatives_above_)[above] += 1.0;
        }
    }
    double result() const override {
        const std::size_t n = thresholds_.size();
        // tp[t]: positives predicted above threshold t (those above more than t thresholds)
        std::vector<double> tp(n), fp(n), fn(n), tn(n);
        double pos_total = 0, neg_total = 0;
        for (std::size_t k = 0; k <= n; ++k) pos_total += positives_above_[k], neg_total += negatives_above_[k];
        double pos_above = pos_total - positives_above_[0], neg_above = neg_total - negatives_above_[0];
        for (std::size_t t = 0; t < n; ++t) {
            tp[t] = pos_above, fp[t] = neg_above, fn[t] = pos_total - pos_above, tn[t] = neg_total - neg_above;
            pos_above -= positives_above_[t + 1], neg_above -= negatives_above_[t + 1];
        }
        if (curve_ == Curve::pr && summation_ == Summation::interpolation) return interpolate_pr_auc(tp, fp, fn);
        std::vector<double> x(n), y(n);
        for (std::size_t t = 0; t < n; ++t) {
            const double recall = divide_no_nan(tp[t], tp[t] + fn[t]);
            x[t] = curve_ == Curve::roc ? divide_no_nan(fp[t], fp[t] + tn[t]) : recall;
            y[t] = curve_ == Curve::roc ? recall : divide_no_nan(tp[t], tp[t] + fp[t]);
        }
        double area = 0.0;
        for (std::size_t t = 0; t + 1 < n; ++t) {
            const double height = summation_ == Summation::interpolation ? (y[t] + y[t + 1]) / 2
                                  : summation_ == Summation::minoring    ? std::min(y[t], y[t + 1])
                                                                         : std::max(y[t], y[t + 1]);
            area += (x[t] - x[t + 1]) * height;
        }
        return area;
    }

private:
    // Davis and Goadrich's interpolation of precision between thresholds, as Keras computes it.
    static double interpolate_pr_auc(const std::vector<double>& tp, const std::vector<double>& fp,
                                     const std::vector<double>& fn) {
        double area = 0.0;
        for (std::size_t t = 0; t + 1 < tp.size(); ++t) {
            const double dtp = tp[t] - tp[t + 1];
            const double p0 = tp[t] + fp[t], p1 = tp[t + 1] + fp[t + 1];
            const double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
            const double intercept = tp[t + 1] - slope * p1;
            const double ratio = p0 > 0 && p1 > 0 ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
            area += divide_no_nan(slope * (dtp + intercept * std::log(ratio)), std::max(tp[t + 1] + fn[t + 1], 0.0));
        }
        return area;
    }

    std::vector<double> thresholds_;
    std::vector<double> positives_above_, negatives_above_;  // by how many thresholds a prediction is above
    Curve curve_;
    Summation summation_;
    bool from_logits_;
};
}  // namespace detail

struct AUC {
    static constexpr const char* name = "auc";
    std::size_t num_thresholds = 200;
    Curve curve = Curve::roc;
    Summation summation_method = Summation::interpolation;
    bool from_logits = false;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::AucMetric<V>>(num_thresholds, curve, summation_method, from_logits);
    }
};

}  // namespace latent::metrics
