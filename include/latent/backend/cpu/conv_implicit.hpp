// cpu::simd's convolutions as implicit GEMMs: the GEMM microkernel's register tile (MR output
// positions by NR channels) reads each position's window straight from the image, so no im2col
// matrix is written and read back (57 MB for a 32-channel 28x28 layer at batch 64).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "../../core/spatial.hpp"
#include "gemm_blocked.hpp"
#include "threads.hpp"

namespace latent::cpu::detail {

// Windows of more taps than this (an 8x8 kernel and up) go through im2col: the tile keeps a
// pointer per position and tap on the stack.
inline constexpr std::size_t conv_max_taps = 49;

// taps[t] = where tap t = (ky, kx) of output row r's window (sample r / positions) starts in
// the image x: its channels, contiguous; `outside` where the tap is in the padding.
inline void window_taps(const Window2D& g, const float* x, std::size_t r, const float* outside, const float** taps) {
    const std::size_t p = r % g.positions(), oy = p / g.out_w, ox = p % g.out_w;
    const float* image = x + r / g.positions() * g.in_size();
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
        // Signed arithmetic: the window may start above or left of the image.
        const auto iy =
            static_cast<std::ptrdiff_t>(oy * g.stride_h + ky * g.dilation_h) - static_cast<std::ptrdiff_t>(g.pad_top);
        for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const auto ix = static_cast<std::ptrdiff_t>(ox * g.stride_w + kx * g.dilation_w) -
                            static_cast<std::ptrdiff_t>(g.pad_left);
            const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<std::ptrdiff_t>(g.in_h) &&
                                ix < static_cast<std::ptrdiff_t>(g.in_w);
            taps[ky * g.kernel_w + kx] =
                inside ? image + (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.channels
                       : outside;
        }
    }
}

// An implicit convolution: output position p of sample n sums, over each tap t = (ky, kx) of the
// window and each channel c, image(n, oy * stride_h + ky - pad_top, ox * stride_w + kx -
// pad_left, c) * B(t * channels + c, j), zero outside the image. The sums run over
// k = t * channels + c in gemm_k_block's blocks, k ascending, one accumulator per block: the
// order of the GEMM over an im2col matrix, so both paths give the same results.
//
// conv_tile: R output positions by the NR columns of packed panel `bp`, position i's tap t
// at taps[i * T + t] (nullptr where the tap is in the padding).
template <std::size_t R>
void conv_tile(const float* const* taps, std::size_t T, std::size_t C, std::size_t K, const float* __restrict bp,
               float* out, std::size_t ldo, std::size_t cols) {
    const std::size_t kc_max = gemm_k_block(K);
    for (std::size_t k0 = 0; k0 < K; k0 += kc_max) {
        const std::size_t k1 = std::min(K, k0 + kc_max);
        float_vector acc[R][2] = {};
        for (std::size_t t = k0 / C; t < T && t * C < k1; ++t) {
            const std::size_t c0 = std::max(k0, t * C) - t * C, c1 = std::min(k1, (t + 1) * C) - t * C;
            const float* b = bp + (t * C + c0) * gemm_nr;
            const float* row[R];
            bool any = false;
            for (std::size_t i = 0; i < R; ++i) {
                row[i] = taps[i * T + t];
                any = any || row[i] != nullptr;
            }
            if (!any) continue;  // every position's tap is padding: nothing to add
            static const float zeros[1] = {0.0f};
            std::size_t step[R];
            for (std::size_t i = 0; i < R; ++i) {
                // A tap in the padding reads one zero for every channel.
                step[i] = row[i] ? 1 : 0;
                row[i] = row[i] ? row[i] + c0 : zeros;
            }
            for (std::size_t c = c0; c < c1; ++c) {
                float_vector b0, b1;
                std::memcpy(&b0, b, sizeof b0);
                std::memcpy(&b1, b + gemm_lanes, sizeof b1);
#if !defined(__CUDACC__)
#pragma GCC unroll 6
#endif
                for (std::size_t i = 0; i < R; ++i) {
                    const float a = *row[i];
                    row[i] += step[i];
                    acc[i][0] += a * b0;
                    acc[i][1] += a * b1;
                }
                b += gemm_nr;
            }
        }
        const bool first = k0 == 0;
        if (cols == gemm_nr) {
            for (std::size_t i = 0; i < R; ++i)
                for (std::size_t h = 0; h < 2; ++h) {
                    float_vector v = acc[i][h];
                    if (!first) {
                        float_vector old;
                        std::memcpy(&old, out + i * ldo + h * gemm_lanes, sizeof old);
                        v = old + v;
                    }
                    std::memcpy(out + i * ldo + h * gemm_lanes, &v, sizeof v);
                }
        } else {
            float tile[R][gemm_nr];
            std::memcpy(tile, acc, sizeof tile);
            for (std::size_t i = 0; i < R; ++i)
                for (std::size_t j = 0; j < cols; ++j) out[i * ldo + j] = first ? tile[i][j] : out[i * ldo + j] + tile[i][j];
        }
    }
}

