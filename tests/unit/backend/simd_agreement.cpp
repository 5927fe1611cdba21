// cpu::simd against cpu::reference: every layer's forward output, input gradient and parameter
// gradients on random inputs, in float32, agree to a relative error under 1e-5 (norm-wise:
// ||simd - reference|| / ||reference||), in training and in inference mode.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

#include "support/layer_agreement_cases.hpp"
#include "support/op_agreement_cases.hpp"

using namespace latent;

using latent::testing::agreement_modes;
using latent::testing::host_arrays;
using latent::testing::relative_error;

namespace {
constexpr double tolerance = 1e-5;
}  // namespace

TEST_CASE("dense and activation layers agree with the reference backend") {
    // cpu::simd draws as the reference does, so Dropout and GaussianNoise compare in training too.
    testing::check_dense_and_activations<cpu::simd, host_arrays>(tolerance, agreement_modes::both);
}
TEST_CASE("convolutions agree with the reference backend") {
    testing::check_convolutions<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("pooling, resampling and padding layers agree with the reference backend") {
    testing::check_pooling_and_resampling<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("batch normalization agrees with the reference backend") {
    testing::check_batch_norm<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("affine_warp2d agrees with the reference backend") {
    testing::check_affine_warp<cpu::simd, host_arrays>(tolerance);
}
TEST_CASE("merge layers agree with the reference backend") { testing::check_merges<cpu::simd, host_arrays>(tolerance); }

namespace {
// A Sequential runs Dense and the activation after it as one step; with Dropout between them
// (inference mode: its input passes through) it runs them apart. Same weights, same bits.
static_assert(detail::fuses_dense_activation_v<Dense<16>, Tanh> && detail::fuses_dense_activation_v<Dense<3>, Sigmoid> &&
              detail::fuses_dense_activation_v<Dense<3>, Activation<activations::relu>>);
static_assert(!detail::fuses_dense_activation_v<Dense<16>, Dropout> && !detail::fuses_dense_activation_v<Dense<3>, Softmax> &&
              !detail::fuses_dense_activation_v<Conv2D<3, 3>, ReLU>);

template <class B>
void check_fused_dense_activation() {
    Sequential<B, Input<12>, Dense<16>, Tanh, Dense<8>, ReLU, Dense<3>, Sigmoid> fused(5);
    Sequential<B, Input<12>, Dense<16>, Dropout, Tanh, Dense<8>, Dropout, ReLU, Dense<3>, Dropout, Sigmoid> apart(6);
    auto weights = fused.parameters().values();
    Generator w(8);
    for (auto& v : weights) v = static_cast<float>(w.uniform(-0.5, 0.5));  // biases too (zero at first)
    auto target = apart.parameters().values();
    REQUIRE(weights.size() == target.size());
    std::copy(weights.begin(), weights.end(), target.begin());
    Tensor<Shape<12>> x(7);
    Generator g(3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-2.0, 2.0));
    const auto a = fused.predict(x), b = apart.predict(x);
    CHECK(std::equal(a.data(), a.data() + a.size(), b.data()));
    // the Dense layers' own outputs (what backward and the fused losses read) are written too
    fused.forward(x.data(), 7, Mode::infer);
    apart.forward(x.data(), 7, Mode::infer);
    struct dense_output {
        std::size_t in_fused, in_apart, units;
    };
    for (const dense_output d : {dense_output{0, 0, 16}, dense_output{2, 3, 8}, dense_output{4, 6, 3}}) {
        INFO("Dense layer " << d.in_fused);
        const float* zf = fused.output(d.in_fused);
        const float* zs = apart.output(d.in_apart);
        CHECK(std::equal(zf, zf + 7 * d.units, zs));
    }
}
}  // namespace

TEST_CASE("Dense and the activation after it run fused, as the two layers would") {
    testing::check_bias_add_activation<cpu::simd, host_arrays>(tolerance);
    check_fused_dense_activation<cpu::simd>();
    check_fused_dense_activation<cpu::reference>();
}

TEST_CASE("the blocked GEMM agrees with the reference for every transpose, edge and scale") {
    struct Case {
        bool ta, tb;
        std::size_t M, N, K;
        float alpha, beta;
    };
    // Sizes off the 6 x 32 tile and the 256-deep k blocks; a narrow product (computed through
    // its transpose); a single output column (dot products); beta 0 with NaN in C; batch-1 rows.
    const Case cases[] = {{false, false, 70, 45, 37, 1.0f, 0.0f},   {true, false, 70, 45, 300, 0.5f, 1.0f},
                          {false, true, 13, 100, 530, 1.0f, 0.25f}, {true, true, 33, 65, 20, -1.0f, 0.0f},
                          {false, false, 500, 8, 72, 1.0f, 0.0f},   {false, true, 500, 3, 40, 2.0f, 1.0f},
                          {false, false, 300, 1, 288, 1.0f, 0.0f},  {false, false, 7, 300, 600, 1.0f, 0.0f},
                          // A few rows against a wide matrix (batch-1 inference, the straight loops)
                          {false, false, 3, 300, 600, 1.0f, 0.5f},  {true, false, 2, 200, 50, 1.0f, 0.0f}};
    for (const auto& c : cases) {
        INFO("trans " << c.ta << c.tb << ", M N K = " << c.M << " " << c.N << " " << c.K << ", beta " << c.beta);
        Generator g(c.M + c.N + c.K);
        std::vector<float> a(c.M * c.K), b(c.K * c.N), want(c.M * c.N), got;
        for (auto& v : a) v = static_cast<float>(g.uniform(-1.0, 1.0));
        for (auto& v : b) v = static_cast<float>(g.uniform(-1.0, 1.0));
        for (auto& v : want) v = c.beta == 0.0f ? std::nanf("") : static_cast<float>(g.uniform(-1.0, 1.0));
        got = want;
        const std::size_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
        ops::gemm<cpu::reference>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, a.data(), lda, b.data(), ldb, c.beta, want.data(), c.N);
        ops::gemm<cpu::simd>(c.ta, c.tb, c.M, c.N, c.K, c.alpha, a.data(), lda, b.data(), ldb, c.beta, got.data(), c.N);
        CHECK(relative_error(got, want) < 1e-5);
    }
}

TEST_CASE("cpu::simd gives bit-identical results for any thread count") {
    const int before = cpu::threads();
    // Split by rows, by column panels, and along k (few rows and columns, a long sum).
    const std::size_t shapes[][3] = {{400, 70, 300}, {40, 300, 500}, {40, 20, 3000}};
    for (const auto& shape : shapes) {
        const std::size_t M = shape[0], N = shape[1], K = shape[2];
        INFO("M N K = " << M << " " << N << " " << K);
        Generator g(5);
        std::vector<float> a(M * K), b(K * N);
        for (auto& v : a) v = static_cast<float>(g.uniform(-1.0, 1.0));
        for (auto& v : b) v = static_cast<float>(g.uniform(-1.0, 1.0));
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3}) {
            cpu::set_threads(threads);
            for (bool ta : {false, true}) {
                std::vector<float> c(M * N, 0.5f);
                ops::gemm<cpu::simd>(ta, false, M, N, K, 1.0f, a.data(), ta ? M : K, b.data(), N, 0.5f, c.data(), N);
                results.push_back(c);
            }
        }
        cpu::set_threads(before);
        for (std::size_t i = 2; i < results.size(); ++i) CHECK(results[i] == results[i % 2]);
        // and the same as the reference, to rounding
        std::vector<float> want(M * N, 0.5f);
        ops::gemm<cpu::reference>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.5f, want.data(), N);
        CHECK(relative_error(results[0], want) < 1e-5);
    }
}

