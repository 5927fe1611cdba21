// cpu::simd: the fast CPU backend, the default. It derives from cpu::reference, so every op
// without a kernel here falls back to the reference one. Its float GEMM is our own packed,
// register-blocked kernel (gemm_blocked.hpp), threaded with OpenMP when the program is.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "../../core/activations.hpp"
#include "conv_implicit.hpp"
#include "gemm_blocked.hpp"
#include "reference.hpp"
#include "threads.hpp"

namespace latent::cpu {

struct simd : reference {
    using memory_space = host_memory;
    static constexpr std::string_view name = "cpu::simd";
};

namespace detail {

// GCC 12 warns, falsely, that some loop below runs 2^62 times in copies it specializes for
// constant sizes (-Waggressive-loop-optimizations); the loops are bounded by N and K. The
// pragma only covers code compiled here, so small_gemm is never inlined into a caller (where
// the copies would be made and warned about); a call costs nanoseconds, a product here more.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif
// Columns [n0, n0 + V vectors) of one row of C, as many times as they fit, over k in [k0, k1);
// advances n0. Part of small_gemm (inlined there, under its pragma).
template <std::size_t V>
#if defined(__GNUC__)
[[gnu::always_inline]]
#endif
inline void small_gemm_columns(std::size_t& n0, std::size_t N, std::size_t k0, std::size_t k1, const float* __restrict a,
                               std::size_t a_col, const float* __restrict B, std::size_t ldb, float alpha,
                               bool overwrite, float* __restrict c) {
    using Vec = float_vector;
    constexpr std::size_t L = gemm_lanes;
    for (; n0 + V * L <= N; n0 += V * L) {
        Vec acc[V] = {};
        for (std::size_t k = k0; k < k1; ++k) {
            const float ak = a[k * a_col];
            const float* row = B + k * ldb + n0;
            for (std::size_t v = 0; v < V; ++v) {
                Vec b;
                std::memcpy(&b, row + v * L, sizeof b);
                acc[v] += ak * b;
            }
        }
        for (std::size_t v = 0; v < V; ++v) {
            Vec out = alpha * acc[v];
            if (!overwrite) {
                Vec old;
                std::memcpy(&old, c + n0 + v * L, sizeof old);
                out = old + out;
            }
            std::memcpy(c + n0 + v * L, &out, sizeof out);
        }
    }
}

// Straight loops for products too small to repay the blocked kernel's packing (a batch-1
// pass through a small network). Each element of C is summed in the order every path of the
// float GEMM uses (see gemm_k_block), so a sample's result does not depend on its batch.
#if defined(__GNUC__)
[[gnu::noinline]]
#endif
inline void small_gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, float alpha,
                       const float* __restrict A, std::size_t lda, const float* __restrict B, std::size_t ldb,
                       float beta, float* __restrict C, std::size_t ldc) {
    const std::size_t a_row = trans_a ? 1 : lda, a_col = trans_a ? lda : 1;  // A(m, k) = A[m * a_row + k * a_col]
    const std::size_t kc_max = gemm_k_block(K);
    for (std::size_t m = 0; m < M; ++m) {
        float* __restrict c = C + m * ldc;
        const float* __restrict a = A + m * a_row;
        if (beta != 0.0f && beta != 1.0f)
            for (std::size_t n = 0; n < N; ++n) c[n] *= beta;
        for (std::size_t k0 = 0; k0 < K; k0 += kc_max) {
            const std::size_t k1 = std::min(K, k0 + kc_max);
            // With beta = 0 the first block's sums are stored, not added to a zeroed C (as the
            // blocked kernel does): no pass to clear C, no load of it.
            const bool overwrite = beta == 0.0f && k0 == 0;
            std::size_t n0 = 0;
            if (!trans_b) {
                // Sixteen (with AVX-512's 32 registers; AVX and SSE have 16), eight, then four
                // vectors of columns at a time (independent sums hide the FMA latency, and a
                // whole row of a 256-wide matrix is read at once), then one, summed in
                // registers over k and added to c once per k block.
                if constexpr (gemm_vector_bytes == 64)
                    small_gemm_columns<16>(n0, N, k0, k1, a, a_col, B, ldb, alpha, overwrite, c);
                small_gemm_columns<8>(n0, N, k0, k1, a, a_col, B, ldb, alpha, overwrite, c);
                small_gemm_columns<4>(n0, N, k0, k1, a, a_col, B, ldb, alpha, overwrite, c);
                small_gemm_columns<1>(n0, N, k0, k1, a, a_col, B, ldb, alpha, overwrite, c);
            }
            // The remaining columns (all of them when B is transposed): one sum each.
            const std::size_t b_k = trans_b ? 1 : ldb, b_n = trans_b ? ldb : 1;
            for (std::size_t n = n0; n < N; ++n) {
                const float* __restrict b = B + n * b_n + k0 * b_k;
                const float* ak = a + k0 * a_col;
                float acc = 0.0f;
                for (std::size_t k = k0; k < k1; ++k, ak += a_col, b += b_k) acc += *ak * *b;
                c[n] = overwrite ? alpha * acc : c[n] + alpha * acc;
            }
        }
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace detail

// float: tiny products and batch-1 rows by straight loops, the rest by the blocked kernel;
// double (gradient checks, tests) by the reference loops.
template <class T>
void gemm_kernel(const simd&, bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
                 const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if constexpr (!std::is_same_v<T, float>) {
        gemm_kernel(reference{}, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else if (M * N * K <= 4096 || (M <= 4 && !trans_b)) {
        // Tiny products, and a few rows against a wide matrix (batch-1 inference: one pass
        // over the weights, nothing packed), skip the blocked kernel.
        detail::small_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else {
        detail::gemm_blocked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
}

// Bias rows: the reference loop, told that y and the bias do not overlap, so that it vectorizes
// (a batch-1 Dense layer adds its 16 biases in one vector instead of 16 scalar adds).
template <class T>
void bias_add_kernel(const simd&, std::size_t rows, std::size_t cols, const T* __restrict bias, T* __restrict y) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) y[r * cols + c] += bias[c];
}

namespace detail {
// Runs body(begin, end) over [0, n) in one chunk per thread when n is large enough to repay
// waking them (the chunks are fixed by n and the team, and each element is computed alone, so
// results do not depend on the thread count).
// `grain` is the least number of items worth a thread of their own.
template <class Body>
void parallel_chunks(std::size_t n, const Body& body, std::size_t grain = std::size_t{1} << 15) {
    const int team = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(1, threads())),
                                                            std::max<std::size_t>(1, n / std::max<std::size_t>(1, grain))));
    parallel_for_threads(team, [&](int id, int count) {
        body(n * static_cast<std::size_t>(id) / static_cast<std::size_t>(count),
             n * static_cast<std::size_t>(id + 1) / static_cast<std::size_t>(count));
    });
}
// The least number of samples of `size` elements worth a thread.
inline std::size_t samples_per_thread(std::size_t size) { return std::max<std::size_t>(1, (std::size_t{1} << 15) / std::max<std::size_t>(1, size)); }
}  // namespace detail

// Many small products (attention's, per sample and head): spread over the threads, one product
// at a time on each. Products of 2 MFLOP or more run one after another, each on every thread, as
// gemm spreads them (and gemm_blocked is not called from inside a team then).
template <class T>
void gemm_batched_kernel(const simd&, std::size_t count, bool trans_a, bool trans_b, std::size_t M, std::size_t N,
                         std::size_t K, T alpha, const T* A, std::size_t lda, std::size_t stride_a, const T* B,
                         std::size_t ldb, std::size_t stride_b, T beta, T* C, std::size_t ldc, std::size_t stride_c) {
    const auto one = [&](std::size_t i) {
        gemm_kernel(simd{}, trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta,
                    C + i * stride_c, ldc);
    };
    const double flops = 2.0 * double(M) * double(N) * double(K);
    if (!std::is_same_v<T, float> || flops >= 2e6 || count < 2) {
        for (std::size_t i = 0; i < count; ++i) one(i);
        return;
    }
    // About 0.2 MFLOP a thread repays waking it: a few products each.
    const auto grain = static_cast<std::size_t>(std::max(1.0, 2e5 / std::max(1.0, flops)));
    detail::parallel_chunks(
        count,
        [&](std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i) one(i);
        },
        grain);
}

// Softmax rows (attention's: batch x heads x steps of them) spread over the threads, each row
// as cpu::reference computes it.
template <class T>
void softmax_kernel(const simd&, std::size_t rows, std::size_t cols, const T* x, T* y) {
    detail::parallel_chunks(
        rows, [&](std::size_t begin, std::size_t end) { detail::softmax_rows(begin, end, cols, x, y); },
        detail::samples_per_thread(cols));
}
template <class T>
void softmax_backward_kernel(const simd&, std::size_t rows, std::size_t cols, const T* y, const T* dy, T* dx) {
    detail::parallel_chunks(
        rows, [&](std::size_t begin, std::size_t end) { detail::softmax_backward_rows(begin, end, cols, y, dy, dx); },
        detail::samples_per_thread(cols));
}

// Elementwise maps (activation gradients, optimizer updates, loss gradients) on every thread:
// f works on one index at a time (the op's contract), so chunks may run in parallel.
template <class F, class... P>
void elementwise_kernel(const simd&, std::size_t n, F&& f, P*... arrays) {
    detail::parallel_chunks(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) f(arrays[i]...);
    });
}

