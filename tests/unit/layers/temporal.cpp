// The 1-D (temporal) layers: Keras' output lengths and parameter shapes, values against a
// convolution written from the definition and against their 2-D forms, gradient checks, and
// Keras' timeseries autoencoder (keras.io, "Timeseries anomaly detection") as a type.
#include <doctest/doctest.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include <latent/latent.hpp>

#include "support/gradient_check.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;

namespace {
template <class L, class In>
using out_t = typename L::template output_shape<In>;

// Keras' output lengths (conv_output_length, deconv_output_length, pooling).
static_assert(std::is_same_v<out_t<Conv1D<4, 3>, Shape<10, 2>>, Shape<8, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::same>, Shape<10, 2>>, Shape<10, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::valid, 2>, Shape<10, 2>>, Shape<4, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 7, Padding::same, 2>, Shape<288, 1>>, Shape<144, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::valid, 1, 4>, Shape<20, 2>>, Shape<12, 4>>);  // span 9
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::same, 1, 4>, Shape<20, 2>>, Shape<20, 4>>);
// causal: Keras' lengths, those of same (ceil(steps / stride)), with every padded step before.
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::causal>, Shape<10, 2>>, Shape<10, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::causal, 2>, Shape<10, 2>>, Shape<5, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 3, Padding::causal, 3>, Shape<10, 2>>, Shape<4, 4>>);
static_assert(std::is_same_v<out_t<Conv1D<4, 5, Padding::causal, 1, 8>, Shape<6, 2>>, Shape<6, 4>>);
static_assert(accepts_v<Conv1D<4, 5, Padding::causal>, Shape<1, 2>>);
static_assert(std::is_same_v<out_t<Conv1DTranspose<2, 3, Padding::valid, 2>, Shape<3, 4>>, Shape<7, 2>>);
static_assert(std::is_same_v<out_t<Conv1DTranspose<2, 7, Padding::same, 2>, Shape<72, 16>>, Shape<144, 2>>);
static_assert(std::is_same_v<out_t<Conv1DTranspose<2, 3, Padding::valid, 1, 3>, Shape<5, 4>>, Shape<11, 2>>);
static_assert(std::is_same_v<out_t<MaxPooling1D<>, Shape<9, 3>>, Shape<4, 3>>);
static_assert(std::is_same_v<out_t<MaxPool1D<2, 1, Padding::same>, Shape<9, 3>>, Shape<9, 3>>);
static_assert(std::is_same_v<out_t<AveragePooling1D<3>, Shape<9, 3>>, Shape<3, 3>>);
static_assert(std::is_same_v<out_t<UpSampling1D<3>, Shape<4, 2>>, Shape<12, 2>>);
static_assert(std::is_same_v<out_t<ZeroPadding1D<>, Shape<4, 2>>, Shape<6, 2>>);  // Keras' padding=1
static_assert(std::is_same_v<out_t<ZeroPadding1D<2, 0>, Shape<4, 2>>, Shape<6, 2>>);
static_assert(std::is_same_v<out_t<Cropping1D<>, Shape<4, 2>>, Shape<2, 2>>);  // Keras' cropping=(1, 1)
static_assert(std::is_same_v<out_t<Cropping1D<0, 3>, Shape<4, 2>>, Shape<1, 2>>);
static_assert(ZeroPadding1D<2, 3>::start == 2 && ZeroPadding1D<2, 3>::end == 3 && Cropping1D<4>::end == 4);

// The shape rules as predicates: a sequence is (steps, channels).
static_assert(accepts_v<Conv1D<8, 3>, Shape<3, 1>>);
static_assert(!accepts_v<Conv1D<8, 3>, Shape<2, 1>>);  // the kernel is longer than the sequence
static_assert(accepts_v<Conv1D<8, 3, Padding::same>, Shape<2, 1>>);
static_assert(!accepts_v<Conv1D<8, 3>, Shape<28, 28, 1>>);
static_assert(accepts_v<Conv1D<8, 3, Padding::valid, 1, 2>, Shape<5, 1>>);
static_assert(!accepts_v<Conv1D<8, 3, Padding::valid, 1, 2>, Shape<4, 1>>);  // the dilated span is 5 steps
static_assert(!accepts_v<MaxPooling1D<>, Shape<8>>);
static_assert(!accepts_v<Cropping1D<2>, Shape<4, 1>> && accepts_v<Cropping1D<2, 1>, Shape<4, 1>>);  // a step is left
static_assert(std::is_same_v<Cropping1D<2>::requirement, sequence_at_least<5>>);
static_assert(!accepts_v<ZeroPadding1D<>, Shape<4>> && !accepts_v<ZeroPadding1D<>, Shape<4, 4, 1>>);

