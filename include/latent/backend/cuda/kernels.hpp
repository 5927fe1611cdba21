// The CUDA backend's kernels, written once as bodies run for every index of a range by an
// executor: the GPU executor (cuda/executor.hpp) launches them as CUDA kernels, and the tests
// run the very same bodies on the host, so the index arithmetic is checked without a GPU.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../../config.hpp"
#include "../../core/random.hpp"
#include "../../core/spatial.hpp"
#include "../backend.hpp"
#include "../depthwise.hpp"
#include "../prelu.hpp"
#include "../resize.hpp"
#include "../warp.hpp"
#include "../recurrent_cells.hpp"
#include "../row_norms.hpp"

namespace latent::detail {

/* A per-index backend tag derives from per_index_backend<Executor>. Executor is default
   constructible (cheap: it looks up the current stream and handles) and offers
     for_each(n, body)            body(i) for every i in [0, n), in any order or in parallel; body is a
                                  functor the device can call, passed by value (nvcc's host side of a
                                  __host__ __device__ lambda is not trivially copyable: step_recorder.hpp,
                                  launch_key)
     scratch<T>(n) -> T*          n elements of the backend's memory, valid until the op returns; an op
                                  asks once (the next op may reuse the memory)
     read(const T* p) -> T        one element of the backend's memory, brought to the host
     gemm_col_major(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
                                  BLAS' column-major GEMM (beta == 0 does not read C)
     gemm_batched_col_major(count, trans_a, trans_b, m, n, k, alpha, A, lda, stride_a, B, ldb, stride_b,
                            beta, C, ldc, stride_c)
                                  `count` of those GEMMs, the i-th at A + i * stride_a, B + i * stride_b
                                  and C + i * stride_c, as one call
   Reductions run in fixed chunks of rows whose partial sums are then added in order, so their
   results do not depend on the launch configuration: every run gives the same bits. */
template <class Executor>
struct per_index_backend {
    using executor = Executor;
};

// Rows per partial sum of a column reduction: fixed, so that the order of additions is too.
inline constexpr std::size_t reduction_chunk = 256;

constexpr std::size_t chunks_of(std::size_t rows) { return (rows + reduction_chunk - 1) / reduction_chunk; }

// out[c] = finish(c, sum over r of value(r, c)) for c < cols; `partial` holds chunks_of(rows) * cols.
template <class E, class T, class Value, class Finish>
void column_reduce(E& exec, std::size_t rows, std::size_t cols, Value value, T* partial, Finish finish) {
    const std::size_t chunks = chunks_of(rows);
    exec.for_each(chunks * cols, [=] LATENT_HOST_DEVICE(std::size_t t) {
        const std::size_t chunk = t / cols, c = t % cols;
        const std::size_t first = chunk * reduction_chunk;
        const std::size_t last = first + reduction_chunk < rows ? first + reduction_chunk : rows;
        T acc = T(0);
        for (std::size_t r = first; r < last; ++r) acc += value(r, c);
        partial[t] = acc;
    });
    exec.for_each(cols, [=] LATENT_HOST_DEVICE(std::size_t c) {
        T acc = T(0);
        for (std::size_t k = 0; k < chunks; ++k) acc += partial[k * cols + c];
        finish(c, acc);
    });
}

// The sum of n values value(i), brought to the host; `partial` holds chunks_of(n) + 1 elements.
template <class E, class T, class Value>
T reduce_to_host(E& exec, std::size_t n, Value value, T* partial) {
    if (n == 0) return T(0);
    T* total = partial + chunks_of(n);
    column_reduce(
        exec, n, 1, [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t) { return value(r); }, partial,
        [=] LATENT_HOST_DEVICE(std::size_t, T s) { *total = s; });
    return exec.read(total);
}

// A counter-based generator: the value for (key, counter) is a bijective mix of the two
// (SplitMix64's finalizer), so index i can be drawn by any thread in any order.
LATENT_HOST_DEVICE inline std::uint64_t counter_hash(std::uint64_t key, std::uint64_t counter) {
    std::uint64_t z = key + (counter + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
// Uniform in [0, 1) with 24 bits (as Generator::uniform_float) and in (0, 1] with 53 bits.
LATENT_HOST_DEVICE inline float counter_uniform_float(std::uint64_t key, std::uint64_t counter) {
    return static_cast<float>(counter_hash(key, counter) >> 40) * 0x1.0p-24f;
}
LATENT_HOST_DEVICE inline double counter_uniform_open(std::uint64_t key, std::uint64_t counter) {
    return (static_cast<double>(counter_hash(key, counter) >> 11) + 1.0) * 0x1.0p-53;
}

// A few pointers of different types that a device functor can carry (std::tuple cannot).
template <std::size_t K, class P>
struct pointer_leaf {
    P* pointer;
};
template <class Indices, class... P>
struct pointer_pack_base;
template <std::size_t... K, class... P>
struct pointer_pack_base<std::index_sequence<K...>, P...> : pointer_leaf<K, P>... {
    LATENT_HOST_DEVICE explicit pointer_pack_base(P*... pointers) : pointer_leaf<K, P>{pointers}... {}
};
template <class... P>
struct pointer_pack : pointer_pack_base<std::index_sequence_for<P...>, P...> {
    using pointer_pack_base<std::index_sequence_for<P...>, P...>::pointer_pack_base;
};
template <std::size_t K, class P>
LATENT_HOST_DEVICE P* pointer_at(const pointer_leaf<K, P>& leaf) {
    return leaf.pointer;
}

template <class F, class... P>
struct elementwise_body {
    F f;
    pointer_pack<P...> arrays;
    LATENT_HOST_DEVICE void operator()(std::size_t i) const { call(i, std::index_sequence_for<P...>{}); }
    template <std::size_t... K>
    LATENT_HOST_DEVICE void call(std::size_t i, std::index_sequence<K...>) const {
        f(pointer_at<K>(arrays)[i]...);
    }
};

template <class T>
LATENT_HOST_DEVICE T max_of(T a, T b) {
    return a < b ? b : a;
}

// Signed window arithmetic: the window under output position `out` starts at out * stride - pad.
LATENT_HOST_DEVICE inline std::ptrdiff_t window_start(std::size_t out, std::size_t stride, std::size_t pad) {
    return static_cast<std::ptrdiff_t>(out * stride) - static_cast<std::ptrdiff_t>(pad);
}
// The in-image [first, last) under window position `out` along one axis (pooling ignores padding).
struct axis_span {
    std::size_t first, last;
};
LATENT_HOST_DEVICE inline axis_span image_axis_span(std::size_t out, std::size_t stride, std::size_t kernel,
                                                    std::size_t pad, std::size_t in) {
    const std::size_t lo = out * stride > pad ? out * stride : pad;
    const std::size_t hi = out * stride + kernel < pad + in ? out * stride + kernel : pad + in;
    return hi > lo ? axis_span{lo - pad, hi - pad} : axis_span{0, 0};
}
// The output positions [first, last) whose window covers input position `in` along one axis.
LATENT_HOST_DEVICE inline axis_span covering_outputs(std::size_t in, std::size_t stride, std::size_t kernel,
                                                     std::size_t pad, std::size_t out_len) {
    // out * stride <= in + pad < out * stride + kernel
    const std::size_t p = in + pad;
    const std::size_t first = p + 1 > kernel ? (p + 1 - kernel + stride - 1) / stride : 0;
    std::size_t last = p / stride + 1;
    if (last > out_len) last = out_len;
    return first < last ? axis_span{first, last} : axis_span{0, 0};
}

// Flat index i of NHWC images (h x w x channels each) as sample, row, column and channel.
struct nhwc_position {
    std::size_t n, y, x, ch;
};
LATENT_HOST_DEVICE inline nhwc_position nhwc_at(std::size_t i, std::size_t h, std::size_t w, std::size_t channels) {
    return {i / (h * w * channels), (i / (channels * w)) % h, (i / channels) % w, i % channels};
}
// Calls f(oy, ox, ky, kx) for every output position whose window has input (iy, ix) under its
// tap (ky, kx), in the reference's order (rows, then columns, ascending): the gathers that
// replace its scatters. A dilated window covers only the rows and columns its taps land on.
template <class F>
LATENT_HOST_DEVICE void for_each_covering_window(const Window2D& g, std::size_t iy, std::size_t ix, F&& f) {
    const axis_span ys = covering_outputs(iy, g.stride_h, g.span_h(), g.pad_top, g.out_h);
    const axis_span xs = covering_outputs(ix, g.stride_w, g.span_w(), g.pad_left, g.out_w);
    for (std::size_t oy = ys.first; oy < ys.last; ++oy) {
        const std::size_t row_offset = iy + g.pad_top - oy * g.stride_h;  // inside the span: covering_outputs
        if (row_offset % g.dilation_h != 0) continue;
        for (std::size_t ox = xs.first; ox < xs.last; ++ox) {
            const std::size_t column_offset = ix + g.pad_left - ox * g.stride_w;
            if (column_offset % g.dilation_w == 0) f(oy, ox, row_offset / g.dilation_h, column_offset / g.dilation_w);
        }
    }
}

// ---- dense algebra -----------------------------------------------------------------------

template <class E, class T>
void gemm_kernel(const per_index_backend<E>&, bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K,
                 T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if (M == 0 || N == 0) return;
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T over the same memory.
    E exec;
    exec.gemm_col_major(trans_b, trans_a, N, M, K, alpha, B, ldb, A, lda, beta, C, ldc);
}

template <class E, class T>
void gemm_batched_kernel(const per_index_backend<E>&, std::size_t count, bool trans_a, bool trans_b, std::size_t M,
                         std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda, std::size_t stride_a,
                         const T* B, std::size_t ldb, std::size_t stride_b, T beta, T* C, std::size_t ldc,
                         std::size_t stride_c) {
    if (count == 0 || M == 0 || N == 0) return;
    E exec;
    exec.gemm_batched_col_major(count, trans_b, trans_a, N, M, K, alpha, B, ldb, stride_b, A, lda, stride_a, beta, C,
                                ldc, stride_c);
}

template <class E, class T>
void bias_add_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* bias, T* y) {
    E exec;
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) { y[i] += bias[i % cols]; });
}

