// cpu::reference kernels for the causal mask of attention scores and for additive (Bahdanau)
// scores (see backend/backend.hpp for their contracts).
#pragma once

#include <cmath>
#include <cstddef>

#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void causal_mask_kernel(const reference&, std::size_t matrices, std::size_t rows, std::size_t cols, T* scores) {
    for (std::size_t m = 0; m < matrices; ++m)
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = i + 1; j < cols; ++j) scores[(m * rows + i) * cols + j] = T(-1e9);
}

template <class T>
void additive_scores_kernel(const reference&, std::size_t batch, std::size_t lq, std::size_t lk, std::size_t dim,
                            const T* q, const T* k, const T* scale, T* scores) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t i = 0; i < lq; ++i)
            for (std::size_t j = 0; j < lk; ++j) {
                const T* qi = q + (b * lq + i) * dim;
                const T* kj = k + (b * lk + j) * dim;
                T s = T(0);
                for (std::size_t d = 0; d < dim; ++d) s += (scale ? scale[d] : T(1)) * std::tanh(qi[d] + kj[d]);
                scores[(b * lq + i) * lk + j] = s;
            }
}

// u = d_scores * scale * (1 - tanh^2) at each (b, i, j, d): dq sums it over j, dk over i (both
// in increasing order); dscale adds d_scores * tanh over (b, i, j) in that order.
template <class T>
void additive_scores_backward_kernel(const reference&, std::size_t batch, std::size_t lq, std::size_t lk,
                                     std::size_t dim, const T* q, const T* k, const T* scale, const T* d_scores, T* dq,
                                     T* dk, T* dscale) {
    if (dq)
        for (std::size_t n = 0; n < batch * lq * dim; ++n) dq[n] = T(0);
    if (dk)
        for (std::size_t n = 0; n < batch * lk * dim; ++n) dk[n] = T(0);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t i = 0; i < lq; ++i)
            for (std::size_t j = 0; j < lk; ++j) {
                const T g = d_scores[(b * lq + i) * lk + j];
                for (std::size_t d = 0; d < dim; ++d) {
                    const T t = std::tanh(q[(b * lq + i) * dim + d] + k[(b * lk + j) * dim + d]);
                    const T u = g * (scale ? scale[d] : T(1)) * (T(1) - t * t);
                    if (dq) dq[(b * lq + i) * dim + d] += u;
                    if (dk) dk[(b * lk + j) * dim + d] += u;
                }
            }
    if (dscale)
        for (std::size_t d = 0; d < dim; ++d) {
            T sum = T(0);
            for (std::size_t b = 0; b < batch; ++b)
                for (std::size_t i = 0; i < lq; ++i)
                    for (std::size_t j = 0; j < lk; ++j)
                        sum += d_scores[(b * lq + i) * lk + j] *
                               std::tanh(q[(b * lq + i) * dim + d] + k[(b * lk + j) * dim + d]);
            dscale[d] += sum;
        }
}

}  // namespace latent::cpu