namespace detail {
// tanh in float by the minimax rational approximation Eigen uses (generic_fast_tanh_float:
// odd degree-13 numerator, even degree-6 denominator, inputs clamped to +-7.9053; the
// numerator by Estrin's scheme where Eigen uses Horner's), within 5 ulp of std::tanh (4.7
// measured over [-9, 9]); written as a plain loop, which the compiler vectorizes. The other
// functions run as written (ReLU's max vectorizes; sigmoid keeps std::exp's accuracy).
template <class F, class T>
void activate(const F& f, std::size_t begin, std::size_t end, const T* x, T* y) {
    if constexpr (std::is_same_v<F, activations::tanh> && std::is_same_v<T, float>) {
        for (std::size_t i = begin; i < end; ++i) {
            const float in = x[i];
            const float v = std::min(std::max(in, -7.90531110763549805f), 7.90531110763549805f);
            const float v2 = v * v, v4 = v2 * v2;
            // The numerator by Estrin's scheme: three independent pairs, then three steps in v^4
            // (Horner's six dependent steps were the longest chain of a batch-1 pass).
            const float p01 = v2 * 6.37261928875436e-04f + 4.89352455891786e-03f;
            const float p23 = v2 * 5.12229709037114e-08f + 1.48572235717979e-05f;
            const float p45 = v2 * 2.00018790482477e-13f + -8.60467152213735e-11f;
            float p = v4 * -2.76076847742355e-16f + p45;
            p = v4 * p + p23;
            p = v4 * p + p01;
            float q = v2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
            q = v2 * q + 2.26843463243900e-03f;
            q = v2 * q + 4.89352518554385e-03f;
            y[i] = std::abs(in) < 0.0004f ? in : v * p / q;
        }
    } else {
        for (std::size_t i = begin; i < end; ++i) y[i] = f.value(x[i]);
    }
}
}  // namespace detail

