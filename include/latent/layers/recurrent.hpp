// LSTM<Units> and GRU<Units> over sequences, as Keras' LSTM(units) and GRU(units) with their
// defaults: Shape<Steps, Features> in; h at the last step out (Shape<Units>), or h at every step
// (Shape<Steps, Units>, Keras' return_sequences=True) with Returns::sequences.
#pragma once

#include <array>
#include <cstddef>

#include "../backend/recurrent_cells.hpp"
#include "layer.hpp"

namespace latent {

// What a recurrent layer outputs: h at the last step (Keras' default), or h at every step
// (return_sequences=True), which another recurrent layer can take.
enum class Returns { last_output, sequences };

namespace detail {
// What LSTM and GRU share: the sequence's shape, the output's, and where a step's output goes.
template <std::size_t Units, Returns R>
struct recurrent_layout {
    template <class In>
    static constexpr std::size_t steps = In::dims[0];
    template <class In>
    static constexpr std::size_t features = In::rank == 2 ? In::dims[1] : In::size;
    template <class In>
    using output_shape = std::conditional_t<R == Returns::sequences, Shape<In::dims[0], Units>, Shape<Units>>;

    // Where step t's h goes in y (batch rows of `out_stride`): every step's with
    // Returns::sequences, the last one's otherwise (null: nowhere).
    template <class T>
    static T* output_at(T* y, std::size_t t, std::size_t steps) {
        if constexpr (R == Returns::sequences) return y + t * Units;
        else return t + 1 == steps ? y : nullptr;
    }
    static constexpr std::size_t out_stride(std::size_t steps) { return R == Returns::sequences ? steps * Units : Units; }
};
}  // namespace detail

/* LSTM, Keras' defaults: gates (i, f, c, o) = (sigmoid, sigmoid, tanh, sigmoid) of
   x W + h_prev U + b, c = f c_prev + i c~, h = o tanh(c); h and c start at zero. Parameters as
   Keras names and lays them out: kernel (features, 4 units) Glorot-uniform, recurrent_kernel
   (units, 4 units) orthogonal, bias (4 units) zeros but ones for the forget gate.

   forward computes x W + b for every step in one product, then per step adds h_prev U (one
   product) and runs the pointwise cell (ops::lstm_cell); backward runs the steps in reverse
   (through time) and then forms the weight gradients in one product each. The workspace keeps
   what backward needs: the gates, c, and h_prev of every step. */
template <std::size_t Units, Returns R = Returns::last_output>
class LSTM : public Layer<LSTM<Units, R>> {
    static_assert(Units > 0, "latent: LSTM needs at least one unit");
    using layout = detail::recurrent_layout<Units, R>;
    static constexpr std::size_t gate_width = 4 * Units;

public:
    using Layer<LSTM<Units, R>>::Layer;
    static constexpr std::string_view type_name = "LSTM";
    static constexpr std::string_view default_name = "lstm";
    static constexpr std::size_t units = Units;
    static constexpr bool return_sequences = R == Returns::sequences;

    using requirement = rank<2>;
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    template <class In>
    using output_shape = typename layout::template output_shape<In>;

