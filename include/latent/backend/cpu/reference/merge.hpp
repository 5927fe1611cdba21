// cpu::reference kernels for the merge ops and gather_rows (see backend/backend.hpp for their contract).
#pragma once

#include <algorithm>
#include <cstddef>

#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void copy2d_kernel(const reference&, std::size_t rows, std::size_t cols, const T* src, std::size_t src_stride,
                   T* dst, std::size_t dst_stride) {
    for (std::size_t r = 0; r < rows; ++r) {
        const T* from = src + r * src_stride;  // (cols)
        std::copy(from, from + cols, dst + r * dst_stride);
    }
}

template <class T>
void gather_rows_kernel(const reference&, std::size_t rows, std::size_t row_size, const std::size_t* indices,
                        const T* from, T* to) {
    for (std::size_t r = 0; r < rows; ++r) {
        const T* row = from + indices[r] * row_size;
        std::copy(row, row + row_size, to + r * row_size);
    }
}

}  // namespace latent::cpu
