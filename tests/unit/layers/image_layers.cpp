// The image layers without parameters (pooling, upsampling, zero padding, cropping, resizing,
// center crops): forward values against hand-computed Keras results, shape rules, gradients,
// and use in a Sequential.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/latent.hpp>
#include <latent/layers/padding.hpp>
#include <latent/layers/pool.hpp>
#include <latent/layers/upsample.hpp>

#include "support/gradient_check.hpp"
#include "support/tf_resize.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;
using latent::testing::tf_resize_window;

namespace {

using B = cpu::reference;

template <class In, class L>
std::vector<double> run(const L& layer, std::vector<double> x, std::size_t batch = 1) {
    using Out = typename L::template output_shape<In>;
    REQUIRE(x.size() == batch * In::size);
    std::vector<double> y(batch * Out::size, -99.0), workspace(batch * L::template workspace_per_sample<In> + 1);
    ForwardArgs<double> a{x.data(), y.data(), nullptr, workspace.data(), batch, Mode::infer, nullptr};
    layer.template forward<In, B, double>(a);
    return y;
}

void check_values(const std::vector<double>& got, const std::vector<double>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == doctest::Approx(expected[i]));
    }
}

// 1, 2, ..., n (or first, first + 1, ...): images whose pixels can be told apart by eye.
std::vector<double> counting(std::size_t n, double first = 1) {
    std::vector<double> v(n);
    std::iota(v.begin(), v.end(), first);
    return v;
}

}  // namespace

// ---- shape rules, as compile-time predicates ---------------------------------------------

static_assert(std::is_same_v<MaxPooling2D<>, MaxPooling2D<2, 2, Padding::valid>>);
static_assert(std::is_same_v<MaxPool2D<3>, MaxPooling2D<3, 3>>);
static_assert(std::is_same_v<AvgPool2D<2, 1, Padding::same>, AveragePooling2D<2, 1, Padding::same>>);
static_assert(MaxPooling2D<Size2<2, 3>>::strides == Size2<2, 3>);  // the stride defaults to the pool

static_assert(std::is_same_v<MaxPooling2D<2>::output_shape<Shape<4, 4, 3>>, Shape<2, 2, 3>>);
static_assert(std::is_same_v<MaxPooling2D<2>::output_shape<Shape<5, 5, 1>>, Shape<2, 2, 1>>);  // floor
static_assert(std::is_same_v<MaxPooling2D<2, 2, Padding::same>::output_shape<Shape<5, 5, 1>>, Shape<3, 3, 1>>);
static_assert(std::is_same_v<MaxPooling2D<Size2<2, 3>, Size2<1, 2>>::output_shape<Shape<3, 5, 1>>, Shape<2, 2, 1>>);
static_assert(std::is_same_v<AveragePooling2D<3, 1, Padding::same>::output_shape<Shape<4, 5, 2>>, Shape<4, 5, 2>>);
static_assert(std::is_same_v<GlobalAveragePooling2D::output_shape<Shape<7, 5, 3>>, Shape<3>>);
static_assert(std::is_same_v<UpSampling2D<>::output_shape<Shape<3, 4, 2>>, Shape<6, 8, 2>>);
static_assert(std::is_same_v<UpSampling2D<Size2<2, 3>>::output_shape<Shape<3, 4, 2>>, Shape<6, 12, 2>>);
static_assert(std::is_same_v<ZeroPadding2D<>::output_shape<Shape<3, 4, 2>>, Shape<5, 6, 2>>);
static_assert(std::is_same_v<ZeroPadding2D<Size2<1, 0>>::output_shape<Shape<3, 4, 2>>, Shape<5, 4, 2>>);
static_assert(std::is_same_v<ZeroPadding2D<Edges<1, 0, 2, 3>>::output_shape<Shape<3, 4, 2>>, Shape<4, 9, 2>>);
static_assert(std::is_same_v<Cropping2D<>::output_shape<Shape<3, 4, 2>>, Shape<3, 4, 2>>);
static_assert(std::is_same_v<Cropping2D<1>::output_shape<Shape<3, 4, 2>>, Shape<1, 2, 2>>);
static_assert(std::is_same_v<Cropping2D<Size2<0, 1>>::output_shape<Shape<3, 4, 2>>, Shape<3, 2, 2>>);
static_assert(std::is_same_v<Cropping2D<Edges<2, 2, 4, 4>>::output_shape<Shape<28, 28, 1>>, Shape<24, 20, 1>>);
static_assert(ZeroPadding2D<Size2<1, 2>>::padding == Edges<1, 1, 2, 2>);
static_assert(Cropping2D<3>::cropping == Edges2D{3, 3, 3, 3});

