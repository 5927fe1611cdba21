// cpu::simd's float GEMM: packed panels and a register-blocked microkernel (the BLIS/GotoBLAS
// scheme), written with the GCC/Clang vector extension so that it needs no library and compiles
// fast. Threads take rows, column panels or whole k blocks, and every element of C is summed in
// one fixed order (gemm_k_block), so any thread count gives bit-identical results.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "../../core/buffer.hpp"
#include "threads.hpp"

namespace latent::cpu::detail {

// The widest float vector of the target (GCC/Clang vector extension): AVX-512, AVX or SSE.
#if defined(__AVX512F__)
inline constexpr std::size_t gemm_vector_bytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t gemm_vector_bytes = 32;
#else
inline constexpr std::size_t gemm_vector_bytes = 16;
#endif
typedef float float_vector __attribute__((vector_size(gemm_vector_bytes)));
inline constexpr std::size_t gemm_lanes = gemm_vector_bytes / sizeof(float);

// The microkernel's tile: MR rows of C by NR = two vectors of columns, 12 vector accumulators
// (of 32 registers with AVX-512, 16 with AVX and SSE).
inline constexpr std::size_t gemm_mr = 6;
inline constexpr std::size_t gemm_nr = 2 * gemm_lanes;
// Cache blocking: a kc x NR slice of B (32 KiB with AVX-512) stays near L1 while the kernel
// runs, an mc x kc block of A (144 KiB) in L2.
inline constexpr std::size_t gemm_kc = 256;
inline constexpr std::size_t gemm_mc = 144;

// The k blocks of a product of depth K: one block up to 2 * kc (each extra one is another pass
// over C), else equal blocks of at most kc. Every path of the float GEMM sums an element of C
// block by block, k ascending with one accumulator within a block, C = beta * C + alpha * s_1,
// then C += alpha * s_b: the same order whatever the kernel, the batch or the thread count.
inline std::size_t gemm_k_block(std::size_t K) {
    if (K <= 2 * gemm_kc) return K;
    const std::size_t blocks = (K + gemm_kc - 1) / gemm_kc;
    return (K + blocks - 1) / blocks;
}

// Vectors never cross a function boundary here (that would change the ABI between targets):
// loads and stores are memcpy, which compiles to one unaligned vector move.
#define LATENT_LOAD_VECTOR(v, p) std::memcpy(&(v), (p), sizeof(v))
#define LATENT_STORE_VECTOR(p, v) std::memcpy((p), &(v), sizeof(v))

// C tile (R x cols, cols <= NR) = first ? beta * C + alpha * sum : C + alpha * sum, where
// sum = A (R x kc, A(i, k) = a[k * a_k + i * a_i]: a packed panel or A in place) times packed B
// (kc x NR, k-major), and C(i, j) = c[i * c_rs + j * c_cs]. R is a compile-time constant so
// that a last, partial row panel costs only its own rows.
template <std::size_t R>
void gemm_microkernel(std::size_t kc, const float* __restrict a, std::size_t a_k, std::size_t a_i,
                      const float* __restrict b, float* c, std::size_t c_rs, std::size_t c_cs, std::size_t cols,
                      float alpha, float beta, bool first) {
    float_vector acc[R][2] = {};
    for (std::size_t k = 0; k < kc; ++k) {
        float_vector b0, b1;
        LATENT_LOAD_VECTOR(b0, b);
        LATENT_LOAD_VECTOR(b1, b + gemm_lanes);
#if !defined(__CUDACC__)  // nvcc's front end does not know the pragma (CUDA translation units)
#pragma GCC unroll 6
#endif
        for (std::size_t i = 0; i < R; ++i) {
            const float ai = a[i * a_i];
            acc[i][0] += ai * b0;
            acc[i][1] += ai * b1;
        }
        a += a_k;
        b += gemm_nr;
    }
    if (c_cs == 1 && cols == gemm_nr) {
#if !defined(__CUDACC__)
#pragma GCC unroll 6
#endif
        for (std::size_t i = 0; i < R; ++i) {
            float* row = c + i * c_rs;
            for (std::size_t h = 0; h < 2; ++h) {
                float_vector out = alpha * acc[i][h], old;
                if (!first || beta != 0.0f) {
                    LATENT_LOAD_VECTOR(old, row + gemm_lanes * h);
                    out += first ? beta * old : old;
                }
                LATENT_STORE_VECTOR(row + gemm_lanes * h, out);
            }
        }
        return;
    }
    float tile[R][gemm_nr];
    std::memcpy(tile, acc, sizeof tile);
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < cols; ++j) {
            float& out = c[i * c_rs + j * c_cs];
            const float add = alpha * tile[i][j];
            out = !first ? out + add : (beta != 0.0f ? beta * out + add : add);
        }
}