template <class E, class T>
void column_sum_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, T* out,
                       bool accumulate) {
    E exec;
    T* partial = exec.template scratch<T>(chunks_of(rows) * cols);
    column_reduce(
        exec, rows, cols, [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t c) { return x[r * cols + c]; }, partial,
        [=] LATENT_HOST_DEVICE(std::size_t c, T s) { out[c] = accumulate ? out[c] + s : s; });
}

template <class E, class T>
void sum_of_squares_kernel(const per_index_backend<E>&, std::size_t n, const T* x, T* out, bool accumulate) {
    E exec;
    T* partial = exec.template scratch<T>(chunks_of(n) + 1);
    column_reduce(
        exec, n, 1, [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t) { return x[r] * x[r]; }, partial,
        [=] LATENT_HOST_DEVICE(std::size_t, T s) { out[0] = accumulate ? out[0] + s : s; });
}

template <class E, class F, class... P>
void elementwise_kernel(const per_index_backend<E>&, std::size_t n, F&& f, P*... arrays) {
    E exec;
    exec.for_each(n, elementwise_body<std::decay_t<F>, P...>{f, pointer_pack<P...>(arrays...)});
}

template <class E, class F, class T>
void activation_kernel(const per_index_backend<E>&, std::size_t n, const F& f, const T* x, T* y) {
    E exec;
    const F function = f;
    exec.for_each(n, [=] LATENT_HOST_DEVICE(std::size_t i) { y[i] = function.value(x[i]); });
}