// A valid pool must fit; a same-padded one fits anything; every image layer needs rank 3.
static_assert(accepts_v<MaxPooling2D<3>, Shape<3, 3, 1>>);
static_assert(!accepts_v<MaxPooling2D<3>, Shape<2, 2, 1>>);
static_assert(!accepts_v<MaxPooling2D<3>, Shape<3, 2, 1>>);
static_assert(!accepts_v<MaxPooling2D<Size2<1, 4>>, Shape<3, 3, 1>>);
static_assert(accepts_v<MaxPooling2D<3, 3, Padding::same>, Shape<2, 2, 1>>);
static_assert(!accepts_v<AveragePooling2D<3>, Shape<2, 2, 1>>);
static_assert(accepts_v<AveragePooling2D<3, 3, Padding::same>, Shape<2, 2, 1>>);
static_assert(!accepts_v<MaxPooling2D<2>, Shape<16>> && !accepts_v<AveragePooling2D<2>, Shape<4, 4>>);
static_assert(accepts_v<GlobalAveragePooling2D, Shape<1, 1, 4>> && !accepts_v<GlobalAveragePooling2D, Shape<4>>);
static_assert(accepts_v<UpSampling2D<>, Shape<1, 1, 1>> && !accepts_v<UpSampling2D<>, Shape<4>>);
static_assert(accepts_v<ZeroPadding2D<>, Shape<1, 1, 1>> && !accepts_v<ZeroPadding2D<>, Shape<4>>);
static_assert(accepts_v<Cropping2D<Edges<1, 1, 0, 0>>, Shape<3, 1, 1>>);
static_assert(!accepts_v<Cropping2D<Edges<1, 1, 0, 0>>, Shape<2, 1, 1>>);
static_assert(!accepts_v<Cropping2D<Edges<0, 0, 2, 1>>, Shape<5, 3, 1>>);
static_assert(!accepts_v<Cropping2D<>, Shape<4>>);

// What a refusal is reported as.
static_assert(std::is_same_v<MaxPooling2D<3>::requirement, image_at_least<3, 3>>);
static_assert(std::is_same_v<AveragePooling2D<Size2<2, 5>, 1>::requirement, image_at_least<2, 5>>);
static_assert(std::is_same_v<MaxPooling2D<3, 3, Padding::same>::requirement, rank<3>>);
static_assert(std::is_same_v<Cropping2D<Edges<2, 2, 4, 6>>::requirement, image_at_least<5, 11>>);
static_assert(std::is_same_v<UpSampling2D<>::requirement, rank<3>>);

// After a refusal the output shape is a plausible stand-in (never a 0 extent), so later layers
// stay quiet.
static_assert(std::is_same_v<MaxPooling2D<3>::output_shape<Shape<2, 2, 5>>, Shape<1, 1, 5>>);
static_assert(std::is_same_v<MaxPooling2D<3>::output_shape<Shape<16>>, Shape<1, 1, 16>>);
static_assert(std::is_same_v<Cropping2D<2>::output_shape<Shape<4, 4, 3>>, Shape<1, 1, 3>>);
static_assert(std::is_same_v<GlobalAveragePooling2D::output_shape<Shape<6>>, Shape<6>>);

// Counts: no parameters; comparisons or additions per output.
static_assert(MaxPooling2D<2>::params<Shape<4, 4, 2>>.empty() && UpSampling2D<>::params<Shape<4, 4, 2>>.empty());
static_assert(MaxPooling2D<2>::flops_per_sample<Shape<4, 4, 2>> == 2 * 2 * 2 * 3);
static_assert(AveragePooling2D<2>::flops_per_sample<Shape<4, 4, 2>> == 2 * 2 * 2 * 4);
static_assert(GlobalAveragePooling2D::flops_per_sample<Shape<4, 4, 2>> == 32);

TEST_CASE("image layers carry Keras' class and default names") {
    CHECK(MaxPooling2D<>::type_name == "MaxPooling2D");
    CHECK(MaxPooling2D<>::default_name == "max_pooling2d");
    CHECK(AveragePooling2D<>::type_name == "AveragePooling2D");
    CHECK(AveragePooling2D<>::default_name == "average_pooling2d");
    CHECK(GlobalAveragePooling2D::type_name == "GlobalAveragePooling2D");
    CHECK(GlobalAveragePooling2D::default_name == "global_average_pooling2d");
    CHECK(UpSampling2D<>::type_name == "UpSampling2D");
    CHECK(UpSampling2D<>::default_name == "up_sampling2d");
    CHECK(ZeroPadding2D<>::type_name == "ZeroPadding2D");
    CHECK(ZeroPadding2D<>::default_name == "zero_padding2d");
    CHECK(Cropping2D<>::type_name == "Cropping2D");
    CHECK(Cropping2D<>::default_name == "cropping2d");
    CHECK(MaxPooling2D<>{"pool"}.name() == "pool");
}

// ---- forward values ----------------------------------------------------------------------

TEST_CASE("MaxPooling2D takes each window's maximum, channel by channel") {
    // Channel 0 holds 1..16 row by row, channel 1 its negation (so the maximum is -minimum).
    std::vector<double> x;
    for (double v = 1; v <= 16; ++v) x.insert(x.end(), {v, -v});
    check_values(run<Shape<4, 4, 2>>(MaxPooling2D<2>{}, x), {6, -1, 8, -3, 14, -9, 16, -11});

    SUBCASE("a batch pools each image on its own") {
        std::vector<double> two = x;
        for (double v : x) two.push_back(v + 100);
        check_values(run<Shape<4, 4, 2>>(MaxPooling2D<2>{}, two, 2),
                     {6, -1, 8, -3, 14, -9, 16, -11, 106, 99, 108, 97, 114, 91, 116, 89});
    }
}

