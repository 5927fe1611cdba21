// Conv2D, Conv2DTranspose and DepthwiseConv2D: Keras' output sizes, values against a direct
// convolution written from the definition (dilated windows too), the adjoint relation between the
// first two, and gradient checks.
#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/layers/conv.hpp>

#include "support/gradient_check.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;
using B = cpu::reference;

namespace {

template <class L, class In>
using out_t = typename L::template output_shape<In>;

// Keras' output sizes (conv_output_length, deconv_output_length).
static_assert(std::is_same_v<out_t<Conv2D<4, 3>, Shape<28, 28, 1>>, Shape<26, 26, 4>>);
static_assert(std::is_same_v<out_t<Conv2D<4, 3, Padding::same>, Shape<28, 28, 1>>, Shape<28, 28, 4>>);
static_assert(std::is_same_v<out_t<Conv2D<4, 3, Padding::valid, 2>, Shape<7, 7, 3>>, Shape<3, 3, 4>>);
static_assert(std::is_same_v<out_t<Conv2D<4, 3, Padding::same, 2>, Shape<7, 7, 3>>, Shape<4, 4, 4>>);
static_assert(std::is_same_v<out_t<Conv2D<2, Size2<1, 3>, Padding::valid, Size2<2, 1>>, Shape<5, 5, 1>>, Shape<3, 3, 2>>);
static_assert(std::is_same_v<out_t<Conv2DTranspose<2, 3, Padding::valid, 2>, Shape<3, 3, 4>>, Shape<7, 7, 2>>);
static_assert(std::is_same_v<out_t<Conv2DTranspose<2, 3, Padding::same, 2>, Shape<3, 3, 4>>, Shape<6, 6, 2>>);
static_assert(std::is_same_v<out_t<Conv2DTranspose<2, 2, Padding::valid, 3>, Shape<3, 3, 1>>, Shape<9, 9, 2>>);
static_assert(std::is_same_v<out_t<Conv2DTranspose<1, 3>, Shape<5, 4, 2>>, Shape<7, 6, 1>>);
// Keras' Conv2DTranspose(2, 3, dilation_rate=2): the span 5, valid h + 5 - 1, same h.
static_assert(std::is_same_v<out_t<Conv2DTranspose<2, 3, Padding::valid, 1, 2>, Shape<4, 4, 3>>, Shape<8, 8, 2>>);
static_assert(std::is_same_v<out_t<Conv2DTranspose<2, 3, Padding::same, 1, 2>, Shape<4, 4, 3>>, Shape<4, 4, 2>>);

// The shape rules as predicates.
static_assert(accepts_v<Conv2D<8, 3>, Shape<3, 3, 1>>);
static_assert(!accepts_v<Conv2D<8, 3>, Shape<2, 5, 1>>);  // the kernel is taller than the image
static_assert(accepts_v<Conv2D<8, 3, Padding::same>, Shape<2, 2, 1>>);
static_assert(!accepts_v<Conv2D<8, 3>, Shape<784>>);
static_assert(!accepts_v<Conv2DTranspose<8, 3>, Shape<4, 4>>);

// Keras' parameter layout and counts: kernel (kh, kw, in, out) for Conv2D and (kh, kw, out, in)
// for Conv2DTranspose.
static_assert(layer_param_count<Conv2D<32, 3, Padding::same>, Shape<28, 28, 1>>() == 320);
static_assert(layer_param_count<Conv2D<64, 3, Padding::same>, Shape<14, 14, 32>>() == 18'496);
static_assert(layer_param_count<Conv2DTranspose<16, 3>, Shape<7, 7, 8>>() == 3 * 3 * 16 * 8 + 16);
static_assert(Conv2DTranspose<16, 3>::params<Shape<7, 7, 8>>[0].dims == std::array<std::size_t, 4>{3, 3, 16, 8});
// DepthwiseConv2D: kernel (kh, kw, in, multiplier), bias (in * multiplier); Keras:
// DepthwiseConv2D(3, depth_multiplier=2) on (8, 8, 3) has 3 * 3 * 3 * 2 + 6 = 60 parameters.
static_assert(layer_param_count<DepthwiseConv2D<3, Padding::valid, 1, 2>, Shape<8, 8, 3>>() == 60);
static_assert(DepthwiseConv2D<3>::params<Shape<8, 8, 3>>[0].dims == std::array<std::size_t, 4>{3, 3, 3, 1});
static_assert(std::is_same_v<out_t<DepthwiseConv2D<3>, Shape<8, 8, 3>>, Shape<6, 6, 3>>);
static_assert(std::is_same_v<out_t<DepthwiseConv2D<3, Padding::same, 2, 4>, Shape<7, 7, 3>>, Shape<4, 4, 12>>);
// SeparableConv2D: Keras: SeparableConv2D(8, 3, depth_multiplier=2) on (8, 8, 3) has
// 3 * 3 * 3 * 2 + 6 * 8 + 8 = 110 parameters.
static_assert(layer_param_count<SeparableConv2D<8, 3, Padding::same, 1, 2>, Shape<8, 8, 3>>() == 110);
static_assert(SeparableConv2D<8, 3>::params<Shape<8, 8, 3>>[1].dims == std::array<std::size_t, 4>{1, 1, 3, 8});
static_assert(std::is_same_v<out_t<SeparableConv2D<8, 3, Padding::same, 2>, Shape<7, 7, 3>>, Shape<4, 4, 8>>);
static_assert(!accepts_v<DepthwiseConv2D<3>, Shape<2, 5, 1>>);
static_assert(accepts_v<DepthwiseConv2D<3, Padding::same>, Shape<2, 2, 1>>);
// Dilation (Keras' dilation_rate): the output sizes of the kernel's span, (k - 1) * d + 1, as
// Keras' conv_output_length; same padding keeps the size; the weights are the undilated kernel's.
static_assert(std::is_same_v<out_t<Conv2D<4, 3, Padding::valid, 1, 2>, Shape<28, 28, 1>>, Shape<24, 24, 4>>);
static_assert(std::is_same_v<out_t<Conv2D<4, 3, Padding::same, 1, 3>, Shape<28, 28, 1>>, Shape<28, 28, 4>>);
static_assert(std::is_same_v<out_t<Conv2D<4, Size2<2, 3>, Padding::valid, 1, Size2<3, 2>>, Shape<9, 9, 1>>,
                             Shape<6, 5, 4>>);
static_assert(std::is_same_v<out_t<DepthwiseConv2D<3, Padding::valid, 1, 2, 2>, Shape<8, 8, 3>>, Shape<4, 4, 6>>);
static_assert(std::is_same_v<out_t<SeparableConv2D<8, 3, Padding::valid, 1, 1, 3>, Shape<8, 8, 3>>, Shape<2, 2, 8>>);
static_assert(layer_param_count<Conv2D<32, 3, Padding::same, 1, 2>, Shape<28, 28, 1>>() == 320);
static_assert(accepts_v<Conv2D<8, 3, Padding::valid, 1, 2>, Shape<5, 5, 1>>);
static_assert(!accepts_v<Conv2D<8, 3, Padding::valid, 1, 2>, Shape<4, 5, 1>>);  // the span (5) is taller
static_assert(accepts_v<Conv2D<8, 3, Padding::same, 1, 4>, Shape<2, 2, 1>>);
static_assert(!accepts_v<DepthwiseConv2D<3, Padding::valid, 1, 1, 3>, Shape<7, 6, 1>>);

// A direct convolution from the definition (TensorFlow's padding: the smaller half first), the
// taps dh rows and dw columns apart.
std::vector<double> direct_conv(const std::vector<double>& x, std::size_t batch, std::size_t h, std::size_t w,
                                std::size_t c, const std::vector<double>& kernel, const std::vector<double>& bias,
                                std::size_t f, std::size_t kh, std::size_t kw, std::size_t sh, std::size_t sw,
                                bool same, std::size_t& oh, std::size_t& ow, std::size_t dh = 1, std::size_t dw = 1) {
    const std::size_t span_h = (kh - 1) * dh + 1, span_w = (kw - 1) * dw + 1;
    oh = same ? (h + sh - 1) / sh : (h - span_h) / sh + 1;
    ow = same ? (w + sw - 1) / sw : (w - span_w) / sw + 1;
    const long pt = same ? std::max<long>(0, long((oh - 1) * sh + span_h) - long(h)) / 2 : 0;
    const long pl = same ? std::max<long>(0, long((ow - 1) * sw + span_w) - long(w)) / 2 : 0;
    std::vector<double> y(batch * oh * ow * f);
    for (std::size_t n = 0; n < batch; ++n)
        for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j)
                for (std::size_t o = 0; o < f; ++o) {
                    double acc = bias[o];
                    for (std::size_t a = 0; a < kh; ++a)
                        for (std::size_t b = 0; b < kw; ++b) {
                            const long yi = long(i * sh + a * dh) - pt, xj = long(j * sw + b * dw) - pl;
                            if (yi < 0 || xj < 0 || yi >= long(h) || xj >= long(w)) continue;
                            for (std::size_t ch = 0; ch < c; ++ch)
                                acc += x[((n * h + std::size_t(yi)) * w + std::size_t(xj)) * c + ch] *
                                       kernel[((a * kw + b) * c + ch) * f + o];
                        }
                    y[((n * oh + i) * ow + j) * f + o] = acc;
                }
    return y;
}

template <class In, class L>
std::vector<double> run(const L& layer, std::vector<double> x, std::size_t batch, std::vector<double> params) {
    using Out = out_t<L, In>;
    std::vector<double> y(batch * Out::size), ws(workspace_size<L, In>(batch) + 1);
    ForwardArgs<double> a{x.data(), y.data(), params.data(), ws.data(), batch, Mode::infer, nullptr};
    layer.template forward<In, B, double>(a);
    return y;
}

template <class In, class L>
void check_against_direct(const L& layer, std::size_t batch) {
    Generator gen(11);
    std::vector<double> x(batch * In::size);
    for (auto& v : x) v = gen.uniform(-1.0, 1.0);
    constexpr auto specs = L::template params<In>;
    std::vector<double> kernel(specs[0].size()), bias(specs[1].size());
    for (auto& v : kernel) v = gen.uniform(-1.0, 1.0);
    for (auto& v : bias) v = gen.uniform(-1.0, 1.0);
    std::vector<double> params = kernel;
    params.insert(params.end(), bias.begin(), bias.end());
    std::size_t oh = 0, ow = 0;
    const auto expected = direct_conv(x, batch, dim_v<In, 0>, dim_v<In, 1>, dim_v<In, 2>, kernel, bias, L::filters,
                                      L::kernel.h, L::kernel.w, L::stride.h, L::stride.w, L::padding == Padding::same,
                                      oh, ow, L::dilation.h, L::dilation.w);
    using Out = out_t<L, In>;
    REQUIRE(oh == dim_v<Out, 0>);
    REQUIRE(ow == dim_v<Out, 1>);
    const auto y = run<In>(layer, x, batch, params);
    REQUIRE(y.size() == expected.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
}

}  // namespace

TEST_CASE("Conv2D computes a 2x2 valid convolution by hand") {
    // One 3x3 single-channel image, one 2x2 filter [[1, 0], [0, -1]], bias 0.5.
    const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
    const auto y = run<Shape<3, 3, 1>>(Conv2D<1, 2>{}, x, 1, {1, 0, 0, -1, 0.5});
    CHECK(y == std::vector<double>{1 - 5 + 0.5, 2 - 6 + 0.5, 4 - 8 + 0.5, 5 - 9 + 0.5});
}

TEST_CASE("Conv2D agrees with a direct convolution") {
    check_against_direct<Shape<5, 6, 2>>(Conv2D<3, 3>{}, 2);
    check_against_direct<Shape<5, 6, 2>>(Conv2D<3, 3, Padding::same>{}, 2);
    check_against_direct<Shape<7, 7, 3>>(Conv2D<4, 3, Padding::same, 2>{}, 1);
    check_against_direct<Shape<8, 7, 1>>(Conv2D<2, Size2<2, 4>, Padding::same, Size2<3, 2>>{}, 2);
    check_against_direct<Shape<6, 6, 2>>(Conv2D<2, 1>{}, 1);
}

TEST_CASE("a dilated Conv2D reads every d-th row and column, as a direct convolution does") {
    // By hand: a 2x2 kernel at dilation 2 on a 3x3 image sums its four corners.
    const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK(run<Shape<3, 3, 1>>(Conv2D<1, 2, Padding::valid, 1, 2>{}, x, 1, {1, 10, 100, 1000, 0.5}) ==
          std::vector<double>{1 + 30 + 700 + 9000 + 0.5});
    check_against_direct<Shape<9, 8, 2>>(Conv2D<3, 3, Padding::valid, 1, 2>{}, 2);
    check_against_direct<Shape<9, 8, 2>>(Conv2D<3, 3, Padding::same, 1, 2>{}, 2);
    check_against_direct<Shape<10, 9, 3>>(Conv2D<2, Size2<2, 3>, Padding::same, 1, Size2<3, 2>>{}, 1);
    check_against_direct<Shape<6, 7, 1>>(Conv2D<2, 3, Padding::same, 1, 4>{}, 2);  // taps beyond the image
}

TEST_CASE("DepthwiseConv2D is a Conv2D whose kernel joins each input channel to its own outputs only") {
    // The depthwise kernel D (kh, kw, c, m) spread into a full one, K[a, b, ch, c * m + k] =
    // D[a, b, c, k] where ch == c and 0 elsewhere, then the direct convolution.
    auto check = []<class L, class In>(L layer, In, std::size_t batch) {
        constexpr std::size_t c = dim_v<In, 2>, m = L::depth_multiplier, f = c * m;
        Generator gen(13);
        std::vector<double> x(batch * In::size);
        for (auto& v : x) v = gen.uniform(-1.0, 1.0);
        constexpr auto specs = L::template params<In>;
        std::vector<double> params(specs[0].size() + specs[1].size());
        for (auto& v : params) v = gen.uniform(-1.0, 1.0);
        std::vector<double> full(L::kernel.h * L::kernel.w * c * f, 0.0);
        for (std::size_t ab = 0; ab < L::kernel.h * L::kernel.w; ++ab)
            for (std::size_t ch = 0; ch < c; ++ch)
                for (std::size_t k = 0; k < m; ++k)
                    full[(ab * c + ch) * f + ch * m + k] = params[(ab * c + ch) * m + k];
        const std::vector<double> bias(params.begin() + long(specs[0].size()), params.end());
        std::size_t oh = 0, ow = 0;
        const auto expected = direct_conv(x, batch, dim_v<In, 0>, dim_v<In, 1>, c, full, bias, f, L::kernel.h,
                                          L::kernel.w, L::stride.h, L::stride.w, L::padding == Padding::same, oh, ow,
                                          L::dilation.h, L::dilation.w);
        const auto y = run<In>(layer, x, batch, params);
        REQUIRE(y.size() == expected.size());
        for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
    };
    check(DepthwiseConv2D<3>{}, Shape<5, 6, 2>{}, 2);
    check(DepthwiseConv2D<3, Padding::same, 1, 3>{}, Shape<5, 6, 2>{}, 2);
    check(DepthwiseConv2D<3, Padding::same, 2, 2>{}, Shape<7, 7, 3>{}, 1);
    check(DepthwiseConv2D<Size2<2, 4>, Padding::same, Size2<3, 2>>{}, Shape<8, 7, 2>{}, 2);
    check(DepthwiseConv2D<3, Padding::valid, 1, 2, 2>{}, Shape<7, 8, 2>{}, 2);
    check(DepthwiseConv2D<Size2<3, 2>, Padding::same, 1, 1, Size2<2, 3>>{}, Shape<6, 7, 3>{}, 1);
}

TEST_CASE("SeparableConv2D is a DepthwiseConv2D without bias, then a 1x1 Conv2D") {
    auto check = []<class L, class In>(L layer, In, std::size_t batch) {
        using Depthwise = DepthwiseConv2D<L::kernel_argument, L::padding, L::stride_argument, L::depth_multiplier,
                                          L::dilation_argument>;
        using Mid = out_t<Depthwise, In>;
        constexpr auto specs = L::template params<In>;
        Generator gen(17);
        std::vector<double> x(batch * In::size), params(specs[0].size() + specs[1].size() + specs[2].size());
        for (auto& v : x) v = gen.uniform(-1.0, 1.0);
        for (auto& v : params) v = gen.uniform(-1.0, 1.0);
        const auto at = [&](std::size_t i) { return params.begin() + long(i); };
        std::vector<double> depthwise(at(0), at(specs[0].size()));
        depthwise.resize(depthwise.size() + dim_v<Mid, 2>, 0.0);  // no bias
        const std::vector<double> pointwise(at(specs[0].size()), params.end());
        const auto expected = run<Mid>(Conv2D<L::filters, 1>{}, run<In>(Depthwise{}, x, batch, depthwise), batch,
                                       pointwise);
        const auto y = run<In>(layer, x, batch, params);
        REQUIRE(y.size() == expected.size());
        for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-12));
    };
    check(SeparableConv2D<4, 3>{}, Shape<5, 6, 2>{}, 2);
    check(SeparableConv2D<5, 3, Padding::same, 2, 3>{}, Shape<7, 7, 3>{}, 2);
    check(SeparableConv2D<3, 3, Padding::same, 1, 2, 2>{}, Shape<6, 7, 2>{}, 2);
}

