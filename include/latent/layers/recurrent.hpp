// LSTM<Units>, GRU<Units> and SimpleRNN<Units> over sequences, as Keras' LSTM(units),
// GRU(units) and SimpleRNN(units) with their defaults: Shape<Steps, Features> in; h at the last
// step out (Shape<Units>), or h at every step (Shape<Steps, Units>, Keras'
// return_sequences=True) with Returns::sequences.
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
// What LSTM, GRU and SimpleRNN share: the shape rules, where a step's output goes, and the products over
// all steps at once (x W + b before the steps; the weight gradients and dx after them).
template <class Derived, std::size_t Units, Returns R, std::size_t GateCount>
class recurrent_layer : public Layer<Derived> {
    static_assert(Units > 0, "latent: a recurrent layer needs at least one unit");

public:
    using Layer<Derived>::Layer;
    static constexpr std::size_t units = Units;
    static constexpr bool return_sequences = R == Returns::sequences;

    using requirement = rank<2>;
    template <class In>
    static constexpr bool accepts = In::rank == 2;
    template <class In>
    using output_shape = std::conditional_t<R == Returns::sequences, Shape<In::dims[0], Units>, Shape<Units>>;

protected:
    static constexpr std::size_t gate_width = GateCount * Units;
    template <class In>
    static constexpr std::size_t steps = In::dims[0];
    template <class In>
    static constexpr std::size_t features = In::rank == 2 ? In::dims[1] : In::size;

    // A step t's RecurrentStep with what every cell and pass fills the same way.
    template <class T>
    static RecurrentStep<T> step_at(std::size_t batch, std::size_t steps, std::size_t t, T* gates) {
        RecurrentStep<T> s;
        s.batch = batch;
        s.units = Units;
        s.gates = gates + t * gate_width;
        s.gates_stride = steps * gate_width;
        s.state_stride = steps * Units;
        s.out_stride = R == Returns::sequences ? steps * Units : Units;
        s.dy_stride = s.out_stride;
        return s;
    }
    // Where step t's h goes in y (or its gradient comes from in dy): every step's with
    // Returns::sequences, the last one's otherwise (null: nowhere).
    template <class T>
    static T* output_at(T* y, std::size_t t, std::size_t steps) {
        if constexpr (R == Returns::sequences) return y + t * Units;
        else return t + 1 == steps ? y : nullptr;
    }

    // gates = x W + b for every (sample, step) at once (x is (batch * steps, features)), and the
    // h_prev of every step zeroed (step 0's stays zero; the cells write the others).
    template <class In, backend_policy B, class T>
    static void project_inputs(const ForwardArgs<T>& a, const T* kernel, const T* bias, T* gates, T* h_prev) {
        constexpr std::size_t in = features<In>;
        const std::size_t rows = a.batch * steps<In>;
        ops::gemm<B>(false, false, rows, gate_width, in, T(1), a.x, in, kernel, gate_width, T(0), gates, gate_width);
        ops::bias_add<B>(rows, gate_width, bias, gates);
        ops::fill_zero<B>(rows * Units, h_prev);
    }

    // After the steps: d_input = the gradients of x W + b, d_recurrent those of h_prev U (+ b'
    // when the layer has a recurrent bias, right after its input bias), every step's.
    template <class In, backend_policy B, class T>
    static void weight_gradients(const BackwardArgs<T>& a, const T* d_input, const T* d_recurrent, const T* h_prev,
                                 bool recurrent_bias) {
        constexpr std::size_t in = features<In>;
        const std::size_t rows = a.batch * steps<In>;
        const T* kernel = a.params;
        if (a.dparams) {
            T* dkernel = a.dparams;
            T* drecurrent = dkernel + in * gate_width;
            T* dbias = drecurrent + Units * gate_width;
            ops::gemm<B>(true, false, in, gate_width, rows, T(1), a.x, in, d_input, gate_width, T(1), dkernel,
                         gate_width);
            ops::gemm<B>(true, false, Units, gate_width, rows, T(1), h_prev, Units, d_recurrent, gate_width, T(1),
                         drecurrent, gate_width);
            ops::column_sum<B>(rows, gate_width, d_input, dbias, true);
            if (recurrent_bias) ops::column_sum<B>(rows, gate_width, d_recurrent, dbias + gate_width, true);
        }
        if (a.dx)
            ops::gemm<B>(false, true, rows, in, gate_width, T(1), d_input, gate_width, kernel, gate_width, T(0), a.dx,
                         in);
    }
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
class LSTM : public detail::recurrent_layer<LSTM<Units, R>, Units, R, 4> {
    using base = detail::recurrent_layer<LSTM<Units, R>, Units, R, 4>;
    using base::gate_width;
    template <class In>
    static constexpr std::size_t steps = base::template steps<In>;
    template <class In>
    static constexpr std::size_t features = base::template features<In>;

public:
    using base::base;
    static constexpr std::string_view type_name = "LSTM";
    static constexpr std::string_view default_name = "lstm";