    template <class In>
    static constexpr std::array<ParamSpec, 3> params{
        ParamSpec{"kernel", {layout::template features<In>, gate_width}, 2, Init::glorot_uniform, true},
        ParamSpec{"recurrent_kernel", {Units, gate_width}, 2, Init::orthogonal, true},
        ParamSpec{"bias", {gate_width}, 1, Init::unit_forget_bias, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample =
        layout::template steps<In> * (2 * (layout::template features<In> + Units) * gate_width + 10 * Units);
    // Per sample: gates (steps, 4 units), c and h_prev (steps, units) each, and backward's
    // carried dh and dc (units each).
    template <class In>
    static constexpr std::size_t workspace_per_sample = layout::template steps<In> * (gate_width + 2 * Units) + 2 * Units;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t steps = layout::template steps<In>, in = layout::template features<In>;
        const T* kernel = a.params;                                   // (in, 4 units)
        const T* recurrent_kernel = kernel + in * gate_width;         // (units, 4 units)
        const T* bias = recurrent_kernel + Units * gate_width;        // (4 units)
        const Work<T> w(a.workspace, a.batch, steps);
        // x W + b for every (sample, step) at once: x is (batch * steps, in).
        ops::gemm<B>(false, false, a.batch * steps, gate_width, in, T(1), a.x, in, kernel, gate_width, T(0), w.gates,
                     gate_width);
        ops::bias_add<B>(a.batch * steps, gate_width, bias, w.gates);
        // h_prev of step 0 is zero; the other steps' are written by the step before.
        ops::elementwise<B>(a.batch * steps * Units, [] LATENT_HOST_DEVICE(T& h) { h = T(0); }, w.h_prev);
        for (std::size_t t = 0; t < steps; ++t) {
            if (t > 0)  // gates[:, t] += h_prev U
                ops::gemm<B>(false, false, a.batch, gate_width, Units, T(1), w.h_prev + t * Units, steps * Units,
                             recurrent_kernel, gate_width, T(1), w.gates + t * gate_width, steps * gate_width);
            RecurrentStep<T> s;
            s.batch = a.batch;
            s.units = Units;
            s.gates = w.gates + t * gate_width;
            s.gates_stride = steps * gate_width;
            s.c_prev = t > 0 ? w.cells + (t - 1) * Units : nullptr;
            s.c = w.cells + t * Units;
            s.h_next = t + 1 < steps ? w.h_prev + (t + 1) * Units : nullptr;
            s.state_stride = steps * Units;
            s.h_out = layout::output_at(a.y, t, steps);
            s.out_stride = layout::out_stride(steps);
            ops::lstm_cell<B>(s);
        }
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t steps = layout::template steps<In>, in = layout::template features<In>;
        const T* kernel = a.params;
        const T* recurrent_kernel = kernel + in * gate_width;
        const Work<T> w(a.workspace, a.batch, steps);
        // Through time, last step first; the gates become their pre-activations' gradients dz.
        for (std::size_t t = steps; t-- > 0;) {
            RecurrentStep<T> s;
            s.batch = a.batch;
            s.units = Units;
            s.gates = w.gates + t * gate_width;
            s.gates_stride = steps * gate_width;
            s.c_prev = t > 0 ? w.cells + (t - 1) * Units : nullptr;
            s.c = w.cells + t * Units;
            s.state_stride = steps * Units;
            s.dy = layout::output_at(a.dy, t, steps);
            s.dy_stride = layout::out_stride(steps);
            s.dh_in = t + 1 < steps ? w.dh : nullptr;
            s.dc_in = t + 1 < steps ? w.dc : nullptr;
            s.dc_out = w.dc;
            ops::lstm_cell_backward<B>(s);
            if (t > 0)  // dh_prev = dz U^T
                ops::gemm<B>(false, true, a.batch, Units, gate_width, T(1), s.gates, steps * gate_width,
                             recurrent_kernel, gate_width, T(0), w.dh, Units);
        }
        const T* dz = w.gates;  // (batch * steps, 4 units)
        if (a.dparams) {
            T* dkernel = a.dparams;
            T* drecurrent = dkernel + in * gate_width;
            T* dbias = drecurrent + Units * gate_width;
            ops::gemm<B>(true, false, in, gate_width, a.batch * steps, T(1), a.x, in, dz, gate_width, T(1), dkernel,
                         gate_width);
            ops::gemm<B>(true, false, Units, gate_width, a.batch * steps, T(1), w.h_prev, Units, dz, gate_width, T(1),
                         drecurrent, gate_width);
            ops::column_sum<B>(a.batch * steps, gate_width, dz, dbias, true);
        }
        if (a.dx)
            ops::gemm<B>(false, true, a.batch * steps, in, gate_width, T(1), dz, gate_width, kernel, gate_width, T(0),
                         a.dx, in);
    }

private:
    // The workspace's parts: (batch, steps, 4 units), (batch, steps, units) twice, (batch, units) twice.
    template <class T>
    struct Work {
        T *gates, *cells, *h_prev, *dh, *dc;
        Work(T* workspace, std::size_t batch, std::size_t steps)
            : gates(workspace),
              cells(gates + batch * steps * gate_width),
              h_prev(cells + batch * steps * Units),
              dh(h_prev + batch * steps * Units),
              dc(dh + batch * Units) {}
    };
};

/* GRU, Keras' defaults (reset_after=True, as cuDNN's): gates (z, r, h~) with
   z = sigmoid(x W_z + b_z + (h_prev U + b'_z)), r likewise, h~ = tanh(x W_h + b_h + r (h_prev U_h + b'_h)),
   h = z h_prev + (1 - z) h~; h starts at zero. Parameters as Keras names and lays them out:
   kernel (features, 3 units) Glorot-uniform, recurrent_kernel (units, 3 units) orthogonal, bias
   (2, 3 units) zeros: the input bias b, then the recurrent bias b'. */
template <std::size_t Units, Returns R = Returns::last_output>
class GRU : public Layer<GRU<Units, R>> {
    static_assert(Units > 0, "latent: GRU needs at least one unit");
    using layout = detail::recurrent_layout<Units, R>;
    static constexpr std::size_t gate_width = 3 * Units;

public:
    using Layer<GRU<Units, R>>::Layer;
    static constexpr std::string_view type_name = "GRU";
    static constexpr std::string_view default_name = "gru";
    static constexpr std::size_t units = Units;
    static constexpr bool return_sequences = R == Returns::sequences;

    using requirement = rank<2>;
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    template <class In>
    using output_shape = typename layout::template output_shape<In>;

