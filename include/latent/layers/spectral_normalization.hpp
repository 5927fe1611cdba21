// SpectralNormalization<L>: Keras' wrapper that keeps the largest singular value of layer L's
// kernel near 1 (Miyato et al., 2018), the usual way to steady a GAN's discriminator:
// each training step first divides the kernel by its spectral norm, estimated by power iteration.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "layer.hpp"

namespace latent {

namespace detail {
// The parameter SpectralNormalization normalizes, by Keras' rule: L's "kernel", else its
// "embeddings"; params.size() when it has neither.
template <class L, class In>
constexpr std::size_t spectral_kernel_index() {
    constexpr auto specs = L::template params<In>;
    for (std::size_t i = 0; i < specs.size(); ++i)
        if (specs[i].name == "kernel") return i;
    for (std::size_t i = 0; i < specs.size(); ++i)
        if (specs[i].name == "embeddings") return i;
    return specs.size();
}

// Keras' normalized_weights on W, the kernel as (rows, cols), and u (1, cols): repeat
// v = normalize(u W^T), u = normalize(v W) `iterations` times; then sigma = v W u^T and
// W /= sigma. An all-zero kernel (sigma 0) is left as it is, and so is u, as Keras leaves both.
// scratch: rows + 2 * cols + 2 elements.
template <backend_policy B, class T>
void spectral_normalize(std::size_t rows, std::size_t cols, int iterations, T* W, T* u, T* scratch) {
    T* v = scratch;              // (1, rows)
    T* vw = v + rows;            // (1, cols)
    T* u_new = vw + cols;        // (1, cols)
    T* inv_norm = u_new + cols;  // (1)
    T* sigma = inv_norm + 1;     // (1)
    const T* u_in = u;
    for (int step = 0; step < iterations; ++step) {
        ops::gemm<B>(false, true, 1, rows, cols, T(1), u_in, cols, W, cols, T(0), v, rows);  // u W^T
        ops::l2_normalize<B>(1, rows, v, v, inv_norm);
        ops::gemm<B>(false, false, 1, cols, rows, T(1), v, rows, W, cols, T(0), vw, cols);  // v W
        ops::l2_normalize<B>(1, cols, vw, u_new, inv_norm);
        u_in = u_new;
    }
    ops::row_dot<B>(1, cols, vw, u_new, false, sigma);  // v W u^T, with the last v and u
    ops::elementwise<B>(
        rows * cols,
        [sigma] LATENT_HOST_DEVICE(T& w) {
            const T s = *sigma;
            if (s > T(0)) w = w / s;
        },
        W);
    ops::elementwise<B>(
        cols,
        [sigma] LATENT_HOST_DEVICE(T& kept, const T& estimate) {
            if (*sigma > T(0)) kept = estimate;
        },
        u, u_new);
}
}  // namespace detail

template <layer L>
class SpectralNormalization : public Layer<SpectralNormalization<L>> {
public:
    SpectralNormalization() = default;
    // The layer to normalize, with its settings, and Keras' power_iterations (>= 1): power-
    // iteration steps per training step (u, the estimate of the top singular vector, carries
    // over between steps, so one is Keras' default and usually enough).
    explicit SpectralNormalization(L inner, int power_iterations = 1, std::string name = {})
        : Layer<SpectralNormalization<L>>(std::move(name)), inner_(std::move(inner)) {
        this->power_iterations(power_iterations);
    }

    static constexpr std::string_view type_name = "SpectralNormalization";
    static constexpr std::string_view default_name = "spectral_normalization";
    using wrapped_layer = L;

    using requirement = typename L::requirement;
    template <class In>
    static constexpr bool accepts = L::template accepts<In>;
    template <class In>
    using output_shape = typename L::template output_shape<In>;

