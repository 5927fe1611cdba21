// SparseCategoricalCrossentropy: categorical cross-entropy with labels given as class
// indices (one per row of the last axis, stored as float), as Keras.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "../backend/ops.hpp"
#include "../core/errors.hpp"
#include "categorical_crossentropy.hpp"
#include "loss.hpp"

namespace latent::loss {

struct SparseCategoricalCrossentropy {
    bool from_logits = false;

    static constexpr std::string_view name = "sparse_categorical_crossentropy";
    static constexpr fusion fuses_with = fusion::softmax;
    template <class Out>
    static constexpr std::size_t label_size = Out::size / Out::dims[Out::rank - 1];

    template <backend_policy B, class T>
    T compute(const T* y_pred, const T* classes, std::size_t batch, std::size_t size, std::size_t last,
              T* grad) const {
        if (from_logits) return compute_from_logits<B>(y_pred, classes, batch, size, last, grad);
        const std::size_t rows = batch * size / last;
        const T scale = T(1) / static_cast<T>(rows);
        return detail::on_host<B>(batch * size, y_pred, rows, classes, grad, [&](const T* pred, const T* labels, T* g) {
            check_classes(labels, rows, last);
            std::vector<T> one_hot(last);
            T loss = 0;
            for (std::size_t r = 0; r < rows; ++r) {
                std::fill(one_hot.begin(), one_hot.end(), T(0));
                one_hot[static_cast<std::size_t>(labels[r])] = T(1);
                loss += detail::crossentropy_of_probabilities(pred + r * last, one_hot.data(), last, g + r * last, scale);
            }
            return loss * scale;
        });
    }

    template <backend_policy B, class T>
    T compute_from_logits(const T* logits, const T* classes, std::size_t batch, std::size_t size, std::size_t last,
                          T* dlogits) const {
        const std::size_t rows = batch * size / last;
        // On a device backend the labels were checked on the host before they went over (those
        // of a DeviceTensor were not: the kernel makes the loss NaN for a label out of range).
        if constexpr (host_backend_v<B>) check_classes(classes, rows, last);
        const T total = ops::sparse_softmax_cross_entropy<B>(rows, last, logits, classes, dlogits);
        const T scale = T(1) / static_cast<T>(rows);
        ops::elementwise<B>(batch * size, [scale] LATENT_HOST_DEVICE(T& g) { g *= scale; }, dlogits);
        return total * scale;
    }

    // Every label must be an integral class index in [0, last).
    template <class T>
    static void check_classes(const T* classes, std::size_t rows, std::size_t last) {
        for (std::size_t r = 0; r < rows; ++r) {
            const T k = classes[r];
            if (!(k >= T(0) && k < static_cast<T>(last) && k == std::floor(k)))
                throw value_error("latent.loss.sparse_label",
                                  "SparseCategoricalCrossentropy: label " + std::to_string(r) + " is " +
                                      std::to_string(static_cast<double>(k)) + ", expected a class index in [0, " +
                                      std::to_string(last) + ")");
        }
    }
};

}  // namespace latent::loss