// A(i, k) = a[k * a_k + i * a_i]: a packed panel (a_k = MR, a_i = 1), or A itself, unpacked.
inline void gemm_tile(std::size_t rows, std::size_t kc, const float* a, std::size_t a_k, std::size_t a_i,
                      const float* b, float* c, std::size_t c_rs, std::size_t c_cs, std::size_t cols, float alpha,
                      float beta, bool first) {
    switch (rows) {
        case 6: return gemm_microkernel<6>(kc, a, a_k, a_i, b, c, c_rs, c_cs, cols, alpha, beta, first);
        case 5: return gemm_microkernel<5>(kc, a, a_k, a_i, b, c, c_rs, c_cs, cols, alpha, beta, first);
        case 4: return gemm_microkernel<4>(kc, a, a_k, a_i, b, c, c_rs, c_cs, cols, alpha, beta, first);
        case 3: return gemm_microkernel<3>(kc, a, a_k, a_i, b, c, c_rs, c_cs, cols, alpha, beta, first);
        case 2: return gemm_microkernel<2>(kc, a, a_k, a_i, b, c, c_rs, c_cs, cols, alpha, beta, first);
        default: return gemm_microkernel<1>(kc, a, a_k, a_i, b, c, c_rs, c_cs, cols, alpha, beta, first);
    }
}

// Packs rows [m0, m0 + mc) x columns [k0, k0 + kc) of op(A) into MR-row panels, k-major
// (panel p holds out[p * kc * MR + k * MR + i]), zero-padding the last panel.
// op(A)(m, k) = A[m * rs + k * cs]. The source is read along whichever index is contiguous.
inline void pack_a(const float* A, std::size_t rs, std::size_t cs, std::size_t m0, std::size_t mc, std::size_t k0,
                   std::size_t kc, float* out) {
    const std::size_t panels = (mc + gemm_mr - 1) / gemm_mr;
    if (cs == 1) {
        for (std::size_t p = 0; p < panels; ++p) {
            float* dst = out + p * kc * gemm_mr;
            const std::size_t rows = std::min(gemm_mr, mc - p * gemm_mr);
            for (std::size_t r = 0; r < rows; ++r) {
                const float* src = A + (m0 + p * gemm_mr + r) * rs + k0;
                for (std::size_t k = 0; k < kc; ++k) dst[k * gemm_mr + r] = src[k];
            }
            for (std::size_t r = rows; r < gemm_mr; ++r)
                for (std::size_t k = 0; k < kc; ++k) dst[k * gemm_mr + r] = 0.0f;
        }
    } else {
        for (std::size_t k = 0; k < kc; ++k) {
            const float* src = A + (k0 + k) * cs + m0 * rs;
            for (std::size_t p = 0; p < panels; ++p) {
                float* dst = out + p * kc * gemm_mr + k * gemm_mr;
                const std::size_t rows = std::min(gemm_mr, mc - p * gemm_mr);
                const float* row = src + p * gemm_mr * rs;
                for (std::size_t r = 0; r < rows; ++r) dst[r] = row[r * rs];
                for (std::size_t r = rows; r < gemm_mr; ++r) dst[r] = 0.0f;
            }
        }
    }
}

// Packs rows [k0, k0 + kc) x columns [n0, n0 + nc) of op(B) into NR-column panels, k-major
// (panel p holds out[p * kc * NR + k * NR + j]), zero-padding the last panel.
// op(B)(k, n) = B[k * rs + n * cs].
inline void pack_b(const float* B, std::size_t rs, std::size_t cs, std::size_t k0, std::size_t kc, std::size_t n0,
                   std::size_t nc, float* out) {
    for (std::size_t j0 = 0; j0 < nc; j0 += gemm_nr, out += kc * gemm_nr) {
        const std::size_t cols = std::min(gemm_nr, nc - j0);
        if (cs == 1) {
            for (std::size_t k = 0; k < kc; ++k) {
                const float* src = B + (k0 + k) * rs + n0 + j0;
                float* dst = out + k * gemm_nr;
                if (cols == gemm_nr) {
                    std::memcpy(dst, src, gemm_nr * sizeof(float));  // a constant size: inlined
                } else {
                    std::memcpy(dst, src, cols * sizeof(float));
                    for (std::size_t j = cols; j < gemm_nr; ++j) dst[j] = 0.0f;
                }
            }
        } else {
            for (std::size_t j = 0; j < cols; ++j) {
                const float* src = B + k0 * rs + (n0 + j0 + j) * cs;
                for (std::size_t k = 0; k < kc; ++k) out[k * gemm_nr + j] = src[k * rs];
            }
            for (std::size_t j = cols; j < gemm_nr; ++j)
                for (std::size_t k = 0; k < kc; ++k) out[k * gemm_nr + j] = 0.0f;
        }
    }
}