template <class F, class T>
void activation_kernel(const simd&, std::size_t n, const F& f, const T* x, T* y) {
    detail::parallel_chunks(n, [&](std::size_t begin, std::size_t end) { detail::activate(f, begin, end, x, y); });
}

// Dense's bias and the activation after it, row by row while the row is in L1 (one pass over
// the output where bias_add and activation make two); the same values as the two ops.
template <class F, class T>
void bias_add_activation_kernel(const simd&, std::size_t rows, std::size_t cols, const T* __restrict bias,
                                T* __restrict z, const F& f, T* __restrict y) {
    const auto run = [&](std::size_t r0, std::size_t r1) {
        for (std::size_t r = r0; r < r1; ++r) {
            T* zr = z + r * cols;
            for (std::size_t c = 0; c < cols; ++c) zr[c] += bias[c];
            detail::activate(f, r * cols, (r + 1) * cols, static_cast<const T*>(z), y);
        }
    };
    const std::size_t grain = detail::samples_per_thread(cols);
    if (rows < 2 * grain)  // one thread's worth (a batch-1 pass): no team to ask for
        run(0, rows);
    else
        detail::parallel_chunks(rows, run, grain);
}

// Max pooling, one sample per thread (samples never share an output, so any thread count gives
// the same result); the reference kernel's per-sample work, vectorized over channels.
template <class T>
void max_pool2d_kernel(const simd&, const Window2D& g, std::size_t batch, const T* x, T* y) {
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            max_pool2d_kernel(reference{}, g, b1 - b0, x + b0 * g.in_size(), y + b0 * g.positions() * g.channels);
        },
        detail::samples_per_thread(g.in_size()));
}

