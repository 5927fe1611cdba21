// PReLU<SharedAxes...>: Keras' PReLU, a ReLU whose slope below zero (alpha) is learned: one alpha
// per element of the sample, or one shared along the axes SharedAxes (Keras' shared_axes).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "../backend/permute.hpp"
#include "../backend/prelu.hpp"
#include "layer.hpp"

namespace latent {

namespace detail {
// Whether Axes are distinct and numbered from 1 (Keras' numbering: the batch is not an axis).
template <std::size_t... Axes>
constexpr bool distinct_sample_axes() {
    constexpr std::size_t n = sizeof...(Axes);
    if constexpr (n == 0) {
        return true;
    } else {
        constexpr std::size_t axes[n]{Axes...};
        for (std::size_t i = 0; i < n; ++i) {
            if (axes[i] == 0) return false;
            for (std::size_t j = 0; j < i; ++j)
                if (axes[j] == axes[i]) return false;
        }
        return true;
    }
}
}  // namespace detail

// y = x where x > 0, alpha * x elsewhere. alpha has the sample's shape with each shared axis of
// length 1, as Keras' (PReLU<1, 2> on a (height, width, channels) image learns one alpha per
// channel: Keras' PReLU(shared_axes=[1, 2])); it starts at zero, Keras' alpha_initializer.
template <std::size_t... SharedAxes>
class PReLU : public Layer<PReLU<SharedAxes...>> {
    using Base = Layer<PReLU<SharedAxes...>>;
    static constexpr std::size_t shared_count = sizeof...(SharedAxes);
    static constexpr std::size_t highest_axis = [] {
        std::size_t highest = 1;
        for (std::size_t a : {std::size_t{1}, SharedAxes...}) highest = a > highest ? a : highest;
        return highest;
    }();

    static constexpr bool is_shared(std::size_t axis) {  // axis from 0
        for (std::size_t a : {std::size_t{0}, SharedAxes...})
            if (a == axis + 1) return true;
        return false;
    }

public:
    explicit PReLU(std::string name = {}) : Base(std::move(name)) {
        static_assert(detail::distinct_sample_axes<SharedAxes...>(),
                      "latent: PReLU's SharedAxes number the sample's axes from 1, as Keras' shared_axes (the batch "
                      "is not one of them), each at most once: PReLU<1, 2> shares alpha across an image's height "
                      "and width");
    }

    static constexpr std::string_view type_name = "PReLU";
    static constexpr std::string_view default_name = "p_re_lu";

    using requirement = min_rank<highest_axis>;
    template <class In>
    static constexpr bool accepts = In::rank >= highest_axis && In::rank <= detail::max_prelu_rank;
    template <class In>
    using output_shape = In;

    // alpha's elements: the sample's, but one along each shared axis
    template <class In>
    static constexpr std::size_t alpha_size = [] {
        std::size_t n = 1;
        for (std::size_t j = 0; j < In::rank; ++j) n *= is_shared(j) ? 1 : In::dims[j];
        return n;
    }();
    // positions that share each alpha, per sample
    template <class In>
    static constexpr std::size_t shared_size = In::size / alpha_size<In>;
    // Shared axes 1..k: a sample is then (shared positions, alpha) already, in that order.
    static constexpr bool shares_leading_axes = [] {
        for (std::size_t a : {std::size_t{0}, SharedAxes...})
            if (a > shared_count) return false;
        return true;
    }();

    // Keras' shape of alpha (a sample of over four axes keeps its alpha flat: ParamSpec's limit).
    template <class In>
    static constexpr std::array<ParamSpec, 1> params = [] {
        ParamSpec alpha{"alpha", {}, 0, Init::zeros, true};
        if constexpr (In::rank <= 4) {
            alpha.rank = In::rank;
            for (std::size_t j = 0; j < In::rank; ++j) alpha.dims[j] = is_shared(j) ? 1 : In::dims[j];
        } else {
            alpha.rank = 1;
            alpha.dims[0] = alpha_size<In>;
        }
        return std::array<ParamSpec, 1>{alpha};
    }();
    // alpha's gradient summands, then (unless the shared axes lead) those reordered to lead
    template <class In>
    static constexpr std::size_t workspace_per_sample = shares_leading_axes ? In::size : 2 * In::size;
    template <class In>
    static constexpr std::size_t flops_per_sample = In::size;

    template <class In>
    static constexpr detail::AlphaLayout layout = [] {
        detail::AlphaLayout l;
        l.rank = In::rank;
        l.sample = In::size;
        std::size_t stride = 1;
        for (std::size_t j = In::rank; j-- > 0;) {
            l.out_dims[j] = In::dims[j];
            l.in_strides[j] = is_shared(j) ? 0 : stride;
            stride *= is_shared(j) ? 1 : In::dims[j];
        }
        return l;
    }();
    // The sample's shared axes first, then the others, each group in its own order: the
    // summands in this order sum to alpha's gradient by columns.
    template <class In>
    static constexpr detail::Permutation shared_axes_first = [] {
        detail::Permutation p;
        p.rank = In::rank;
        p.sample = In::size;
        std::size_t strides[detail::max_prelu_rank]{}, stride = 1;
        for (std::size_t j = In::rank; j-- > 0;) {
            strides[j] = stride;
            stride *= In::dims[j];
        }
        std::size_t k = 0;
        for (bool shared : {true, false})
            for (std::size_t j = 0; j < In::rank; ++j)
                if (is_shared(j) == shared) {
                    p.out_dims[k] = In::dims[j];
                    p.in_strides[k++] = strides[j];
                }
        return p;
    }();

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::prelu<B>(a.batch, layout<In>, a.x, a.params, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx) ops::prelu_backward<B>(a.batch, layout<In>, a.x, a.params, a.dy, a.dx);
        if (!a.dparams) return;
        T* summands = a.workspace;
        ops::elementwise<B>(a.batch * In::size, detail::prelu_alpha_summand{}, summands, a.x, a.dy);
        if constexpr (!shares_leading_axes) {
            ops::permute<B>(a.batch, shared_axes_first<In>, summands, a.workspace + a.batch * In::size);
            summands = a.workspace + a.batch * In::size;
        }
        ops::column_sum<B>(a.batch * shared_size<In>, alpha_size<In>, summands, a.dparams, true);
    }
};

}  // namespace latent
