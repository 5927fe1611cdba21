// cpu::simd's recurrent cells (ops lstm_cell, gru_cell and their backwards): the reference's
// math, a sample's row of gates at a time through the vectorized tanh, rows shared among the
// threads. In float; in double the forward cells and the LSTM's backward are the reference's
// kernels (GRU's backward, which has no tanh, is the reference's math on every thread in both).
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "../recurrent_cells.hpp"
#include "simd.hpp"

namespace latent::cpu {

namespace detail {
// libm's tanhf was over half of an LSTM's training step (perf, 128 units, batch 64) through the
// reference's scalar cells; the vectorized tanh (activate's, within 5 ulp) replaces it, and
// sigmoid(x) = (1 + tanh(x / 2)) / 2 rides on it (within 3e-7 absolute of the exact value: a
// gate multiplies a state, so its absolute error is what counts).
inline void tanh_in_place(float* x, std::size_t n) { activate(activations::tanh{}, 0, n, x, x); }
inline void sigmoid_in_place(float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) x[i] *= 0.5f;
    tanh_in_place(x, n);
    for (std::size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] + 0.5f;
}
// Rows of `gate_count * units` elements per sample: as many samples per thread as keep its
// share of the transcendental work worth a thread.
inline std::size_t recurrent_rows_per_thread(std::size_t gate_count, std::size_t units) {
    return std::max<std::size_t>(1, std::size_t{4096} / (gate_count * units));
}
// h of one row: where the next step reads it, or else the output; copied to the output too when
// both want it.
inline float* h_row(const RecurrentStep<float>& s, std::size_t b) {
    return s.h_next ? s.h_next + b * s.state_stride : s.h_out + b * s.out_stride;
}
inline void copy_h_out(const RecurrentStep<float>& s, std::size_t b, const float* h) {
    if (s.h_next && s.h_out) std::copy(h, h + s.units, s.h_out + b * s.out_stride);
}
}  // namespace detail

template <class T>
void lstm_cell_kernel(const simd&, const RecurrentStep<T>& s) {
    if constexpr (!std::is_same_v<T, float>) {
        lstm_cell_kernel(reference{}, s);
    } else {
        const std::size_t u = s.units;
        const auto rows = [&](std::size_t b0, std::size_t b1) {
            for (std::size_t b = b0; b < b1; ++b) {
                float* z = s.gates + b * s.gates_stride;  // (i, f, g, o)
                detail::sigmoid_in_place(z, 2 * u);
                detail::tanh_in_place(z + 2 * u, u);
                detail::sigmoid_in_place(z + 3 * u, u);
                const float *i = z, *f = z + u, *g = z + 2 * u, *o = z + 3 * u;
                float* c = s.c + b * s.state_stride;
                if (s.c_prev) {
                    const float* c_prev = s.c_prev + b * s.state_stride;
                    for (std::size_t k = 0; k < u; ++k) c[k] = f[k] * c_prev[k] + i[k] * g[k];
                } else {
                    for (std::size_t k = 0; k < u; ++k) c[k] = f[k] * 0.0f + i[k] * g[k];
                }
                float* h = detail::h_row(s, b);
                detail::activate(activations::tanh{}, 0, u, static_cast<const float*>(c), h);
                for (std::size_t k = 0; k < u; ++k) h[k] = o[k] * h[k];
                detail::copy_h_out(s, b, h);
            }
        };
        detail::parallel_chunks(s.batch, rows, detail::recurrent_rows_per_thread(4, u));
    }
}

template <class T>
void lstm_cell_backward_kernel(const simd&, const RecurrentStep<T>& s) {
    if constexpr (!std::is_same_v<T, float>) {
        lstm_cell_backward_kernel(reference{}, s);
    } else {
        const std::size_t u = s.units;
        const auto rows = [&](std::size_t b0, std::size_t b1) {
            constexpr std::size_t block = 64;
            float tanh_c[block];
            for (std::size_t b = b0; b < b1; ++b) {
                float* z = s.gates + b * s.gates_stride;
                const float* c = s.c + b * s.state_stride;
                const float* c_prev = s.c_prev ? s.c_prev + b * s.state_stride : nullptr;
                const float* dy = s.dy ? s.dy + b * s.dy_stride : nullptr;
                for (std::size_t k0 = 0; k0 < u; k0 += block) {
                    const std::size_t n = std::min(block, u - k0);
                    detail::activate(activations::tanh{}, 0, n, c + k0, tanh_c);
                    for (std::size_t j = 0; j < n; ++j) {
                        const std::size_t k = k0 + j, at = b * u + k;
                        const float dh = (s.dh_in ? s.dh_in[at] : 0.0f) + (dy ? dy[k] : 0.0f);
                        s.dc_out[at] = latent::detail::lstm_unit_backward(z, u, k, tanh_c[j], c_prev ? c_prev[k] : 0.0f,
                                                                          dh, s.dc_in ? s.dc_in[at] : 0.0f);
                    }
                }
            }
        };
        detail::parallel_chunks(s.batch, rows, detail::recurrent_rows_per_thread(4, u));
    }
}

template <class T>
void gru_cell_kernel(const simd&, const RecurrentStep<T>& s) {
    if constexpr (!std::is_same_v<T, float>) {
        gru_cell_kernel(reference{}, s);
    } else {
        const std::size_t u = s.units;
        const float* bias = s.recurrent_bias;  // (z, r, h) of b_rec
        const auto rows = [&](std::size_t b0, std::size_t b1) {
            for (std::size_t b = b0; b < b1; ++b) {
                float* x_part = s.gates + b * s.gates_stride;      // x W + b_in: (z, r, h)
                float* h_part = s.recurrent + b * s.gates_stride;  // h_prev U: (z, r, h)
                for (std::size_t j = 0; j < 2 * u; ++j) x_part[j] = x_part[j] + h_part[j] + bias[j];
                detail::sigmoid_in_place(x_part, 2 * u);  // z, r
                const float *z = x_part, *r = x_part + u;
                float* hh = x_part + 2 * u;
                float* r_h = h_part + 2 * u;
                for (std::size_t k = 0; k < u; ++k) {
                    r_h[k] += bias[2 * u + k];
                    hh[k] += r[k] * r_h[k];
                }
                detail::tanh_in_place(hh, u);
                const float* h_prev = s.h_prev + b * s.state_stride;
                float* h = detail::h_row(s, b);
                for (std::size_t k = 0; k < u; ++k) h[k] = z[k] * h_prev[k] + (1.0f - z[k]) * hh[k];
                detail::copy_h_out(s, b, h);
            }
        };
        detail::parallel_chunks(s.batch, rows, detail::recurrent_rows_per_thread(3, u));
    }
}

// No transcendental functions here (forward kept the activations): the reference's math per
// unit, rows shared among the threads.
template <class T>
void gru_cell_backward_kernel(const simd&, const RecurrentStep<T>& s) {
    const auto rows = [&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b)
            for (std::size_t k = 0; k < s.units; ++k) latent::detail::gru_cell_backward_at(s, b, k);
    };
    detail::parallel_chunks(s.batch, rows, detail::recurrent_rows_per_thread(3, s.units));
}

}  // namespace latent::cpu
