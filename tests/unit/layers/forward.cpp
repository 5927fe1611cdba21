// Forward values of the layers against hand-computed Keras results.
#include <doctest/doctest.h>

#include <cmath>
#include <type_traits>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/layers/activation.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/dropout.hpp>
#include <latent/layers/prelu.hpp>
#include <latent/layers/reshape.hpp>

using namespace latent;
using B = cpu::reference;

template <class In, class L>
std::vector<float> run(const L& layer, std::vector<float> x, std::size_t batch, std::vector<float> params = {},
                       Mode mode = Mode::infer, Generator* rng = nullptr) {
    using Out = typename L::template output_shape<In>;
    std::vector<float> y(batch * Out::size), ws(workspace_size<L, In>(batch) + 1);
    ForwardArgs<float> a{x.data(), y.data(), params.data(), ws.data(), batch, mode, rng};
    layer.template forward<In, B, float>(a);
    return y;
}

TEST_CASE("Dense computes x W + b with W of shape (in, units)") {
    // W = [[1, 2, 3], [4, 5, 6]], b = [0.5, -1, 2]
    const auto y = run<Shape<2>>(Dense<3>{}, {1, 2, -1, 0}, 2, {1, 2, 3, 4, 5, 6, 0.5f, -1, 2});
    CHECK(y == std::vector<float>{9.5f, 11, 17, -0.5f, -3, -1});
    CHECK(Dense<3>::params<Shape<2>>[0].dim_vector() == std::vector<std::size_t>{2, 3});
    CHECK(Dense<3>::params<Shape<2>>[0].init == Init::glorot_uniform);
    CHECK(Dense<3>::params<Shape<2>>[1].init == Init::zeros);
}

TEST_CASE("activations") {
    CHECK(run<Shape<3>>(ReLU{}, {-1, 0, 2}, 1) == std::vector<float>{0, 0, 2});
    CHECK(run<Shape<2>>(LeakyReLU{}, {-1, 2}, 1) == std::vector<float>{-0.3f, 2});
    CHECK(LeakyReLU{}.negative_slope() == doctest::Approx(0.3));
    const auto s = run<Shape<2>>(Sigmoid{}, {0, -1000}, 1);
    CHECK(s[0] == doctest::Approx(0.5));
    CHECK(s[1] == 0.0f);
    CHECK(run<Shape<1>>(Tanh{}, {1}, 1)[0] == doctest::Approx(std::tanh(1.0)));
    const auto p = run<Shape<3>>(Softmax{}, {1000, 1000, 1000}, 1);  // no overflow
    for (float v : p) CHECK(v == doctest::Approx(1.0 / 3));
    const auto q = run<Shape<2, 2>>(Softmax{}, {0, std::log(3.0f), 5, 5}, 1);
    CHECK(q[0] == doctest::Approx(0.25));
    CHECK(q[1] == doctest::Approx(0.75));
    CHECK(q[2] == doctest::Approx(0.5));
}

// PyTorch's values (torch.nn.functional, float64) at x = -4, -1, -0.5, 0.25, 1, 4.
template <class L>
void check_against_pytorch(const L& layer, std::vector<double> expected) {
    CAPTURE(L::type_name);
    const auto y = run<Shape<6>>(layer, {-4, -1, -0.5f, 0.25f, 1, 4}, 1);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(y[i] == doctest::Approx(expected[i]).epsilon(2e-6));
    }
}

