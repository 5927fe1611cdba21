// The small classifier and data the training-loop tests train: 96 samples of 4 features in 3
// classes (feature k raised for class k), and a Dense-ReLU-Dropout-Dense-Softmax network.
#pragma once

#include <cstddef>

#include <latent/latent.hpp>

namespace latent::testing {

using ThreeClassNet = Sequential<Input<4>, Dense<16>, ReLU, Dropout, Dense<3>, Softmax>;

struct ThreeClassData {
    Tensor<Shape<4>> x{96};
    Tensor<Shape<1>> y{96};
    ThreeClassData() {
        Generator g(4);
        for (std::size_t i = 0; i < 96; ++i) {
            y[i] = static_cast<float>(i % 3);
            for (std::size_t j = 0; j < 4; ++j) x[4 * i + j] = static_cast<float>(g.normal()) + (j == i % 3 ? 2.0f : 0.0f);
        }
    }
};

}  // namespace latent::testing