inline void conv_tile_rows(std::size_t rows, const float* const* taps, std::size_t T, std::size_t C, std::size_t K,
                           const float* bp, float* out, std::size_t ldo, std::size_t cols) {
    switch (rows) {
        case 6: return conv_tile<6>(taps, T, C, K, bp, out, ldo, cols);
        case 5: return conv_tile<5>(taps, T, C, K, bp, out, ldo, cols);
        case 4: return conv_tile<4>(taps, T, C, K, bp, out, ldo, cols);
        case 3: return conv_tile<3>(taps, T, C, K, bp, out, ldo, cols);
        case 2: return conv_tile<2>(taps, T, C, K, bp, out, ldo, cols);
        default: return conv_tile<1>(taps, T, C, K, bp, out, ldo, cols);
    }
}
static_assert(gemm_mr == 6, "conv_tile_rows dispatches the GEMM's six-row tile");

// out (batch * positions, N) = patches of x under window g times the packed panels `bp`
// (N columns in NR-wide panels of K = taps * channels rows each, k-major), on every thread;
// each output element is computed alone, so any thread count gives the same bits.
inline void conv_implicit(const Window2D& g, std::size_t batch, const float* x, const float* bp, std::size_t N,
                          float* out) {
    const std::size_t T = g.kernel_h * g.kernel_w, C = g.channels, K = T * C;
    const std::size_t P = g.positions(), rows = batch * P;
    const std::size_t panels = (N + gemm_nr - 1) / gemm_nr;
    const std::size_t tiles = (rows + gemm_mr - 1) / gemm_mr;
    const double flops = 2.0 * double(rows) * double(N) * double(K);
    const int team = static_cast<int>(std::min<double>(std::max(1, threads()), std::max(1.0, flops / 2e6)));
    parallel_for_threads(team, [&](int id, int count) {
        const std::size_t t0 = tiles * static_cast<std::size_t>(id) / static_cast<std::size_t>(count);
        const std::size_t t1 = tiles * static_cast<std::size_t>(id + 1) / static_cast<std::size_t>(count);
        const float* taps[gemm_mr * conv_max_taps];
        for (std::size_t tile = t0; tile < t1; ++tile) {
            const std::size_t r0 = tile * gemm_mr, R = std::min(gemm_mr, rows - r0);
            for (std::size_t i = 0; i < R; ++i) window_taps(g, x, r0 + i, nullptr, taps + i * T);
            for (std::size_t p = 0; p < panels; ++p)
                conv_tile_rows(R, taps, T, C, K, bp + p * K * gemm_nr, out + r0 * N + p * gemm_nr, N,
                               std::min(gemm_nr, N - p * gemm_nr));
        }
    });
}

// Each thread's packed convolution kernel, kept between calls (no allocation after the first).
inline AlignedBuffer<float>& packed_conv_kernel() {
    thread_local AlignedBuffer<float> buffer;
    return buffer;
}

