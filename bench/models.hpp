// The networks the benchmarks run, on any backend: the MLP of the peer table, the MiniVGG
// network of examples/fashion_cnn and the convolutional autoencoder of examples/conv_autoencoder.
#pragma once

#include <cstdint>

#include <latent/latent.hpp>

namespace latent::bench {

template <class B>
using Mlp = Sequential<B, Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>, Softmax>;

// An audio-plugin-sized network: what batch-1 latency means for real-time use.
template <class B>
using TinyMlp = Sequential<B, Input<8>, Dense<16>, Tanh, Dense<16>, Tanh, Dense<1>>;

template <class B>
struct MiniVGG : Sequential<B, Input<28, 28, 1>,
                            Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                            Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                            MaxPool2D<2>, Dropout,
                            Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                            Conv2D<64, 3, Padding::same>, ReLU, BatchNorm,
                            MaxPool2D<2>, Dropout,
                            Flatten, Dense<512>, ReLU, BatchNorm, Dropout,
                            Dense<10>, Softmax> {
    explicit MiniVGG(std::uint64_t seed = 0) : MiniVGG::Sequential(seed) {
        this->template layer<7>().rate(0.25);
        this->template layer<15>().rate(0.25);
        this->template layer<20>().rate(0.5);
    }
};

template <class B>
using ConvAutoencoder = Sequential<B, Input<28, 28, 1>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<16, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>,
    Conv2D<8, 3, Padding::same>, ReLU, BatchNorm,
    Flatten, Dense<2>,
    Dense<8 * 7 * 7>, ReLU, Reshape<7, 7, 8>,
    Conv2D<8, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<16, 3, Padding::same>, ReLU, BatchNorm, UpSampling2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm, UpSampling2D<2>,
    Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
    Conv2D<1, 3, Padding::same>, Sigmoid>;

// Uniform values in [lo, hi) from a fixed seed.
template <class T>
void fill_uniform(T& tensor, std::uint64_t seed, double lo = 0.0, double hi = 1.0) {
    Generator g(seed);
    for (auto& v : tensor.values()) v = static_cast<float>(g.uniform(lo, hi));
}

// One-hot labels of random classes.
template <std::size_t Classes>
Tensor<Shape<Classes>> random_one_hot(std::size_t batch, std::uint64_t seed) {
    Tensor<Shape<Classes>> y(batch);
    Generator g(seed);
    for (std::size_t i = 0; i < batch; ++i) y.sample(i)[static_cast<std::size_t>(g.uniform(0.0, double(Classes))) % Classes] = 1.0f;
    return y;
}

}  // namespace latent::bench
