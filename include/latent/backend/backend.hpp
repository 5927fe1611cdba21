// The backend policy concept and the written contract of every op in latent::ops.
// A backend is an empty tag type; kernels are free functions named `<op>_kernel` taking the
// tag first, found by argument-dependent lookup, so a derived tag falls back to its base's kernel.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../config.hpp"

namespace latent {

// Where a backend's tensors live; host-device copies are explicit between different spaces.
struct host_memory {};
// GPU memory (the cuda backend): the host reaches it only through explicit copies.
struct device_memory {};

// A backend policy: an empty tag naming itself and its memory space.
template <class B>
concept backend_policy = std::is_empty_v<B> && std::is_default_constructible_v<B> && requires {
    typename B::memory_space;
    { B::name } -> std::convertible_to<std::string_view>;
};

/* The op contract (every backend implements these as `<op>_kernel(tag, ...)`; all arrays are
   row-major and live in the backend's memory space; T is float or double):

   gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
       C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, op = transpose when asked.
       beta == 0 overwrites C without reading it (NaNs in C do not propagate).
   gemm_batched(count, trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc,
                stride_c)
       gemm on A + i * stride_a, B + i * stride_b, C + i * stride_c for i in [0, count) (the C's do
       not overlap): many small products at once (attention's, per sample). Optional: without a
       kernel, ops::gemm_batched calls gemm count times.
   bias_add(rows, cols, bias, y)            y[r, c] += bias[c]
   column_sum(rows, cols, x, out, accumulate)   out[c] = (accumulate ? out[c] : 0) + sum_r x[r, c]
   sum_of_squares(n, x, out, accumulate)     out[0] = (accumulate ? out[0] : 0) + sum_i x[i]^2, deterministic
                                            as sum; out stays in the backend's memory
   elementwise(n, f, a0, a1, ...)           f(a0[i], a1[i], ...) for i in [0, n), f may write through
                                            the references of non-const arrays; f touches index i
                                            only, so a backend may run the indices in any order or
                                            in parallel. For a GPU backend f runs on the device: a
                                            lambda is written [captures] LATENT_HOST_DEVICE(params),
                                            and is not generic (nvcc's rule); a function object
                                            marks its operator() LATENT_HOST_DEVICE
   activation(n, f, x, y)                    y[i] = f.value(x[i]) for an activation function f
                                            (layers/activation.hpp); a backend may evaluate the ones it
                                            knows vectorized, within 1e-6 relative of f.value
   bias_add_activation(rows, cols, bias, z, f, y)   (optional) z[r, c] += bias[c], then y = f.value(z)
                                            as bias_add and activation would: Dense and the activation
                                            after it in one pass; without it, ops runs those two
   sum(n, x) -> T                            sum of x, deterministic (the CPU backends add in index order,
                                            cuda in fixed chunks of 256 whose sums it adds in order)
   softmax(rows, cols, x, y)                 y = softmax over each row, max-subtracted; y may be x
   softmax_backward(rows, cols, y, dy, dx)   dx = y * (dy - sum(dy * y)) per row; dx may be dy
   softmax_cross_entropy(rows, cols, logits, labels, smoothing, dlogits) -> T
       sum over rows of -sum_c y * log_softmax(logits); dlogits = softmax - y (unscaled), with the
       labels smoothed: y = labels * (1 - smoothing) + smoothing / cols (Keras' label_smoothing)
   sparse_softmax_cross_entropy(rows, cols, logits, classes, dlogits) -> T
       as above with labels given as class indices stored as T
   sigmoid_binary_cross_entropy(n, logits, labels, smoothing, dlogits) -> T
       sum of max(z,0) - z*y + log(1 + exp(-|z|)); dlogits = sigmoid(z) - y (unscaled), with
       y = labels * (1 - smoothing) + smoothing / 2
   uniform(n, out, generator)                out[i] uniform in [0, 1), drawn in index order (cuda: from a
                                            counter-based generator keyed by one draw of `generator`)

   Ops that return a value (sum and the losses) bring it to the host; every other op leaves its
   results in the backend's memory.

   Image ops: x is (batch, in_h, in_w, channels) and y (batch, out_h, out_w, channels) as a
   Window2D (core/spatial.hpp) describes; padded positions read as zero (pooling: as absent).
   im2col(window, batch, x, cols)            cols (batch * out_h * out_w, kernel_h * kernel_w * channels):
                                             row p holds the patch under output position p, in
                                             (kh, kw, channel) order, zeros where it hangs over the edge
   col2im(window, batch, cols, x)            x = the adjoint of im2col: every patch element added back
                                             where it came from (x is overwritten, not accumulated into)
   Convolutions: optional kernels; ops::conv2d, conv2d_kernel_gradient and conv2d_input_gradient
   compose im2col, gemm and col2im where a backend has none, or where its predicate declines.
   conv2d_implicit(window, filters, (const T*)0) -> bool
                                             whether conv2d_kernel takes this window; then the
                                             convolution never writes the im2col matrix, and the kernel
                                             gradient needs conv2d_kernel_gradient_kernel or an im2col again
   conv2d_kernel(window, batch, x, kernel, filters, y)
                                             y (batch * out_h * out_w, filters) = im2col(x) kernel, kernel
                                             (kernel_h * kernel_w * channels, filters)
   conv2d_kernel_gradient_kernel(window, batch, x, dy, filters, dkernel)
                                             dkernel += im2col(x)^T dy (used where conv2d_implicit is true)
   conv2d_input_gradient_implicit(window, filters, (const T*)0) -> bool
   conv2d_input_gradient_kernel(window, batch, dy, kernel, filters, dx)
                                             dx = col2im(dy kernel^T) (overwritten)
   max_pool2d(window, batch, x, y)           y = maximum over each window's in-image elements
   max_pool2d_backward(window, batch, x, y, dy, dx)
                                             dx = dy routed to the first element equal to the window's
                                             maximum (overwrites dx)
   average_pool2d(window, batch, x, y)       y = mean over each window's in-image elements (padding is
                                             not counted, as Keras)
   average_pool2d_backward(window, batch, dy, dx)   the adjoint of average_pool2d (overwrites dx)
   upsample_nearest2d(batch, h, w, channels, factor_h, factor_w, x, y)
                                             y (batch, h*factor_h, w*factor_w, channels) repeats each pixel
   upsample_nearest2d_backward(batch, h, w, channels, factor_h, factor_w, dy, dx)
                                             dx (batch, h, w, channels) = sum of dy over each block
   upsample_bilinear2d(batch, h, w, channels, factor_h, factor_w, x, y)
                                             y (batch, h*factor_h, w*factor_w, channels) interpolates x
                                             bilinearly at half-pixel centres (backend/resize.hpp)
   upsample_bilinear2d_backward(batch, h, w, channels, factor_h, factor_w, dy, dx)
                                             dx = its adjoint applied to dy (overwrites dx)
   affine_warp2d(batch, sizes, transforms, sampling, x, y)
                                             y (batch, out_h, out_w, channels) = x (batch, h, w, channels)
                                             read where each sample's affine transform (6 coefficients a
                                             sample, laid out coefficient by coefficient) sends each pixel,
                                             interpolated and filled as `sampling` says (backend/warp.hpp)
   affine_warp2d_backward(batch, sizes, transforms, sampling, dy, dx)
                                             dx = its adjoint applied to dy (overwrites dx)
   pad2d(batch, h, w, channels, top, bottom, left, right, x, y)
                                             y (batch, h+top+bottom, w+left+right, channels): zeros with x
                                             placed at (top, left)
   crop2d(batch, h, w, channels, top, bottom, left, right, x, y)
                                             y (batch, h-top-bottom, w-left-right, channels) = the inside
                                             of x; pad2d and crop2d are each other's adjoint

   Normalization and noise ops: x is (rows, cols) and every per-channel array has cols elements
   (a channels-last tensor is rows = batch * positions by cols = channels).
   channel_moments(rows, cols, x, mean, variance)
                                             mean[c] = sum_r x[r, c] / rows and the biased variance[c] =
                                             sum_r (x[r, c] - mean[c])^2 / rows (two passes, in row order)
   channel_normalize(rows, cols, x, mean, inv_std, x_hat)
                                             x_hat[r, c] = (x[r, c] - mean[c]) * inv_std[c]
   channel_affine(rows, cols, x, scale, shift, y)
                                             y[r, c] = x[r, c] * scale[c] + shift[c]; y may be x
   batch_norm_backward(rows, cols, x_hat, dy, gamma, inv_std, batch_stats, dx, dgamma, dbeta, dmean, dvariance)
                                             the adjoint of y = gamma * x_hat + beta with x_hat as in
                                             channel_normalize; with s1[c] = sum_r dy and s2[c] = sum_r dy * x_hat:
                                             dgamma[c] += s2, dbeta[c] += s1. When *batch_stats != 0 the mean and
                                             variance were x's own channel_moments:
                                             dx = gamma * inv_std * (dy - (s1 + x_hat * s2) / rows); otherwise they
                                             were fixed inputs: dx = gamma * inv_std * dy, dmean[c] +=
                                             -gamma * inv_std * s1, dvariance[c] += -gamma * inv_std^2 * s2 / 2.
   layer_norm(rows, cols, x, epsilon, x_hat, inv_std)
                                             per row r, over its cols: inv_std[r] = 1 / sqrt(biased variance +
                                             epsilon), x_hat[r, c] = (x[r, c] - row mean) * inv_std[r]
   layer_norm_backward(rows, cols, x_hat, inv_std, gamma, dy, dx)
                                             the adjoint of y = gamma * x_hat + beta with respect to x; with
                                             g = dy * gamma[c]: dx = inv_std[r] * (g - mean_c g - x_hat * mean_c(g * x_hat))
   rms_norm(rows, cols, x, epsilon, x_hat, inv_rms)
                                             per row r, over its cols: inv_rms[r] = 1 / sqrt(mean_c x[r, c]^2 +
                                             epsilon), x_hat[r, c] = x[r, c] * inv_rms[r] (no centring)
   rms_norm_backward(rows, cols, x_hat, inv_rms, scale, dy, dx)
                                             the adjoint of y = scale * x_hat with respect to x; with
                                             g = dy * scale[c]: dx = inv_rms[r] * (g - x_hat * mean_c(g * x_hat))
   group_norm(batch, positions, channels, groups, x, epsilon, x_hat, inv_std)
                                             x (batch, positions, channels), its channels in `groups` blocks of
                                             channels / groups: layer_norm over each sample's block (all positions),
                                             inv_std[n * groups + g]
   group_norm_backward(batch, positions, channels, groups, x_hat, inv_std, gamma, dy, dx)
                                             layer_norm_backward over each such block, gamma per channel
   l2_normalize(rows, cols, x, y, inv_norm)  inv_norm[r] = 1 / sqrt(max(sum_c x[r, c]^2, 1e-12)), y = x * inv_norm[r]
                                             (y may be x)
   l2_normalize_backward(rows, cols, y, inv_norm, dy, dx)
                                             dx = inv_norm[r] * (dy - y * sum_c(dy * y)), or inv_norm[r] * dy in a
                                             row the 1e-12 floor held (its y is shorter than 1)
   row_dot(rows, cols, a, b, normalize, y)   y[r] = sum_c a[r, c] * b[r, c]; with normalize, of the rows divided by
                                             their norms (each squared norm floored at 1e-12): the cosine
   row_dot_backward(rows, cols, a, b, normalize, dy, dy_scale, da, db)
                                             da[r, c] = g_r * d y[r] / d a[r, c], db likewise, with g_r =
                                             dy_scale * dy[r], or dy_scale where dy is null (a loss's constant)
                                             dx is overwritten; any output may be null (skipped). batch_stats is
                                             one element in the backend's memory, so forward's choice never has
                                             to be copied to the host
   normal(n, out, generator, mean, stddev)   out[i] = mean + stddev * generator.normal(), drawn in index order
                                            (cuda: counter-based, as uniform)

   Merge ops (the layers of layers/merge.hpp; their elementwise math goes through elementwise).
   copy2d(rows, cols, src, src_stride, dst, dst_stride)
                                             dst[r * dst_stride + c] = src[r * src_stride + c] for r < rows,
                                             c < cols; the rest of dst is left as it is. Both strides are at
                                             least cols; src and dst do not overlap

   Batches.
   gather_rows(rows, row_size, indices, from, to)
                                             to[r * row_size + c] = from[indices[r] * row_size + c] for r < rows,
                                             c < row_size; indices (std::size_t) live in the backend's memory and
                                             are in range; from and to do not overlap

   Embeddings. x holds row numbers of a table of vocab rows, as floats; a number is valid when
   it is a whole number in [0, vocab) (detail::embedding_row says which row, or vocab if none).
   embedding_lookup(rows, dim, vocab, x, table, y)
                                             y[r * dim + c] = table[x[r] * dim + c]; NaN for an invalid x[r]
   embedding_backward(rows, dim, vocab, x, dy, dtable)
                                             dtable[x[r] * dim + c] += dy[r * dim + c] for valid x[r], in
                                             increasing r for every (row, c): deterministic

   permute(batch, permutation, x, y)         y[i] = x[detail::permuted_source(permutation, i)]: each sample's
                                             axes reordered (backend/permute.hpp)
   permute_backward(batch, permutation, dy, dx)
                                             dx[detail::permuted_source(permutation, i)] = dy[i]
   causal_mask(matrices, rows, cols, scores) scores (matrices, rows, cols): every [m, i, j] with j > i set to
                                             -1e9 (Keras' large negative), so that a softmax over j gives it 0
   additive_scores(batch, lq, lk, dim, q, k, scale, scores)
                                             scores (batch, lq, lk) [b, i, j] = sum_d scale[d] * tanh(q[b, i, d] +
                                             k[b, j, d]) for q (batch, lq, dim) and k (batch, lk, dim); a null scale
                                             is ones (Keras' AdditiveAttention)
   additive_scores_backward(batch, lq, lk, dim, q, k, scale, d_scores, dq, dk, dscale)
                                             its adjoint: dq and dk overwritten, dscale (dim) added to; any of the
                                             three may be null (skipped); every sum in a fixed order
   prelu(batch, layout, x, alpha, y)         y[i] = x[i] > 0 ? x[i] : alpha[a] * x[i], a = detail::alpha_index(layout,
                                             i): PReLU, alpha shared along some axes (backend/prelu.hpp)
   prelu_backward(batch, layout, x, alpha, dy, dx)
                                             dx[i] = x[i] > 0 ? dy[i] : alpha[a] * dy[i]
   depthwise_conv2d(window, batch, m, x, kernel, y)
                                             DepthwiseConv2D: y (batch, out_h, out_w, channels * m), each input
                                             channel c convolved with kernel (kh, kw, channels, m)[.., c, k] into
                                             output channel c * m + k (backend/depthwise.hpp)
   depthwise_conv2d_input_gradient(window, batch, m, dy, kernel, dx)   dx overwritten
   depthwise_conv2d_kernel_gradient(window, batch, m, x, dy, dkernel)  dkernel accumulated (+=)

   Recurrent cells: the pointwise part of one time step of LSTM, GRU or SimpleRNN, given as a
   RecurrentStep (backend/recurrent_cells.hpp, which also says what each array holds); the
   matrix products around it are gemms. Each runs detail::<op>_at(step, b, k) for every sample b
   < batch and unit k < units, in any order or in parallel (each (b, k) touches its own elements).
   lstm_cell(step)  lstm_cell_backward(step)  gru_cell(step)  gru_cell_backward(step)
   simple_rnn_cell(step)  simple_rnn_cell_backward(step)
*/

namespace detail {
// The table row a float names for embedding_lookup: x itself when it is a whole number in
// [0, vocab), else vocab (no row). Host and device code alike.
template <class T>
LATENT_HOST_DEVICE inline std::size_t embedding_row(T x, std::size_t vocab) {
    if (!(x >= T(0) && x < static_cast<T>(vocab))) return vocab;  // NaN fails both comparisons
    const auto row = static_cast<std::size_t>(x);
    return static_cast<T>(row) == x ? row : vocab;
}
}  // namespace detail

// Instantiated when a backend lacks a kernel: the type's name says which backend and op.
template <class Backend, class Op>
struct missing_kernel {
    static_assert(!std::is_same_v<Backend, Backend>,
                  "latent: this backend has no kernel for this op (see missing_kernel<Backend, Op>); derive the "
                  "backend tag from one that has it, e.g. struct my_backend : latent::cpu::reference {}");
};

}  // namespace latent