// Outputs too few for a panel (a convolution to one or a few channels): each output element is
// one vector of partial sums over the channels, tap after tap, whose lanes are then added in
// order; eight positions at a time hide the FMA latency. Each element is computed alone, so
// any thread count or batch gives the same bits. Needs channels to be a multiple of the vector.
inline void conv2d_narrow(const Window2D& g, std::size_t batch, const float* x, const float* kernel, std::size_t N,
                          float* y) {
    const std::size_t T = g.kernel_h * g.kernel_w, C = g.channels, K = T * C;
    const std::size_t P = g.positions(), rows = batch * P;
    AlignedBuffer<float>& packed = packed_conv_kernel();
    if (packed.size() < N * K) packed.resize_discard(N * K);
    for (std::size_t k = 0; k < K; ++k)
        for (std::size_t f = 0; f < N; ++f) packed[f * K + k] = kernel[k * N + f];  // (N, K): a filter's weights in a row
    const float* weights = packed.data();
    constexpr std::size_t G = 8;
    const std::size_t groups = (rows + G - 1) / G;
    const double flops = 2.0 * double(rows) * double(N) * double(K);
    const int team = static_cast<int>(std::min<double>(std::max(1, threads()), std::max(1.0, flops / 2e6)));
    parallel_for_threads(team, [&](int id, int count) {
        thread_local AlignedBuffer<float> zeros;  // the padding's channels
        if (zeros.size() < C) {
            zeros.resize_discard(C);
            std::fill(zeros.data(), zeros.data() + C, 0.0f);
        }
        const float* taps[G * conv_max_taps];
        const std::size_t g0 = groups * static_cast<std::size_t>(id) / static_cast<std::size_t>(count);
        const std::size_t g1 = groups * static_cast<std::size_t>(id + 1) / static_cast<std::size_t>(count);
        for (std::size_t group = g0; group < g1; ++group) {
            const std::size_t r0 = group * G, R = std::min(G, rows - r0);
            for (std::size_t i = 0; i < G; ++i) {
                if (i < R)
                    window_taps(g, x, r0 + i, zeros.data(), taps + i * T);
                else
                    std::fill(taps + i * T, taps + (i + 1) * T, zeros.data());
            }
            for (std::size_t f = 0; f < N; ++f) {
                float_vector acc[G] = {};
                const float* w = weights + f * K;
                for (std::size_t t = 0; t < T; ++t)
                    for (std::size_t c = 0; c < C; c += gemm_lanes) {
                        float_vector wv;
                        std::memcpy(&wv, w + t * C + c, sizeof wv);
#if !defined(__CUDACC__)
#pragma GCC unroll 8
#endif
                        for (std::size_t i = 0; i < G; ++i) {
                            float_vector v;
                            std::memcpy(&v, taps[i * T + t] + c, sizeof v);
                            acc[i] += v * wv;
                        }
                    }
                for (std::size_t i = 0; i < R; ++i) {
                    float lanes[gemm_lanes];
                    std::memcpy(lanes, &acc[i], sizeof lanes);
                    float sum = 0.0f;
                    for (std::size_t l = 0; l < gemm_lanes; ++l) sum += lanes[l];
                    y[(r0 + i) * N + f] = sum;
                }
            }
        }
    });
}

constexpr bool conv2d_narrow_fits(const Window2D& g, std::size_t filters) {
    return filters < gemm_nr / 2 && g.channels % gemm_lanes == 0;
}

// y (batch * positions, N) = patches(x) kernel, kernel (taps * channels, N) row-major.
inline void conv2d_implicit(const Window2D& g, std::size_t batch, const float* x, const float* kernel, std::size_t N,
                            float* y) {
    if (conv2d_narrow_fits(g, N)) return conv2d_narrow(g, batch, x, kernel, N, y);
    const std::size_t K = g.patch_size(), panels = (N + gemm_nr - 1) / gemm_nr;
    AlignedBuffer<float>& packed = packed_conv_kernel();
    if (packed.size() < panels * gemm_nr * K) packed.resize_discard(panels * gemm_nr * K);
    pack_b(kernel, N, 1, 0, K, 0, N, packed.data());
    conv_implicit(g, batch, x, packed.data(), N, y);
}

// The input gradient of a stride-1 convolution, dx (batch, in_h, in_w, channels) = col2im(dy
// kernel^T), computed as the convolution it is: over dy (out_h, out_w, N) with the window
// flipped, channels and filters swapped, and the padding that the forward window left out.
inline void conv2d_input_gradient_implicit(const Window2D& g, std::size_t batch, const float* dy, const float* kernel,
                                           std::size_t N, float* dx) {
    Window2D t;
    t.in_h = g.out_h;
    t.in_w = g.out_w;
    t.channels = N;
    t.kernel_h = g.kernel_h;
    t.kernel_w = g.kernel_w;
    t.dilation_h = g.dilation_h;
    t.dilation_w = g.dilation_w;
    t.pad_top = g.span_h() - 1 - g.pad_top;
    t.pad_left = g.span_w() - 1 - g.pad_left;
    t.out_h = g.in_h;
    t.out_w = g.in_w;
    const std::size_t T = g.kernel_h * g.kernel_w, C = g.channels, K = T * N;
    const std::size_t panels = (C + gemm_nr - 1) / gemm_nr;
    AlignedBuffer<float>& packed = packed_conv_kernel();
    if (packed.size() < panels * gemm_nr * K) packed.resize_discard(panels * gemm_nr * K);
    // B(t' * N + f, c) = kernel(T - 1 - t', c, f): tap t' of the flipped window.
    float* out = packed.data();
    for (std::size_t p = 0; p < panels; ++p)
        for (std::size_t tap = 0; tap < T; ++tap)
            for (std::size_t f = 0; f < N; ++f, out += gemm_nr) {
                const float* src = kernel + (T - 1 - tap) * C * N + f;
                for (std::size_t j = 0; j < gemm_nr; ++j) {
                    const std::size_t c = p * gemm_nr + j;
                    out[j] = c < C ? src[c * N] : 0.0f;
                }
            }
    conv_implicit(t, batch, dy, packed.data(), C, dx);
}