// Each thread's packing buffer for A, kept between calls (no allocation after the first).
inline AlignedBuffer<float>& packed_a_buffer() {
    thread_local AlignedBuffer<float> buffer;
    return buffer;
}
inline AlignedBuffer<float>& packed_b_buffer() {
    thread_local AlignedBuffer<float> buffer;
    return buffer;
}
inline AlignedBuffer<float>& partial_buffer() {
    thread_local AlignedBuffer<float> buffer;
    return buffer;
}

// C = alpha * op(A) * op(B) + beta * C with C(m, n) = C[m * c_rs + n * c_cs]; op(A)(m, k) =
// A[m * a_rs + k * a_cs], op(B)(k, n) = B[k * b_rs + n * b_cs].
inline void gemm_panels(std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A, std::size_t a_rs,
                        std::size_t a_cs, const float* B, std::size_t b_rs, std::size_t b_cs, float beta, float* C,
                        std::size_t c_rs, std::size_t c_cs) {
    const std::size_t n_panels = (N + gemm_nr - 1) / gemm_nr;
    // One k block when K is moderate (each extra one is another pass over C), and one row
    // block when M is (each extra one is another pass over B, which may be a whole data set).
    const std::size_t kc_max = gemm_k_block(K);
    const std::size_t mc_max = M <= 2 * gemm_mc ? M : gemm_mc;
    const std::size_t m_blocks = (M + mc_max - 1) / mc_max;
    const int wanted = std::max(1, threads());
    // Enough work per thread to repay waking it: split when each gets ~2 MFLOP or more.
    const double flops = 2.0 * double(M) * double(N) * double(K);
    const int team = static_cast<int>(std::min<double>(wanted, std::max(1.0, flops / 2e6)));
    // Split the rows when there are enough row blocks, else the column panels.
    const bool split_rows = m_blocks >= static_cast<std::size_t>(team) * 2;

    // Row block [m0, m0 + mc) times the k block [k0, k0 + kc) of column panels [p0, p1),
    // whose packed B starts at bp,
    // into `out` (strides o_rs, o_cs; C itself unless a partial product is wanted).
    auto block_into = [&](std::size_t m0, std::size_t mc, std::size_t k0, std::size_t kc, std::size_t p0,
                          std::size_t p1, const float* bp, float* ap, float* out, std::size_t o_rs, std::size_t o_cs,
                          float out_beta, bool first) {
        // Packing A pays when its panels serve many column panels; for one or two (the few
        // output channels of a convolution) the microkernel reads A where it is.
        const bool packed = p1 - p0 > 2;
        if (packed) pack_a(A, a_rs, a_cs, m0, mc, k0, kc, ap);
        for (std::size_t p = p0; p < p1; ++p)
            for (std::size_t i0 = 0; i0 < mc; i0 += gemm_mr) {
                const float* a = packed ? ap + i0 * kc : A + (m0 + i0) * a_rs + k0 * a_cs;
                gemm_tile(std::min(gemm_mr, mc - i0), kc, a, packed ? gemm_mr : a_cs, packed ? 1 : a_rs,
                          bp + p * gemm_nr * kc, out + (m0 + i0) * o_rs + p * gemm_nr * o_cs, o_rs, o_cs,
                          std::min(gemm_nr, N - p * gemm_nr), alpha, out_beta, first);
            }
    };
    auto block = [&](std::size_t m0, std::size_t mc, std::size_t k0, std::size_t kc, std::size_t p0,
                     std::size_t p1, const float* bp, float* ap) {
        block_into(m0, mc, k0, kc, p0, p1, bp, ap, C, c_rs, c_cs, beta, k0 == 0);
    };
    const auto part = [](std::size_t n, int i, int count) {
        return n * static_cast<std::size_t>(i) / static_cast<std::size_t>(count);
    };
    auto packed_a_for_thread = [&]() -> float* {
        AlignedBuffer<float>& packed_a = packed_a_buffer();
        const std::size_t a_size = (mc_max + gemm_mr - 1) / gemm_mr * gemm_mr * kc_max;
        if (packed_a.size() < a_size) packed_a.resize_discard(a_size);
        return packed_a.data();
    };
    AlignedBuffer<float>& packed_b = packed_b_buffer();

    // All of op(B), packed, fits in L2 (a convolution's kernel, a small layer's weights): pack
    // it once and give each row block every k block in turn, so that C's block stays in cache
    // instead of being streamed again for each k block.
    const std::size_t resident = n_panels * gemm_nr * K;
    if (split_rows && resident <= (std::size_t{1} << 18)) {
        if (packed_b.size() < resident) packed_b.resize_discard(resident);
        for (std::size_t k0 = 0; k0 < K; k0 += kc_max)
            pack_b(B, b_rs, b_cs, k0, std::min(kc_max, K - k0), 0, N, packed_b.data() + n_panels * gemm_nr * k0);
        parallel_for_threads(team, [&](int id, int count) {
            float* ap = packed_a_for_thread();
            for (std::size_t blk = part(m_blocks, id, count); blk < part(m_blocks, id + 1, count); ++blk)
                for (std::size_t k0 = 0; k0 < K; k0 += kc_max)
                    block(blk * mc_max, std::min(mc_max, M - blk * mc_max), k0, std::min(kc_max, K - k0), 0,
                          n_panels, packed_b.data() + n_panels * gemm_nr * k0, ap);
        });
        return;
    }

    const std::size_t b_size = n_panels * gemm_nr * kc_max;
    const std::size_t k_blocks = (K + kc_max - 1) / kc_max;
    if (!split_rows && team > 1 && n_panels < static_cast<std::size_t>(team) && k_blocks >= 2) {
        // Few rows and columns but a long sum (a weight gradient over every position of a
        // batch): each thread takes whole k blocks into a partial product of its own, and the
        // partials are added to C in block order, which is the order one thread sums in.
        AlignedBuffer<float>& partials = partial_buffer();
        const std::size_t MN = M * N;
        if (partials.size() < MN * static_cast<std::size_t>(team)) partials.resize_discard(MN * static_cast<std::size_t>(team));
        for (std::size_t w = 0; w < k_blocks; w += static_cast<std::size_t>(team)) {
            const std::size_t count = std::min(static_cast<std::size_t>(team), k_blocks - w);
            // Each thread its share of the blocks: all of them when this runs inline (called from
            // a thread of a team already, as gemm_batched's products are).
            parallel_for_threads(static_cast<int>(count), [&](int id, int threads_here) {
                for (auto j = static_cast<std::size_t>(id); j < count; j += static_cast<std::size_t>(threads_here)) {
                    const std::size_t k0 = (w + j) * kc_max, kc = std::min(kc_max, K - k0);
                    AlignedBuffer<float>& own_b = packed_b_buffer();
                    if (own_b.size() < b_size) own_b.resize_discard(b_size);
                    pack_b(B, b_rs, b_cs, k0, kc, 0, N, own_b.data());
                    float* ap = packed_a_for_thread();
                    float* out = partials.data() + j * MN;
                    for (std::size_t m0 = 0; m0 < M; m0 += mc_max)
                        block_into(m0, std::min(mc_max, M - m0), k0, kc, 0, n_panels, own_b.data(), ap, out, N, 1,
                                   0.0f, true);
                }
            });
            for (std::size_t id = 0; id < count; ++id) {
                const float* p = partials.data() + id * MN;
                const bool first = w + id == 0;
                for (std::size_t m = 0; m < M; ++m)
                    for (std::size_t n = 0; n < N; ++n) {
                        float& c = C[m * c_rs + n * c_cs];
                        const float add = p[m * N + n];
                        c = !first ? c + add : (beta != 0.0f ? add + beta * c : add);
                    }
            }
        }
        return;
    }

    if (packed_b.size() < b_size) packed_b.resize_discard(b_size);
    for (std::size_t k0 = 0; k0 < K; k0 += kc_max) {
        const std::size_t kc = std::min(kc_max, K - k0);
        float* bp = packed_b.data();
        if (split_rows) pack_b(B, b_rs, b_cs, k0, kc, 0, N, bp);  // shared by every thread
        parallel_for_threads(team, [&](int id, int count) {
            float* ap = packed_a_for_thread();
            if (split_rows) {
                for (std::size_t blk = part(m_blocks, id, count); blk < part(m_blocks, id + 1, count); ++blk)
                    block(blk * mc_max, std::min(mc_max, M - blk * mc_max), k0, kc, 0, n_panels, bp, ap);
            } else {
                // This thread packs its own column panels, then runs every row block on them.
                const std::size_t p0 = part(n_panels, id, count), p1 = part(n_panels, id + 1, count);
                if (p0 == p1) return;
                const std::size_t n0 = p0 * gemm_nr;
                pack_b(B, b_rs, b_cs, k0, kc, n0, std::min(N, p1 * gemm_nr) - n0, bp + p0 * gemm_nr * kc);
                for (std::size_t m0 = 0; m0 < M; m0 += mc_max)
                    block(m0, std::min(mc_max, M - m0), k0, kc, p0, p1, bp, ap);
            }
        });
    }
}