// Keras' timeseries anomaly-detection autoencoder: Keras reports Total params: 9,505.
using TimeseriesAutoencoder =
    Sequential<Input<288, 1>, Conv1D<32, 7, Padding::same, 2>, ReLU, Dropout, Conv1D<16, 7, Padding::same, 2>, ReLU,
               Conv1DTranspose<16, 7, Padding::same, 2>, ReLU, Dropout, Conv1DTranspose<32, 7, Padding::same, 2>,
               ReLU, Conv1DTranspose<1, 7, Padding::same>>;
static_assert(std::is_same_v<TimeseriesAutoencoder::output_shape, Shape<288, 1>>);
static_assert(TimeseriesAutoencoder::param_count == 9505);
}  // namespace

TEST_CASE("Conv1D and Conv1DTranspose keep Keras' kernel shapes: (k, in, filters) and (k, filters, in)") {
    CHECK(Conv1D<4, 3>::params<Shape<10, 2>>[0].dim_vector() == std::vector<std::size_t>{3, 2, 4});
    CHECK(Conv1D<4, 3>::params<Shape<10, 2>>[1].dim_vector() == std::vector<std::size_t>{4});
    CHECK(Conv1DTranspose<5, 3>::params<Shape<10, 2>>[0].dim_vector() == std::vector<std::size_t>{3, 5, 2});
    // Glorot's fans as Keras counts them for a 1-D kernel: k * in and k * filters
    CHECK(Conv1D<4, 3>::params<Shape<10, 2>>[0].fan_in() == 6);
    CHECK(Conv1D<4, 3>::params<Shape<10, 2>>[0].fan_out() == 12);
    Sequential<Input<10, 2>, Conv1D<4, 3>> net;
    CHECK(net.parameters().slots()[0].name == "conv1d/kernel");
}

TEST_CASE("Conv1D agrees with a convolution written from the definition, in every padding, stride and dilation") {
    const auto check = [](auto layer, std::size_t pad_left) {
        using L = decltype(layer);
        using In = Shape<9, 3>;
        using Out = out_t<L, In>;
        constexpr std::size_t steps = 9, in = 3, filters = L::filters, k = L::kernel_size, s = L::stride,
                              d = L::dilation;
        Sequential<Input<9, 3>, L> net(4);
        auto w = net.parameters().values();
        Generator g(2);
        for (auto& v : w) v = static_cast<float>(g.uniform(-1, 1));
        Tensor<In> x(2);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-1, 1));
        const auto y = net.predict(x);
        for (std::size_t b = 0; b < 2; ++b)
            for (std::size_t t = 0; t < Out::dims[0]; ++t)
                for (std::size_t f = 0; f < filters; ++f) {
                    double want = w[k * in * filters + f];  // bias
                    for (std::size_t j = 0; j < k; ++j) {
                        const long step = static_cast<long>(t * s + j * d) - static_cast<long>(pad_left);
                        if (step < 0 || step >= static_cast<long>(steps)) continue;
                        for (std::size_t c = 0; c < in; ++c)
                            want += double(x[b * steps * in + static_cast<std::size_t>(step) * in + c]) *
                                    w[(j * in + c) * filters + f];
                    }
                    CHECK(y[(b * Out::dims[0] + t) * filters + f] == doctest::Approx(want).epsilon(1e-5));
                }
    };
    check(Conv1D<4, 3>{}, 0);
    check(Conv1D<2, 3, Padding::valid, 2>{}, 0);
    check(Conv1D<3, 3, Padding::same>{}, 1);
    check(Conv1D<2, 4, Padding::same, 2>{}, 1);  // Keras/TensorFlow put the odd padding at the end
    check(Conv1D<3, 3, Padding::valid, 1, 3>{}, 0);
    check(Conv1D<2, 3, Padding::same, 1, 2>{}, 2);  // span 5
    check(Conv1D<2, 2, Padding::same, 1, 3>{}, 1);  // span 4: padding 1 before, 2 after
    check(Conv1D<3, 3, Padding::causal>{}, 2);       // all the padding before
    check(Conv1D<2, 3, Padding::causal, 2>{}, 2);
    check(Conv1D<2, 3, Padding::causal, 1, 3>{}, 6);
}