TEST_CASE("Conv2DTranspose is the adjoint of Conv2D with the same kernel") {
    // <conv(x), z> == <x, conv_transpose(z)> with zero biases, for every padding and stride:
    // this pins the transpose's output size and padding to Keras' conv rules.
    auto check = []<class ConvL, class TransL, class In>(ConvL conv, TransL trans, In) {
        using Mid = out_t<ConvL, In>;
        static_assert(std::is_same_v<out_t<TransL, Mid>, In>);
        Generator gen(5);
        const std::size_t batch = 2;
        std::vector<double> x(batch * In::size), z(batch * Mid::size);
        for (auto& v : x) v = gen.uniform(-1.0, 1.0);
        for (auto& v : z) v = gen.uniform(-1.0, 1.0);
        constexpr auto specs = ConvL::template params<In>;
        std::vector<double> params(specs[0].size() + specs[1].size(), 0.0);
        for (std::size_t i = 0; i < specs[0].size(); ++i) params[i] = gen.uniform(-1.0, 1.0);
        std::vector<double> trans_params(specs[0].size() + dim_v<In, 2>, 0.0);
        std::copy(params.begin(), params.begin() + long(specs[0].size()), trans_params.begin());
        const auto cx = run<In>(conv, x, batch, params);
        const auto tz = run<Mid>(trans, z, batch, trans_params);
        double lhs = 0, rhs = 0;
        for (std::size_t i = 0; i < z.size(); ++i) lhs += cx[i] * z[i];
        for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * tz[i];
        CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
        CHECK(lhs != 0.0);
    };
    check(Conv2D<3, 3>{}, Conv2DTranspose<2, 3>{}, Shape<6, 5, 2>{});
    check(Conv2D<3, 3, Padding::same>{}, Conv2DTranspose<2, 3, Padding::same>{}, Shape<6, 5, 2>{});
    check(Conv2D<3, 3, Padding::valid, 2>{}, Conv2DTranspose<1, 3, Padding::valid, 2>{}, Shape<7, 7, 1>{});
    check(Conv2D<2, 3, Padding::same, 2>{}, Conv2DTranspose<2, 3, Padding::same, 2>{}, Shape<6, 8, 2>{});
    check(Conv2D<2, Size2<2, 3>, Padding::valid, Size2<2, 3>>{}, Conv2DTranspose<1, Size2<2, 3>, Padding::valid, Size2<2, 3>>{},
          Shape<4, 6, 1>{});
    // Dilated: the transpose of the dilated convolution, sized by Keras' rule for the span.
    check(Conv2D<3, 3, Padding::valid, 1, 2>{}, Conv2DTranspose<2, 3, Padding::valid, 1, 2>{}, Shape<8, 7, 2>{});
    check(Conv2D<2, 3, Padding::same, 1, Size2<2, 3>>{}, Conv2DTranspose<2, 3, Padding::same, 1, Size2<2, 3>>{},
          Shape<6, 8, 2>{});
}