// c (M) = alpha * A (M, K; rows contiguous, stride lda) * b (K, contiguous) + beta * c: one
// dot product per row (a convolution to one channel), eight rows at a time so that their
// eight sums (each in the common order, gemm_k_block) hide the FMA latency.
inline void gemv_rows(std::size_t M, std::size_t K, float alpha, const float* A, std::size_t lda, const float* b,
                      float beta, float* c) {
    const std::size_t kc_max = gemm_k_block(K);
    constexpr std::size_t R = 8;
    auto rows = [&](std::size_t m0, auto count) {
        constexpr std::size_t n = decltype(count)::value;
        float out[n];
        for (std::size_t r = 0; r < n; ++r) out[r] = beta == 0.0f ? 0.0f : beta * c[m0 + r];
        for (std::size_t k0 = 0; k0 < K; k0 += kc_max) {
            const std::size_t k1 = std::min(K, k0 + kc_max);
            float sum[n] = {};
            for (std::size_t k = k0; k < k1; ++k)
                for (std::size_t r = 0; r < n; ++r) sum[r] += A[(m0 + r) * lda + k] * b[k];
            for (std::size_t r = 0; r < n; ++r) out[r] += alpha * sum[r];
        }
        for (std::size_t r = 0; r < n; ++r) c[m0 + r] = out[r];
    };
    const std::size_t groups = M / R;
    const int team = static_cast<int>(std::min<double>(std::max(1, threads()), std::max(1.0, 2.0 * double(M) * double(K) / 2e6)));
    parallel_for_threads(team, [&](int id, int count) {
        const std::size_t g0 = groups * static_cast<std::size_t>(id) / static_cast<std::size_t>(count);
        const std::size_t g1 = groups * static_cast<std::size_t>(id + 1) / static_cast<std::size_t>(count);
        for (std::size_t g = g0; g < g1; ++g) rows(g * R, std::integral_constant<std::size_t, R>{});
    });
    for (std::size_t m0 = groups * R; m0 < M; ++m0) rows(m0, std::integral_constant<std::size_t, 1>{});
}