TEST_CASE("the further activations give PyTorch's values (Keras' where Keras has the function)") {
    check_against_pytorch(ELU{}, {-0.98168436111126578, -0.63212055882855767, -0.39346934028736658, 0.25, 1, 4});
    check_against_pytorch(ELU{0.5}, {-0.49084218055563289, -0.31606027941427884, -0.19673467014368329, 0.25, 1, 4});
    check_against_pytorch(SELU{}, {-1.7258986281898945, -1.1113307378125625, -0.69175818780287135, 0.26267524683887011,
                                   1.0507009873554805, 4.2028039494219218});
    check_against_pytorch(GELU{}, {-0.00012668496733247991, -0.15865525393145702, -0.15426876936299344,
                                   0.14967658142073093, 0.84134474606854304, 3.9998733150326675});
    check_against_pytorch(GELU{true}, {-7.0245948192271257e-05, -0.15880800939172324, -0.15428599017485606,
                                       0.149675350701685, 0.84119199060827676, 3.9999297540518075});
    check_against_pytorch(SiLU{}, {-0.071944839848366235, -0.2689414213699951, -0.1887703343990727, 0.14054412522144952,
                                   0.7310585786300049, 3.9280551601516338});
    check_against_pytorch(Softplus{}, {0.018149927917809738, 0.31326168751822286, 0.47407698418010669,
                                       0.82593941987884356, 1.3132616875182228, 4.0181499279178094});
    check_against_pytorch(Softsign{}, {-0.8, -0.5, -1.0 / 3, 0.2, 0.5, 0.8});
    check_against_pytorch(HardSigmoid{}, {0, 1.0 / 3, 5.0 / 12, 13.0 / 24, 2.0 / 3, 1});
    check_against_pytorch(HardSiLU{}, {0, -1.0 / 3, -5.0 / 24, 13.0 / 96, 2.0 / 3, 4});
    check_against_pytorch(Mish{}, {-0.07259174079202535, -0.30340146137410895, -0.22074377465173001,
                                   0.16957240966381759, 0.86509838826731034, 3.9974128069762385});
    check_against_pytorch(ReLU6{}, {0, 0, 0, 0.25, 1, 4});
    CHECK(run<Shape<2>>(ReLU6{}, {7, 6.5f}, 1) == std::vector<float>{6, 6});

    // Far out, nothing overflows or loses the value to rounding.
    const auto big = run<Shape<4>>(Softplus{}, {-100, 100, -1e-30f, 30}, 1);
    CHECK(big[0] == doctest::Approx(std::exp(-100.0)).epsilon(1e-6));
    CHECK(big[1] == 100.0f);
    CHECK(big[2] == doctest::Approx(std::log(2.0)));
    CHECK(big[3] == doctest::Approx(30.0));
    const auto silu_far = run<Shape<2>>(SiLU{}, {-200, 200}, 1);
    CHECK(silu_far == std::vector<float>{-0.0f, 200});
    CHECK(run<Shape<1>>(Mish{}, {-200}, 1)[0] == doctest::Approx(0.0));

    // The named forms' settings, names, and the GELU(const char*) overload naming, not approximating.
    CHECK(ELU{}.alpha() == 1.0);
    CHECK(ELU{}.alpha(0.2).alpha() == 0.2);
    CHECK_FALSE(GELU{}.approximate());
    CHECK(GELU{"g"}.name() == "g");
    CHECK_FALSE(GELU{"g"}.approximate());
    CHECK(std::is_same_v<Swish, SiLU>);
    CHECK(std::is_same_v<HardSwish, HardSiLU>);
}

TEST_CASE("Flatten and Reshape keep the element order") {
    const std::vector<float> x{1, 2, 3, 4, 5, 6};
    CHECK(run<Shape<2, 3>>(Flatten{}, x, 1) == x);
    CHECK(run<Shape<6>>(Reshape<3, 2>{}, x, 1) == x);
    static_assert(std::is_same_v<Flatten::output_shape<Shape<2, 3, 4>>, Shape<24>>);
    static_assert(accepts_v<Reshape<3, 2>, Shape<6>> && !accepts_v<Reshape<3, 2>, Shape<7>>);
}

TEST_CASE("Permute reorders the sample's axes as Keras' Permute(dims), axes numbered from 1") {
    // (2, 3) -> (3, 2): the transpose, per sample
    CHECK(run<Shape<2, 3>>(Permute<2, 1>{}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2) ==
          std::vector<float>{1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12});
    // (2, 3, 4) -> (4, 2, 3): y[k, i, j] = x[i, j, k]
    std::vector<float> x(24);
    for (std::size_t i = 0; i < 24; ++i) x[i] = static_cast<float>(i);
    const auto y = run<Shape<2, 3, 4>>(Permute<3, 1, 2>{}, x, 1);
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            for (std::size_t k = 0; k < 4; ++k) CHECK(y[(k * 2 + i) * 3 + j] == x[(i * 3 + j) * 4 + k]);
    CHECK(run<Shape<2, 3, 4>>(Permute<1, 2, 3>{}, x, 1) == x);  // the identity
    static_assert(std::is_same_v<Permute<3, 1, 2>::output_shape<Shape<2, 3, 4>>, Shape<4, 2, 3>>);
    static_assert(accepts_v<Permute<2, 1>, Shape<5, 3>> && !accepts_v<Permute<2, 1>, Shape<15>>);
    static_assert(std::is_same_v<Permute<2, 1>::requirement, rank<2>>);
    // Keras' numbering from 1: a 0-based or repeated axis is no permutation, a wiring mistake
    static_assert(!Permute<0, 1>::valid && !Permute<1, 1>::valid && !Permute<1, 3>::valid);
    static_assert(!accepts_v<Permute<0, 1>, Shape<5, 3>>);
    static_assert(std::is_same_v<Permute<0, 1>::requirement, permutation_of_axes_1_to<2>>);
    CHECK(Permute<2, 1>::default_name == "permute");
}