TEST_CASE("pooling with Size2 windows and a stride smaller than the window") {
    // [[0 1 2 3 4], [5 6 7 8 9], [10 11 12 13 14]]: 2 x 3 windows, one row down, two columns across.
    const auto x = counting(15, 0);
    check_values(run<Shape<3, 5, 1>>(MaxPooling2D<Size2<2, 3>, Size2<1, 2>>{}, x), {7, 9, 12, 14});
    check_values(run<Shape<3, 5, 1>>(AveragePooling2D<Size2<2, 3>, Size2<1, 2>>{}, x), {3.5, 5.5, 8.5, 10.5});
    // A 1 x 2 pool with stride 1: overlapping windows along the rows only.
    check_values(run<Shape<2, 3, 1>>(AvgPool2D<Size2<1, 2>, 1>{}, counting(6)), {1.5, 2.5, 4.5, 5.5});
}

TEST_CASE("same padding: padded positions are neither a maximum nor counted in a mean (Keras / TF)") {
    // [[1 2 3], [4 5 6], [7 8 9]], pool 2 stride 2: TF pads one row below and one column right.
    check_values(run<Shape<3, 3, 1>>(AveragePooling2D<2, 2, Padding::same>{}, counting(9)), {3, 4.5, 7.5, 9});
    // All negative: a zero read from the padding would win every edge window.
    std::vector<double> negative = counting(9);
    for (auto& v : negative) v = -v;
    check_values(run<Shape<3, 3, 1>>(MaxPooling2D<2, 2, Padding::same>{}, negative), {-1, -3, -7, -9});
    // A pool larger than the image: the one window averages the four pixels it covers.
    check_values(run<Shape<2, 2, 1>>(AveragePooling2D<3, 3, Padding::same>{}, {1, 2, 3, 6}), {3});
    check_values(run<Shape<2, 2, 1>>(MaxPooling2D<3, 3, Padding::same>{}, {-4, -2, -3, -6}), {-2});
}

TEST_CASE("GlobalAveragePooling2D averages each channel over the image") {
    // Channel 0: 1, 2, 3, 4; channel 1: 10, 20, 30, 40; the second sample doubles the first.
    const std::vector<double> x{1, 10, 2, 20, 3, 30, 4, 40, 2, 20, 4, 40, 6, 60, 8, 80};
    check_values(run<Shape<2, 2, 2>>(GlobalAveragePooling2D{}, x, 2), {2.5, 25, 5, 50});
    check_values(run<Shape<1, 3, 1>>(GlobalAveragePooling2D{}, {3, 4, 8}), {5});
}

TEST_CASE("UpSampling2D repeats each pixel factor_h times down and factor_w times across") {
    check_values(run<Shape<2, 2, 1>>(UpSampling2D<Size2<2, 3>>{}, {1, 2, 3, 4}),
                 {1, 1, 1, 2, 2, 2,  //
                  1, 1, 1, 2, 2, 2,  //
                  3, 3, 3, 4, 4, 4,  //
                  3, 3, 3, 4, 4, 4});
    // Channels stay together: a (1, 2, 2) image doubled.
    check_values(run<Shape<1, 2, 2>>(UpSampling2D<>{}, {1, -1, 2, -2}),
                 {1, -1, 1, -1, 2, -2, 2, -2,  //
                  1, -1, 1, -1, 2, -2, 2, -2});
}