// Dense's bias and the activation after it in one kernel (one launch, not two).
template <class E, class F, class T>
void bias_add_activation_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* bias, T* z,
                                const F& f, T* y) {
    E exec;
    const F function = f;
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const T v = z[i] + bias[i % cols];
        z[i] = v;
        y[i] = function.value(v);
    });
}

template <class E, class T>
T sum_kernel(const per_index_backend<E>&, std::size_t n, const T* x) {
    E exec;
    T* partial = exec.template scratch<T>(chunks_of(n) + 1);
    return reduce_to_host(exec, n, [=] LATENT_HOST_DEVICE(std::size_t i) { return x[i]; }, partial);
}

// ---- softmax and the losses that fuse it -------------------------------------------------

// softmax(z) of one row into out; returns log(sum(exp(z))) (max-subtracted, as the reference).
template <class T>
LATENT_HOST_DEVICE T softmax_row(const T* z, std::size_t cols, T* out) {
    T max = z[0];
    for (std::size_t c = 1; c < cols; ++c) max = max_of(max, z[c]);
    T total = T(0);
    for (std::size_t c = 0; c < cols; ++c) total += out[c] = std::exp(z[c] - max);
    for (std::size_t c = 0; c < cols; ++c) out[c] /= total;
    return max + std::log(total);
}

template <class E, class T>
void softmax_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, T* y) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) { softmax_row(x + r * cols, cols, y + r * cols); });
}

template <class E, class T>
void softmax_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* y, const T* dy,
                             T* dx) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        const T* yr = y + r * cols;
        const T* dyr = dy + r * cols;
        T dot = T(0);
        for (std::size_t c = 0; c < cols; ++c) dot += dyr[c] * yr[c];
        for (std::size_t c = 0; c < cols; ++c) dx[r * cols + c] = yr[c] * (dyr[c] - dot);
    });
}

template <class E, class T>
T softmax_cross_entropy_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* logits,
                               const T* labels, T smoothing, T* dlogits) {
    E exec;
    T* scratch = exec.template scratch<T>(rows + chunks_of(rows) + 1);  // row losses, then partial sums
    T* row_loss = scratch;
    const T keep = T(1) - smoothing, spread = smoothing / static_cast<T>(cols);
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        const T* z = logits + r * cols;
        const T* y = labels + r * cols;
        T* d = dlogits + r * cols;
        const T lse = softmax_row(z, cols, d);
        T loss = T(0);
        for (std::size_t c = 0; c < cols; ++c) {
            const T target = y[c] * keep + spread;
            loss -= target * (z[c] - lse);
            d[c] -= target;
        }
        row_loss[r] = loss;
    });
    return reduce_to_host(exec, rows, [=] LATENT_HOST_DEVICE(std::size_t r) { return row_loss[r]; }, scratch + rows);
}

// A quiet NaN of T's type, on the host and the device alike.
template <class T>
LATENT_HOST_DEVICE T nan_of(T) {
    return static_cast<T>(NAN);
}

template <class E, class T>
T sparse_softmax_cross_entropy_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* logits,
                                      const T* classes, T* dlogits) {
    E exec;
    T* scratch = exec.template scratch<T>(rows + chunks_of(rows) + 1);
    T* row_loss = scratch;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        const T* z = logits + r * cols;
        T* d = dlogits + r * cols;
        const T lse = softmax_row(z, cols, d);
        const T label = classes[r];
        const auto k = static_cast<std::size_t>(label >= T(0) && label < static_cast<T>(cols) ? label : T(0));
        if (static_cast<T>(k) != label) {  // not a class index (labels on the device are unchecked): a NaN loss
            row_loss[r] = nan_of(T(0));
            return;
        }
        row_loss[r] = lse - z[k];
        d[k] -= T(1);
    });
    return reduce_to_host(exec, rows, [=] LATENT_HOST_DEVICE(std::size_t r) { return row_loss[r]; }, scratch + rows);
}

template <class E, class T>
T sigmoid_binary_cross_entropy_kernel(const per_index_backend<E>&, std::size_t n, const T* logits, const T* labels,
                                      T smoothing, T* dlogits) {
    E exec;
    T* scratch = exec.template scratch<T>(n + chunks_of(n) + 1);
    T* element_loss = scratch;
    exec.for_each(n, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const T z = logits[i];
        const T y = labels[i] * (T(1) - smoothing) + smoothing / T(2);
        element_loss[i] = max_of(z, T(0)) - z * y + std::log1p(std::exp(-std::fabs(z)));
        const T s = z >= T(0) ? T(1) / (T(1) + std::exp(-z)) : std::exp(z) / (T(1) + std::exp(z));
        dlogits[i] = s - y;
    });
    return reduce_to_host(exec, n, [=] LATENT_HOST_DEVICE(std::size_t i) { return element_loss[i]; }, scratch + n);
}

// ---- random fills ------------------------------------------------------------------------

