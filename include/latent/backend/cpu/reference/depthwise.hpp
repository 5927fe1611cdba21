// cpu::reference kernels for DepthwiseConv2D's convolution and its gradients (see
// backend/backend.hpp for their contract; the math is backend/depthwise.hpp's).
#pragma once

#include <cstddef>

#include "../../depthwise.hpp"
#include "../reference.hpp"

namespace latent::cpu {

template <class T>
void depthwise_conv2d_kernel(const reference&, const Window2D& g, std::size_t batch, std::size_t m, const T* x,
                             const T* kernel, T* y) {
    const std::size_t n = batch * g.positions() * g.channels * m;
    for (std::size_t i = 0; i < n; ++i) y[i] = latent::detail::depthwise_output_at(g, m, x, kernel, i);
}

template <class T>
void depthwise_conv2d_input_gradient_kernel(const reference&, const Window2D& g, std::size_t batch, std::size_t m,
                                            const T* dy, const T* kernel, T* dx) {
    const std::size_t n = batch * g.in_size();
    for (std::size_t i = 0; i < n; ++i) dx[i] = latent::detail::depthwise_input_gradient_at(g, m, dy, kernel, i);
}

template <class T>
void depthwise_conv2d_kernel_gradient_kernel(const reference&, const Window2D& g, std::size_t batch, std::size_t m,
                                             const T* x, const T* dy, T* dkernel) {
    const std::size_t n = g.kernel_h * g.kernel_w * g.channels * m;
    for (std::size_t i = 0; i < n; ++i)
        dkernel[i] += latent::detail::depthwise_kernel_gradient_at(g, m, batch, x, dy, i);
}

}  // namespace latent::cpu