// Rows [r0, r0 + n) of the im2col matrix of x under window g (the reference im2col's layout)
// into cols (n, taps * channels); a window of at most conv_max_taps taps.
inline void im2col_rows(const Window2D& g, const float* x, std::size_t r0, std::size_t n, float* cols) {
    const std::size_t C = g.channels, T = g.kernel_h * g.kernel_w;
    const float* taps[conv_max_taps];
    for (std::size_t r = r0; r < r0 + n; ++r) {
        window_taps(g, x, r, nullptr, taps);
        for (std::size_t t = 0; t < T; ++t, cols += C) {
            if (taps[t])
                std::memcpy(cols, taps[t], C * sizeof(float));
            else
                std::fill(cols, cols + C, 0.0f);
        }
    }
}

// dkernel (taps * channels, N) += patches(x)^T dy, dy (batch * positions, N): the GEMM over
// an im2col matrix, made one k block (gemm_k_block's blocks of positions) at a time into a
// buffer that stays in cache instead of the whole matrix through memory. Each thread takes
// whole blocks into a partial product of its own and the partials are added in block order,
// as gemm_blocked sums a long product, so the results are its results for any thread count.
inline void conv2d_kernel_gradient_blocked(const Window2D& g, std::size_t batch, const float* x, const float* dy,
                                           std::size_t N, float* dkernel) {
    const std::size_t K = g.patch_size(), L = batch * g.positions(), KN = K * N;
    const std::size_t kc = gemm_k_block(L), blocks = (L + kc - 1) / kc;
    const double flops = 2.0 * double(L) * double(KN);
    const std::size_t team = static_cast<std::size_t>(
        std::min<double>({double(std::max(1, threads())), double(blocks), std::max(1.0, flops / 2e6)}));
    thread_local AlignedBuffer<float> partials;
    if (partials.size() < team * KN) partials.resize_discard(team * KN);
    float* partial = partials.data();
    for (std::size_t w = 0; w < blocks; w += team) {
        const std::size_t count = std::min(team, blocks - w);
        parallel_for_threads(static_cast<int>(count), [&](int id, int) {
            const std::size_t r0 = (w + static_cast<std::size_t>(id)) * kc, n = std::min(kc, L - r0);
            thread_local AlignedBuffer<float> cols;
            if (cols.size() < kc * K) cols.resize_discard(kc * K);
            im2col_rows(g, x, r0, n, cols.data());
            // A k block's product on this thread alone (threads() inside a team is one thread's).
            gemm_blocked(true, false, K, N, n, 1.0f, cols.data(), K, dy + r0 * N, N, 0.0f,
                         partial + static_cast<std::size_t>(id) * KN, N);
        });
        for (std::size_t id = 0; id < count; ++id) {
            const float* p = partial + id * KN;
            for (std::size_t i = 0; i < KN; ++i) dkernel[i] += p[i];
        }
    }
}

// Whether the implicit paths take this convolution: a window of at most conv_max_taps taps, and
// either enough output columns to fill half a panel or channels in whole vectors
// (conv2d_narrow); the input gradient, whose columns are the input's channels, needs a whole
// panel of them (with half a panel it measured slower than its GEMM and col2im) and stride 1.
constexpr bool conv2d_implicit_fits(const Window2D& g, std::size_t filters) {
    return g.kernel_h * g.kernel_w <= conv_max_taps && g.channels > 0 &&
           (filters >= gemm_nr / 2 || conv2d_narrow_fits(g, filters));
}
constexpr bool conv2d_input_gradient_implicit_fits(const Window2D& g, std::size_t filters) {
    return g.stride_h == 1 && g.stride_w == 1 && g.kernel_h * g.kernel_w <= conv_max_taps &&
           g.channels >= gemm_nr && filters > 0 && g.pad_top < g.span_h() && g.pad_left < g.span_w();
}

}  // namespace latent::cpu::detail
