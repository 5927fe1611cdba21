// The runtime interface of a metric: accumulate over batches, then report one number.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace latent::metrics {

class Metric {
public:
    virtual ~Metric() = default;
    virtual std::string name() const = 0;
    virtual std::unique_ptr<Metric> clone() const = 0;
    virtual void reset() = 0;
    // y_pred (batch, out_size) whose last axis has `last` elements; y_true (batch, label_size).
    virtual void update(const float* y_pred, const float* y_true, std::size_t batch, std::size_t out_size,
                        std::size_t last, std::size_t label_size) = 0;
    virtual double result() const = 0;
};

// Whether a metric's settings type M measures a classification (Accuracy, AUC, ...: the
// default) or a regression (those that say `classification = false`, MeanAbsoluteError, ...).
template <class M>
constexpr bool classification_metric() {
    if constexpr (requires { M::classification; })
        return M::classification;
    else
        return true;
}

}  // namespace latent::metrics
