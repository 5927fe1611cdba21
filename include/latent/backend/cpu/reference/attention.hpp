// cpu::reference kernel for the causal mask of attention scores (see backend/backend.hpp for its
// contract).
#pragma once

#include <cstddef>

#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void causal_mask_kernel(const reference&, std::size_t matrices, std::size_t rows, std::size_t cols, T* scores) {
    for (std::size_t m = 0; m < matrices; ++m)
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = i + 1; j < cols; ++j) scores[(m * rows + i) * cols + j] = T(-1e9);
}

}  // namespace latent::cpu