// One draw from the host generator keys the whole fill, so the generator advances the same way
// whatever n is, and a seeded run repeats itself.
template <class E, class T>
void uniform_kernel(const per_index_backend<E>&, std::size_t n, T* out, Generator& gen) {
    E exec;
    const std::uint64_t key = gen.next_u64();
    exec.for_each(n, [=] LATENT_HOST_DEVICE(std::size_t i) { out[i] = static_cast<T>(counter_uniform_float(key, i)); });
}

template <class E, class T>
void normal_kernel(const per_index_backend<E>&, std::size_t n, T* out, Generator& gen, double mean, double stddev) {
    E exec;
    const std::uint64_t key = gen.next_u64();
    exec.for_each(n, [=] LATENT_HOST_DEVICE(std::size_t i) {
        // Box-Muller on two counters per element: u1 in (0, 1] keeps the logarithm finite.
        const double u1 = counter_uniform_open(key, 2 * i);
        const double u2 = counter_uniform_open(key, 2 * i + 1);
        const double radius = std::sqrt(-2.0 * std::log(u1));
        out[i] = static_cast<T>(mean + stddev * radius * std::cos(6.283185307179586 * u2));
    });
}

// ---- image ops (channels-last; see backend/backend.hpp) ------------------------------------

template <class E, class T>
void im2col_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, const T* x, T* cols) {
    E exec;
    const std::size_t patch = g.patch_size();
    exec.for_each(batch * g.positions() * patch, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t row = i / patch, k = i % patch;  // row = (n, oy, ox); k = (ky, kx, ch)
        const std::size_t ch = k % g.channels, kx = (k / g.channels) % g.kernel_w, ky = k / (g.channels * g.kernel_w);
        const std::size_t ox = row % g.out_w, oy = (row / g.out_w) % g.out_h, n = row / g.positions();
        const std::ptrdiff_t iy =
            window_start(oy, g.stride_h, g.pad_top) + static_cast<std::ptrdiff_t>(ky * g.dilation_h);
        const std::ptrdiff_t ix =
            window_start(ox, g.stride_w, g.pad_left) + static_cast<std::ptrdiff_t>(kx * g.dilation_w);
        const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<std::ptrdiff_t>(g.in_h) &&
                            ix < static_cast<std::ptrdiff_t>(g.in_w);
        cols[i] = inside ? x[n * g.in_size() + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) *
                                                   g.channels + ch]
                         : T(0);
    });
}

// Gathers, per image element, the patch entries that came from it, in the reference's order
// (output positions ascending), so no two threads write one element and the sums match.
template <class E, class T>
void col2im_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, const T* cols, T* x) {
    E exec;
    exec.for_each(batch * g.in_size(), [=] LATENT_HOST_DEVICE(std::size_t i) {
        const nhwc_position p = nhwc_at(i, g.in_h, g.in_w, g.channels);
        T acc = T(0);
        for_each_covering_window(g, p.y, p.x, [&](std::size_t oy, std::size_t ox, std::size_t ky, std::size_t kx) {
            acc += cols[((p.n * g.out_h + oy) * g.out_w + ox) * g.patch_size() + (ky * g.kernel_w + kx) * g.channels +
                        p.ch];
        });
        x[i] = acc;
    });
}

template <class E, class T>
void max_pool2d_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, const T* x, T* y) {
    E exec;
    exec.for_each(batch * g.positions() * g.channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const auto [n, oy, ox, ch] = nhwc_at(i, g.out_h, g.out_w, g.channels);
        const axis_span rows = image_axis_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
        const axis_span cols = image_axis_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
        if (rows.last == rows.first || cols.last == cols.first) {
            y[i] = T(0);
            return;
        }
        const T* image = x + n * g.in_size();
        T best = image[(rows.first * g.in_w + cols.first) * g.channels + ch];
        for (std::size_t iy = rows.first; iy < rows.last; ++iy)
            for (std::size_t ix = cols.first; ix < cols.last; ++ix) {
                const T v = image[(iy * g.in_w + ix) * g.channels + ch];
                if (!(v <= best)) best = v;  // a NaN wins, as the reference
            }
        y[i] = best;
    });
}

template <class E, class T>
void max_pool2d_backward_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, const T* x,
                                const T* y, const T* dy, T* dx) {
    E exec;
    exec.for_each(batch * g.in_size(), [=] LATENT_HOST_DEVICE(std::size_t i) {
        const nhwc_position p = nhwc_at(i, g.in_h, g.in_w, g.channels);
        const T* image = x + p.n * g.in_size();
        T acc = T(0);
        for_each_covering_window(g, p.y, p.x, [&](std::size_t oy, std::size_t ox, std::size_t, std::size_t) {
            const axis_span rows = image_axis_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
            const axis_span cols = image_axis_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
            const std::size_t at = ((p.n * g.out_h + oy) * g.out_w + ox) * g.channels + p.ch;
            // This element takes the gradient when it is the window's first maximum in scan order.
            bool first = false, found = false;
            for (std::size_t wy = rows.first; wy < rows.last && !found; ++wy)
                for (std::size_t wx = cols.first; wx < cols.last && !found; ++wx)
                    if (image[(wy * g.in_w + wx) * g.channels + p.ch] == y[at]) {
                        found = true;
                        first = wy == p.y && wx == p.x;
                    }
            if (first) acc += dy[at];
        });
        dx[i] = acc;
    });
}