// C (M, N) = alpha * op(A) * op(B) + beta * C, row-major; beta == 0 never reads C.
inline void gemm_blocked(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, float alpha,
                         const float* A, std::size_t lda, const float* B, std::size_t ldb, float beta, float* C,
                         std::size_t ldc) {
    const std::size_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
    const std::size_t b_rs = trans_b ? 1 : ldb, b_cs = trans_b ? ldb : 1;
    if (K == 0) {
        for (std::size_t m = 0; m < M; ++m)
            for (std::size_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
        return;
    }
    // One output column from contiguous rows: dot products, nothing packed.
    if (N == 1 && !trans_a && (trans_b || ldb == 1) && ldc == 1) {
        gemv_rows(M, K, alpha, A, lda, B, beta, C);
        return;
    }
    // A product only a few columns wide (a convolution to 1 or 8 channels) fills a column
    // panel poorly: compute its transpose, C^T = op(B)^T op(A)^T, whose rows are few instead.
    if (N < gemm_nr / 2 && M > N)
        gemm_panels(N, M, K, alpha, B, b_cs, b_rs, A, a_cs, a_rs, beta, C, 1, ldc);
    else
        gemm_panels(M, N, K, alpha, A, a_rs, a_cs, B, b_rs, b_cs, beta, C, ldc, 1);
}

}  // namespace latent::cpu::detail

#undef LATENT_LOAD_VECTOR
#undef LATENT_STORE_VECTOR