TEST_CASE("UpSampling2D's bilinear interpolation gives PyTorch's align_corners=False values (Keras' half-pixel)") {
    // torch.nn.functional.interpolate(x, scale_factor=(2, 2), mode="bilinear", align_corners=False)
    // on [[1, 2, 4], [8, 16, 32]]: sources at (o + 0.5) / 2 - 0.5, held at the edges.
    using Bilinear = UpSampling2D<2, Interpolation::bilinear>;
    static_assert(std::is_same_v<Bilinear::output_shape<Shape<2, 3, 1>>, Shape<4, 6, 1>>);
    static_assert(Bilinear::interpolation == Interpolation::bilinear && UpSampling2D<>::interpolation ==
                                                                            Interpolation::nearest);
    const std::vector<double> torch_2x2{1.0,  1.25,    1.75,    2.5,    3.5,    4.0,   //
                                        2.75, 3.4375,  4.8125,  6.875,  9.625,  11.0,  //
                                        6.25, 7.8125,  10.9375, 15.625, 21.875, 25.0,  //
                                        8.0,  10.0,    14.0,    20.0,   28.0,   32.0};
    const auto y = run<Shape<2, 3, 1>>(Bilinear{}, {1, 2, 4, 8, 16, 32});
    CHECK(y == torch_2x2);  // every weight a multiple of 1/4: exact
    // scale_factor=(3, 2) on [[1, 2], [3, 5]] (PyTorch in double).
    check_values(run<Shape<2, 2, 1>>(UpSampling2D<Size2<3, 2>, Interpolation::bilinear>{}, {1, 2, 3, 5}),
                 {1.0, 1.25, 1.75, 2.0, 1.0, 1.25, 1.75, 2.0, 1.6666666666666665, 1.9999999999999998,
                  2.6666666666666665, 2.9999999999999996, 2.333333333333333, 2.75, 3.583333333333333, 4.0, 3.0, 3.5,
                  4.5, 4.999999999999999, 3.0, 3.5, 4.5, 5.0});
    // Channels and samples apart: the second channel is the first times -1, the second sample 2x.
    std::vector<double> two(2 * 2 * 3 * 2);
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t p = 0; p < 6; ++p)
            for (std::size_t c = 0; c < 2; ++c)
                two[(n * 6 + p) * 2 + c] = std::vector<double>{1, 2, 4, 8, 16, 32}[p] * (c ? -1.0 : 1.0) * (n + 1.0);
    const auto y2 = run<Shape<2, 3, 2>>(UpSampling2D<2, Interpolation::bilinear>{}, two, 2);
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t p = 0; p < 24; ++p)
            for (std::size_t c = 0; c < 2; ++c)
                CHECK(y2[(n * 24 + p) * 2 + c] == torch_2x2[p] * (c ? -1.0 : 1.0) * (n + 1.0));
}

TEST_CASE("ZeroPadding2D puts zeros around the image") {
    // [[1 2], [3 4]] with one row on top and two columns left, one right.
    check_values(run<Shape<2, 2, 1>>(ZeroPadding2D<Edges<1, 0, 2, 1>>{}, {1, 2, 3, 4}),
                 {0, 0, 0, 0, 0,  //
                  0, 0, 1, 2, 0,  //
                  0, 0, 3, 4, 0});
    check_values(run<Shape<1, 1, 2>>(ZeroPadding2D<>{}, {5, 6}), {0, 0, 0, 0, 0, 0,  //
                                                                  0, 0, 5, 6, 0, 0,  //
                                                                  0, 0, 0, 0, 0, 0});
    check_values(run<Shape<1, 2, 1>>(ZeroPadding2D<Size2<1, 0>>{}, {7, 8}), {0, 0, 7, 8, 0, 0});
}

TEST_CASE("Cropping2D keeps the inside of the image") {
    // [[1 2 3 4], [5 6 7 8], [9 10 11 12]]
    const auto x = counting(12);
    check_values(run<Shape<3, 4, 1>>(Cropping2D<Edges<1, 0, 1, 2>>{}, x), {6, 10});
    check_values(run<Shape<3, 4, 1>>(Cropping2D<Size2<1, 1>>{}, x), {6, 7});
    check_values(run<Shape<3, 4, 1>>(Cropping2D<Edges<0, 2, 0, 0>>{}, x), {1, 2, 3, 4});
    check_values(run<Shape<3, 4, 1>>(Cropping2D<>{}, x), x);
    SUBCASE("cropping undoes zero padding") {
        const auto padded = run<Shape<3, 4, 1>>(ZeroPadding2D<Edges<2, 1, 0, 3>>{}, x);
        check_values(run<Shape<6, 7, 1>>(Cropping2D<Edges<2, 1, 0, 3>>{}, padded), x);
    }
}

// ---- gradients ---------------------------------------------------------------------------

// Max pooling's gradient is defined where a window has one maximum: the default random inputs
// are distinct, and a batch of 2 keeps the check small.
TEST_CASE("MaxPooling2D gradients") {
    SUBCASE("disjoint windows") { CHECK(check_layer_gradients<Shape<4, 4, 2>>(MaxPooling2D<2>{}, {.batch = 2}) > 0); }
    SUBCASE("overlapping windows") {
        CHECK(check_layer_gradients<Shape<4, 5, 2>>(MaxPooling2D<3, 1>{}, {.batch = 2}) > 0);
    }
    SUBCASE("same padding") {
        CHECK(check_layer_gradients<Shape<5, 4, 1>>(MaxPooling2D<3, 2, Padding::same>{}, {.batch = 2}) > 0);
    }
    SUBCASE("Size2 window and stride") {
        CHECK(check_layer_gradients<Shape<3, 5, 2>>(MaxPool2D<Size2<2, 3>, Size2<1, 2>>{}, {.batch = 2}) > 0);
    }
}

TEST_CASE("AveragePooling2D gradients") {
    SUBCASE("disjoint windows") { CHECK(check_layer_gradients<Shape<4, 4, 2>>(AveragePooling2D<2>{}) > 0); }
    SUBCASE("overlapping windows, same padding") {
        CHECK(check_layer_gradients<Shape<4, 5, 2>>(AveragePooling2D<3, 1, Padding::same>{}) > 0);
    }
    SUBCASE("Size2 window and stride, same padding") {
        CHECK(check_layer_gradients<Shape<5, 4, 1>>(AvgPool2D<Size2<2, 3>, Size2<2, 1>, Padding::same>{}) > 0);
    }
}

