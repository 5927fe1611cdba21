// The pointwise part of one step of the recurrent cells (LSTM, GRU, SimpleRNN) for one unit of
// one sample, written once for every backend's kernels (the ops lstm_cell, gru_cell,
// simple_rnn_cell and their backwards; the matrix products around them are gemms the layers
// call). Keras' equations and gate orders.
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "../core/activations.hpp"

namespace latent {

// One step of a recurrent layer over a batch, as the ops lstm_cell, gru_cell and their backwards
// take it (backend/backend.hpp states their contract). Rows are samples; each array's rows are
// `*_stride` elements apart, so that a step reads and writes its time slice of (batch, steps, ...)
// arrays in place. Pointers marked "may be null" are absent at some steps: the first (c_prev,
// dh_in, dc_in at the last step going backward), the last (h_next), or every step but the last
// when the layer returns its last output only (h_out, dy).
template <class T>
struct RecurrentStep {
    std::size_t batch = 0, units = 0;
    T* gates = nullptr;                 // (batch, gate_count * units), gates_stride
    T* recurrent = nullptr;             // GRU: h_prev U, (batch, 3 units), gates_stride
    const T* recurrent_bias = nullptr;  // GRU: b_rec (3 units)
    std::size_t gates_stride = 0;
    const T* c_prev = nullptr;          // LSTM: (batch, units), state_stride; may be null (zeros)
    T* c = nullptr;                     // LSTM: (batch, units), state_stride
    const T* h_prev = nullptr;          // GRU: (batch, units), state_stride
    T* h_next = nullptr;                // h, where the next step reads it; state_stride; may be null
    std::size_t state_stride = 0;
    T* h_out = nullptr;                 // h, the layer's output; out_stride; may be null
    std::size_t out_stride = 0;
    // Backward: the gradient from above (may be null) and the ones carried from the next step.
    const T* dy = nullptr;              // (batch, units), dy_stride
    std::size_t dy_stride = 0;
    const T* dh_in = nullptr;           // (batch, units) contiguous; may be null (zeros)
    T* dh_out = nullptr;                // GRU: the part of dh_prev that bypasses U; may be dh_in
    const T* dc_in = nullptr;           // LSTM: (batch, units) contiguous; may be null (zeros)
    T* dc_out = nullptr;                // LSTM: dc_prev; may be dc_in
};

namespace detail {

/* LSTM, gates (i, f, g, o), the pre-activations z = x W + h_prev U + b in that order, each
   `units` wide: i, f, o = sigmoid, g = tanh; c = f c_prev + i g; h = o tanh(c).
   Forward: z (read) becomes the activated gates (written); returns h, writes c. */
template <class T>
LATENT_HOST_DEVICE T lstm_unit_forward(T* gates, std::size_t units, std::size_t k, T c_prev, T& c) {
    const activations::sigmoid sigmoid;
    const activations::tanh tanh;
    const T i = sigmoid.value(gates[k]);
    const T f = sigmoid.value(gates[units + k]);
    const T g = tanh.value(gates[2 * units + k]);
    const T o = sigmoid.value(gates[3 * units + k]);
    gates[k] = i;
    gates[units + k] = f;
    gates[2 * units + k] = g;
    gates[3 * units + k] = o;
    c = f * c_prev + i * g;
    return o * tanh.value(c);
}

// Backward through one unit's step: dh and dc are the gradients reaching h and c, tanh_c is
// tanh(c); the activated gates (read) become the pre-activation gradients (written); returns the
// gradient to c_prev.
template <class T>
LATENT_HOST_DEVICE T lstm_unit_backward(T* gates, std::size_t units, std::size_t k, T tanh_c, T c_prev, T dh, T dc) {
    const T i = gates[k], f = gates[units + k], g = gates[2 * units + k], o = gates[3 * units + k];
    dc += dh * o * (T(1) - tanh_c * tanh_c);
    gates[k] = dc * g * i * (T(1) - i);
    gates[units + k] = dc * c_prev * f * (T(1) - f);
    gates[2 * units + k] = dc * i * (T(1) - g * g);
    gates[3 * units + k] = dh * tanh_c * o * (T(1) - o);
    return dc * f;
}

/* GRU as Keras' default (reset_after=True), gates (z, r, h): the input part x W + b_in (gates) and
   the recurrent part h_prev U (recurrent) come separately, the recurrent bias b_rec is added here:
   z = sigmoid(x_z + r_z), r = sigmoid(x_r + r_r), hh = tanh(x_h + r (r_h)),
   h = z h_prev + (1 - z) hh, where r_* = (h_prev U + b_rec)_*.
   Forward: gates become (z, r, hh); recurrent's h part becomes r_h (kept for backward); returns h. */
template <class T>
LATENT_HOST_DEVICE T gru_unit_forward(T* gates, T* recurrent, const T* recurrent_bias, std::size_t units,
                                      std::size_t k, T h_prev) {
    const activations::sigmoid sigmoid;
    const activations::tanh tanh;
    const T z = sigmoid.value(gates[k] + recurrent[k] + recurrent_bias[k]);
    const T r = sigmoid.value(gates[units + k] + recurrent[units + k] + recurrent_bias[units + k]);
    const T r_h = recurrent[2 * units + k] + recurrent_bias[2 * units + k];
    const T hh = tanh.value(gates[2 * units + k] + r * r_h);
    gates[k] = z;
    gates[units + k] = r;
    gates[2 * units + k] = hh;
    recurrent[2 * units + k] = r_h;
    return z * h_prev + (T(1) - z) * hh;
}

// Backward through one unit's step, dh the gradient reaching h: gates become the gradients of
// the input part's pre-activations, recurrent those of the recurrent part's (h_prev U + b_rec);
// returns the gradient that reaches h_prev directly (the rest goes through U).
template <class T>
LATENT_HOST_DEVICE T gru_unit_backward(T* gates, T* recurrent, std::size_t units, std::size_t k, T h_prev, T dh) {
    const T z = gates[k], r = gates[units + k], hh = gates[2 * units + k];
    const T r_h = recurrent[2 * units + k];
    const T dhh = dh * (T(1) - z) * (T(1) - hh * hh);
    const T dz = dh * (h_prev - hh) * z * (T(1) - z);
    const T dr = dhh * r_h * r * (T(1) - r);
    gates[k] = dz;
    gates[units + k] = dr;
    gates[2 * units + k] = dhh;
    recurrent[k] = dz;
    recurrent[units + k] = dr;
    recurrent[2 * units + k] = dhh * r;
    return dh * z;
}

// Sample b, unit k of a step (every backend's kernel calls these for each (b, k), in any order).
template <class T>
LATENT_HOST_DEVICE void lstm_cell_at(const RecurrentStep<T>& s, std::size_t b, std::size_t k) {
    T c;
    const T h = lstm_unit_forward(s.gates + b * s.gates_stride, s.units, k,
                                  s.c_prev ? s.c_prev[b * s.state_stride + k] : T(0), c);
    s.c[b * s.state_stride + k] = c;
    if (s.h_next) s.h_next[b * s.state_stride + k] = h;
    if (s.h_out) s.h_out[b * s.out_stride + k] = h;
}

template <class T>
LATENT_HOST_DEVICE void lstm_cell_backward_at(const RecurrentStep<T>& s, std::size_t b, std::size_t k) {
    const std::size_t at = b * s.units + k;
    T dh = s.dh_in ? s.dh_in[at] : T(0);
    if (s.dy) dh += s.dy[b * s.dy_stride + k];
    const T dc = lstm_unit_backward(s.gates + b * s.gates_stride, s.units, k,
                                    activations::tanh{}.value(s.c[b * s.state_stride + k]),
                                    s.c_prev ? s.c_prev[b * s.state_stride + k] : T(0), dh,
                                    s.dc_in ? s.dc_in[at] : T(0));
    s.dc_out[at] = dc;
}

template <class T>
LATENT_HOST_DEVICE void gru_cell_at(const RecurrentStep<T>& s, std::size_t b, std::size_t k) {
    const T h = gru_unit_forward(s.gates + b * s.gates_stride, s.recurrent + b * s.gates_stride, s.recurrent_bias,
                                 s.units, k, s.h_prev[b * s.state_stride + k]);
    if (s.h_next) s.h_next[b * s.state_stride + k] = h;
    if (s.h_out) s.h_out[b * s.out_stride + k] = h;
}

template <class T>
LATENT_HOST_DEVICE void gru_cell_backward_at(const RecurrentStep<T>& s, std::size_t b, std::size_t k) {
    const std::size_t at = b * s.units + k;
    T dh = s.dh_in ? s.dh_in[at] : T(0);
    if (s.dy) dh += s.dy[b * s.dy_stride + k];
    s.dh_out[at] = gru_unit_backward(s.gates + b * s.gates_stride, s.recurrent + b * s.gates_stride, s.units, k,
                                     s.h_prev[b * s.state_stride + k], dh);
}

// SimpleRNN: h = tanh(z), z = x W + h_prev U + b; gates (z, read) becomes h (written).
template <class T>
LATENT_HOST_DEVICE void simple_rnn_cell_at(const RecurrentStep<T>& s, std::size_t b, std::size_t k) {
    T& z = s.gates[b * s.gates_stride + k];
    const T h = activations::tanh{}.value(z);
    z = h;
    if (s.h_next) s.h_next[b * s.state_stride + k] = h;
    if (s.h_out) s.h_out[b * s.out_stride + k] = h;
}

// Backward: gates (h, read) becomes dz = dh (1 - h^2), dh what reaches h from above and from
// the next step.
template <class T>
LATENT_HOST_DEVICE void simple_rnn_cell_backward_at(const RecurrentStep<T>& s, std::size_t b, std::size_t k) {
    T dh = s.dh_in ? s.dh_in[b * s.units + k] : T(0);
    if (s.dy) dh += s.dy[b * s.dy_stride + k];
    T& h = s.gates[b * s.gates_stride + k];
    h = dh * (T(1) - h * h);
}

}  // namespace detail
}  // namespace latent
