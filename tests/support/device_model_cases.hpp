// Sequential models on a device backend against the same models on the CPU: predictions in
// batches, weights changed on the host, the allocation-free predict, and the workflow of
// training on the CPU and predicting on the device from saved weights.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include <latent/latent.hpp>

#include "layer_agreement.hpp"

namespace latent::testing {

template <class B>
using DeviceCnn = Sequential<B, Input<12, 12, 1>, Conv2D<4, 3, Padding::same>, ReLU, BatchNorm, MaxPool2D<2>, Dropout,
                             Conv2D<6, 3>, Tanh, UpSampling2D<2>, Flatten, Dense<10>, Softmax>;
template <class B>
using DeviceMlp = Sequential<B, Input<6>, Dense<16>, ReLU, Dense<3>, Softmax>;

template <class S>
Tensor<S> random_batch(std::size_t n, std::uint64_t seed) {
    Tensor<S> x(n);
    Generator g(seed);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-1.0, 1.0));
    return x;
}
template <class S>
std::vector<float> values_of(const Tensor<S>& tensor) {
    return {tensor.data(), tensor.data() + tensor.size()};
}

template <class B>
void check_device_predict(double tol) {
    DeviceCnn<cpu::reference> host(5);
    DeviceCnn<B> device(5);
    const auto x = random_batch<Shape<12, 12, 1>>(7, 1);
    // Batches of 3: two full ones and a short one, through the same device buffers.
    CHECK(relative_error(values_of(device.predict(x, 3)), values_of(host.predict(x, 3))) < tol);

    // Weights changed on the host reach the device before the next prediction.
    for (auto& v : host.parameters().values()) v *= 0.5f;
    for (auto& v : device.parameters().values()) v *= 0.5f;
    CHECK(relative_error(values_of(device.predict(x)), values_of(host.predict(x))) < tol);

    // The allocation-free overload, one sample at a time.
    const auto one = random_batch<Shape<12, 12, 1>>(1, 2);
    Tensor<Shape<10>> out_host(1), out_device(1);
    host.predict(one, out_host);
    device.predict(one, out_device);
    CHECK(relative_error(values_of(out_device), values_of(out_host)) < tol);
}

template <class B>
void check_device_loads_trained_weights(double tol, const std::filesystem::path& path) {
    Tensor<Shape<6>> x(60);
    Tensor<Shape<1>> y(60);
    Generator g(4);
    for (std::size_t i = 0; i < 60; ++i) {
        y[i] = static_cast<float>(i % 3);
        for (std::size_t j = 0; j < 6; ++j) x[6 * i + j] = static_cast<float>(g.normal()) + (j == i % 3 ? 1.5f : 0.0f);
    }
    DeviceMlp<cpu::reference> trained(1);
    trained.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    trained.fit(x, y, {.epochs = 3, .batch_size = 8, .verbose = Verbosity::silent});
    trained.save_weights(path);

    DeviceMlp<B> device(2);
    const auto before = values_of(device.predict(x));
    device.load_weights(path);
    const auto after = values_of(device.predict(x));
    CHECK(relative_error(after, values_of(trained.predict(x))) < tol);
    CHECK(relative_error(after, before) > 0.01);  // the loaded weights, not the initial ones
}

}  // namespace latent::testing