TEST_CASE("GlobalAveragePooling2D gradients") {
    CHECK(check_layer_gradients<Shape<3, 4, 2>>(GlobalAveragePooling2D{}) > 0);
}

TEST_CASE("UpSampling2D gradients") {
    CHECK(check_layer_gradients<Shape<2, 3, 2>>(UpSampling2D<>{}) > 0);
    CHECK(check_layer_gradients<Shape<2, 3, 1>>(UpSampling2D<Size2<2, 3>>{}) > 0);
    CHECK(check_layer_gradients<Shape<3, 4, 2>>(UpSampling2D<2, Interpolation::bilinear>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 3, 1>>(UpSampling2D<Size2<3, 4>, Interpolation::bilinear>{}, {.batch = 2}) >
          0);
    CHECK(check_layer_gradients<Shape<1, 5, 1>>(UpSampling2D<Size2<1, 5>, Interpolation::bilinear>{}) > 0);
}

TEST_CASE("ZeroPadding2D and Cropping2D gradients") {
    CHECK(check_layer_gradients<Shape<2, 3, 2>>(ZeroPadding2D<>{}) > 0);
    CHECK(check_layer_gradients<Shape<2, 3, 2>>(ZeroPadding2D<Edges<1, 0, 2, 1>>{}) > 0);
    CHECK(check_layer_gradients<Shape<5, 6, 2>>(Cropping2D<Edges<1, 2, 0, 3>>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 4, 1>>(Cropping2D<Size2<1, 0>>{}) > 0);
}

// ---- in a Sequential ---------------------------------------------------------------------

// A Dense in front, so that backward has to pass through every image layer to reach it.
using ImageNet =
    Sequential<Input<72>, Dense<72>, Reshape<6, 6, 2>, ZeroPadding2D<1>, MaxPooling2D<2>, UpSampling2D<2>,
               Cropping2D<Edges<1, 1, 0, 2>>, AveragePooling2D<2, 1, Padding::same>, GlobalAveragePooling2D, Dense<3>>;
static_assert(is_valid_v<ImageNet>);
static_assert(std::is_same_v<ImageNet::output_shape, Shape<3>>);
static_assert(std::is_same_v<ImageNet::layer_output_shape<2>, Shape<8, 8, 2>>);
static_assert(std::is_same_v<ImageNet::layer_output_shape<3>, Shape<4, 4, 2>>);
static_assert(std::is_same_v<ImageNet::layer_output_shape<4>, Shape<8, 8, 2>>);
static_assert(std::is_same_v<ImageNet::layer_output_shape<5>, Shape<6, 6, 2>>);
static_assert(std::is_same_v<ImageNet::layer_output_shape<6>, Shape<6, 6, 2>>);
static_assert(std::is_same_v<ImageNet::layer_output_shape<7>, Shape<2>>);
static_assert(ImageNet::param_count == (72 * 72 + 72) + (2 * 3 + 3));
static_assert(!is_valid_v<Sequential<Input<2, 2, 1>, MaxPooling2D<3>, Flatten>>);
static_assert(is_valid_v<Sequential<Input<2, 2, 1>, MaxPooling2D<3, 3, Padding::same>, Flatten>>);
static_assert(!is_valid_v<Sequential<Input<4, 4, 1>, Cropping2D<2>>>);
static_assert(!is_valid_v<Sequential<Input<16>, UpSampling2D<>>>);

TEST_CASE("a Sequential of image layers names them, counts no parameters for them, and trains through them") {
    ImageNet net(5);
    CHECK(net.layer_names() == std::vector<std::string>{"dense", "reshape", "zero_padding2d", "max_pooling2d",
                                                         "up_sampling2d", "cropping2d", "average_pooling2d",
                                                         "global_average_pooling2d", "dense_1"});
    CHECK(net.layer("max_pooling2d").type_name() == "MaxPooling2D");
    CHECK(net.layer("cropping2d").output_shape() == std::vector<std::size_t>{6, 6, 2});
    for (std::size_t i = 1; i < 8; ++i) CHECK(ImageNet::layer_param_counts[i] == 0);

    // The first Dense is the identity, so the image is x itself: distinct pixel values 0.1 apart
    // (none within 0.05 of the padding's zeros) keep every maximum unique under the probe below.
    auto params = net.parameters().values();
    std::fill(params.begin(), params.begin() + 72 * 72 + 72, 0.0f);
    for (std::size_t i = 0; i < 72; ++i) params[i * 72 + i] = 1.0f;
    constexpr std::size_t batch = 2;
    Tensor<Shape<72>> x(batch);
    for (std::size_t i = 0; i < x.values().size(); ++i)
        x.values()[i] = 0.1f * (static_cast<float>((i * 29) % 144) - 71.5f);
    const std::vector<float> r{0.5f, -1.0f, 0.25f, -0.75f, 1.0f, 0.3f};

    auto objective = [&] {
        const float* y = net.forward(x.data(), batch, Mode::train);
        double total = 0;
        for (std::size_t i = 0; i < r.size(); ++i) total += double(r[i]) * y[i];
        return total;
    };
    objective();
    auto grads = net.gradients();
    std::fill(grads.begin(), grads.end(), 0.0f);
    net.backward(r.data());
    const std::vector<float> analytic(grads.begin(), grads.end());

    // The first Dense's bias moves one pixel of each image: its gradient is what came back
    // through every image layer. Then the last Dense's parameters.
    std::vector<std::size_t> probed;
    for (std::size_t i = 72 * 72; i < 72 * 72 + 72; ++i) probed.push_back(i);
    for (std::size_t i = 72 * 72 + 72; i < ImageNet::param_count; ++i) probed.push_back(i);
    std::size_t reached = 0;  // pixels whose gradient came back
    const float h = 1e-2f;
    for (std::size_t i : probed) {
        const float keep = params[i];
        params[i] = keep + h;
        const double up = objective();
        params[i] = keep - h;
        const double down = objective();
        params[i] = keep;
        const double numeric = (up - down) / (2 * h);
        INFO("parameter " << i);
        CHECK(analytic[i] == doctest::Approx(numeric).epsilon(2e-2).scale(1.0));
        if (i < 72 * 72 + 72 && analytic[i] != 0.0f) ++reached;
    }
    // Max pooling passes the gradient to each window's winner only: some pixels, not all.
    CHECK(reached > 0);
    CHECK(reached < 72);
}

// ---- Resizing and CenterCrop ------------------------------------------------------------
// Values against PyTorch's interpolate (bilinear and nearest-exact, align_corners=False, which
// are TensorFlow's and Keras' half-pixel values).

static_assert(std::is_same_v<Resizing<5, 3>::output_shape<Shape<3, 4, 2>>, Shape<5, 3, 2>>);
static_assert(Resizing<5, 3>::interpolation == Interpolation::bilinear);
static_assert(Resizing<5, 3>::accepts<Shape<3, 4, 2>> && !Resizing<5, 3>::accepts<Shape<12>>);
static_assert(std::is_same_v<CenterCrop<2, 3>::output_shape<Shape<5, 4, 2>>, Shape<2, 3, 2>>);
static_assert(CenterCrop<2, 3>::accepts<Shape<2, 3, 1>> && !CenterCrop<2, 3>::accepts<Shape<1, 9, 1>>);
static_assert(!CenterCrop<2, 3>::accepts<Shape<9, 2, 1>> && !CenterCrop<2, 3>::accepts<Shape<6>>);
static_assert(std::is_same_v<CenterCrop<2, 3>::requirement, image_at_least<2, 3>>);

TEST_CASE("Resizing gives PyTorch's interpolate(align_corners=False) values, bilinear and nearest-exact") {
    // torch.nn.functional.interpolate(torch.arange(1., 13.).reshape(1, 1, 3, 4), size=..., mode=...)
    const auto x = counting(12);
    check_values(run<Shape<3, 4, 1>>(Resizing<2, 6>{}, x),
                 {2.0, 2.5, 3.1666665, 3.8333333, 4.5, 5.0, 8.0, 8.5, 9.1666660, 9.8333330, 10.5, 11.0});
    check_values(run<Shape<3, 4, 1>>(Resizing<5, 3>{}, x),
                 {1.1666667, 2.5, 3.8333335, 2.7666669, 4.1000004, 5.4333334, 5.1666670, 6.5, 7.8333335, 7.5666671,
                  8.9000006, 10.233334, 9.1666670, 10.5, 11.833333});
    check_values(run<Shape<3, 4, 1>>(Resizing<5, 3, Interpolation::nearest>{}, x),
                 {1, 3, 4, 1, 3, 4, 5, 7, 8, 9, 11, 12, 9, 11, 12});
    // 4 columns to 6: outputs 1 and 4 fall exactly between two pixels and take the later one.
    check_values(run<Shape<3, 4, 1>>(Resizing<2, 6, Interpolation::nearest>{}, x),
                 {1, 2, 2, 3, 4, 4, 9, 10, 10, 11, 12, 12});
    // The same size is the identity; each channel and sample on its own.
    check_values(run<Shape<3, 4, 2>>(Resizing<3, 4>{}, counting(48), 2), counting(48));
}

// Keras' smart-resize windows, worked by hand: rows = min(h, w * Height / Width), columns =
// min(w, h * Width / Height), centred.
static_assert(Resizing<6, 6>::aspect_window<Shape<4, 8, 1>> == detail::CropWindow{4, 4, 0, 2});
static_assert(Resizing<3, 6>::aspect_window<Shape<5, 5, 2>> == detail::CropWindow{2, 5, 1, 0});
static_assert(Resizing<32, 32>::aspect_window<Shape<28, 28, 1>> == detail::CropWindow{28, 28, 0, 0});
// Room for the larger of the window cut (2 x 5) and the padded image (5 x 9) with a shifted copy.
static_assert(Resizing<3, 6>::workspace_per_sample<Shape<5, 5, 2>> == 6 + std::max(2 * 5 * 2, 5 * 9 * 2 + 5 * 5 * 2));
static_assert(Resizing<32, 32>::workspace_per_sample<Shape<28, 28, 1>> == 6);  // nothing to cut or pad: no room

TEST_CASE("Resizing with crop_to_aspect_ratio: tf.image.resize of the largest centred window of the target's aspect") {
    auto check_crop = [](auto in, auto layer, detail::CropWindow window, bool nearest = false) {
        using In = decltype(in);
        using L = decltype(layer);
        INFO(In::to_string() << " to " << L::height << " x " << L::width);
        CHECK_FALSE(layer.crop_to_aspect_ratio());
        layer.crop_to_aspect_ratio(true);
        REQUIRE(layer.crop_to_aspect_ratio());
        std::vector<double> x(2 * In::size);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7 * static_cast<double>(i)) + 0.01 * i;
        constexpr detail::ImageDims image = detail::image_dims<In>;
        std::vector<double> expected;
        for (std::size_t n = 0; n < 2; ++n) {
            const std::vector<double> one(x.begin() + static_cast<long>(n * In::size),
                                          x.begin() + static_cast<long>((n + 1) * In::size));
            const auto resized = tf_resize_window(one, image.w, image.channels, window, L::height, L::width, nearest);
            expected.insert(expected.end(), resized.begin(), resized.end());
        }
        check_values(run<In>(layer, x, 2), expected);
    };
    // Enlarged: the window's edges are held as its own, not blended with the pixels cut away.
    check_crop(Shape<4, 8, 1>{}, Resizing<6, 6>{}, {4, 4, 0, 2});
    check_crop(Shape<4, 8, 1>{}, Resizing<6, 6, Interpolation::nearest>{}, {4, 4, 0, 2}, true);
    check_crop(Shape<5, 5, 2>{}, Resizing<3, 6>{}, {2, 5, 1, 0});         // rows cut, columns stretched
    check_crop(Shape<10, 20, 3>{}, Resizing<4, 6>{}, {10, 15, 0, 2});     // shrunk
    check_crop(Shape<3, 4, 2>{}, Resizing<6, 8>{}, {3, 4, 0, 0});         // the same aspect: nothing cut
    // Without it the image is stretched: the same 4 x 8 image differs.
    const auto x = counting(32);
    const Resizing<6, 6> stretched;
    CHECK(run<Shape<4, 8, 1>>(stretched, x)[0] != doctest::Approx(3.0));
    CHECK(run<Shape<4, 8, 1>>(Resizing<6, 6>{}.crop_to_aspect_ratio(true), x)[0] == doctest::Approx(3.0));
}

// Keras' padding, worked by hand: towards rows = max(h, w * Height / Width), half of the
// difference (rounded down) on each side, columns alike.
static_assert(Resizing<6, 6>::pad_rows<Shape<4, 8, 1>> == 2 && Resizing<6, 6>::pad_columns<Shape<4, 8, 1>> == 0);
static_assert(std::is_same_v<Resizing<32, 48>::padded_shape<Shape<28, 28, 1>>, Shape<28, 42, 1>>);
static_assert(std::is_same_v<Resizing<6, 6>::padded_shape<Shape<3, 8, 2>>, Shape<7, 8, 2>>);  // one short, as Keras
static_assert(!Resizing<6, 6>::pads<Shape<4, 5, 1>>);  // 5 - 4 = 1: nothing on either side
static_assert(Resizing<32, 48>::workspace_per_sample<Shape<28, 28, 1>> == 6 + 28 * 42 + 28 * 28);

TEST_CASE("Resizing with pad_to_aspect_ratio: tf.image.resize of the image padded evenly with fill_value") {
    auto check_pad = [](auto in, auto layer, std::size_t top, std::size_t left, double fill, bool nearest = false) {
        using In = decltype(in);
        using L = decltype(layer);
        INFO(In::to_string() << " to " << L::height << " x " << L::width << ", fill " << fill);
        CHECK_FALSE(layer.pad_to_aspect_ratio());
        layer.pad_to_aspect_ratio(true).fill_value(fill);
        REQUIRE(layer.pad_to_aspect_ratio());
        constexpr detail::ImageDims image = detail::image_dims<In>;
        const std::size_t rows = image.h + 2 * top, columns = image.w + 2 * left;
        std::vector<double> x(2 * In::size), expected;
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7 * static_cast<double>(i)) + 0.01 * i;
        for (std::size_t n = 0; n < 2; ++n) {
            // The padded image, by hand.
            std::vector<double> padded(rows * columns * image.channels, fill);
            for (std::size_t r = 0; r < image.h; ++r)
                for (std::size_t c = 0; c < image.w * image.channels; ++c)
                    padded[((r + top) * columns + left) * image.channels + c] =
                        x[n * In::size + r * image.w * image.channels + c];
            const auto resized = tf_resize_window(padded, columns, image.channels, {rows, columns, 0, 0}, L::height,
                                                  L::width, nearest);
            expected.insert(expected.end(), resized.begin(), resized.end());
        }
        check_values(run<In>(layer, x, 2), expected);
    };
    check_pad(Shape<4, 8, 1>{}, Resizing<6, 6>{}, 2, 0, 0.0);  // rows added above and below
    check_pad(Shape<4, 8, 1>{}, Resizing<6, 6>{}, 2, 0, 0.5);
    check_pad(Shape<4, 8, 1>{}, Resizing<6, 6, Interpolation::nearest>{}, 2, 0, -1.0, true);
    check_pad(Shape<5, 3, 2>{}, Resizing<4, 8>{}, 0, 3, 0.25);  // columns; shrunk rows, stretched columns
    check_pad(Shape<3, 8, 2>{}, Resizing<6, 6>{}, 2, 0, 1.0);   // an odd difference: 7 rows, not 8
    check_pad(Shape<4, 5, 1>{}, Resizing<6, 6>{}, 0, 0, 1.0);   // nothing to pad: plain resizing

    // One of the two, as Keras requires; the fill value a finite number.
    Resizing<6, 6> both("resize");
    both.crop_to_aspect_ratio(true);
    CHECK_THROWS_WITH_AS(both.pad_to_aspect_ratio(true),
                         doctest::Contains("Resizing \"resize\": only one of crop_to_aspect_ratio and "
                                           "pad_to_aspect_ratio can be on"),
                         value_error);
    CHECK_FALSE(both.pad_to_aspect_ratio());
    both.crop_to_aspect_ratio(false).pad_to_aspect_ratio(true);
    CHECK_THROWS_AS(both.crop_to_aspect_ratio(true), value_error);
    CHECK_FALSE(both.crop_to_aspect_ratio());
    CHECK_THROWS_WITH_AS(both.fill_value(std::nan("")), doctest::Contains("fill_value must be a finite number"),
                         value_error);
    CHECK(both.fill_value() == 0.0);
}

