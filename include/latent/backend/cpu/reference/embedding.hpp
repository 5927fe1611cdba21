// cpu::reference kernels for Embedding's table lookup and its gradient (see backend/backend.hpp
// for their contract).
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>

#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void embedding_lookup_kernel(const reference&, std::size_t rows, std::size_t dim, std::size_t vocab, const T* x,
                             const T* table, T* y) {
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t row = latent::detail::embedding_row(x[r], vocab);
        if (row == vocab)
            std::fill(y + r * dim, y + (r + 1) * dim, std::numeric_limits<T>::quiet_NaN());
        else
            std::copy(table + row * dim, table + (row + 1) * dim, y + r * dim);
    }
}

template <class T>
void embedding_backward_kernel(const reference&, std::size_t rows, std::size_t dim, std::size_t vocab, const T* x,
                               const T* dy, T* dtable) {
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t row = latent::detail::embedding_row(x[r], vocab);
        if (row == vocab) continue;
        for (std::size_t c = 0; c < dim; ++c) dtable[row * dim + c] += dy[r * dim + c];
    }
}

}  // namespace latent::cpu
