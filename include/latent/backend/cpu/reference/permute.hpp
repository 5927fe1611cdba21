// cpu::reference kernels for Permute's reordering of a sample's axes and its gradient (see
// backend/backend.hpp for their contract; the mapping is backend/permute.hpp's).
#pragma once

#include <cstddef>

#include "../../permute.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void permute_kernel(const reference&, std::size_t batch, const latent::detail::Permutation& p, const T* x, T* y) {
    for (std::size_t i = 0; i < batch * p.sample; ++i) y[i] = x[latent::detail::permuted_source(p, i)];
}

template <class T>
void permute_backward_kernel(const reference&, std::size_t batch, const latent::detail::Permutation& p, const T* dy,
                             T* dx) {
    for (std::size_t i = 0; i < batch * p.sample; ++i) dx[latent::detail::permuted_source(p, i)] = dy[i];
}

}  // namespace latent::cpu
