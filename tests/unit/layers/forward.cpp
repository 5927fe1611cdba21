// Forward values of the layers against hand-computed Keras results.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/layers/activation.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/dropout.hpp>
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

TEST_CASE("Flatten and Reshape keep the element order") {
    const std::vector<float> x{1, 2, 3, 4, 5, 6};
    CHECK(run<Shape<2, 3>>(Flatten{}, x, 1) == x);
    CHECK(run<Shape<6>>(Reshape<3, 2>{}, x, 1) == x);
    static_assert(std::is_same_v<Flatten::output_shape<Shape<2, 3, 4>>, Shape<24>>);
    static_assert(accepts_v<Reshape<3, 2>, Shape<6>> && !accepts_v<Reshape<3, 2>, Shape<7>>);
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