template <class E, class T>
void average_pool2d_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, const T* x, T* y) {
    E exec;
    exec.for_each(batch * g.positions() * g.channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const auto [n, oy, ox, ch] = nhwc_at(i, g.out_h, g.out_w, g.channels);
        const axis_span rows = image_axis_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
        const axis_span cols = image_axis_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
        const std::size_t count = (rows.last - rows.first) * (cols.last - cols.first);
        T acc = T(0);
        for (std::size_t iy = rows.first; iy < rows.last; ++iy)
            for (std::size_t ix = cols.first; ix < cols.last; ++ix) acc += x[n * g.in_size() + (iy * g.in_w + ix) * g.channels + ch];
        y[i] = count == 0 ? T(0) : acc * (T(1) / static_cast<T>(count));
    });
}

template <class E, class T>
void average_pool2d_backward_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, const T* dy,
                                    T* dx) {
    E exec;
    exec.for_each(batch * g.in_size(), [=] LATENT_HOST_DEVICE(std::size_t i) {
        const nhwc_position p = nhwc_at(i, g.in_h, g.in_w, g.channels);
        T acc = T(0);
        for_each_covering_window(g, p.y, p.x, [&](std::size_t oy, std::size_t ox, std::size_t, std::size_t) {
            const axis_span rows = image_axis_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
            const axis_span cols = image_axis_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
            const std::size_t count = (rows.last - rows.first) * (cols.last - cols.first);
            acc += dy[((p.n * g.out_h + oy) * g.out_w + ox) * g.channels + p.ch] * (T(1) / static_cast<T>(count));
        });
        dx[i] = acc;
    });
}

template <class E, class T>
void upsample_nearest2d_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t h, std::size_t w,
                               std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* x, T* y) {
    E exec;
    const std::size_t out_h = h * factor_h, out_w = w * factor_w;
    exec.for_each(batch * out_h * out_w * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const auto [n, oy, ox, ch] = nhwc_at(i, out_h, out_w, channels);
        y[i] = x[((n * h + oy / factor_h) * w + ox / factor_w) * channels + ch];
    });
}

template <class E, class T>
void upsample_nearest2d_backward_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t h, std::size_t w,
                                        std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* dy,
                                        T* dx) {
    E exec;
    const std::size_t out_h = h * factor_h, out_w = w * factor_w;
    exec.for_each(batch * h * w * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const auto [n, iy, ix, ch] = nhwc_at(i, h, w, channels);
        T acc = T(0);
        for (std::size_t fy = 0; fy < factor_h; ++fy)
            for (std::size_t fx = 0; fx < factor_w; ++fx)
                acc += dy[((n * out_h + iy * factor_h + fy) * out_w + ix * factor_w + fx) * channels + ch];
        dx[i] = acc;
    });
}

template <class E, class T>
void upsample_bilinear2d_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t h, std::size_t w,
                                std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* x, T* y) {
    E exec;
    exec.for_each(batch * h * factor_h * w * factor_w * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        y[i] = upsample_bilinear_output_at(h, w, channels, factor_h, factor_w, x, i);
    });
}

// A gather per input element (backend/resize.hpp), so no two threads write one element.
template <class E, class T>
void upsample_bilinear2d_backward_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t h, std::size_t w,
                                         std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* dy,
                                         T* dx) {
    E exec;
    exec.for_each(batch * h * w * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        dx[i] = upsample_bilinear_input_gradient_at(h, w, channels, factor_h, factor_w, dy, i);
    });
}

template <class E, class T>
void affine_warp2d_kernel(const per_index_backend<E>&, std::size_t batch, WarpSizes size, const T* transforms,
                          ImageSampling sampling, const T* x, T* y) {
    E exec;
    exec.for_each(batch * size.out_h * size.out_w * size.channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        y[i] = affine_warp_output_at(batch, size, transforms, sampling, x, i);
    });
}

// A thread per sample and channel, each adding its outputs' gradients in the reference's order:
// reflected and wrapped taps make the map from outputs to inputs many-to-one with no simple
// inverse, and this keeps the sums deterministic without atomics (the work is one image's).
template <class E, class T>
void affine_warp2d_backward_kernel(const per_index_backend<E>&, std::size_t batch, WarpSizes size,
                                   const T* transforms, ImageSampling sampling, const T* dy, T* dx) {
    E exec;
    const std::size_t channels = size.channels;
    exec.for_each(batch * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        affine_warp_input_gradient(batch, size, transforms, sampling, dy, dx, i / channels, i % channels);
    });
}

template <class E, class T>
void pad2d_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                  std::size_t top, std::size_t bottom, std::size_t left, std::size_t right, const T* x, T* y) {
    E exec;
    const std::size_t out_h = h + top + bottom, out_w = w + left + right;
    exec.for_each(batch * out_h * out_w * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const auto [n, oy, ox, ch] = nhwc_at(i, out_h, out_w, channels);
        const bool inside = oy >= top && oy < top + h && ox >= left && ox < left + w;
        y[i] = inside ? x[((n * h + oy - top) * w + ox - left) * channels + ch] : T(0);
    });
}

template <class E, class T>
void crop2d_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                   std::size_t top, std::size_t bottom, std::size_t left, std::size_t right, const T* x, T* y) {
    E exec;
    const std::size_t out_h = h - top - bottom, out_w = w - left - right;
    exec.for_each(batch * out_h * out_w * channels, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const auto [n, oy, ox, ch] = nhwc_at(i, out_h, out_w, channels);
        y[i] = x[((n * h + oy + top) * w + ox + left) * channels + ch];
    });
}

// ---- normalization -------------------------------------------------------------------------

