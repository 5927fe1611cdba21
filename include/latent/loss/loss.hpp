// What a loss is: a value averaged over the batch and its gradient with respect to the
// model's output; optionally fused with a final Softmax or Sigmoid, working from its logits.
#pragma once

/* A loss type L provides:
     static constexpr std::string_view name            "categorical_crossentropy"
     template <class Out> static constexpr std::size_t label_size   per-sample label elements
     template <backend_policy B, class T>
     T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
               T* grad) const
         mean loss over the batch; grad (batch, size) = d loss / d y_pred. `last` is the length
         of the last axis (cross-entropies reduce over it).
     static constexpr fusion fuses_with                  none, softmax or sigmoid
     template <backend_policy B, class T>
     T compute_from_logits(const T* logits, const T* y_true, std::size_t batch, std::size_t size,
                           std::size_t last, T* dlogits) const
         the same loss of softmax(logits) / sigmoid(logits), computed stably (log-sum-exp);
         used instead of compute when the model ends with that activation, and by from_logits.
     void validate() const                                (optional)
         throws value_error for impossible settings; compile calls it. */

#include <cstddef>
#include <string>
#include <vector>

#include "../backend/memory.hpp"
#include "../backend/ops.hpp"
#include "../core/errors.hpp"

namespace latent::loss {

enum class fusion { none, softmax, sigmoid };

// Keras' epsilon for clipping probabilities before a logarithm.
inline constexpr double epsilon = 1e-7;

namespace detail {
// Keras' label_smoothing: 0 (off) to 1 (every label the uniform one).
inline void check_label_smoothing(double smoothing, const char* loss) {
    if (!(smoothing >= 0.0 && smoothing <= 1.0))
        throw value_error("latent.loss.label_smoothing",
                          std::string(loss) + ": label_smoothing must be in [0, 1], got " + std::to_string(smoothing));
}

// Runs a loss written as host loops, f(y_pred, y_true, grad) -> loss, on backend B's arrays:
// on a device backend one batch of outputs and labels comes over, and the gradient goes back.
template <class B, class T, class F>
T on_host(std::size_t pred_size, const T* y_pred, std::size_t true_size, const T* y_true, T* grad, F f) {
    if constexpr (host_backend_v<B>) {
        return f(y_pred, y_true, grad);
    } else {
        std::vector<T> pred(pred_size), labels(true_size), g(pred_size);
        download<B>(pred.data(), y_pred, pred_size);
        download<B>(labels.data(), y_true, true_size);
        const T loss = f(pred.data(), labels.data(), g.data());
        upload<B>(grad, g.data(), pred_size);
        return loss;
    }
}

// The mean over n elements of a per-element term, and its gradient: `term` writes each element's
// term into grad (summed there), then `gradient` overwrites grad with d mean / d y_pred. Both are
// [..] LATENT_HOST_DEVICE(T& g, const T& y_pred, const T& y_true); the elementwise losses are this.
template <backend_policy B, class T, class Term, class Gradient>
T mean_over_elements(std::size_t n, const T* y_pred, const T* y_true, T* grad, Term term, Gradient gradient) {
    ops::elementwise<B>(n, term, grad, y_pred, y_true);
    const T total = ops::sum<B>(n, grad);
    ops::elementwise<B>(n, gradient, grad, y_pred, y_true);
    return total / static_cast<T>(n);
}
}  // namespace detail

}  // namespace latent::loss
