// one_hot<Classes>(labels): class indices (bytes from a file, or floats in a Tensor<Shape<1>>)
// turned into one-hot rows for CategoricalCrossentropy; a label outside [0, Classes) throws.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"

namespace latent::data {

namespace detail {

inline std::string format_label_value(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

[[noreturn]] inline void bad_label(std::size_t index, const std::string& value, std::size_t classes, const char* why) {
    throw value_error("latent.data.one_hot", "label " + std::to_string(index) + " is " + value + ", " + why +
                                                 " for one_hot<" + std::to_string(classes) + "> (classes 0 to " +
                                                 std::to_string(classes - 1) + ")");
}

}  // namespace detail

// One row per label, 1 at the label's class and 0 elsewhere. Throws value_error
// "latent.data.one_hot" naming the first label that is not below Classes.
template <std::size_t Classes>
Tensor<Shape<Classes>> one_hot(std::span<const std::uint8_t> labels) {
    Tensor<Shape<Classes>> out(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= Classes) detail::bad_label(i, std::to_string(labels[i]), Classes, "outside the classes");
        out[i * Classes + labels[i]] = 1.0f;
    }
    return out;
}

// The same for class indices stored as floats (the labels of data::ImageDataset, or what
// SparseCategoricalCrossentropy takes): each must be a whole number in [0, Classes).
template <std::size_t Classes>
Tensor<Shape<Classes>> one_hot(TensorView<Shape<1>, const float> labels) {
    Tensor<Shape<Classes>> out(labels.batch());
    for (std::size_t i = 0; i < labels.batch(); ++i) {
        const float v = labels[i];
        if (!std::isfinite(v)) detail::bad_label(i, detail::format_label_value(v), Classes, "not a finite number");
        if (v < 0) detail::bad_label(i, detail::format_label_value(v), Classes, "negative");
        if (v != std::floor(v)) detail::bad_label(i, detail::format_label_value(v), Classes, "not a whole number");
        if (v >= static_cast<float>(Classes))
            detail::bad_label(i, detail::format_label_value(v), Classes, "outside the classes");
        out[i * Classes + static_cast<std::size_t>(v)] = 1.0f;
    }
    return out;
}

template <std::size_t Classes>
Tensor<Shape<Classes>> one_hot(TensorView<Shape<1>, float> labels) {
    return one_hot<Classes>(TensorView<Shape<1>, const float>(labels));
}

template <std::size_t Classes>
Tensor<Shape<Classes>> one_hot(const Tensor<Shape<1>, float>& labels) {
    return one_hot<Classes>(labels.view());
}

}  // namespace latent::data
