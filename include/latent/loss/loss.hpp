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

namespace latent::loss {

enum class fusion { none, softmax, sigmoid };

// Keras' epsilon for clipping probabilities before a logarithm.
inline constexpr double epsilon = 1e-7;

}  // namespace latent::loss