template <class E, class T>
void channel_moments_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, T* mean,
                            T* variance) {
    E exec;
    T* partial = exec.template scratch<T>(chunks_of(rows) * cols);
    const T inv_rows = T(1) / static_cast<T>(rows);
    // Two passes (mean, then squared deviations), as the reference: no cancellation.
    column_reduce(
        exec, rows, cols, [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t c) { return x[r * cols + c]; }, partial,
        [=] LATENT_HOST_DEVICE(std::size_t c, T s) { mean[c] = s * inv_rows; });
    column_reduce(
        exec, rows, cols,
        [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t c) {
            const T d = x[r * cols + c] - mean[c];
            return d * d;
        },
        partial, [=] LATENT_HOST_DEVICE(std::size_t c, T s) { variance[c] = s * inv_rows; });
}

template <class E, class T>
void channel_normalize_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x,
                              const T* mean, const T* inv_std, T* x_hat) {
    E exec;
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t c = i % cols;
        x_hat[i] = (x[i] - mean[c]) * inv_std[c];
    });
}

template <class E, class T>
void channel_affine_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, const T* scale,
                           const T* shift, T* y) {
    E exec;
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t c = i % cols;
        y[i] = x[i] * scale[c] + shift[c];
    });
}

// One row per index: rows are samples (or their positions), a few hundred values each at most.
template <class E, class T>
void layer_norm_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, T epsilon,
                       T* x_hat, T* inv_std) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        inv_std[r] = layer_norm_row(x + r * cols, cols, epsilon, x_hat + r * cols);
    });
}

template <class E, class T>
void layer_norm_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x_hat,
                                const T* inv_std, const T* gamma, const T* dy, T* dx) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        layer_norm_backward_row(x_hat + r * cols, inv_std[r], gamma, dy + r * cols, cols, dx + r * cols);
    });
}

template <class E, class T>
void rms_norm_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, T epsilon,
                     T* x_hat, T* inv_rms) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        inv_rms[r] = rms_norm_row(x + r * cols, cols, epsilon, x_hat + r * cols);
    });
}

template <class E, class T>
void rms_norm_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x_hat,
                              const T* inv_rms, const T* scale, const T* dy, T* dx) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        rms_norm_backward_row(x_hat + r * cols, inv_rms[r], scale, dy + r * cols, cols, dx + r * cols);
    });
}

template <class E, class T>
void group_norm_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t positions, std::size_t channels,
                       std::size_t groups, const T* x, T epsilon, T* x_hat, T* inv_std) {
    E exec;
    const std::size_t width = channels / groups, sample = positions * channels;
    exec.for_each(batch * groups, [=] LATENT_HOST_DEVICE(std::size_t block) {
        const std::size_t at = (block / groups) * sample + (block % groups) * width;
        inv_std[block] = group_norm_block(x + at, positions, width, channels, epsilon, x_hat + at);
    });
}

template <class E, class T>
void group_norm_backward_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t positions,
                                std::size_t channels, std::size_t groups, const T* x_hat, const T* inv_std,
                                const T* gamma, const T* dy, T* dx) {
    E exec;
    const std::size_t width = channels / groups, sample = positions * channels;
    exec.for_each(batch * groups, [=] LATENT_HOST_DEVICE(std::size_t block) {
        const std::size_t at = (block / groups) * sample + (block % groups) * width;
        group_norm_backward_block(x_hat + at, inv_std[block], gamma + (block % groups) * width, dy + at, positions,
                                  width, channels, dx + at);
    });
}

template <class E, class T>
void l2_normalize_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x, T* y,
                         T* inv_norm) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        inv_norm[r] = l2_normalize_row(x + r * cols, cols, y + r * cols);
    });
}

template <class E, class T>
void l2_normalize_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* y,
                                  const T* inv_norm, const T* dy, T* dx) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        l2_normalize_backward_row(y + r * cols, inv_norm[r], dy + r * cols, cols, dx + r * cols);
    });
}

template <class E, class T>
void row_dot_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* a, const T* b,
                    bool normalize, T* y) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        y[r] = dot_row(a + r * cols, b + r * cols, cols, normalize);
    });
}

template <class E, class T>
void row_dot_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* a, const T* b,
                             bool normalize, const T* dy, T dy_scale, T* da, T* db) {
    E exec;
    exec.for_each(rows, [=] LATENT_HOST_DEVICE(std::size_t r) {
        dot_backward_row(a + r * cols, b + r * cols, cols, normalize, dy ? dy_scale * dy[r] : dy_scale,
                         da ? da + r * cols : nullptr, db ? db + r * cols : nullptr);
    });
}

template <class E, class T>
void batch_norm_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* x_hat,
                                const T* dy, const T* gamma, const T* inv_std, const T* batch_stats, T* dx, T* dgamma,
                                T* dbeta, T* dmean, T* dvariance) {
    E exec;
    T* scratch = exec.template scratch<T>(2 * cols + chunks_of(rows) * cols);
    T* s1 = scratch;         // (cols) sum of dy
    T* s2 = scratch + cols;  // (cols) sum of dy * x_hat
    T* partial = scratch + 2 * cols;
    column_reduce(
        exec, rows, cols, [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t c) { return dy[r * cols + c]; }, partial,
        [=] LATENT_HOST_DEVICE(std::size_t c, T s) { s1[c] = s; });
    column_reduce(
        exec, rows, cols,
        [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t c) { return dy[r * cols + c] * x_hat[r * cols + c]; },
        partial, [=] LATENT_HOST_DEVICE(std::size_t c, T s) { s2[c] = s; });
    // batch_stats is read where it lives, so forward's choice never crosses to the host.
    exec.for_each(cols, [=] LATENT_HOST_DEVICE(std::size_t c) {
        if (dgamma) dgamma[c] += s2[c];
        if (dbeta) dbeta[c] += s1[c];
        if (*batch_stats == T(0)) {
            const T scale = gamma[c] * inv_std[c];
            if (dmean) dmean[c] -= scale * s1[c];
            if (dvariance) dvariance[c] -= scale * inv_std[c] * s2[c] / T(2);
        }
    });
    if (!dx) return;
    const T inv_rows = T(1) / static_cast<T>(rows);
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t c = i % cols;
        const T g = *batch_stats != T(0) ? dy[i] - (s1[c] + x_hat[i] * s2[c]) * inv_rows : dy[i];
        dx[i] = gamma[c] * inv_std[c] * g;
    });
}

