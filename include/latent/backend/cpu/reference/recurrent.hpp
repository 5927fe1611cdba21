// cpu::reference kernels for the recurrent cells' pointwise steps (see backend/backend.hpp for
// their contract; the math is backend/recurrent_cells.hpp's).
#pragma once

#include <cstddef>

#include "../../recurrent_cells.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void lstm_cell_kernel(const reference&, const RecurrentStep<T>& s) {
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t k = 0; k < s.units; ++k) latent::detail::lstm_cell_at(s, b, k);
}

template <class T>
void lstm_cell_backward_kernel(const reference&, const RecurrentStep<T>& s) {
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t k = 0; k < s.units; ++k) latent::detail::lstm_cell_backward_at(s, b, k);
}

template <class T>
void gru_cell_kernel(const reference&, const RecurrentStep<T>& s) {
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t k = 0; k < s.units; ++k) latent::detail::gru_cell_at(s, b, k);
}

template <class T>
void gru_cell_backward_kernel(const reference&, const RecurrentStep<T>& s) {
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t k = 0; k < s.units; ++k) latent::detail::gru_cell_backward_at(s, b, k);
}

template <class T>
void simple_rnn_cell_kernel(const reference&, const RecurrentStep<T>& s) {
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t k = 0; k < s.units; ++k) latent::detail::simple_rnn_cell_at(s, b, k);
}

template <class T>
void simple_rnn_cell_backward_kernel(const reference&, const RecurrentStep<T>& s) {
    for (std::size_t b = 0; b < s.batch; ++b)
        for (std::size_t k = 0; k < s.units; ++k) latent::detail::simple_rnn_cell_backward_at(s, b, k);
}

}  // namespace latent::cpu