TEST_CASE("cpu::simd's batched GEMM and row softmax (attention's) agree with the reference, for any thread count") {
    testing::check_gemm<cpu::simd, host_arrays>(1e-5);
    const int before = cpu::threads();
    // One head's scores over a batch of 64 (28 steps, 16 wide), then their softmax.
    constexpr std::size_t count = 64, L = 28, K = 16, rows = count * L;
    Generator g(6);
    std::vector<float> q(count * L * K), k(count * L * K);
    for (auto& v : q) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (auto& v : k) v = static_cast<float>(g.uniform(-1.0, 1.0));
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
        cpu::set_threads(threads);
        std::vector<float> scores(rows * L);
        ops::gemm_batched<cpu::simd>(count, false, true, L, L, K, 0.25f, q.data(), K, L * K, k.data(), K, L * K, 0.0f,
                                     scores.data(), L, L * L);
        ops::softmax<cpu::simd>(rows, L, scores.data(), scores.data());
        results.push_back(scores);
    }
    cpu::set_threads(before);
    CHECK(results[1] == results[0]);
    CHECK(results[2] == results[0]);
}

TEST_CASE("cpu::simd's GEMM called from a thread of a team (as gemm_batched's products are) sums every k block") {
    // One column panel, a long sum (4.4 MFLOP): outside a team the k blocks are split over the
    // threads; from inside one the calling thread takes them all.
    const int before = cpu::threads();
    constexpr std::size_t M = 5, N = 4, K = 110000;
    Generator g(8);
    std::vector<float> a(M * K), b(K * N);
    for (auto& v : a) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (auto& v : b) v = static_cast<float>(g.uniform(-1.0, 1.0));
    cpu::set_threads(2);
    std::vector<float> nested(M * N, 0.5f), outside(M * N, 0.5f), want(M * N, 0.5f);
    cpu::detail::parallel_for_threads(2, [&](int id, int) {
        if (id == 0) ops::gemm<cpu::simd>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.5f, nested.data(), N);
    });
    ops::gemm<cpu::simd>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.5f, outside.data(), N);
    cpu::set_threads(before);
    CHECK(nested == outside);
    ops::gemm<cpu::reference>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.5f, want.data(), N);
    CHECK(relative_error(nested, want) < 1e-5);
}

