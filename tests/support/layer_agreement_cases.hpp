// The layers every backend is checked on against cpu::reference (support/layer_agreement.hpp),
// shared by the host run of the CUDA kernels and the GPU run (tests/cuda/).
#pragma once

#include <string>
#include <vector>

#include <latent/latent.hpp>

#include "layer_agreement.hpp"

namespace latent::testing {

// `random_layers`: whether Dropout and GaussianNoise can be compared in training too (a backend
// that draws as the reference does), or in inference only.
template <class B, class Memory>
void check_dense_and_activations(double tol, agreement_modes random_layers = agreement_modes::inference_only) {
    check_layer_agreement<B, Memory, Shape<37>>(Dense<19>{}, tol);
    check_layer_agreement<B, Memory, Shape<784>>(Dense<256>{}, tol, 64);
    check_layer_agreement<B, Memory, Shape<20>>(ReLU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(LeakyReLU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(Sigmoid{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(Tanh{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(ELU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(SELU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(GELU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(GELU{true}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(SiLU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(Softplus{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(Softsign{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(HardSigmoid{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(HardSiLU{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(Mish{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(ReLU6{}, tol);
    check_layer_agreement<B, Memory, Shape<4, 10>>(Softmax{}, tol);
    check_layer_agreement<B, Memory, Shape<4, 5>>(Flatten{}, tol);
    check_layer_agreement<B, Memory, Shape<20>>(Reshape<4, 5>{}, tol);
    check_layer_agreement<B, Memory, Shape<3, 4, 5>>(Permute<3, 1, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<3, 4, 5>>(Rescaling{1.0 / 255, -0.5}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(Normalization{}, tol, 5, true);  // a variance must be >= 0
    check_layer_agreement<B, Memory, Shape<6, 5>>(Normalization{true}, tol, 5, true);
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(PReLU<>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(PReLU<1, 2>{}, tol, 9);
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(PReLU<2>{}, tol, 3);
    // 35 indices over 11 rows: rows repeat, so the table's gradient adds several rows' dy.
    check_layer_agreement<B, Memory, Shape<7>>(Embedding<11, 6>{}, tol, 5, false, agreement_modes::both,
                                               [](std::vector<float>& x) {
                                                   for (std::size_t i = 0; i < x.size(); ++i)
                                                       x[i] = static_cast<float>(i * 4 % 11);
                                               });
    // Recurrent layers: every step's gemms and cells, in both output modes, and a stack.
    check_layer_agreement<B, Memory, Shape<6, 5>>(LSTM<7>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(LSTM<7, Returns::sequences>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(GRU<7>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(GRU<7, Returns::sequences>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(SimpleRNN<7>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(SimpleRNN<7, Returns::sequences>{}, tol);
    check_layer_agreement<B, Memory, Shape<28, 28>>(LSTM<64>{}, tol, 16);
    check_layer_agreement<B, Memory, Shape<9>>(RepeatVector<4>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(TimeDistributed<Dense<7>>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(Bidirectional<LSTM<4, Returns::sequences>>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(Bidirectional<GRU<3>>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(Bidirectional<LSTM<4, Returns::sequences>, Merge::mul>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(Bidirectional<GRU<3>, Merge::ave>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5>>(Bidirectional<SimpleRNN<3, Returns::sequences>>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 12>>(MultiHeadAttention<3, 4>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 12>>(PositionEmbedding<9>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 12>>(MultiHeadAttention<2, 4, 6>{true}, tol, 3);
    Dropout dropout;
    dropout.rate(0.3);
    check_layer_agreement<B, Memory, Shape<50>>(dropout, tol, 5, false, random_layers);
    GaussianNoise noise;
    noise.stddev(0.2);
    check_layer_agreement<B, Memory, Shape<50>>(noise, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, Shape<50>>(GaussianDropout{0.3}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, Shape<50>>(AlphaDropout{0.3}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, Shape<5, 4, 6>>(SpatialDropout2D{0.3}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, Shape<7, 6>>(SpatialDropout1D{0.3}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, Shape<7, 12>>(MultiHeadAttention<3, 4>{}.dropout(0.2), tol, 4, false,
                                                   random_layers);
    // The augmentation layers: each fill mode, both interpolations, crops, the clipped colour jitters.
    using In = Shape<7, 6, 3>;
    check_layer_agreement<B, Memory, In>(RandomFlip<>{}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(RandomRotation{0.2}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(RandomTranslation{0.4, 0.4, {Interpolation::bilinear, FillMode::wrap, 0.0}},
                                         tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(RandomZoom{0.5, FactorRange{-0.2, 0.4},
                                                    {Interpolation::nearest, FillMode::constant, 0.5}},
                                         tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(
        RandomZoom{0.5, std::nullopt, {Interpolation::bilinear, FillMode::nearest, 0.0}}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(RandomCrop<5, 3>{}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(RandomContrast{0.5, {-0.8, 0.8}}, tol, 5, false, random_layers);
    check_layer_agreement<B, Memory, In>(RandomBrightness{0.3, {-1.0, 1.0}}, tol, 5, false, random_layers);
}

template <class B, class Memory>
void check_convolutions(double tol) {
    check_layer_agreement<B, Memory, Shape<9, 8, 3>>(Conv2D<6, 3>{}, tol);
    check_layer_agreement<B, Memory, Shape<20, 3>>(Conv1D<6, 5, Padding::same, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<10, 4>>(Conv1DTranspose<3, 3, Padding::valid, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 8, 3>>(Conv2D<6, 3, Padding::same>{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 8, 3>>(Conv2D<4, Size2<3, 2>, Padding::same, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<28, 28, 1>>(Conv2D<32, 3, Padding::same>{}, tol, 8);
    // Shapes for cpu::simd's implicit convolutions (with SSE, AVX and AVX-512 vectors): a last
    // panel part-filled, valid padding (the input gradient then pads by the whole kernel), one
    // output channel (the narrow kernel), a window over several k blocks (576 > 512), and
    // strides (forward implicit, input gradient through col2im).
    check_layer_agreement<B, Memory, Shape<8, 7, 32>>(Conv2D<40, 3>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 6, 32>>(Conv2D<1, 3, Padding::same>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 4, 64>>(Conv2D<20, 3, Padding::same>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<9, 8, 32>>(Conv2D<16, Size2<3, 2>, Padding::same, 2>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<7, 7, 16>>(Conv2D<2, 3, Padding::same, 2>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<5, 4, 3>>(Conv2DTranspose<6, 3>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 4, 3>>(Conv2DTranspose<2, 3, Padding::same, 2>{}, tol);
    // stride 1 and enough filters: cpu::simd's forward is its implicit input gradient, and its
    // backward the implicit convolution
    check_layer_agreement<B, Memory, Shape<5, 4, 8>>(Conv2DTranspose<32, 3, Padding::same>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<7, 6, 4>>(DepthwiseConv2D<3>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 6, 3>>(DepthwiseConv2D<3, Padding::same, 2, 2>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<7, 6, 3>>(SeparableConv2D<5, 3, Padding::same, 1, 2>{}, tol, 3);
    // Dilated windows: through im2col, cpu::simd's implicit forward, narrow kernel and input
    // gradient (valid, and same padding that a symmetric library takes), and the depthwise op.
    check_layer_agreement<B, Memory, Shape<9, 8, 3>>(Conv2D<6, 3, Padding::valid, 1, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 8, 32>>(Conv2D<40, 3, Padding::valid, 1, 2>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<7, 9, 64>>(Conv2D<20, 3, Padding::same, 1, Size2<2, 3>>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<7, 6, 32>>(Conv2D<1, 3, Padding::same, 1, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<20, 3>>(Conv1D<6, 3, Padding::same, 1, 4>{}, tol);
    check_layer_agreement<B, Memory, Shape<20, 3>>(Conv1D<6, 3, Padding::causal, 1, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<24, 32>>(Conv1D<32, 3, Padding::causal, 1, 4>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<15, 4>>(Conv1D<5, 4, Padding::causal, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 6, 3>>(DepthwiseConv2D<3, Padding::same, 1, 2, 2>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<8, 6, 3>>(SeparableConv2D<5, 3, Padding::valid, 1, 1, Size2<2, 1>>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 4, 3>>(Conv2DTranspose<4, 3, Padding::valid, 1, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 4, 8>>(Conv2DTranspose<32, 3, Padding::same, 1, 2>{}, tol, 3);
    check_layer_agreement<B, Memory, Shape<10, 4>>(Conv1DTranspose<3, 3, Padding::same, 1, 3>{}, tol);
}

template <class B, class Memory>
void check_pooling_and_resampling(double tol) {
    check_layer_agreement<B, Memory, Shape<11, 3>>(MaxPooling1D<3, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<11, 3>>(AveragePooling1D<2, 2, Padding::same>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 3>>(UpSampling1D<3>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 3>>(ZeroPadding1D<2, 1>{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 3>>(Cropping1D<3, 2>{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 5>>(GlobalAveragePooling1D{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 5>>(GlobalMaxPooling1D{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5, 3>>(GlobalMaxPooling2D{}, tol);
    check_layer_agreement<B, Memory, Shape<8, 6, 3>>(MaxPool2D<2>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 6, 3>>(MaxPool2D<3, 2, Padding::same>{}, tol);
    check_layer_agreement<B, Memory, Shape<9, 7, 2>>(MaxPool2D<3, 1, Padding::same>{}, tol);  // overlapping windows
    check_layer_agreement<B, Memory, Shape<8, 6, 3>>(AvgPool2D<2>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 6, 3>>(AvgPool2D<3, 2, Padding::same>{}, tol);
    check_layer_agreement<B, Memory, Shape<5, 4, 3>>(GlobalAveragePooling2D{}, tol);
    check_layer_agreement<B, Memory, Shape<4, 3, 2>>(UpSampling2D<2>{}, tol);
    check_layer_agreement<B, Memory, Shape<4, 3, 2>>(UpSampling2D<Size2<3, 2>>{}, tol);
    check_layer_agreement<B, Memory, Shape<4, 3, 2>>(UpSampling2D<2, Interpolation::bilinear>{}, tol);
    check_layer_agreement<B, Memory, Shape<3, 5, 3>>(UpSampling2D<Size2<4, 3>, Interpolation::bilinear>{}, tol);
    check_layer_agreement<B, Memory, Shape<4, 3, 2>>(ZeroPadding2D<1>{}, tol);
    check_layer_agreement<B, Memory, Shape<6, 5, 2>>(Cropping2D<1>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 5, 3>>(Resizing<4, 9>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 5, 3>>(Resizing<10, 3, Interpolation::nearest>{}, tol);
    check_layer_agreement<B, Memory, Shape<7, 5, 3>>(Resizing<4, 9>{}.crop_to_aspect_ratio(true), tol);
    check_layer_agreement<B, Memory, Shape<7, 5, 3>>(Resizing<2, 2>{}.crop_to_aspect_ratio(true), tol);
    check_layer_agreement<B, Memory, Shape<7, 5, 3>>(Resizing<4, 9>{}.pad_to_aspect_ratio(true).fill_value(0.5), tol);
    check_layer_agreement<B, Memory, Shape<7, 5, 3>>(CenterCrop<4, 2>{}, tol);
}

template <class B, class Memory>
void check_batch_norm(double tol) {
    // Positive parameters: the moving variance must be positive for inference.
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(BatchNorm{}, tol, 5, true);
    check_layer_agreement<B, Memory, Shape<12>>(BatchNorm{}, tol, 7, true);
    check_layer_agreement<B, Memory, Shape<16, 16, 8>>(BatchNorm{}, tol, 4, true);  // rows over one chunk
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(LayerNormalization{}, tol, 5);
    check_layer_agreement<B, Memory, Shape<12>>(LayerNormalization{}, tol, 7);
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(RMSNormalization{}, tol, 5);
    check_layer_agreement<B, Memory, Shape<12>>(RMSNormalization{1e-3}, tol, 7);
    check_layer_agreement<B, Memory, Shape<6, 5, 8>>(GroupNormalization<4>{}, tol, 5);
    check_layer_agreement<B, Memory, Shape<10>>(GroupNormalization<1>{}, tol, 7);
    check_layer_agreement<B, Memory, Shape<6, 5, 4>>(UnitNormalization{}, tol, 5);
    // Training normalizes the kernel and vector_u in the state, which is compared too.
    check_layer_agreement<B, Memory, Shape<12>>(SpectralNormalization<Dense<7>>{}, tol, 5);
    check_layer_agreement<B, Memory, Shape<6, 5, 3>>(SpectralNormalization<Conv2D<4, 3>>{Conv2D<4, 3>{}, 3}, tol, 3);
}

// A merge layer's forward and backward over N inputs: y, then every input's gradient.
template <class B, class Memory, class L, class... In>
std::vector<std::vector<float>> run_merge(const L& layer, const std::vector<std::vector<float>>& xs_host,
                                          const std::vector<float>& dy_host, std::size_t batch) {
    using Out = typename L::template output_shape<In...>;
    std::vector<typename Memory::buffer> xs, dxs;
    for (const auto& x : xs_host) {
        xs.push_back(Memory::upload(x));
        dxs.push_back(Memory::upload(std::vector<float>(x.size(), 0.0f)));
    }
    auto y = Memory::upload(std::vector<float>(batch * Out::size, 0.0f));
    const auto dy = Memory::upload(dy_host);
    std::vector<const float*> x_pointers;
    std::vector<float*> dx_pointers;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        x_pointers.push_back(xs[k].data());
        dx_pointers.push_back(dxs[k].data());
    }
    auto workspace = Memory::upload(std::vector<float>(
        batch * L::template workspace_per_sample<In...> + L::template workspace_fixed<In...> + 1, 0.0f));
    layer.template forward<B, float, In...>({x_pointers.data(), xs.size(), y.data(), batch, nullptr, workspace.data()});
    layer.template backward<B, float, In...>(
        {x_pointers.data(), xs.size(), y.data(), dy.data(), dx_pointers.data(), batch, nullptr, nullptr,
         workspace.data()});
    std::vector<std::vector<float>> out{Memory::download(y)};
    for (const auto& dx : dxs) out.push_back(Memory::download(dx));
    return out;
}

template <class B, class Memory, class... In, class L>
void check_merge_agreement(const L& layer, double tol, std::size_t batch = 5) {
    using Out = typename L::template output_shape<In...>;
    Generator g(3);
    // Values on a coarse grid, so that Maximum and Minimum meet ties and must route them alike.
    std::vector<std::vector<float>> xs{std::vector<float>(batch * In::size)...};
    for (auto& x : xs)
        for (auto& v : x) v = static_cast<float>(g.below(5)) * 0.5f - 1.0f;
    std::vector<float> dy(batch * Out::size);
    for (auto& v : dy) v = static_cast<float>(g.uniform(-1.0, 1.0));
    INFO(L::type_name << " of " << sizeof...(In) << " inputs");
    const auto want = run_merge<cpu::reference, host_arrays, L, In...>(layer, xs, dy, batch);
    const auto got = run_merge<B, Memory, L, In...>(layer, xs, dy, batch);
    for (std::size_t k = 0; k < want.size(); ++k) {
        INFO((k == 0 ? std::string("output") : "input gradient " + std::to_string(k - 1)));
        CHECK(relative_error(got[k], want[k]) < tol);
    }
}

template <class B, class Memory>
void check_merges(double tol) {
    using S = Shape<4, 5>;
    check_merge_agreement<B, Memory, S, S, S>(Add{}, tol);
    check_merge_agreement<B, Memory, S, S>(Subtract{}, tol);
    check_merge_agreement<B, Memory, S, S, S>(Multiply{}, tol);
    check_merge_agreement<B, Memory, S, S, S>(Average{}, tol);
    check_merge_agreement<B, Memory, S, S, S>(Maximum{}, tol);
    check_merge_agreement<B, Memory, S, S>(Minimum{}, tol);
    check_merge_agreement<B, Memory, S, Shape<4, 3>>(Concatenate{}, tol);
    check_merge_agreement<B, Memory, Shape<2, 3, 4>, Shape<2, 3, 4>>(Concatenate<1>{}, tol);
    check_merge_agreement<B, Memory, Shape<20>, Shape<20>>(Dot<>{}, tol);
    check_merge_agreement<B, Memory, Shape<20>, Shape<20>>(Dot<0>{true}, tol);
    check_merge_agreement<B, Memory, Shape<20>, Shape<20>>(EuclideanDistance{}, tol);
}

}  // namespace latent::testing