    template <class In>
    static constexpr std::array<ParamSpec, 3> params{
        ParamSpec{"kernel", {features<In>, gate_width}, 2, Init::glorot_uniform, true},
        ParamSpec{"recurrent_kernel", {Units, gate_width}, 2, Init::orthogonal, true},
        ParamSpec{"bias", {gate_width}, 1, Init::unit_forget_bias, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample = steps<In> * (2 * (features<In> + Units) * gate_width + 10 * Units);
    // Per sample: gates (steps, 4 units), c and h_prev (steps, units) each, and backward's
    // carried dh and dc (units each).
    template <class In>
    static constexpr std::size_t workspace_per_sample = steps<In> * (gate_width + 2 * Units) + 2 * Units;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t n = steps<In>;
        const T* kernel = a.params;                                    // (features, 4 units)
        const T* recurrent_kernel = kernel + features<In> * gate_width;  // (units, 4 units)
        const T* bias = recurrent_kernel + Units * gate_width;         // (4 units)
        const Work<T> w(a.workspace, a.batch, n);
        base::template project_inputs<In, B>(a, kernel, bias, w.gates, w.h_prev);
        for (std::size_t t = 0; t < n; ++t) {
            auto s = base::step_at(a.batch, n, t, w.gates);
            if (t > 0)  // gates[:, t] += h_prev U
                ops::gemm<B>(false, false, a.batch, gate_width, Units, T(1), w.h_prev + t * Units, n * Units,
                             recurrent_kernel, gate_width, T(1), s.gates, s.gates_stride);
            s.c_prev = t > 0 ? w.cells + (t - 1) * Units : nullptr;
            s.c = w.cells + t * Units;
            s.h_next = t + 1 < n ? w.h_prev + (t + 1) * Units : nullptr;
            s.h_out = base::output_at(a.y, t, n);
            ops::lstm_cell<B>(s);
        }
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t n = steps<In>;
        const T* recurrent_kernel = a.params + features<In> * gate_width;
        const Work<T> w(a.workspace, a.batch, n);
        // Through time, last step first; the gates become their pre-activations' gradients dz.
        for (std::size_t t = n; t-- > 0;) {
            auto s = base::step_at(a.batch, n, t, w.gates);
            s.c_prev = t > 0 ? w.cells + (t - 1) * Units : nullptr;
            s.c = w.cells + t * Units;
            s.dy = base::output_at(a.dy, t, n);
            s.dh_in = t + 1 < n ? w.dh : nullptr;
            s.dc_in = t + 1 < n ? w.dc : nullptr;
            s.dc_out = w.dc;
            ops::lstm_cell_backward<B>(s);
            if (t > 0)  // dh_prev = dz U^T
                ops::gemm<B>(false, true, a.batch, Units, gate_width, T(1), s.gates, s.gates_stride, recurrent_kernel,
                             gate_width, T(0), w.dh, Units);
        }
        // dz is the gradient of x W + b and of h_prev U alike.
        base::template weight_gradients<In, B>(a, w.gates, w.gates, w.h_prev, false);
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
class GRU : public detail::recurrent_layer<GRU<Units, R>, Units, R, 3> {
    using base = detail::recurrent_layer<GRU<Units, R>, Units, R, 3>;
    using base::gate_width;
    template <class In>
    static constexpr std::size_t steps = base::template steps<In>;
    template <class In>
    static constexpr std::size_t features = base::template features<In>;

public:
    using base::base;
    static constexpr std::string_view type_name = "GRU";
    static constexpr std::string_view default_name = "gru";

    template <class In>
    static constexpr std::array<ParamSpec, 3> params{
        ParamSpec{"kernel", {features<In>, gate_width}, 2, Init::glorot_uniform, true},
        ParamSpec{"recurrent_kernel", {Units, gate_width}, 2, Init::orthogonal, true},
        ParamSpec{"bias", {2, gate_width}, 2, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample = steps<In> * (2 * (features<In> + Units) * gate_width + 12 * Units);
    // Per sample: the input part's gates and the recurrent part's (steps, 3 units) each, h_prev
    // (steps, units), and backward's carried dh (units).
    template <class In>
    static constexpr std::size_t workspace_per_sample = steps<In> * (2 * gate_width + Units) + Units;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t n = steps<In>;
        const T* kernel = a.params;                                    // (features, 3 units)
        const T* recurrent_kernel = kernel + features<In> * gate_width;  // (units, 3 units)
        const T* bias = recurrent_kernel + Units * gate_width;         // (2, 3 units): input, recurrent
        const Work<T> w(a.workspace, a.batch, n);
        base::template project_inputs<In, B>(a, kernel, bias, w.gates, w.h_prev);
        for (std::size_t t = 0; t < n; ++t) {
            auto s = base::step_at(a.batch, n, t, w.gates);
            s.recurrent = w.recurrent + t * gate_width;
            s.recurrent_bias = bias + gate_width;
            // recurrent[:, t] = h_prev U (zero at step 0, whose h_prev is zero)
            ops::gemm<B>(false, false, a.batch, gate_width, Units, T(1), w.h_prev + t * Units, n * Units,
                         recurrent_kernel, gate_width, T(0), s.recurrent, s.gates_stride);
            s.h_prev = w.h_prev + t * Units;
            s.h_next = t + 1 < n ? w.h_prev + (t + 1) * Units : nullptr;
            s.h_out = base::output_at(a.y, t, n);
            ops::gru_cell<B>(s);
        }
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t n = steps<In>;
        const T* recurrent_kernel = a.params + features<In> * gate_width;
        const Work<T> w(a.workspace, a.batch, n);
        for (std::size_t t = n; t-- > 0;) {
            auto s = base::step_at(a.batch, n, t, w.gates);
            s.recurrent = w.recurrent + t * gate_width;
            s.h_prev = w.h_prev + t * Units;
            s.dy = base::output_at(a.dy, t, n);
            s.dh_in = t + 1 < n ? w.dh : nullptr;
            s.dh_out = w.dh;
            ops::gru_cell_backward<B>(s);
            if (t > 0)  // dh_prev += d(h_prev U) U^T
                ops::gemm<B>(false, true, a.batch, Units, gate_width, T(1), s.recurrent, s.gates_stride,
                             recurrent_kernel, gate_width, T(1), w.dh, Units);
        }
        // gates now hold d(x W + b), recurrent d(h_prev U + b'), for every step.
        base::template weight_gradients<In, B>(a, w.gates, w.recurrent, w.h_prev, true);
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

/* SimpleRNN, Keras' defaults: h = tanh(x W + h_prev U + b), h starting at zero. Parameters as
   Keras names them: kernel (features, units) Glorot-uniform, recurrent_kernel (units, units)
   orthogonal, bias (units) zeros. The same passes as LSTM's with one gate, tanh. */
template <std::size_t Units, Returns R = Returns::last_output>
class SimpleRNN : public detail::recurrent_layer<SimpleRNN<Units, R>, Units, R, 1> {
    using base = detail::recurrent_layer<SimpleRNN<Units, R>, Units, R, 1>;
    template <class In>
    static constexpr std::size_t steps = base::template steps<In>;
    template <class In>
    static constexpr std::size_t features = base::template features<In>;

public:
    using base::base;
    static constexpr std::string_view type_name = "SimpleRNN";
    static constexpr std::string_view default_name = "simple_rnn";

    template <class In>
    static constexpr std::array<ParamSpec, 3> params{
        ParamSpec{"kernel", {features<In>, Units}, 2, Init::glorot_uniform, true},
        ParamSpec{"recurrent_kernel", {Units, Units}, 2, Init::orthogonal, true},
        ParamSpec{"bias", {Units}, 1, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample = steps<In> * (2 * (features<In> + Units) * Units + 2 * Units);
    // Per sample: every step's pre-activations, which become its h (steps, units), h_prev
    // (steps, units), and backward's carried dh (units).
    template <class In>
    static constexpr std::size_t workspace_per_sample = steps<In> * 2 * Units + Units;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t n = steps<In>;
        const T* kernel = a.params;                               // (features, units)
        const T* recurrent_kernel = kernel + features<In> * Units;  // (units, units)
        const T* bias = recurrent_kernel + Units * Units;         // (units)
        const Work<T> w(a.workspace, a.batch, n);
        base::template project_inputs<In, B>(a, kernel, bias, w.gates, w.h_prev);
        for (std::size_t t = 0; t < n; ++t) {
            auto s = base::step_at(a.batch, n, t, w.gates);
            if (t > 0)  // gates[:, t] += h_prev U
                ops::gemm<B>(false, false, a.batch, Units, Units, T(1), w.h_prev + t * Units, n * Units,
                             recurrent_kernel, Units, T(1), s.gates, s.gates_stride);
            s.h_next = t + 1 < n ? w.h_prev + (t + 1) * Units : nullptr;
            s.h_out = base::output_at(a.y, t, n);
            ops::simple_rnn_cell<B>(s);
        }
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t n = steps<In>;
        const T* recurrent_kernel = a.params + features<In> * Units;
        const Work<T> w(a.workspace, a.batch, n);
        for (std::size_t t = n; t-- > 0;) {
            auto s = base::step_at(a.batch, n, t, w.gates);
            s.dy = base::output_at(a.dy, t, n);
            s.dh_in = t + 1 < n ? w.dh : nullptr;
            ops::simple_rnn_cell_backward<B>(s);
            if (t > 0)  // dh_prev = dz U^T
                ops::gemm<B>(false, true, a.batch, Units, Units, T(1), s.gates, s.gates_stride, recurrent_kernel,
                             Units, T(0), w.dh, Units);
        }
        base::template weight_gradients<In, B>(a, w.gates, w.gates, w.h_prev, false);
    }

private:
    // The workspace's parts: (batch, steps, units) twice, (batch, units).
    template <class T>
    struct Work {
        T *gates, *h_prev, *dh;
        Work(T* workspace, std::size_t batch, std::size_t steps)
            : gates(workspace), h_prev(gates + batch * steps * Units), dh(h_prev + batch * steps * Units) {}
    };
};

}  // namespace latent