namespace {
struct conv_case {
    std::size_t h, w, channels, filters, kernel, stride;
    Padding padding;
};
// Wide outputs (one and several panels, a part-filled one), a window over several k blocks,
// one output channel (the narrow kernel), a stride.
constexpr conv_case conv_cases[] = {{9, 8, 32, 40, 3, 1, Padding::same}, {6, 5, 64, 32, 3, 1, Padding::same},
                                    {8, 7, 32, 1, 3, 1, Padding::valid}, {9, 9, 16, 24, 3, 2, Padding::same}};

std::vector<float> uniform_values(std::size_t n, std::uint64_t seed) {
    Generator g(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(g.uniform(-1.0, 1.0));
    return v;
}
}  // namespace

TEST_CASE("cpu::simd's implicit convolution sums as its im2col GEMM does") {
    for (const conv_case& c : conv_cases) {
        const Window2D g = make_window(c.h, c.w, c.channels, {c.kernel, c.kernel}, {c.stride, c.stride}, c.padding);
        INFO("image " << c.h << "x" << c.w << "x" << c.channels << ", " << c.filters << " filters, stride " << c.stride);
        const std::size_t batch = 3, rows = batch * g.positions();
        const auto x = uniform_values(batch * g.in_size(), 1), kernel = uniform_values(g.patch_size() * c.filters, 2);
        std::vector<float> cols(rows * g.patch_size()), y(rows * c.filters), want(rows * c.filters);
        ops::conv2d<cpu::simd>(g, batch, x.data(), kernel.data(), c.filters, y.data(), cols.data());
        ops::im2col<cpu::simd>(g, batch, x.data(), cols.data());
        ops::gemm<cpu::simd>(false, false, rows, c.filters, g.patch_size(), 1.0f, cols.data(), g.patch_size(),
                             kernel.data(), c.filters, 0.0f, want.data(), c.filters);
        CHECK(ops::conv2d_is_implicit<cpu::simd, float>(g, c.filters));
        if (c.filters > 1) CHECK(y == want);  // the panel kernel: the same sums in the same order
        CHECK(relative_error(y, want) < 1e-6);
    }
}

TEST_CASE("cpu::simd's convolutions give bit-identical results for any thread count and batch") {
    const int before = cpu::threads();
    for (const conv_case& c : conv_cases) {
        const Window2D g = make_window(c.h, c.w, c.channels, {c.kernel, c.kernel}, {c.stride, c.stride}, c.padding);
        INFO("image " << c.h << "x" << c.w << "x" << c.channels << ", " << c.filters << " filters, stride " << c.stride);
        const std::size_t batch = 3, rows = batch * g.positions();
        const auto x = uniform_values(batch * g.in_size(), 3), kernel = uniform_values(g.patch_size() * c.filters, 4);
        const auto dy = uniform_values(rows * c.filters, 5);
        std::vector<float> cols(rows * g.patch_size());
        std::vector<std::vector<float>> ys, dxs;
        for (int threads : {1, 2, 3}) {
            cpu::set_threads(threads);
            std::vector<float> y(rows * c.filters), dx(batch * g.in_size());
            ops::conv2d<cpu::simd>(g, batch, x.data(), kernel.data(), c.filters, y.data(), cols.data());
            ops::conv2d_input_gradient<cpu::simd>(g, batch, dy.data(), kernel.data(), c.filters, dx.data(), cols.data());
            ys.push_back(y);
            dxs.push_back(dx);
        }
        cpu::set_threads(before);
        CHECK(ys[1] == ys[0]);
        CHECK(ys[2] == ys[0]);
        CHECK(dxs[1] == dxs[0]);
        CHECK(dxs[2] == dxs[0]);
        // The last sample alone gives what it gave in the batch.
        std::vector<float> y1(g.positions() * c.filters), dx1(g.in_size());
        ops::conv2d<cpu::simd>(g, 1, x.data() + 2 * g.in_size(), kernel.data(), c.filters, y1.data(), cols.data());
        ops::conv2d_input_gradient<cpu::simd>(g, 1, dy.data() + 2 * g.positions() * c.filters, kernel.data(), c.filters,
                                              dx1.data(), cols.data());
        CHECK(std::equal(y1.begin(), y1.end(), ys[0].begin() + static_cast<std::ptrdiff_t>(2 * y1.size())));
        CHECK(std::equal(dx1.begin(), dx1.end(), dxs[0].begin() + static_cast<std::ptrdiff_t>(2 * dx1.size())));
        // and the reference's results, to rounding
        std::vector<float> want_y(rows * c.filters), want_dx(batch * g.in_size());
        ops::conv2d<cpu::reference>(g, batch, x.data(), kernel.data(), c.filters, want_y.data(), cols.data());
        ops::conv2d_input_gradient<cpu::reference>(g, batch, dy.data(), kernel.data(), c.filters, want_dx.data(),
                                                   cols.data());
        CHECK(relative_error(ys[0], want_y) < 1e-5);
        CHECK(relative_error(dxs[0], want_dx) < 1e-5);
    }
}

TEST_CASE("a convolution cpu::simd computes from the images keeps no im2col workspace in a model") {
    using Same = Conv2D<32, 3, Padding::same>;
    using Strided = Conv2D<32, 3, Padding::same, 2>;  // its input gradient goes through col2im
    using In = Shape<28, 28, 32>;
    CHECK(workspace_per_sample_on_v<Same, In, cpu::simd> == 0);
    CHECK(workspace_per_sample_on_v<Same, In, cpu::reference> == Same::workspace_per_sample<In>);
    CHECK(workspace_per_sample_on_v<Strided, In, cpu::simd> == Strided::workspace_per_sample<In>);
    CHECK(workspace_per_sample_on_v<Conv2DTranspose<32, 3, Padding::same>, Shape<7, 7, 32>, cpu::simd> == 0);
    CHECK(workspace_per_sample_on_v<Dense<10>, Shape<20>, cpu::simd> == Dense<10>::workspace_per_sample<Shape<20>>);
    // and such a model trains as the reference does, step for step
    using Net = Sequential<cpu::simd, Input<8, 8, 32>, Same, ReLU, Conv2D<1, 3, Padding::same>, Flatten, Dense<2>>;
    using RefNet = Sequential<cpu::reference, Input<8, 8, 32>, Same, ReLU, Conv2D<1, 3, Padding::same>, Flatten, Dense<2>>;
    Net net(7);
    RefNet ref(7);
    net.compile(optim::SGD{.lr = 0.05}, loss::MeanSquaredError{});
    ref.compile(optim::SGD{.lr = 0.05}, loss::MeanSquaredError{});
    Tensor<Shape<8, 8, 32>> x(4);
    Tensor<Shape<2>> y(4);
    Generator g(9);
    for (auto& v : x.values()) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (auto& v : y.values()) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (int step = 0; step < 3; ++step) CHECK(net.train_on_batch(x, y) == doctest::Approx(ref.train_on_batch(x, y)).epsilon(1e-4));
    const auto pa = net.parameters().values(), pb = ref.parameters().values();
    const std::vector<float> a(pa.begin(), pa.end()), b(pb.begin(), pb.end());
    CHECK(relative_error(a, b) < 1e-5);
}
