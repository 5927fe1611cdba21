// TopKCategoricalAccuracy (one-hot labels) and SparseTopKCategoricalAccuracy (class indices),
// as Keras': a row counts when its true class is among the k highest scores, ties at the
// boundary included (TensorFlow's in_top_k); k = 5 by default.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>

#include "../core/errors.hpp"
#include "metric.hpp"

namespace latent::metrics {

namespace detail {
// A template (V = void) so that including this header compiles nothing until it is used.
template <class = void>
class TopKMetric final : public Metric {
public:
    TopKMetric(std::size_t k, bool sparse) : k_(k), sparse_(sparse) {
        if (k == 0)
            throw value_error("latent.metrics.top_k",
                              std::string(sparse ? "Sparse" : "") + "TopKCategoricalAccuracy: k must be at least 1, got 0");
    }
    std::string name() const override {
        return sparse_ ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy";
    }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<TopKMetric>(*this); }
    void reset() override { hits_ = rows_ = 0; }
    double result() const override { return rows_ ? static_cast<double>(hits_) / static_cast<double>(rows_) : 0.0; }

    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t last,
                std::size_t label_size) override {
        const std::size_t rows = batch * out_size / last;
        if (sparse_ ? label_size * last != out_size : label_size != out_size)
            throw shape_error("latent.metrics.top_k",
                              name() + ": labels of " + std::to_string(label_size) + " elements per sample for " +
                                  std::to_string(out_size / last) + " rows of " + std::to_string(last) + " scores (" +
                                  (sparse_ ? "one class index per row" : "one-hot rows") + " expected)");
        for (std::size_t r = 0; r < rows; ++r) {
            const float* scores = y_pred + r * last;
            const std::size_t target = sparse_ ? class_index(y_true[r], last, r) : argmax(y_true + r * last, last);
            const float mine = scores[target];
            std::size_t above = 0;
            for (std::size_t c = 0; c < last; ++c) above += scores[c] > mine;
            hits_ += !std::isnan(mine) && above < k_;
        }
        rows_ += rows;
    }

private:
    std::size_t class_index(float label, std::size_t classes, std::size_t row) const {
        if (!(label >= 0.0f) || label >= static_cast<float>(classes) || label != std::floor(label))
            throw value_error("latent.metrics.top_k", name() + ": the label of row " + std::to_string(row) +
                                                          " of the batch is " + std::to_string(label) +
                                                          ", not a class index in [0, " + std::to_string(classes) + ")");
        return static_cast<std::size_t>(label);
    }
    static std::size_t argmax(const float* x, std::size_t n) {
        std::size_t best = 0;
        for (std::size_t i = 1; i < n; ++i)
            if (x[i] > x[best]) best = i;
        return best;
    }
    std::size_t k_;
    bool sparse_;
    std::size_t hits_ = 0, rows_ = 0;
};
}  // namespace detail

struct TopKCategoricalAccuracy {
    static constexpr const char* name = "top_k_categorical_accuracy";
    std::size_t k = 5;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::TopKMetric<V>>(k, false);
    }
};

struct SparseTopKCategoricalAccuracy {
    static constexpr const char* name = "sparse_top_k_categorical_accuracy";
    std::size_t k = 5;
    template <class V = void>
    std::unique_ptr<Metric> build() const {
        return std::make_unique<detail::TopKMetric<V>>(k, true);
    }
};

}  // namespace latent::metrics