TEST_CASE("causal Conv1D: no output reads a later step, and a dilated stack sees exactly its receptive field") {
    // A temporal convolutional network: kernels of 2 at dilations 1, 2, 4 see 1 + 1 + 2 + 4 = 8 steps.
    using Tcn = Sequential<Input<16, 2>, Conv1D<4, 2, Padding::causal>, ReLU, Conv1D<4, 2, Padding::causal, 1, 2>, ReLU,
                           Conv1D<3, 2, Padding::causal, 1, 4>>;
    static_assert(std::is_same_v<Tcn::output_shape, Shape<16, 3>>);
    Tcn net(3);
    Generator g(5);
    for (auto& v : net.parameters().values()) v = static_cast<float>(g.uniform(0.1, 1.0));  // every path positive
    Tensor<Shape<16, 2>> x(1);
    for (auto& v : x.values()) v = static_cast<float>(g.uniform(0.5, 1.0));
    const auto y = net.predict(x);
    for (const std::size_t step : {0, 7, 9, 15}) {
        CAPTURE(step);
        Tensor<Shape<16, 2>> changed = x;
        changed.sample(0)[step * 2] += 1.0f;
        const auto z = net.predict(changed);
        for (std::size_t t = 0; t < 16; ++t)
            for (std::size_t f = 0; f < 3; ++f) {
                CAPTURE(t);
                const bool sees = t >= step && t < step + 8;  // steps t - 7 ... t
                if (sees)
                    CHECK(z[t * 3 + f] != y[t * 3 + f]);
                else
                    CHECK(z[t * 3 + f] == y[t * 3 + f]);
            }
    }
}

TEST_CASE("the 1-D layers compute what their 2-D forms compute on a one-row image") {
    const auto same_bits = [](auto one_d, auto two_d) {
        using L1 = decltype(one_d);
        using L2 = decltype(two_d);
        Sequential<Input<8, 3>, L1> a(5);
        Sequential<Input<1, 8, 3>, L2> b(6);
        auto wa = a.parameters().values();
        auto wb = b.parameters().values();
        REQUIRE(wa.size() == wb.size());
        Generator g(3);
        for (auto& v : wa) v = static_cast<float>(g.uniform(-1, 1));
        std::copy(wa.begin(), wa.end(), wb.begin());
        Tensor<Shape<8, 3>> x(3);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(g.uniform(-1, 1));
        const Tensor<Shape<1, 8, 3>> x2(3, std::vector<float>(x.data(), x.data() + x.size()));
        const auto ya = a.predict(x);
        const auto yb = b.predict(x2);
        REQUIRE(ya.size() == yb.size());
        CHECK(std::equal(ya.data(), ya.data() + ya.size(), yb.data()));
    };
    same_bits(Conv1D<4, 3, Padding::same, 2>{}, Conv2D<4, Size2<1, 3>, Padding::same, Size2<1, 2>>{});
    same_bits(Conv1D<4, 3, Padding::same, 1, 2>{}, Conv2D<4, Size2<1, 3>, Padding::same, 1, Size2<1, 2>>{});
    same_bits(Conv1DTranspose<2, 3, Padding::valid, 2>{}, Conv2DTranspose<2, Size2<1, 3>, Padding::valid, Size2<1, 2>>{});
    same_bits(Conv1DTranspose<2, 3, Padding::same, 1, 2>{},
              Conv2DTranspose<2, Size2<1, 3>, Padding::same, 1, Size2<1, 2>>{});
    same_bits(MaxPooling1D<3, 2>{}, MaxPooling2D<Size2<1, 3>, Size2<1, 2>>{});
    same_bits(AveragePooling1D<3, 1, Padding::same>{}, AveragePooling2D<Size2<1, 3>, Size2<1, 1>, Padding::same>{});
    same_bits(UpSampling1D<2>{}, UpSampling2D<Size2<1, 2>>{});
    same_bits(ZeroPadding1D<2, 1>{}, ZeroPadding2D<Edges<0, 0, 2, 1>>{});
    same_bits(Cropping1D<1, 3>{}, Cropping2D<Edges<0, 0, 1, 3>>{});
}

