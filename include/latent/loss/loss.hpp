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
         used instead of compute when the model ends with that activation, and by from_logits. */

#include <cstddef>
#include <vector>

#include "../backend/memory.hpp"

namespace latent::loss {

enum class fusion { none, softmax, sigmoid };

// Keras' epsilon for clipping probabilities before a logarithm.
inline constexpr double epsilon = 1e-7;

namespace detail {
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
}  // namespace detail

}  // namespace latent::loss
