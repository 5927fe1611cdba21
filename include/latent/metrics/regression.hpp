// The regression metrics, as Keras': MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError
// (over every element of every batch) and CosineSimilarity (the mean cosine along the last axis).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "../core/errors.hpp"
#include "metric.hpp"

namespace latent::metrics {

namespace detail {
// A mean over all elements of f(y_pred, y_true), kept in double across batches; `root` reports
// its square root (RootMeanSquaredError). The metrics here are templates (V = void) so that
// including this header compiles none of them until one is used.
template <class F, class V = void>
class ElementMean final : public Metric {
public:
    ElementMean(std::string name, bool root) : name_(std::move(name)), root_(root) {}
    std::string name() const override { return name_; }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<ElementMean>(*this); }
    void reset() override { total_ = 0.0, count_ = 0; }
    double result() const override {
        if (count_ == 0) return 0.0;
        const double mean = total_ / static_cast<double>(count_);
        return root_ ? std::sqrt(mean) : mean;
    }
    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t,
                std::size_t label_size) override {
        if (label_size != out_size)
            throw shape_error("latent.metrics.labels", name_ + ": labels of " + std::to_string(label_size) +
                                                           " elements for an output of " + std::to_string(out_size) +
                                                           " (the metric compares them element by element)");
        const F f;
        const std::size_t n = batch * out_size;
        for (std::size_t i = 0; i < n; ++i) total_ += f(static_cast<double>(y_pred[i]), static_cast<double>(y_true[i]));
        count_ += n;
    }

private:
    std::string name_;
    bool root_;
    double total_ = 0.0;
    std::size_t count_ = 0;
};

struct absolute_error {
    double operator()(double p, double y) const { return std::abs(p - y); }
};
struct squared_error {
    double operator()(double p, double y) const { return (p - y) * (p - y); }
};
}  // namespace detail

struct MeanAbsoluteError {
    static constexpr const char* name = "mean_absolute_error";
    static constexpr bool classification = false;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::ElementMean<detail::absolute_error, V>>(name, false);
    }
};

struct MeanSquaredError {
    static constexpr const char* name = "mean_squared_error";
    static constexpr bool classification = false;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::ElementMean<detail::squared_error, V>>(name, false);
    }
};

struct RootMeanSquaredError {
    static constexpr const char* name = "root_mean_squared_error";
    static constexpr bool classification = false;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::ElementMean<detail::squared_error, V>>(name, true);
    }
};

namespace detail {
template <class = void>
class CosineSimilarityMetric final : public Metric {
public:
    std::string name() const override { return "cosine_similarity"; }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<CosineSimilarityMetric>(*this); }
    void reset() override { total_ = 0.0, rows_ = 0; }
    double result() const override { return rows_ ? total_ / static_cast<double>(rows_) : 0.0; }
    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t last,
                std::size_t label_size) override {
        if (label_size != out_size)
            throw shape_error("latent.metrics.labels", "cosine_similarity: labels of " + std::to_string(label_size) +
                                                           " elements for an output of " + std::to_string(out_size));
        const std::size_t rows = batch * out_size / last;
        for (std::size_t r = 0; r < rows; ++r) {
            double pp = 0.0, yy = 0.0, py = 0.0;
            for (std::size_t c = 0; c < last; ++c) {
                const double p = y_pred[r * last + c], y = y_true[r * last + c];
                pp += p * p, yy += y * y, py += p * y;
            }
            // Keras' l2_normalize: a squared norm below 1e-12 counts as 1e-12
            total_ += py / std::sqrt(std::max(pp, 1e-12)) / std::sqrt(std::max(yy, 1e-12));
        }
        rows_ += rows;
    }

private:
    double total_ = 0.0;
    std::size_t rows_ = 0;
};
}  // namespace detail

struct CosineSimilarity {
    static constexpr const char* name = "cosine_similarity";
    static constexpr bool classification = false;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::CosineSimilarityMetric<V>>();
    }
};

}  // namespace latent::metrics
