// CosineSimilarity: minus the cosine similarity of y_pred and y_true along the last axis,
// averaged over the rest, as Keras' CosineSimilarity loss (both L2-normalized with a floor of
// 1e-12 on the squared norm): -1 when the directions agree, 1 when they are opposite.
#pragma once

#include <string_view>

#include "../backend/ops.hpp"
#include "loss.hpp"

namespace latent::loss {

struct CosineSimilarity {
    static constexpr std::string_view name = "cosine_similarity";
    static constexpr fusion fuses_with = fusion::none;
    template <class Out>
    static constexpr std::size_t label_size = Out::size;

    // The rows' cosines are the op row_dot's (normalized), so the loss runs where the outputs
    // are, a GPU's memory included; they are summed at the front of grad before the gradient
    // d(-mean cosine)/d y_pred overwrites it.
    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* y_true, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        const std::size_t rows = batch * size / last;
        ops::row_dot<B>(rows, last, y_pred, y_true, true, grad);
        const T total = ops::sum<B>(rows, grad);
        ops::row_dot_backward<B>(rows, last, y_pred, y_true, true, static_cast<const T*>(nullptr),
                                 T(-1) / static_cast<T>(rows), grad, static_cast<T*>(nullptr));
        return -total / static_cast<T>(rows);
    }
};

}  // namespace latent::loss