TEST_CASE("Resizing to twice the size is UpSampling2D's bilinear upsampling") {
    const auto x = counting(2 * 3 * 5 * 2);
    const auto resized = run<Shape<3, 5, 2>>(Resizing<6, 10>{}, x, 2);
    std::vector<double> upsampled(resized.size());
    ForwardArgs<double> a{x.data(), upsampled.data(), nullptr, nullptr, 2, Mode::infer, nullptr};
    UpSampling2D<2, Interpolation::bilinear>{}.forward<Shape<3, 5, 2>, B, double>(a);
    check_values(resized, upsampled);
}

TEST_CASE("CenterCrop keeps the middle, cutting the odd row or column below and right, as Keras") {
    // 5 x 4 to 2 x 2: rows 1..2 (one above, two below), columns 1..2.
    check_values(run<Shape<5, 4, 1>>(CenterCrop<2, 2>{}, counting(20)), {6, 7, 10, 11});
    check_values(run<Shape<3, 3, 2>>(CenterCrop<1, 1>{}, counting(18)), {9, 10});
    check_values(run<Shape<3, 3, 1>>(CenterCrop<3, 3>{}, counting(9)), counting(9));
}

TEST_CASE("Gradients of Resizing and CenterCrop against central differences (double)") {
    CHECK(check_layer_gradients<Shape<4, 5, 2>>(Resizing<7, 3>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 5, 2>>(Resizing<2, 9>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 5, 2>>(Resizing<3, 3, Interpolation::nearest>{}) > 0);
    CHECK(check_layer_gradients<Shape<5, 4, 2>>(CenterCrop<2, 3>{}) > 0);
    CHECK(check_layer_gradients<Shape<4, 8, 2>>(Resizing<6, 6>{}.crop_to_aspect_ratio(true)) > 0);
    CHECK(check_layer_gradients<Shape<9, 4, 1>>(Resizing<2, 3>{}.crop_to_aspect_ratio(true)) > 0);
    CHECK(check_layer_gradients<Shape<4, 8, 2>>(Resizing<5, 5, Interpolation::nearest>{}.crop_to_aspect_ratio(true)) >
          0);
    CHECK(check_layer_gradients<Shape<4, 8, 2>>(Resizing<6, 6>{}.pad_to_aspect_ratio(true).fill_value(0.25)) > 0);
    CHECK(check_layer_gradients<Shape<5, 3, 1>>(Resizing<4, 8>{}.pad_to_aspect_ratio(true)) > 0);
}

TEST_CASE("Resizing and CenterCrop in a model: a 28 x 28 input for a network made for 32 x 32 and for 24 x 24") {
    Sequential<cpu::simd, Input<28, 28, 1>, Resizing<32, 32>, Conv2D<4, 3>, CenterCrop<24, 24>, Flatten, Dense<2>>
        model;
    static_assert(decltype(model)::param_count == 4 * 10 + 24 * 24 * 4 * 2 + 2);
    CHECK(model.layer<0>().name() == "resizing");
    CHECK(model.layer<2>().name() == "center_crop");
    Tensor<Shape<28, 28, 1>> x(3);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 17) / 17.0f;
    const auto y = model.predict(x);
    CHECK(y.batch() == 3);
}