TEST_CASE("ZeroPadding1D and Cropping1D: zero steps added at the ends, and steps cut off them") {
    Tensor<Shape<3, 2>> x(1, {1, 2, 3, 4, 5, 6});
    Sequential<Input<3, 2>, ZeroPadding1D<1, 2>> pad;
    const auto padded = pad.predict(x);
    CHECK(std::vector<float>(padded.data(), padded.data() + padded.size()) ==
          std::vector<float>{0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0});
    Sequential<Input<3, 2>, Cropping1D<1, 1>> crop;
    const auto cropped = crop.predict(x);
    CHECK(std::vector<float>(cropped.data(), cropped.data() + cropped.size()) == std::vector<float>{3, 4});
    CHECK(pad.layer<0>().name() == "zero_padding1d");
    CHECK(crop.layer<0>().name() == "cropping1d");
}

TEST_CASE("the 1-D layers' gradients") {
    CHECK(check_layer_gradients<Shape<7, 2>>(Conv1D<3, 3>{}) > 0);
    CHECK(check_layer_gradients<Shape<7, 2>>(Conv1D<2, 4, Padding::same, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<9, 2>>(Conv1D<2, 3, Padding::same, 1, 3>{}) > 0);
    CHECK(check_layer_gradients<Shape<9, 2>>(Conv1D<2, 3, Padding::causal, 1, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<8, 3>>(Conv1D<2, 3, Padding::causal, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3>>(Conv1DTranspose<2, 3, Padding::same, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<8, 2>>(MaxPooling1D<2>{}) > 0);
    CHECK(check_layer_gradients<Shape<8, 2>>(AveragePooling1D<3, 2, Padding::same>{}) > 0);
    CHECK(check_layer_gradients<Shape<3, 2>>(UpSampling1D<2>{}) > 0);
    CHECK(check_layer_gradients<Shape<5, 2>>(ZeroPadding1D<1, 2>{}) > 0);
    CHECK(check_layer_gradients<Shape<6, 2>>(Cropping1D<2, 1>{}) > 0);
}

TEST_CASE("GlobalMaxPooling1D and GlobalMaxPooling2D: each channel's maximum, and its gradient") {
    static_assert(std::is_same_v<out_t<GlobalMaxPooling1D, Shape<7, 3>>, Shape<3>>);
    static_assert(std::is_same_v<out_t<GlobalMaxPooling2D, Shape<4, 5, 3>>, Shape<3>>);
    static_assert(!accepts_v<GlobalMaxPooling1D, Shape<4, 5, 3>> && !accepts_v<GlobalMaxPooling2D, Shape<7, 3>>);
    // steps (1, -5), (4, 2), (-3, 0): maxima 4 and 2
    const auto y = Sequential<Input<3, 2>, GlobalMaxPooling1D>{}.predict(Tensor<Shape<3, 2>>(1, {1, -5, 4, 2, -3, 0}));
    CHECK(y[0] == 4.0f);
    CHECK(y[1] == 2.0f);
    const auto z = Sequential<Input<2, 2, 1>, GlobalMaxPooling2D>{}.predict(Tensor<Shape<2, 2, 1>>(1, {-1, -7, -0.5f, -2}));
    CHECK(z[0] == -0.5f);
    CHECK(check_layer_gradients<Shape<6, 3>>(GlobalMaxPooling1D{}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4, 2>>(GlobalMaxPooling2D{}) > 0);
}
