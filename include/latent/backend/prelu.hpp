// Which alpha scales each element in PReLU (Keras' PReLU: alpha has the sample's shape, its
// shared axes of length 1), written once for every backend's kernels.
#pragma once

#include <cstddef>

#include "../config.hpp"
#include "permute.hpp"

namespace latent::detail {

inline constexpr std::size_t max_prelu_rank = max_permute_rank;

// The sample's axes (out_dims) and how far alpha moves along each (in_strides; 0 on a shared
// axis, where every position uses the same alpha): a Permutation that reads alpha instead of a
// sample, so that alpha's index is the permuted source of an element's place in its sample.
using AlphaLayout = Permutation;

// The alpha of element i (of the whole batch).
LATENT_HOST_DEVICE inline std::size_t alpha_index(const AlphaLayout& l, std::size_t i) {
    return permuted_source(l, i % l.sample);
}

// PReLU's negative part, dalpha's summand before the sum over the batch and the shared axes.
struct prelu_alpha_summand {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& out, const T& x, const T& dy) const {
        out = x > T(0) ? T(0) : x * dy;
    }
};

}  // namespace latent::detail
