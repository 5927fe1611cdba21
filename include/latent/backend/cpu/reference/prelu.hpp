// cpu::reference kernels for PReLU (see backend/backend.hpp for their contract; which alpha an
// element uses is backend/prelu.hpp's).
#pragma once

#include <cstddef>

#include "../../prelu.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void prelu_kernel(const reference&, std::size_t batch, const latent::detail::AlphaLayout& l, const T* x,
                  const T* alpha, T* y) {
    for (std::size_t i = 0; i < batch * l.sample; ++i)
        y[i] = x[i] > T(0) ? x[i] : alpha[latent::detail::alpha_index(l, i)] * x[i];
}

template <class T>
void prelu_backward_kernel(const reference&, std::size_t batch, const latent::detail::AlphaLayout& l, const T* x,
                           const T* alpha, const T* dy, T* dx) {
    for (std::size_t i = 0; i < batch * l.sample; ++i)
        dx[i] = x[i] > T(0) ? dy[i] : alpha[latent::detail::alpha_index(l, i)] * dy[i];
}

}  // namespace latent::cpu