    // Whether L has a kernel, and which of its parameters it is; a layer without one is a
    // compile error.
    template <class In>
    static constexpr bool has_kernel = detail::spectral_kernel_index<L, In>() < L::template params<In>.size();
    template <class In>
    static constexpr std::size_t kernel_index = [] {
        static_assert(has_kernel<In>,
                      "latent: SpectralNormalization wraps a layer with a kernel or embeddings parameter "
                      "(Dense, Conv2D, Conv2DTranspose, Embedding, ...), as Keras does");
        return has_kernel<In> ? detail::spectral_kernel_index<L, In>() : 0;
    }();
    // The kernel seen as a matrix, as Keras reshapes it: (all its dims but the last, the last)
    // ((1, 1) without a kernel, so that the error above stays the only one).
    template <class In>
    static constexpr std::size_t kernel_cols = [] {
        if constexpr (has_kernel<In>) {
            constexpr auto spec = L::template params<In>[kernel_index<In>];
            return spec.rank == 0 ? std::size_t{1} : spec.dims[spec.rank - 1];
        } else {
            return std::size_t{1};
        }
    }();
    template <class In>
    static constexpr std::size_t kernel_rows = [] {
        if constexpr (has_kernel<In>)
            return L::template params<In>[kernel_index<In>].size() / kernel_cols<In>;
        else
            return std::size_t{1};
    }();
    // Where the kernel and vector_u start in the parameters.
    template <class In>
    static constexpr std::size_t kernel_offset = [] {
        std::size_t offset = 0;
        for (std::size_t i = 0; i != L::template params<In>.size() && i != kernel_index<In>; ++i)
            offset += L::template params<In>[i].size();
        return offset;
    }();
    template <class In>
    static constexpr std::size_t u_offset = layer_param_count<L, In>();

    // L's parameters, then Keras' vector_u (1, kernel columns): the running estimate of the
    // kernel's top right singular vector, state no optimizer touches.
    template <class In>
    static constexpr auto params = [] {
        constexpr auto inner = L::template params<In>;
        (void)kernel_index<In>;  // instantiated for its check
        std::array<ParamSpec, inner.size() + 1> all{};
        for (std::size_t i = 0; i < inner.size(); ++i) all[i] = inner[i];
        all[inner.size()] = ParamSpec{"vector_u", {1, kernel_cols<In>}, 2, Init::truncated_normal, false};
        return all;
    }();
    template <class In>
    static constexpr std::size_t flops_per_sample = L::template flops_per_sample<In>;
    template <class In>
    static constexpr std::size_t workspace_per_sample = L::template workspace_per_sample<In>;
    template <class In, class B>
    static constexpr std::size_t workspace_per_sample_on = workspace_per_sample_on_v<L, In, B>;
    // L's, then the power iteration's v (kernel rows), v W and the new u (kernel columns each),
    // a norm and sigma.
    template <class In>
    static constexpr std::size_t workspace_fixed =
        L::template workspace_fixed<In> + kernel_rows<In> + 2 * kernel_cols<In> + 2;

    L& layer() noexcept { return inner_; }
    const L& layer() const noexcept { return inner_; }

    int power_iterations() const noexcept { return power_iterations_; }
    SpectralNormalization& power_iterations(int n) {
        if (n < 1)
            throw value_error("latent.layers.spectral_normalization.power_iterations",
                              detail::describe_layer(type_name, this->name()) +
                                  ": power_iterations must be at least 1, got " + std::to_string(n));
        power_iterations_ = n;
        return *this;
    }

    // In training (the models pass writable state only then, and not to a frozen layer) the
    // kernel is first replaced by kernel / sigma and u by its new estimate, as Keras assigns
    // both; L then runs on that kernel. Its gradient is L's at the normalized kernel (Keras'
    // assignment is outside the gradient), so backward is L's.
    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ForwardArgs<T> inner = a;
        if (a.mode == Mode::train && a.trainable && a.state) {
            T* scratch = a.workspace + a.batch * workspace_per_sample_on_v<L, In, B> + L::template workspace_fixed<In>;
            detail::spectral_normalize<B>(kernel_rows<In>, kernel_cols<In>, power_iterations_,
                                          a.state + kernel_offset<In>, a.state + u_offset<In>, scratch);
            inner.params = a.state;
        }
        inner_.template forward<In, B, T>(inner);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        inner_.template backward<In, B, T>(a);  // nothing for vector_u
    }

    template <class In, backend_policy B, class T>
        requires adds_loss_term<L, In, B>
    double loss_term(const T* x, T* workspace, std::size_t batch) const {
        return inner_.template loss_term<In, B, T>(x, workspace, batch);
    }

private:
    L inner_{};
    int power_iterations_ = 1;
};

}  // namespace latent