TEST_CASE("PReLU learns the slope below zero, one alpha per element or shared along Keras' shared_axes") {
    // no shared axes: alpha has the sample's shape (2, 3)
    CHECK(run<Shape<2, 3>>(PReLU<>{}, {-1, 2, -3, 4, -5, 0, 1, -2, 3, -4, 5, -6}, 2, {0.5f, 1, 2, 3, 4, 5}) ==
          std::vector<float>{-0.5f, 2, -6, 4, -20, 0, 1, -2, 3, -12, 5, -30});
    // shared_axes=[1]: alpha (1, 3), one per column
    CHECK(run<Shape<2, 3>>(PReLU<1>{}, {-1, 2, -3, -4, -5, 6}, 1, {0.5f, 1, 2}) ==
          std::vector<float>{-0.5f, 2, -6, -2, -5, 6});
    // shared_axes=[2]: alpha (2, 1), one per row
    CHECK(run<Shape<2, 3>>(PReLU<2>{}, {-1, 2, -3, -4, -5, 6}, 1, {0.5f, 2}) ==
          std::vector<float>{-0.5f, 2, -1.5f, -8, -10, 6});
    // an image with shared_axes=[1, 2]: one alpha per channel, Keras' shape (1, 1, C)
    CHECK(run<Shape<2, 1, 2>>(PReLU<1, 2>{}, {-1, -1, -2, 3}, 1, {0.25f, 0.5f}) ==
          std::vector<float>{-0.25f, -0.5f, -0.5f, 3});
    CHECK(PReLU<1, 2>::params<Shape<4, 5, 3>>[0].dim_vector() == std::vector<std::size_t>{1, 1, 3});
    CHECK(PReLU<2>::params<Shape<4, 5, 3>>[0].dim_vector() == std::vector<std::size_t>{4, 1, 3});
    CHECK(PReLU<>::params<Shape<4, 5, 3>>[0].dim_vector() == std::vector<std::size_t>{4, 5, 3});
    CHECK(PReLU<>::params<Shape<4>>[0].init == Init::zeros);  // Keras' alpha_initializer
    CHECK(PReLU<>::params<Shape<4>>[0].name == "alpha");
    CHECK(PReLU<>::default_name == "p_re_lu");  // Keras' name
    static_assert(PReLU<1, 2>::shares_leading_axes && !PReLU<2>::shares_leading_axes && PReLU<>::shares_leading_axes);
    // an axis the input does not have is a wiring mistake
    static_assert(accepts_v<PReLU<1, 2>, Shape<4, 5, 3>> && !accepts_v<PReLU<1, 2>, Shape<15>>);
    static_assert(std::is_same_v<PReLU<1, 3>::requirement, min_rank<3>>);
}

TEST_CASE("Dropout: inverted dropout in training, identity in inference") {
    std::vector<float> x(10000, 1.0f);
    CHECK(run<Shape<10000>>(Dropout{0.4}, x, 1) == x);  // inference: identity, deterministic
    Generator rng(3);
    const auto y = run<Shape<10000>>(Dropout{0.4}, x, 1, {}, Mode::train, &rng);
    std::size_t zeros = 0;
    for (float v : y) {
        if (v == 0.0f) ++zeros;
        else CHECK(v == doctest::Approx(1.0 / 0.6));
    }
    CHECK(zeros > 3700);
    CHECK(zeros < 4300);
    Generator again(3);
    CHECK(run<Shape<10000>>(Dropout{0.4}, x, 1, {}, Mode::train, &again) == y);  // same seed, same mask
}

TEST_CASE("Dropout rejects impossible rates") {
    CHECK_THROWS_AS(Dropout{1.0}, value_error);
    CHECK_THROWS_AS(Dropout{-0.1}, value_error);
    CHECK_THROWS_WITH_AS(Dropout{}.rate(std::nan("")), doctest::Contains("rate must be in [0, 1)"), value_error);
    Dropout d;
    CHECK(d.rate() == doctest::Approx(0.5));
    d.rate(0.25);
    CHECK(d.rate() == doctest::Approx(0.25));
}