    template <class In>
    static constexpr std::array<ParamSpec, 3> params{
        ParamSpec{"kernel", {layout::template features<In>, gate_width}, 2, Init::glorot_uniform, true},
        ParamSpec{"recurrent_kernel", {Units, gate_width}, 2, Init::orthogonal, true},
        ParamSpec{"bias", {2, gate_width}, 2, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample =
        layout::template steps<In> * (2 * (layout::template features<In> + Units) * gate_width + 12 * Units);
    // Per sample: the input part's gates and the recurrent part's (steps, 3 units) each, h_prev
    // (steps, units), and backward's carried dh (units).
    template <class In>
    static constexpr std::size_t workspace_per_sample = layout::template steps<In> * (2 * gate_width + Units) + Units;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t steps = layout::template steps<In>, in = layout::template features<In>;
        const T* kernel = a.params;                            // (in, 3 units)
        const T* recurrent_kernel = kernel + in * gate_width;  // (units, 3 units)
        const T* bias = recurrent_kernel + Units * gate_width;  // (2, 3 units): input, recurrent
        const Work<T> w(a.workspace, a.batch, steps);
        ops::gemm<B>(false, false, a.batch * steps, gate_width, in, T(1), a.x, in, kernel, gate_width, T(0), w.gates,
                     gate_width);
        ops::bias_add<B>(a.batch * steps, gate_width, bias, w.gates);
        ops::elementwise<B>(a.batch * steps * Units, [] LATENT_HOST_DEVICE(T& h) { h = T(0); }, w.h_prev);
        for (std::size_t t = 0; t < steps; ++t) {
            // recurrent[:, t] = h_prev U (zero at step 0, whose h_prev is zero)
            ops::gemm<B>(false, false, a.batch, gate_width, Units, T(1), w.h_prev + t * Units, steps * Units,
                         recurrent_kernel, gate_width, T(0), w.recurrent + t * gate_width, steps * gate_width);
            RecurrentStep<T> s;
            s.batch = a.batch;
            s.units = Units;
            s.gates = w.gates + t * gate_width;
            s.recurrent = w.recurrent + t * gate_width;
            s.recurrent_bias = bias + gate_width;
            s.gates_stride = steps * gate_width;
            s.h_prev = w.h_prev + t * Units;
            s.h_next = t + 1 < steps ? w.h_prev + (t + 1) * Units : nullptr;
            s.state_stride = steps * Units;
            s.h_out = layout::output_at(a.y, t, steps);
            s.out_stride = layout::out_stride(steps);
            ops::gru_cell<B>(s);
        }
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t steps = layout::template steps<In>, in = layout::template features<In>;
        const T* kernel = a.params;
        const T* recurrent_kernel = kernel + in * gate_width;
        const Work<T> w(a.workspace, a.batch, steps);
        for (std::size_t t = steps; t-- > 0;) {
            RecurrentStep<T> s;
            s.batch = a.batch;
            s.units = Units;
            s.gates = w.gates + t * gate_width;
            s.recurrent = w.recurrent + t * gate_width;
            s.gates_stride = steps * gate_width;
            s.h_prev = w.h_prev + t * Units;
            s.state_stride = steps * Units;
            s.dy = layout::output_at(a.dy, t, steps);
            s.dy_stride = layout::out_stride(steps);
            s.dh_in = t + 1 < steps ? w.dh : nullptr;
            s.dh_out = w.dh;
            ops::gru_cell_backward<B>(s);
            if (t > 0)  // dh_prev += d(h_prev U) U^T
                ops::gemm<B>(false, true, a.batch, Units, gate_width, T(1), s.recurrent, steps * gate_width,
                             recurrent_kernel, gate_width, T(1), w.dh, Units);
        }
        const T* dx_part = w.gates;        // (batch * steps, 3 units): d(x W + b)
        const T* dh_part = w.recurrent;    // (batch * steps, 3 units): d(h_prev U + b')
        if (a.dparams) {
            T* dkernel = a.dparams;
            T* drecurrent = dkernel + in * gate_width;
            T* dbias = drecurrent + Units * gate_width;
            ops::gemm<B>(true, false, in, gate_width, a.batch * steps, T(1), a.x, in, dx_part, gate_width, T(1),
                         dkernel, gate_width);
            ops::gemm<B>(true, false, Units, gate_width, a.batch * steps, T(1), w.h_prev, Units, dh_part, gate_width,
                         T(1), drecurrent, gate_width);
            ops::column_sum<B>(a.batch * steps, gate_width, dx_part, dbias, true);
            ops::column_sum<B>(a.batch * steps, gate_width, dh_part, dbias + gate_width, true);
        }
        if (a.dx)
            ops::gemm<B>(false, true, a.batch * steps, in, gate_width, T(1), dx_part, gate_width, kernel, gate_width,
                         T(0), a.dx, in);
    }

private:
    // The workspace's parts: (batch, steps, 3 units) twice, (batch, steps, units), (batch, units).
    template <class T>
    struct Work {
        T *gates, *recurrent, *h_prev, *dh;
        Work(T* workspace, std::size_t batch, std::size_t steps)
            : gates(workspace),
              recurrent(gates + batch * steps * gate_width),
              h_prev(recurrent + batch * steps * gate_width),
              dh(h_prev + batch * steps * Units) {}
    };
};

}  // namespace latent
