// Embedding<InputDim, OutputDim>: each of a sample's L indices (whole numbers in [0, InputDim),
// given as floats) becomes a trainable vector of OutputDim, as Keras' Embedding(input_dim,
// output_dim): Shape<L> in, Shape<L, OutputDim> out, table "embeddings" (InputDim, OutputDim).
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "../backend/memory.hpp"
#include "layer.hpp"

namespace latent {

template <std::size_t InputDim, std::size_t OutputDim>
class Embedding : public Layer<Embedding<InputDim, OutputDim>> {
    static_assert(InputDim > 0 && OutputDim > 0, "latent: Embedding needs input_dim and output_dim of at least 1");

public:
    using Layer<Embedding<InputDim, OutputDim>>::Layer;
    static constexpr std::string_view type_name = "Embedding";
    static constexpr std::string_view default_name = "embedding";
    static constexpr std::size_t input_dim = InputDim;
    static constexpr std::size_t output_dim = OutputDim;

    using requirement = rank<1>;
    template <class In>
    static constexpr bool accepts = In::rank == 1;
    template <class In>
    using output_shape = Shape<In::size, OutputDim>;

    // Keras initializes the table uniform in [-0.05, 0.05].
    template <class In>
    static constexpr std::array<ParamSpec, 1> params{
        ParamSpec{"embeddings", {InputDim, OutputDim}, 2, Init::random_uniform, true}};
    template <class In>
    static constexpr std::size_t flops_per_sample = 0;  // a lookup: no arithmetic

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t indices = a.batch * In::size;
        // On the host an index that names no row is an error here; on a device its row is NaN,
        // and the step's non-finite-loss error names this layer.
        if constexpr (host_backend_v<B>)
            for (std::size_t i = 0; i < indices; ++i)
                if (detail::embedding_row(a.x[i], InputDim) == InputDim)
                    throw value_error("latent.layers.embedding.index",
                                      describe() + ": sample " + std::to_string(i / In::size) + ", position " +
                                          std::to_string(i % In::size) + " holds " + std::to_string(a.x[i]) +
                                          "; an index must be a whole number in [0, " + std::to_string(InputDim) +
                                          ")");
        ops::embedding_lookup<B>(indices, OutputDim, InputDim, a.x, a.params, a.y);  // (batch, L, OutputDim)
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        const std::size_t indices = a.batch * In::size;
        if (a.dparams) ops::embedding_backward<B>(indices, OutputDim, InputDim, a.x, a.dy, a.dparams);
        // Indices are not differentiable: what feeds them gets no gradient.
        if (a.dx) ops::fill_zero<B>(indices, a.dx);
    }

private:
    std::string describe() const { return "Embedding" + (this->name().empty() ? std::string{} : " \"" + this->name() + "\""); }
};

// KerasHub's PositionEmbedding(sequence_length): a trainable table of one vector per position,
// (SequenceLength, features), Glorot-uniform at first; its output is the table's first `steps`
// rows for every sample, whatever the input's values, so a model adds it to the input:
// Add{}(x, PositionEmbedding<L>{}(x)) gives attention, which sees the steps as a set, their order.
template <std::size_t SequenceLength>
class PositionEmbedding : public Layer<PositionEmbedding<SequenceLength>> {
    static_assert(SequenceLength > 0, "latent: PositionEmbedding needs a sequence_length of at least 1");

public:
    using Layer<PositionEmbedding<SequenceLength>>::Layer;
    static constexpr std::string_view type_name = "PositionEmbedding";
    static constexpr std::string_view default_name = "position_embedding";
    static constexpr std::size_t sequence_length = SequenceLength;

    using requirement = sequence_at_most<SequenceLength>;
    template <class In>
    static constexpr bool accepts = In::rank == 2 && In::dims[0] <= SequenceLength;
    template <class In>
    using output_shape = In;
    template <class In>
    static constexpr std::size_t features = In::rank == 2 ? In::dims[1] : 1;

    template <class In>
    static constexpr std::array<ParamSpec, 1> params{
        ParamSpec{"embeddings", {SequenceLength, features<In>}, 2, Init::glorot_uniform, true}};

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        ops::fill_zero<B>(a.batch * In::size, a.y);
        ops::bias_add<B>(a.batch, In::size, a.params, a.y);  // the table's first steps rows, per sample
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dparams) ops::column_sum<B>(a.batch, In::size, a.dy, a.dparams, true);
        if (a.dx) ops::fill_zero<B>(a.batch * In::size, a.dx);  // the output does not depend on x
    }
};

}  // namespace latent
