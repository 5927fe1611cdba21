// Accuracy, resolved from the label shape as Keras resolves "accuracy": one-hot labels give
// categorical accuracy (argmax), class indices sparse accuracy, one output binary (> 0.5).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>

#include "../core/errors.hpp"
#include "metric.hpp"

namespace latent::metrics {

class AccuracyMetric final : public Metric {
public:
    std::string name() const override { return "accuracy"; }
    std::unique_ptr<Metric> clone() const override { return std::make_unique<AccuracyMetric>(*this); }
    void reset() override { correct_ = total_ = 0; }
    double result() const override { return total_ ? static_cast<double>(correct_) / static_cast<double>(total_) : 0.0; }

    void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size, std::size_t last,
                std::size_t label_size) override {
        const std::size_t rows = batch * out_size / last;
        if (last == 1) {  // binary
            for (std::size_t r = 0; r < rows; ++r) correct_ += (y_pred[r] > 0.5f) == (y_true[r] > 0.5f);
        } else if (label_size == out_size) {  // one-hot
            for (std::size_t r = 0; r < rows; ++r)
                correct_ += argmax(y_pred + r * last, last) == argmax(y_true + r * last, last);
        } else if (label_size * last == out_size) {  // class indices
            for (std::size_t r = 0; r < rows; ++r)
                correct_ += argmax(y_pred + r * last, last) == static_cast<std::size_t>(y_true[r]);
        } else {
            throw shape_error("latent.metrics.accuracy", "Accuracy: labels of " + std::to_string(label_size) +
                                                             " elements fit neither an output of " +
                                                             std::to_string(out_size) + " elements nor its class indices");
        }
        total_ += rows;
    }

private:
    static std::size_t argmax(const float* x, std::size_t n) {
        return static_cast<std::size_t>(std::max_element(x, x + n) - x);
    }
    std::size_t correct_ = 0;
    std::size_t total_ = 0;
};

struct Accuracy {
    static constexpr const char* name = "accuracy";
    std::unique_ptr<Metric> build() const { return std::make_unique<AccuracyMetric>(); }
};

}  // namespace latent::metrics
