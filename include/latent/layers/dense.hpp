// Dense<Units>: y = x W + b on a rank-1 input, as Keras' Dense (Glorot-uniform kernel of
// shape (in, units), zero bias). Put Flatten in front of it for images.
#pragma once

#include "layer.hpp"

namespace latent {

template <std::size_t Units>
class Dense : public Layer<Dense<Units>> {
    static_assert(Units > 0, "latent: Dense needs at least one unit");

public:
    using Layer<Dense<Units>>::Layer;
    static constexpr std::string_view type_name = "Dense";
    static constexpr std::string_view default_name = "dense";
    static constexpr std::size_t units = Units;

    using requirement = rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank == 1;
    template <class In>
    using output_shape = Shape<Units>;

    template <class In>
    static constexpr std::array<ParamSpec, 2> params{
        ParamSpec{"kernel", {In::size, Units}, 2, Init::glorot_uniform, true},
        ParamSpec{"bias", {Units}, 1, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample = 2 * In::size * Units + Units;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr std::size_t in = In::size;
        const T* kernel = a.params;           // (in, units)
        const T* bias = a.params + in * Units;  // (units)
        ops::gemm<B>(false, false, a.batch, Units, in, T(1), a.x, in, kernel, Units, T(0), a.y, Units);  // (batch, units)
        ops::bias_add<B>(a.batch, Units, bias, a.y);
    }

    // forward, and the elementwise activation f after it in the same pass over the output:
    // a.y = x W + b as forward writes it, activated = f(a.y) as that Activation layer would.
    template <class In, backend_policy B, class T, class F>
    void forward_activated(const ForwardArgs<T>& a, const F& f, T* activated) const {
        constexpr std::size_t in = In::size;
        const T* kernel = a.params;
        const T* bias = a.params + in * Units;
        ops::gemm<B>(false, false, a.batch, Units, in, T(1), a.x, in, kernel, Units, T(0), a.y, Units);
        ops::bias_add_activation<B>(a.batch, Units, bias, a.y, f, activated);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t in = In::size;
        const T* kernel = a.params;  // (in, units)
        if (a.dparams) {
            T* dkernel = a.dparams;            // (in, units) += x^T dy
            T* dbias = a.dparams + in * Units;  // (units) += sum over the batch of dy
            ops::gemm<B>(true, false, in, Units, a.batch, T(1), a.x, in, a.dy, Units, T(1), dkernel, Units);
            ops::column_sum<B>(a.batch, Units, a.dy, dbias, true);
        }
        if (a.dx)  // (batch, in) = dy W^T
            ops::gemm<B>(false, true, a.batch, in, Units, T(1), a.dy, Units, kernel, Units, T(0), a.dx, in);
    }
};

}  // namespace latent