// The first maximum of each window in scan order takes the gradient (as the reference and
// TensorFlow); written branch-free over a chunk of channels so that it vectorizes.
template <class T>
void max_pool2d_backward_kernel(const simd&, const Window2D& g, std::size_t batch, const T* x, const T* y,
                                const T* dy, T* dx) {
    const std::size_t c = g.channels, out_size = g.positions() * c;
    auto samples = [&](std::size_t b0, std::size_t b1) {
        std::fill(dx + b0 * g.in_size(), dx + b1 * g.in_size(), T(0));
        constexpr std::size_t chunk = 64;
        for (std::size_t n = b0; n < b1; ++n) {
            const T* image = x + n * g.in_size();
            T* dimage = dx + n * g.in_size();
            for (std::size_t oy = 0; oy < g.out_h; ++oy) {
                const auto rows = detail::image_span(oy, g.stride_h, g.kernel_h, g.pad_top, g.in_h);
                for (std::size_t ox = 0; ox < g.out_w; ++ox) {
                    const auto cols = detail::image_span(ox, g.stride_w, g.kernel_w, g.pad_left, g.in_w);
                    const std::size_t at = n * out_size + (oy * g.out_w + ox) * c;
                    for (std::size_t c0 = 0; c0 < c; c0 += chunk) {
                        const std::size_t width = std::min(chunk, c - c0);
                        T done[chunk] = {};
                        const T* top = y + at + c0;
                        const T* grad = dy + at + c0;
                        for (std::size_t iy = rows.first; iy < rows.last; ++iy)
                            for (std::size_t ix = cols.first; ix < cols.last; ++ix) {
                                const std::size_t i = (iy * g.in_w + ix) * c + c0;
                                const T* src = image + i;
                                T* d = dimage + i;
                                for (std::size_t ch = 0; ch < width; ++ch) {
                                    const bool hit = done[ch] == T(0) && src[ch] == top[ch];
                                    d[ch] += hit ? grad[ch] : T(0);
                                    done[ch] = hit ? T(1) : done[ch];
                                }
                            }
                    }
                }
            }
        }
    };
    detail::parallel_chunks(batch, samples, detail::samples_per_thread(g.in_size()));
}

// The image ops whose samples are independent run the reference kernel on each thread's share
// of the batch: same arithmetic per sample, so the same results for any thread count.
template <class T>
void im2col_kernel(const simd&, const Window2D& g, std::size_t batch, const T* x, T* cols) {
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            im2col_kernel(reference{}, g, b1 - b0, x + b0 * g.in_size(), cols + b0 * g.positions() * g.patch_size());
        },
        detail::samples_per_thread(g.positions() * g.patch_size()));
}

template <class T>
void col2im_kernel(const simd&, const Window2D& g, std::size_t batch, const T* cols, T* x) {
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            col2im_kernel(reference{}, g, b1 - b0, cols + b0 * g.positions() * g.patch_size(), x + b0 * g.in_size());
        },
        detail::samples_per_thread(g.positions() * g.patch_size()));
}

// Convolutions in float as implicit GEMMs (conv_implicit.hpp) where the window fits; the rest
// (double, narrow outputs, large or strided windows for the input gradient) through im2col.
template <class T>
constexpr bool conv2d_implicit(const simd&, const Window2D& g, std::size_t filters, const T*) {
    return std::is_same_v<T, float> && detail::conv2d_implicit_fits(g, filters);
}
template <class T>
void conv2d_kernel(const simd&, const Window2D& g, std::size_t batch, const T* x, const T* kernel, std::size_t filters,
                   T* y) {
    if constexpr (std::is_same_v<T, float>) detail::conv2d_implicit(g, batch, x, kernel, filters, y);
}
template <class T>
void conv2d_kernel_gradient_kernel(const simd&, const Window2D& g, std::size_t batch, const T* x, const T* dy,
                                   std::size_t filters, T* dkernel) {
    if constexpr (std::is_same_v<T, float>) detail::conv2d_kernel_gradient_blocked(g, batch, x, dy, filters, dkernel);
}
template <class T>
constexpr bool conv2d_input_gradient_implicit(const simd&, const Window2D& g, std::size_t filters, const T*) {
    return std::is_same_v<T, float> && detail::conv2d_input_gradient_implicit_fits(g, filters);
}
template <class T>
void conv2d_input_gradient_kernel(const simd&, const Window2D& g, std::size_t batch, const T* dy, const T* kernel,
                                  std::size_t filters, T* dx) {
    if constexpr (std::is_same_v<T, float>) detail::conv2d_input_gradient_implicit(g, batch, dy, kernel, filters, dx);
}

