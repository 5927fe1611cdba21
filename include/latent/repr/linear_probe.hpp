// The linear probe: how much of a task a frozen representation already solves, as one number.
// The encoder maps the data to codes; a softmax classifier (one Dense layer) is fitted on the
// training codes and scored on held-out codes.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../backend/default.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../graph/sequential.hpp"
#include "../layers/dense.hpp"
#include "../layers/reshape.hpp"
#include "../layers/activation.hpp"
#include "../loss/sparse_categorical_crossentropy.hpp"
#include "../metrics/accuracy.hpp"
#include "../optim/adam.hpp"
#include "../train/fit.hpp"

namespace latent::repr {

struct ProbeOptions {
    std::size_t epochs = 100;
    std::size_t batch_size = 64;
    double lr = 1e-2;
    // Scale every code feature to zero mean and unit variance on the training codes (as one
    // would before a logistic regression); codes of very different scales train badly otherwise.
    bool standardize = true;
    std::uint64_t seed = 0;
};

// Per-feature mean and 1/stddev of some codes (the training set's), applied in place to any
// codes: zero mean and unit variance per feature, as before a logistic regression.
template <shape_type S>
struct Standardizer {
    std::vector<double> mean = std::vector<double>(S::size, 0.0), inv_std = std::vector<double>(S::size, 1.0);
    explicit Standardizer(const Tensor<S>& codes) {
        const double n = static_cast<double>(codes.batch());
        std::vector<double> sq(S::size, 0.0);
        for (std::size_t b = 0; b < codes.batch(); ++b)
            for (std::size_t j = 0; j < S::size; ++j) mean[j] += codes.sample(b)[j] / n;
        for (std::size_t b = 0; b < codes.batch(); ++b)
            for (std::size_t j = 0; j < S::size; ++j) sq[j] += std::pow(codes.sample(b)[j] - mean[j], 2) / n;
        for (std::size_t j = 0; j < S::size; ++j) inv_std[j] = sq[j] > 1e-12 ? 1.0 / std::sqrt(sq[j]) : 1.0;
    }
    void apply(Tensor<S>& codes) const {
        for (std::size_t b = 0; b < codes.batch(); ++b)
            for (std::size_t j = 0; j < S::size; ++j)
                codes.sample(b)[j] = static_cast<float>((codes.sample(b)[j] - mean[j]) * inv_std[j]);
    }
};

struct ProbeResult {
    double train_accuracy = 0.0;
    double validation_accuracy = 0.0;
};

namespace detail {
template <class B, class S, std::size_t Classes>
struct probe_network;
template <class B, std::size_t... D, std::size_t Classes>
struct probe_network<B, Shape<D...>, Classes> {
    using type = Sequential<B, Input<D...>, Flatten, Dense<Classes>, Softmax>;
};

}  // namespace detail

// Fits a softmax classifier over Classes classes on codes and scores it. The labels are class
// indices (Shape<1>). The codes are computed by the caller (encoder.predict(x)), so any frozen
// representation works, a network's or not.
template <std::size_t Classes, class B = default_backend, shape_type S>
ProbeResult linear_probe(Tensor<S> train_codes, const Tensor<Shape<1>>& train_labels, Tensor<S> validation_codes,
                         const Tensor<Shape<1>>& validation_labels, const ProbeOptions& options = {}) {
    if (train_codes.batch() == 0)
        throw value_error("latent.repr.linear_probe", "the linear probe needs at least one training sample");
    if (options.standardize) {
        const Standardizer<S> scale(train_codes);
        scale.apply(train_codes);
        scale.apply(validation_codes);
    }
    typename detail::probe_network<B, S, Classes>::type probe(options.seed);
    probe.compile(optim::Adam{.lr = options.lr}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    probe.fit(train_codes, train_labels,
              {.epochs = options.epochs, .batch_size = options.batch_size, .seed = options.seed,
               .verbose = Verbosity::silent});
    ProbeResult result;
    result.train_accuracy = probe.evaluate(train_codes, train_labels).at("accuracy");
    if (validation_codes.batch() > 0)
        result.validation_accuracy = probe.evaluate(validation_codes, validation_labels).at("accuracy");
    return result;
}

// The same from a frozen encoder network and the data: encodes both sets, then probes.
template <std::size_t Classes, class Encoder, float_batch X>
ProbeResult linear_probe(Encoder& encoder, const X& train_x, const Tensor<Shape<1>>& train_labels,
                         const X& validation_x, const Tensor<Shape<1>>& validation_labels,
                         const ProbeOptions& options = {}) {
    return linear_probe<Classes, typename Encoder::policy>(encoder.predict(train_x, 256), train_labels,
                                                           encoder.predict(validation_x, 256), validation_labels,
                                                           options);
}

}  // namespace latent::repr