TEST_CASE("Conv2DTranspose adds its bias everywhere, also where no input reaches") {
    // Kernel 1, stride 2, valid: output 2h x 2w, only even positions receive input.
    const auto y = run<Shape<1, 1, 1>>(Conv2DTranspose<1, 1, Padding::valid, 2>{}, {3.0}, 1, {2.0, 0.25});
    CHECK(y == std::vector<double>{6.25, 0.25, 0.25, 0.25});
}

TEST_CASE("Conv2D gradients") {
    CHECK(check_layer_gradients<Shape<5, 5, 2>>(Conv2D<3, 3>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<5, 4, 2>>(Conv2D<2, 3, Padding::same>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<7, 6, 1>>(Conv2D<2, 3, Padding::same, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<6, 7, 2>>(Conv2D<2, Size2<2, 3>, Padding::valid, Size2<2, 1>>{}) > 0);
    CHECK(check_layer_gradients<Shape<7, 6, 2>>(Conv2D<2, 3, Padding::valid, 1, 2>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<6, 7, 2>>(Conv2D<2, 3, Padding::same, 1, Size2<2, 3>>{}) > 0);
}

TEST_CASE("DepthwiseConv2D gradients") {
    CHECK(check_layer_gradients<Shape<5, 5, 2>>(DepthwiseConv2D<3>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<5, 4, 2>>(DepthwiseConv2D<3, Padding::same, 1, 2>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<7, 6, 3>>(DepthwiseConv2D<3, Padding::same, 2, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<6, 7, 2>>(DepthwiseConv2D<Size2<2, 3>, Padding::valid, Size2<2, 1>>{}) >
          0);
    CHECK(check_layer_gradients<Shape<7, 6, 2>>(DepthwiseConv2D<3, Padding::valid, 1, 2, 2>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<6, 7, 3>>(DepthwiseConv2D<3, Padding::same, 1, 1, Size2<3, 2>>{}) > 0);
}

TEST_CASE("SeparableConv2D gradients") {
    CHECK(check_layer_gradients<Shape<5, 5, 2>>(SeparableConv2D<3, 3>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<6, 5, 2>>(SeparableConv2D<2, 3, Padding::same, 2, 2>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<6, 7, 2>>(SeparableConv2D<2, 3, Padding::same, 1, 1, 2>{}) > 0);
}

TEST_CASE("Conv2DTranspose gradients") {
    CHECK(check_layer_gradients<Shape<3, 3, 2>>(Conv2DTranspose<2, 3>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4, 2>>(Conv2DTranspose<2, 3, Padding::same, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<3, 2, 1>>(Conv2DTranspose<2, Size2<2, 3>, Padding::valid, Size2<3, 2>>{}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4, 2>>(Conv2DTranspose<2, 3, Padding::valid, 1, 2>{}, {.batch = 2}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3, 1>>(Conv2DTranspose<2, 3, Padding::same, 1, Size2<2, 1>>{}) > 0);
}

// What the CUDA backend's cuDNN path relies on: where symmetric_padding_suffices, the window's
// patches are those of a valid window over the image padded by pad_top / pad_left on both
// sides (how cuDNN pads); where it does not, that window has another output extent.
TEST_CASE("symmetric_padding_suffices: the window equals a valid one over the symmetrically padded image") {
    static_assert(symmetric_padding_suffices(make_window(28, 28, 1, {3, 3}, {1, 1}, Padding::same)));
    static_assert(symmetric_padding_suffices(make_window(28, 28, 32, {3, 3}, {1, 1}, Padding::valid)));
    static_assert(symmetric_padding_suffices(make_window(7, 7, 3, {3, 3}, {2, 2}, Padding::same)));  // pads 1 and 1
    static_assert(!symmetric_padding_suffices(make_window(28, 28, 1, {3, 3}, {2, 2}, Padding::same)));  // 0 and 1
    static_assert(!symmetric_padding_suffices(make_window(9, 8, 3, {3, 2}, {1, 1}, Padding::same)));    // width 0 and 1
    std::size_t taken = 0, declined = 0;
    for (const Padding padding : {Padding::valid, Padding::same})
        for (std::size_t in = 1; in <= 9; ++in)
            for (std::size_t kernel = 1; kernel <= 4; ++kernel)
                for (std::size_t stride = 1; stride <= 3; ++stride) {
                    if (padding == Padding::valid && kernel > in) continue;
                    const Window2D g = make_window(in, in + 1, 2, {kernel, kernel + 1 > in + 1 ? 1 : kernel + 1},
                                                   {stride, stride}, padding);
                    Window2D sym = g;  // valid, over the image padded by pad_top / pad_left on both sides
                    sym.in_h = g.in_h + 2 * g.pad_top;
                    sym.in_w = g.in_w + 2 * g.pad_left;
                    sym.pad_top = sym.pad_left = 0;
                    const bool fits = sym.in_h >= g.kernel_h && sym.in_w >= g.kernel_w;
                    sym.out_h = fits ? (sym.in_h - g.kernel_h) / g.stride_h + 1 : 0;
                    sym.out_w = fits ? (sym.in_w - g.kernel_w) / g.stride_w + 1 : 0;
                    INFO("in " << g.in_h << "x" << g.in_w << ", kernel " << g.kernel_h << "x" << g.kernel_w
                               << ", stride " << stride << ", padding " << (padding == Padding::same ? "same" : "valid"));
                    const bool same_extent = sym.out_h == g.out_h && sym.out_w == g.out_w;
                    REQUIRE(symmetric_padding_suffices(g) == same_extent);
                    if (!same_extent) {
                        ++declined;
                        continue;
                    }
                    ++taken;
                    const std::size_t batch = 2;
                    std::vector<double> x(batch * g.in_size()), padded(batch * sym.in_size(), 0.0);
                    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
                    for (std::size_t n = 0; n < batch; ++n)
                        for (std::size_t r = 0; r < g.in_h; ++r)
                            for (std::size_t c = 0; c < g.in_w * g.channels; ++c)
                                padded[n * sym.in_size() + ((r + g.pad_top) * sym.in_w + g.pad_left) * g.channels + c] =
                                    x[n * g.in_size() + r * g.in_w * g.channels + c];
                    std::vector<double> cols(batch * g.positions() * g.patch_size()), sym_cols(cols.size());
                    ops::im2col<B>(g, batch, x.data(), cols.data());
                    ops::im2col<B>(sym, batch, padded.data(), sym_cols.data());
                    CHECK(cols == sym_cols);
                }
    CHECK(taken > 50);
    CHECK(declined > 20);
}