// ---- merge ---------------------------------------------------------------------------------

template <class E, class T>
void copy2d_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t cols, const T* src,
                   std::size_t src_stride, T* dst, std::size_t dst_stride) {
    E exec;
    exec.for_each(rows * cols, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t r = i / cols, c = i % cols;
        dst[r * dst_stride + c] = src[r * src_stride + c];
    });
}

// ---- batches -------------------------------------------------------------------------------

template <class E, class T>
void gather_rows_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t row_size,
                        const std::size_t* indices, const T* from, T* to) {
    E exec;
    exec.for_each(rows * row_size, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t r = i / row_size, c = i % row_size;
        to[i] = from[indices[r] * row_size + c];
    });
}

// One thread per output element; an invalid row number gives NaN.
template <class E, class T>
void embedding_lookup_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t dim, std::size_t vocab,
                             const T* x, const T* table, T* y) {
    E exec;
    exec.for_each(rows * dim, [=] LATENT_HOST_DEVICE(std::size_t i) {
        const std::size_t r = i / dim, c = i % dim;
        const std::size_t row = embedding_row(x[r], vocab);
        y[i] = row == vocab ? nan_of(T(0)) : table[row * dim + c];
    });
}

// One thread per column, adding the rows in order: no atomics, the same sums on every run (its
// parallelism is the embedding's width; an embedding's table gradient is a small share of a step).
template <class E, class T>
void embedding_backward_kernel(const per_index_backend<E>&, std::size_t rows, std::size_t dim, std::size_t vocab,
                               const T* x, const T* dy, T* dtable) {
    E exec;
    exec.for_each(dim, [=] LATENT_HOST_DEVICE(std::size_t c) {
        for (std::size_t r = 0; r < rows; ++r) {
            const std::size_t row = embedding_row(x[r], vocab);
            if (row != vocab) dtable[row * dim + c] += dy[r * dim + c];
        }
    });
}

// ---- permute: one thread per element ---------------------------------------------------------

template <class E, class T>
void permute_kernel(const per_index_backend<E>&, std::size_t batch, const Permutation& p, const T* x, T* y) {
    E exec;
    exec.for_each(batch * p.sample, [=] LATENT_HOST_DEVICE(std::size_t i) { y[i] = x[permuted_source(p, i)]; });
}

template <class E, class T>
void permute_backward_kernel(const per_index_backend<E>&, std::size_t batch, const Permutation& p, const T* dy,
                             T* dx) {
    E exec;
    exec.for_each(batch * p.sample, [=] LATENT_HOST_DEVICE(std::size_t i) { dx[permuted_source(p, i)] = dy[i]; });
}

// ---- causal mask: one thread per score ---------------------------------------------------------

template <class E, class T>
void causal_mask_kernel(const per_index_backend<E>&, std::size_t matrices, std::size_t rows, std::size_t cols,
                        T* scores) {
    E exec;
    exec.for_each(matrices * rows * cols, [=] LATENT_HOST_DEVICE(std::size_t k) {
        if (k % cols > (k / cols) % rows) scores[k] = T(-1e9);
    });
}

// ---- additive scores: a thread per score, per (b, i, d) of dq and (b, j, d) of dk ---------------

template <class E, class T>
void additive_scores_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t lq, std::size_t lk,
                            std::size_t dim, const T* q, const T* k, const T* scale, T* scores) {
    E exec;
    exec.for_each(batch * lq * lk, [=] LATENT_HOST_DEVICE(std::size_t n) {
        const std::size_t b = n / (lq * lk), i = n / lk % lq, j = n % lk;
        const T* qi = q + (b * lq + i) * dim;
        const T* kj = k + (b * lk + j) * dim;
        T s = T(0);
        for (std::size_t d = 0; d < dim; ++d) s += (scale ? scale[d] : T(1)) * std::tanh(qi[d] + kj[d]);
        scores[n] = s;
    });
}

template <class E, class T>
void additive_scores_backward_kernel(const per_index_backend<E>&, std::size_t batch, std::size_t lq, std::size_t lk,
                                     std::size_t dim, const T* q, const T* k, const T* scale, const T* d_scores, T* dq,
                                     T* dk, T* dscale) {
    E exec;
    if (dq)
        exec.for_each(batch * lq * dim, [=] LATENT_HOST_DEVICE(std::size_t n) {
            const std::size_t b = n / (lq * dim), i = n / dim % lq, d = n % dim;
            const T s = scale ? scale[d] : T(1);
            T sum = T(0);
            for (std::size_t j = 0; j < lk; ++j) {
                const T t = std::tanh(q[n] + k[(b * lk + j) * dim + d]);
                sum += d_scores[(b * lq + i) * lk + j] * s * (T(1) - t * t);
            }
            dq[n] = sum;
        });
    if (dk)
        exec.for_each(batch * lk * dim, [=] LATENT_HOST_DEVICE(std::size_t n) {
            const std::size_t b = n / (lk * dim), j = n / dim % lk, d = n % dim;
            const T s = scale ? scale[d] : T(1);
            T sum = T(0);
            for (std::size_t i = 0; i < lq; ++i) {
                const T t = std::tanh(q[(b * lq + i) * dim + d] + k[n]);
                sum += d_scores[(b * lq + i) * lk + j] * s * (T(1) - t * t);
            }
            dk[n] = sum;
        });
    if (dscale) {
        // Over rows r = (b, i, j) in fixed chunks, as every column reduction here.
        const std::size_t rows = batch * lq * lk;
        column_reduce(
            exec, rows, dim,
            [=] LATENT_HOST_DEVICE(std::size_t r, std::size_t d) {
                const std::size_t b = r / (lq * lk), i = r / lk % lq, j = r % lk;
                return d_scores[r] * std::tanh(q[(b * lq + i) * dim + d] + k[(b * lk + j) * dim + d]);
            },
            exec.template scratch<T>(chunks_of(rows) * dim),
            [=] LATENT_HOST_DEVICE(std::size_t d, T sum) { dscale[d] += sum; });
    }
}