template <class T>
void average_pool2d_kernel(const simd&, const Window2D& g, std::size_t batch, const T* x, T* y) {
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            average_pool2d_kernel(reference{}, g, b1 - b0, x + b0 * g.in_size(), y + b0 * g.positions() * g.channels);
        },
        detail::samples_per_thread(g.in_size()));
}

template <class T>
void average_pool2d_backward_kernel(const simd&, const Window2D& g, std::size_t batch, const T* dy, T* dx) {
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            average_pool2d_backward_kernel(reference{}, g, b1 - b0, dy + b0 * g.positions() * g.channels,
                                           dx + b0 * g.in_size());
        },
        detail::samples_per_thread(g.in_size()));
}

template <class T>
void upsample_nearest2d_kernel(const simd&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                               std::size_t factor_h, std::size_t factor_w, const T* x, T* y) {
    const std::size_t in = h * w * channels, out = in * factor_h * factor_w;
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            upsample_nearest2d_kernel(reference{}, b1 - b0, h, w, channels, factor_h, factor_w, x + b0 * in,
                                      y + b0 * out);
        },
        detail::samples_per_thread(out));
}

template <class T>
void upsample_nearest2d_backward_kernel(const simd&, std::size_t batch, std::size_t h, std::size_t w,
                                        std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* dy,
                                        T* dx) {
    const std::size_t in = h * w * channels, out = in * factor_h * factor_w;
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            upsample_nearest2d_backward_kernel(reference{}, b1 - b0, h, w, channels, factor_h, factor_w, dy + b0 * out,
                                               dx + b0 * in);
        },
        detail::samples_per_thread(out));
}

template <class T>
void upsample_bilinear2d_kernel(const simd&, std::size_t batch, std::size_t h, std::size_t w, std::size_t channels,
                                std::size_t factor_h, std::size_t factor_w, const T* x, T* y) {
    const std::size_t in = h * w * channels, out = in * factor_h * factor_w;
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            upsample_bilinear2d_kernel(reference{}, b1 - b0, h, w, channels, factor_h, factor_w, x + b0 * in,
                                       y + b0 * out);
        },
        detail::samples_per_thread(4 * out));
}

template <class T>
void upsample_bilinear2d_backward_kernel(const simd&, std::size_t batch, std::size_t h, std::size_t w,
                                         std::size_t channels, std::size_t factor_h, std::size_t factor_w, const T* dy,
                                         T* dx) {
    const std::size_t in = h * w * channels, out = in * factor_h * factor_w;
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            upsample_bilinear2d_backward_kernel(reference{}, b1 - b0, h, w, channels, factor_h, factor_w,
                                                dy + b0 * out, dx + b0 * in);
        },
        detail::samples_per_thread(9 * out));
}

// The samples in parallel: each sample's transform reads and writes its own image only, so the
// chunks' sums are the reference's. Batch offsets stay in the op's coordinates (the transforms
// are laid out coefficient by coefficient over the whole batch), hence the loops over i and n.
template <class T>
void affine_warp2d_kernel(const simd&, std::size_t batch, const latent::detail::WarpSizes& size, const T* transforms,
                          const ImageSampling& sampling, const T* x, T* y) {
    const std::size_t image = size.out_h * size.out_w * size.channels;
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            for (std::size_t i = b0 * image; i < b1 * image; ++i)
                y[i] = latent::detail::affine_warp_output_at(batch, size, transforms, sampling, x, i);
        },
        detail::samples_per_thread(8 * image));
}

template <class T>
void affine_warp2d_backward_kernel(const simd&, std::size_t batch, const latent::detail::WarpSizes& size,
                                   const T* transforms, const ImageSampling& sampling, const T* dy, T* dx) {
    detail::parallel_chunks(
        batch,
        [&](std::size_t b0, std::size_t b1) {
            for (std::size_t n = b0; n < b1; ++n)
                for (std::size_t c = 0; c < size.channels; ++c)
                    latent::detail::affine_warp_input_gradient(batch, size, transforms, sampling, dy, dx, n, c);
        },
        detail::samples_per_thread(8 * size.out_h * size.out_w * size.channels));
}

}  // namespace latent::cpu

// The recurrent cells, vectorized (their own header: they need the rest of this one).
#include "simd_recurrent.hpp"
