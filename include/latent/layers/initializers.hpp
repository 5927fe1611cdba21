// Draws a parameter's initial values by its ParamSpec's Init, with Keras' rules; the models call
// it for every parameter, in order, from one generator, so a seed gives the same weights.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../core/random.hpp"
#include "layer.hpp"

namespace latent::detail {

// Keras' Orthogonal(gain=1): the parameter seen as a matrix (product of all dims but the last,
// last), drawn normal as (larger, smaller) dimension, orthonormalized (QR with R's diagonal
// made positive, which Gram-Schmidt gives), and transposed back when it has fewer rows than
// columns. Its rows (or columns) come out orthonormal; a recurrent kernel (units, 4 units) has
// orthonormal rows, so that h_prev U neither grows nor shrinks h at the start of training.
inline void orthogonal_values(const ParamSpec& spec, std::span<float> values, Generator& gen) {
    const std::size_t cols = spec.rank == 0 ? 1 : spec.dims[spec.rank - 1];
    const std::size_t rows = spec.size() / cols;
    const std::size_t n = std::max(rows, cols), m = std::min(rows, cols);
    std::vector<double> q(n * m);  // m vectors of length n, each stored contiguously
    for (auto& v : q) v = gen.normal();
    for (std::size_t j = 0; j < m; ++j) {
        double* v = q.data() + j * n;
        // Modified Gram-Schmidt, twice ("twice is enough", Kahan): orthogonal to working precision.
        for (int pass = 0; pass < 2; ++pass)
            for (std::size_t i = 0; i < j; ++i) {
                const double* u = q.data() + i * n;
                double dot = 0;
                for (std::size_t e = 0; e < n; ++e) dot += u[e] * v[e];
                for (std::size_t e = 0; e < n; ++e) v[e] -= dot * u[e];
            }
        double norm = 0;
        for (std::size_t e = 0; e < n; ++e) norm += v[e] * v[e];
        norm = std::sqrt(norm);
        for (std::size_t e = 0; e < n; ++e) v[e] /= norm;
    }
    // Vector j is column j of the (n, m) matrix; a (rows < cols) parameter is its transpose.
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            values[r * cols + c] = static_cast<float>(rows >= cols ? q[c * n + r] : q[r * n + c]);
}

inline void initialize_parameter(const ParamSpec& spec, std::span<float> values, Generator& gen) {
    switch (spec.init) {
        case Init::zeros:
            for (auto& v : values) v = 0.0f;
            break;
        case Init::ones:
            for (auto& v : values) v = 1.0f;
            break;
        case Init::glorot_uniform: {
            const double limit = std::sqrt(6.0 / static_cast<double>(spec.fan_in() + spec.fan_out()));
            for (auto& v : values) v = static_cast<float>(gen.uniform(-limit, limit));
            break;
        }
        case Init::random_uniform:
            for (auto& v : values) v = static_cast<float>(gen.uniform(-0.05, 0.05));
            break;
        case Init::truncated_normal:
            for (auto& v : values) {
                double z = gen.normal();
                while (z < -2.0 || z > 2.0) z = gen.normal();
                v = static_cast<float>(0.02 * z);
            }
            break;
        case Init::orthogonal:
            orthogonal_values(spec, values, gen);
            break;
        case Init::unit_forget_bias: {
            // An LSTM's bias (i, f, c, o): ones for the forget gate, zeros elsewhere (Keras'
            // unit_forget_bias=True), so that the cell remembers from the start.
            const std::size_t units = values.size() / 4;
            for (std::size_t i = 0; i < values.size(); ++i) values[i] = (i >= units && i < 2 * units) ? 1.0f : 0.0f;
            break;
        }
    }
}

}  // namespace latent::detail
