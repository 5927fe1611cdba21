// Which alpha scales each element in PReLU (Keras' PReLU: alpha has the sample's shape, its
// shared axes of length 1), written once for every backend's kernels.
#pragma once

#include <cstddef>

#include "../config.hpp"

namespace latent::detail {

inline constexpr std::size_t max_prelu_rank = 8;

// A sample of `rank` axes of lengths dims[]; alpha_strides[j] is how far alpha moves along axis j
// (0 on a shared axis, where every position uses the same alpha).
struct AlphaLayout {
    std::size_t rank = 0;
    std::size_t sample = 1;  // elements per sample
    std::size_t dims[max_prelu_rank]{};
    std::size_t alpha_strides[max_prelu_rank]{};
};

// The alpha of element i (of the whole batch).
LATENT_HOST_DEVICE inline std::size_t alpha_index(const AlphaLayout& l, std::size_t i) {
    std::size_t rest = i % l.sample, offset = 0;
    for (std::size_t j = l.rank; j-- > 0;) {
        offset += (rest % l.dims[j]) * l.alpha_strides[j];
        rest /= l.dims[j];
    }
    return offset;
}

// PReLU's negative part, dalpha's summand before the sum over the batch and the shared axes.
struct prelu_alpha_summand {
    template <class T>
    LATENT_HOST_DEVICE void operator()(T& out, const T& x, const T& dy) const {
        out = x > T(0) ? T(0) : x * dy;
    }
};

}  // namespace latent::detail
