// cpu::simd against cpu::reference: every layer's forward output, input gradient and parameter
// gradients on random inputs, in float32, agree to a relative error under 1e-5 (norm-wise:
// ||simd - reference|| / ||reference||), in training and in inference mode.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

using namespace latent;

namespace {

struct Run {
    std::vector<float> y, dx, dparams, state;
};

// One forward and backward pass of `layer` on backend B with the given inputs.
template <class B, class In, class L>
Run run(const L& layer, const std::vector<float>& x, const std::vector<float>& params, const std::vector<float>& dy,
        std::size_t batch, Mode mode) {
    using Out = typename L::template output_shape<In>;
    Run r;
    r.y.assign(batch * Out::size, 0.0f);
    r.dx.assign(x.size(), 0.0f);
    r.dparams.assign(params.size(), 0.0f);
    r.state = params;
    std::vector<float> workspace(workspace_size<L, In>(batch) + 1);
    Generator rng(11);  // the same draws on both backends (Dropout, GaussianNoise)
    ForwardArgs<float> a{x.data(), r.y.data(), params.data(), workspace.data(), batch, mode, &rng};
    a.state = mode == Mode::train ? r.state.data() : nullptr;
    layer.template forward<In, B, float>(a);
    BackwardArgs<float> b{x.data(), r.y.data(), dy.data(), r.dx.data(), params.data(), r.dparams.data(),
                          workspace.data(), batch};
    layer.template backward<In, B, float>(b);
    return r;
}

double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
        norm += double(want[i]) * want[i];
    }
    return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

template <class In, class L>
void check_agreement(const L& layer, std::size_t batch = 5, bool positive_params = false) {
    using Out = typename L::template output_shape<In>;
    std::size_t param_size = 0;
    for (const auto& s : L::template params<In>) param_size += s.size();
    Generator g(3);
    std::vector<float> x(batch * In::size), params(param_size), dy(batch * Out::size);
    for (auto& v : x) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (auto& v : params) v = static_cast<float>(positive_params ? g.uniform(0.5, 1.5) : g.normal() * 0.5);
    for (auto& v : dy) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (Mode mode : {Mode::train, Mode::infer}) {
        INFO(L::type_name << " on " << In::to_string() << (mode == Mode::train ? ", training" : ", inference"));
        const Run want = run<cpu::reference, In>(layer, x, params, dy, batch, mode);
        const Run got = run<cpu::simd, In>(layer, x, params, dy, batch, mode);
        CHECK(relative_error(got.y, want.y) < 1e-5);
        CHECK(relative_error(got.dx, want.dx) < 1e-5);
        CHECK(relative_error(got.dparams, want.dparams) < 1e-5);
        CHECK(relative_error(got.state, want.state) < 1e-5);
    }
}

}  // namespace

TEST_CASE("dense and activation layers agree with the reference backend") {
    check_agreement<Shape<37>>(Dense<19>{});
    check_agreement<Shape<784>>(Dense<256>{}, 64);  // the peer benchmark's first layer
    check_agreement<Shape<20>>(ReLU{});
    check_agreement<Shape<20>>(LeakyReLU{});
    check_agreement<Shape<20>>(Sigmoid{});
    check_agreement<Shape<20>>(Tanh{});
    check_agreement<Shape<4, 10>>(Softmax{});
    check_agreement<Shape<4, 5>>(Flatten{});
    check_agreement<Shape<20>>(Reshape<4, 5>{});
    Dropout dropout;
    dropout.rate(0.3);
    check_agreement<Shape<50>>(dropout);
    GaussianNoise noise;
    noise.stddev(0.2);
    check_agreement<Shape<50>>(noise);
}

TEST_CASE("convolutions agree with the reference backend") {
    check_agreement<Shape<9, 8, 3>>(Conv2D<6, 3>{});
    check_agreement<Shape<9, 8, 3>>(Conv2D<6, 3, Padding::same>{});
    check_agreement<Shape<9, 8, 3>>(Conv2D<4, Size2<3, 2>, Padding::same, 2>{});
    check_agreement<Shape<28, 28, 1>>(Conv2D<32, 3, Padding::same>{}, 8);
    check_agreement<Shape<5, 4, 3>>(Conv2DTranspose<6, 3>{});
    check_agreement<Shape<5, 4, 3>>(Conv2DTranspose<2, 3, Padding::same, 2>{});
}

TEST_CASE("pooling, resampling and padding layers agree with the reference backend") {
    check_agreement<Shape<8, 6, 3>>(MaxPool2D<2>{});
    check_agreement<Shape<7, 6, 3>>(MaxPool2D<3, 2, Padding::same>{});
    check_agreement<Shape<8, 6, 3>>(AvgPool2D<2>{});
    check_agreement<Shape<7, 6, 3>>(AvgPool2D<3, 2, Padding::same>{});
    check_agreement<Shape<5, 4, 3>>(GlobalAveragePooling2D{});
    check_agreement<Shape<4, 3, 2>>(UpSampling2D<2>{});
    check_agreement<Shape<4, 3, 2>>(ZeroPadding2D<1>{});
    check_agreement<Shape<6, 5, 2>>(Cropping2D<1>{});
}

TEST_CASE("batch normalization agrees with the reference backend") {
    // Positive parameters: the moving variance must be positive for inference.
    check_agreement<Shape<6, 5, 4>>(BatchNorm{}, 5, true);
    check_agreement<Shape<12>>(BatchNorm{}, 7, true);
}

TEST_CASE("the blocked GEMM agrees with the reference for every transpose, edge and scale") {
    struct Case {
        bool ta, tb;
        std::size_t M, N, K;
        float alpha, beta;
    };
    // Sizes off the 6 x 32 tile and the 256-deep k blocks; a narrow product (computed through
    // its transpose); a single output column (dot products); beta 0 with NaN in C.
    const Case cases[] = {{false, false, 70, 45, 37, 1.0f, 0.0f},   {true, false, 70, 45, 300, 0.5f, 1.0f},
                          {false, true, 13, 100, 530, 1.0f, 0.25f}, {true, true, 33, 65, 20, -1.0f, 0.0f},
                          {false, false, 500, 8, 72, 1.0f, 0.0f},   {false, true, 500, 3, 40, 2.0f, 1.0f},
                          {false, false, 300, 1, 288, 1.0f, 0.0f},  {false, false, 7, 300, 600, 1.0f, 0.0f}};
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
