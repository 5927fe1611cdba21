// ContractiveDense<Units>: h = sigmoid(x W + b), the encoder of a contractive autoencoder (Rifai
// et al. 2011). It adds contraction * ||dh/dx||_F^2, the squared Frobenius norm of its Jacobian,
// to the loss; for Dense+sigmoid that norm is exact and cheap: sum_j (h_j (1 - h_j))^2 sum_i W_ij^2.
#pragma once

#include <algorithm>
#include <string>

#include "../core/errors.hpp"
#include "layer.hpp"

namespace latent {

template <std::size_t Units>
class ContractiveDense : public Layer<ContractiveDense<Units>> {
    static_assert(Units > 0, "latent: ContractiveDense needs at least one unit");

public:
    // The weight of the Jacobian penalty; 0 makes it a plain Dense + sigmoid.
    explicit ContractiveDense(double contraction = 0.01, std::string name = {})
        : Layer<ContractiveDense<Units>>(std::move(name)) {
        this->contraction(contraction);
    }

    static constexpr std::string_view type_name = "ContractiveDense";
    static constexpr std::string_view default_name = "contractive_dense";
    static constexpr std::size_t units = Units;

    using requirement = rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank == 1;
    template <class In>
    using output_shape = Shape<Units>;

    // The same parameters as Dense<Units>, so that its weights can go into a Dense + Sigmoid.
    template <class In>
    static constexpr std::array<ParamSpec, 2> params{
        ParamSpec{"kernel", {In::size, Units}, 2, Init::glorot_uniform, true},
        ParamSpec{"bias", {Units}, 1, Init::zeros, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample = 2 * In::size * Units + 8 * Units;
    // Per sample: the gradient at the pre-activation (backward's scratch) and the sample's
    // penalty (left by forward for loss_term); whatever the batch: the kernel's squared column
    // norms.
    template <class In>
    static constexpr std::size_t workspace_per_sample = Units + 1;
    template <class In>
    static constexpr std::size_t workspace_fixed = Units;

    double contraction() const noexcept { return contraction_; }
    ContractiveDense& contraction(double lambda) {
        contraction_ = detail::non_negative_setting(lambda, type_name, this->name(), "contraction",
                                                    "latent.layers.contractive_dense");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        static_assert(std::is_same_v<typename B::memory_space, host_memory>,
                      "latent: ContractiveDense computes its penalty on the host; train it with a CPU backend "
                      "(cpu::simd or cpu::reference)");
        constexpr std::size_t in = In::size;
        const T* kernel = a.params;
        const T* bias = a.params + in * Units;
        ops::gemm<B>(false, false, a.batch, Units, in, T(1), a.x, in, kernel, Units, T(0), a.y, Units);
        ops::bias_add<B>(a.batch, Units, bias, a.y);
        ops::activation<B>(a.batch * Units, activations::sigmoid{}, a.y, a.y);
        T* norms = column_norms(a.workspace, a.batch);
        squared_column_norms<B>(kernel, in, norms);
        T* penalty = a.workspace + a.batch * Units;
        if (contraction_ == 0.0) {
            std::fill(penalty, penalty + a.batch, T(0));
            return;
        }
        const T lambda = static_cast<T>(contraction_);
        T* scratch = a.workspace;  // backward overwrites it
        for (std::size_t b = 0; b < a.batch; ++b) {
            ops::elementwise<B>(
                Units,
                [lambda](T& t, const T& h, const T& c) {
                    const T s = h * (T(1) - h);
                    t = lambda * s * s * c;
                },
                scratch, a.y + b * Units, norms);
            penalty[b] = ops::sum<B>(Units, scratch);
        }
    }

    // With s = h (1 - h) and c_j = sum_i W_ij^2, the penalty per sample is lambda sum_j s_j^2 c_j:
    // dz_j = dy_j s_j + (2 lambda / batch) s_j^2 (1 - 2 h_j) c_j, and the kernel gets, besides
    // x^T dz, (2 lambda / batch) W_ij sum_b s_bj^2.
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr std::size_t in = In::size;
        const T* kernel = a.params;
        const T* norms = column_norms(a.workspace, a.batch);
        const T k = static_cast<T>(2.0 * contraction_ / static_cast<double>(a.batch));
        T* dz = a.workspace;
        ops::elementwise<B>(
            a.batch * Units,
            [](T& g, const T& up, const T& h) { g = up * h * (T(1) - h); }, dz, a.dy, a.y);
        if (contraction_ != 0.0)
            for (std::size_t b = 0; b < a.batch; ++b)
                ops::elementwise<B>(
                    Units,
                    [k](T& g, const T& h, const T& c) {
                        const T s = h * (T(1) - h);
                        g += k * s * s * (T(1) - T(2) * h) * c;
                    },
                    dz + b * Units, a.y + b * Units, norms);
        if (a.dparams) {
            T* dkernel = a.dparams;
            T* dbias = a.dparams + in * Units;
            ops::gemm<B>(true, false, in, Units, a.batch, T(1), a.x, in, dz, Units, T(1), dkernel, Units);
            ops::column_sum<B>(a.batch, Units, dz, dbias, true);
            if (contraction_ != 0.0) {
                // The penalty's own dependence on W, column by column.
                for (std::size_t j = 0; j < Units; ++j) {
                    T s2 = T(0);
                    for (std::size_t b = 0; b < a.batch; ++b) {
                        const T h = a.y[b * Units + j];
                        const T s = h * (T(1) - h);
                        s2 += s * s;
                    }
                    const T scale = k * s2;
                    for (std::size_t i = 0; i < in; ++i) dkernel[i * Units + j] += scale * kernel[i * Units + j];
                }
            }
        }
        if (a.dx) ops::gemm<B>(false, true, a.batch, in, Units, T(1), dz, Units, kernel, Units, T(0), a.dx, in);
    }

    // lambda * ||J||_F^2 of the last forward pass, mean over the batch.
    template <class In, backend_policy B, class T>
    double loss_term(const T* /*x*/, T* workspace, std::size_t batch) const {
        if (batch == 0 || contraction_ == 0.0) return 0.0;
        const T* penalty = workspace + batch * Units;
        double total = 0.0;
        for (std::size_t b = 0; b < batch; ++b) total += static_cast<double>(penalty[b]);
        return total / static_cast<double>(batch);
    }

private:
    template <class T>
    static T* column_norms(T* workspace, std::size_t batch) {
        return workspace + batch * (Units + 1);
    }
    template <class T>
    static const T* column_norms(const T* workspace, std::size_t batch) {
        return workspace + batch * (Units + 1);
    }
    template <backend_policy B, class T>
    static void squared_column_norms(const T* kernel, std::size_t in, T* norms) {
        std::fill(norms, norms + Units, T(0));
        for (std::size_t i = 0; i < in; ++i)
            ops::elementwise<B>(Units, [](T& c, const T& w) { c += w * w; }, norms, kernel + i * Units);
    }

    double contraction_ = 0.01;
};

}  // namespace latent
