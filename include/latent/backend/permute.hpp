// The element mapping of the op permute (Keras' Permute: a sample's axes reordered), written once
// for every backend's kernels.
#pragma once

#include <cstddef>

#include "../config.hpp"

namespace latent::detail {

inline constexpr std::size_t max_permute_rank = 8;

// A reordering of a sample's axes: output axis j has length out_dims[j] and steps through the
// input by in_strides[j] (the stride of the input axis it takes).
struct Permutation {
    std::size_t rank = 0;
    std::size_t sample = 1;  // elements per sample
    std::size_t out_dims[max_permute_rank]{};
    std::size_t in_strides[max_permute_rank]{};
};

// Where output element i (of the whole batch) comes from in the input.
LATENT_HOST_DEVICE inline std::size_t permuted_source(const Permutation& p, std::size_t i) {
    std::size_t rest = i % p.sample, offset = 0;
    for (std::size_t j = p.rank; j-- > 0;) {
        offset += (rest % p.out_dims[j]) * p.in_strides[j];
        rest /= p.out_dims[j];
    }
    return i - i % p.sample + offset;
}

}  // namespace latent::detail