// ---- prelu: one thread per element ------------------------------------------------------------

template <class E, class T>
void prelu_kernel(const per_index_backend<E>&, std::size_t batch, const AlphaLayout& l, const T* x, const T* alpha,
                  T* y) {
    E exec;
    exec.for_each(batch * l.sample, [=] LATENT_HOST_DEVICE(std::size_t i) {
        y[i] = x[i] > T(0) ? x[i] : alpha[alpha_index(l, i)] * x[i];
    });
}

template <class E, class T>
void prelu_backward_kernel(const per_index_backend<E>&, std::size_t batch, const AlphaLayout& l, const T* x,
                           const T* alpha, const T* dy, T* dx) {
    E exec;
    exec.for_each(batch * l.sample, [=] LATENT_HOST_DEVICE(std::size_t i) {
        dx[i] = x[i] > T(0) ? dy[i] : alpha[alpha_index(l, i)] * dy[i];
    });
}

// ---- depthwise convolution: one thread per element written ---------------------------------

template <class E, class T>
void depthwise_conv2d_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch, std::size_t m,
                             const T* x, const T* kernel, T* y) {
    E exec;
    exec.for_each(batch * g.positions() * g.channels * m,
                  [=] LATENT_HOST_DEVICE(std::size_t i) { y[i] = depthwise_output_at(g, m, x, kernel, i); });
}

template <class E, class T>
void depthwise_conv2d_input_gradient_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch,
                                            std::size_t m, const T* dy, const T* kernel, T* dx) {
    E exec;
    exec.for_each(batch * g.in_size(),
                  [=] LATENT_HOST_DEVICE(std::size_t i) { dx[i] = depthwise_input_gradient_at(g, m, dy, kernel, i); });
}

// One thread per kernel weight, each summing over the batch and the positions (a kernel is small
// and its gradient a small share of a step).
template <class E, class T>
void depthwise_conv2d_kernel_gradient_kernel(const per_index_backend<E>&, const Window2D& g, std::size_t batch,
                                             std::size_t m, const T* x, const T* dy, T* dkernel) {
    E exec;
    exec.for_each(g.kernel_h * g.kernel_w * g.channels * m, [=] LATENT_HOST_DEVICE(std::size_t i) {
        dkernel[i] += depthwise_kernel_gradient_at(g, m, batch, x, dy, i);
    });
}

// ---- recurrent cells: one thread per (sample, unit) ----------------------------------------

template <class E, class T>
void lstm_cell_kernel(const per_index_backend<E>&, const RecurrentStep<T>& step) {
    E exec;
    const RecurrentStep<T> s = step;
    exec.for_each(s.batch * s.units, [=] LATENT_HOST_DEVICE(std::size_t i) { lstm_cell_at(s, i / s.units, i % s.units); });
}

template <class E, class T>
void lstm_cell_backward_kernel(const per_index_backend<E>&, const RecurrentStep<T>& step) {
    E exec;
    const RecurrentStep<T> s = step;
    exec.for_each(s.batch * s.units,
                  [=] LATENT_HOST_DEVICE(std::size_t i) { lstm_cell_backward_at(s, i / s.units, i % s.units); });
}

template <class E, class T>
void gru_cell_kernel(const per_index_backend<E>&, const RecurrentStep<T>& step) {
    E exec;
    const RecurrentStep<T> s = step;
    exec.for_each(s.batch * s.units, [=] LATENT_HOST_DEVICE(std::size_t i) { gru_cell_at(s, i / s.units, i % s.units); });
}

template <class E, class T>
void gru_cell_backward_kernel(const per_index_backend<E>&, const RecurrentStep<T>& step) {
    E exec;
    const RecurrentStep<T> s = step;
    exec.for_each(s.batch * s.units,
                  [=] LATENT_HOST_DEVICE(std::size_t i) { gru_cell_backward_at(s, i / s.units, i % s.units); });
}

template <class E, class T>
void simple_rnn_cell_kernel(const per_index_backend<E>&, const RecurrentStep<T>& step) {
    E exec;
    const RecurrentStep<T> s = step;
    exec.for_each(s.batch * s.units,
                  [=] LATENT_HOST_DEVICE(std::size_t i) { simple_rnn_cell_at(s, i / s.units, i % s.units); });
}

template <class E, class T>
void simple_rnn_cell_backward_kernel(const per_index_backend<E>&, const RecurrentStep<T>& step) {
    E exec;
    const RecurrentStep<T> s = step;
    exec.for_each(s.batch * s.units, [=] LATENT_HOST_DEVICE(std::size_t i) {
        simple_rnn_cell_backward_at(s, i / s.units, i % s.units);
    });
}

}  // namespace latent::detail
