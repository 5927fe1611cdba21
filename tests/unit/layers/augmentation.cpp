// The image augmentation layers (RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
// RandomCrop, RandomContrast, RandomBrightness): hand-worked transforms and fill modes, the ranges their
// draws keep to, the identity in inference, gradients, bad settings, and use in a model.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/latent.hpp>

#include "support/gradient_check.hpp"
#include "support/messages.hpp"
#include "support/tf_resize.hpp"

using namespace latent;
using latent::testing::check_layer_gradients;
using latent::testing::tf_resize_window;

namespace {

using B = cpu::reference;

struct LayerRun {
    std::vector<double> y, workspace;
};

template <class In, class L>
LayerRun run(const L& layer, std::vector<double> x, std::size_t batch = 1, Mode mode = Mode::train,
             std::uint64_t seed = 5) {
    REQUIRE(x.size() == batch * In::size);
    LayerRun r{std::vector<double>(batch * In::size, -99.0),
               std::vector<double>(batch * L::template workspace_per_sample<In>, -77.0)};
    Generator rng(seed);
    ForwardArgs<double> a{x.data(), r.y.data(), nullptr, r.workspace.data(), batch, mode, &rng};
    layer.template forward<In, B, double>(a);
    return r;
}

void check_values(const std::vector<double>& got, const std::vector<double>& expected, double eps = 1e-9) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == doctest::Approx(expected[i]).epsilon(eps));
    }
}

std::vector<double> counting(std::size_t n) {
    std::vector<double> v(n);
    std::iota(v.begin(), v.end(), 1.0);
    return v;
}

// A translation by exactly `pixels` to the right of a 1 x 4 image [1 2 3 4].
std::vector<double> shifted_row(double pixels, FillMode mode, Interpolation interpolation = Interpolation::bilinear) {
    const RandomTranslation layer{0.0, {pixels / 4, pixels / 4}, {interpolation, mode, 9.0}};
    return run<Shape<1, 4, 1>>(layer, {1, 2, 3, 4}).y;
}

}  // namespace

static_assert(RandomFlip<>::mode == FlipMode::horizontal_and_vertical);
static_assert(RandomFlip<>::accepts<Shape<4, 4, 3>> && !RandomFlip<>::accepts<Shape<16>>);
static_assert(std::is_same_v<RandomRotation::output_shape<Shape<5, 6, 2>>, Shape<5, 6, 2>>);

TEST_CASE("The fill modes read beyond the edges as Keras documents them") {
    // output(x) = input(x - shift): whole pixels first, then half a pixel (bilinear).
    check_values(shifted_row(1, FillMode::reflect), {1, 1, 2, 3});
    check_values(shifted_row(1, FillMode::wrap), {4, 1, 2, 3});
    check_values(shifted_row(1, FillMode::constant), {9, 1, 2, 3});
    check_values(shifted_row(1, FillMode::nearest), {1, 1, 2, 3});
    check_values(shifted_row(2, FillMode::reflect), {2, 1, 1, 2});  // (d c b a | a b c d)
    check_values(shifted_row(2, FillMode::wrap), {3, 4, 1, 2});
    check_values(shifted_row(2, FillMode::constant), {9, 9, 1, 2});
    check_values(shifted_row(2, FillMode::nearest), {1, 1, 1, 2});
    check_values(shifted_row(-3, FillMode::reflect), {4, 4, 3, 2});
    check_values(shifted_row(-3, FillMode::wrap), {4, 1, 2, 3});
    check_values(shifted_row(0.5, FillMode::reflect), {1, 1.5, 2.5, 3.5});
    check_values(shifted_row(0.5, FillMode::wrap), {2.5, 1.5, 2.5, 3.5});
    check_values(shifted_row(0.5, FillMode::constant), {5, 1.5, 2.5, 3.5});
    // Nearest interpolation rounds halves away from zero: x - 0.5 reads pixel x for x > 0, and
    // -0.5 reads pixel -1.
    check_values(shifted_row(0.5, FillMode::constant, Interpolation::nearest), {9, 2, 3, 4});
    check_values(shifted_row(0.75, FillMode::constant, Interpolation::nearest), {9, 1, 2, 3});
    // A move of a whole image or more wraps around, reflects back, or fills.
    check_values(shifted_row(4, FillMode::wrap), {1, 2, 3, 4});
    check_values(shifted_row(4, FillMode::reflect), {4, 3, 2, 1});
    check_values(shifted_row(-4, FillMode::constant), {9, 9, 9, 9});
}

TEST_CASE("RandomRotation by a quarter turn turns the image counter-clockwise, as numpy.rot90") {
    for (const Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
        const RandomRotation quarter{{0.25, 0.25}, {interpolation, FillMode::constant, 0.0}};
        check_values(run<Shape<3, 3, 1>>(quarter, counting(9)).y, {3, 6, 9, 2, 5, 8, 1, 4, 7}, 1e-6);
        // Each channel alike, and a non-square image keeps its centre.
        check_values(run<Shape<1, 3, 2>>(quarter, {1, 10, 2, 20, 3, 30}).y, {0, 0, 2, 20, 0, 0}, 1e-6);
    }
    const RandomRotation half{{-0.5, -0.5}};
    check_values(run<Shape<2, 3, 1>>(half, counting(6)).y, {6, 5, 4, 3, 2, 1}, 1e-6);
}

TEST_CASE("RandomZoom zooms out for positive factors and in for negative ones, about the centre") {
    // zoom 2 on a row of 5: output x reads 2x - 2 (reflected), a zoom out.
    const RandomZoom out{0.0, FactorRange{1.0, 1.0}};
    check_values(run<Shape<1, 5, 1>>(out, counting(5)).y, {2, 1, 3, 5, 4});
    const RandomZoom in{0.0, FactorRange{-0.5, -0.5}};
    check_values(run<Shape<1, 5, 1>>(in, counting(5)).y, {2, 2.5, 3, 3.5, 4});
    // Without a width factor the width takes the height's zoom.
    const RandomZoom both{{-0.5, -0.5}};
    CHECK(!both.width_factor().has_value());
    check_values(run<Shape<3, 3, 1>>(both, counting(9)).y, {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
}

TEST_CASE("RandomFlip flips about half the images, each way on its own draw") {
    constexpr std::size_t batch = 400;
    using In = Shape<2, 3, 1>;
    std::vector<double> x;
    for (std::size_t n = 0; n < batch; ++n)
        for (double v = 1; v <= 6; ++v) x.push_back(v);
    const std::vector<double> same{1, 2, 3, 4, 5, 6}, mirrored{3, 2, 1, 6, 5, 4}, upside_down{4, 5, 6, 1, 2, 3},
        both{6, 5, 4, 3, 2, 1};
    auto count = [&](const std::vector<double>& y, const std::vector<double>& kind) {
        std::size_t c = 0;
        for (std::size_t n = 0; n < batch; ++n) c += std::equal(kind.begin(), kind.end(), y.begin() + n * 6);
        return c;
    };
    const auto horizontal = run<In>(RandomFlip<FlipMode::horizontal>{}, x, batch).y;
    CHECK(count(horizontal, same) + count(horizontal, mirrored) == batch);
    CHECK(count(horizontal, mirrored) == doctest::Approx(batch / 2.0).epsilon(0.15));
    const auto vertical = run<In>(RandomFlip<FlipMode::vertical>{}, x, batch).y;
    CHECK(count(vertical, same) + count(vertical, upside_down) == batch);
    CHECK(count(vertical, upside_down) == doctest::Approx(batch / 2.0).epsilon(0.15));
    const auto each = run<In>(RandomFlip<>{}, x, batch).y;
    CHECK(count(each, same) + count(each, mirrored) + count(each, upside_down) + count(each, both) == batch);
    for (const auto* kind : {&same, &mirrored, &upside_down, &both})
        CHECK(count(each, *kind) == doctest::Approx(batch / 4.0).epsilon(0.3));
}

TEST_CASE("The random transforms keep to their ranges and differ from image to image") {
    constexpr std::size_t batch = 300;
    using In = Shape<4, 6, 1>;
    const std::vector<double> x(batch * In::size, 0.5);
    auto coefficient = [&](const LayerRun& r, std::size_t k, std::size_t n) { return r.workspace[k * batch + n]; };

    const auto rotation = run<In>(RandomRotation{{-0.1, 0.2}}, x, batch);
    std::set<double> angles;
    for (std::size_t n = 0; n < batch; ++n) {
        const double angle = std::atan2(coefficient(rotation, 3, n), coefficient(rotation, 0, n)) / (2 * M_PI);
        CHECK(angle >= -0.1 - 1e-6);
        CHECK(angle <= 0.2 + 1e-6);
        angles.insert(angle);
    }
    CHECK(angles.size() > batch / 2);
    CHECK(*angles.begin() < -0.08);
    CHECK(*angles.rbegin() > 0.18);

    const auto translation = run<In>(RandomTranslation{0.25, {0.0, 0.5}}, x, batch);
    for (std::size_t n = 0; n < batch; ++n) {
        CHECK(std::abs(coefficient(translation, 5, n)) <= 0.25 * 4 + 1e-6);  // -dy, up to a quarter of 4 rows
        CHECK(-coefficient(translation, 2, n) >= 0.0);                         // dx in [0, 3]
        CHECK(-coefficient(translation, 2, n) <= 3.0 + 1e-6);
    }

    const auto zoom = run<In>(RandomZoom{0.3}, x, batch);
    const auto stretch = run<In>(RandomZoom{0.3, FactorRange{-0.1, 0.0}}, x, batch);
    std::size_t differing = 0;
    for (std::size_t n = 0; n < batch; ++n) {
        CHECK(coefficient(zoom, 0, n) == coefficient(zoom, 4, n));  // the aspect ratio kept
        CHECK(coefficient(zoom, 0, n) >= 0.7 - 1e-6);
        CHECK(coefficient(zoom, 0, n) <= 1.3 + 1e-6);
        CHECK(coefficient(stretch, 0, n) >= 0.9 - 1e-6);
        CHECK(coefficient(stretch, 0, n) <= 1.0 + 1e-6);
        differing += coefficient(stretch, 0, n) != coefficient(stretch, 4, n);
    }
    CHECK(differing == batch);
    // A constant image stays constant under reflection, whatever the transform.
    for (double v : zoom.y) CHECK(v == doctest::Approx(0.5));
}

// ---- RandomCrop --------------------------------------------------------------------------

static_assert(std::is_same_v<RandomCrop<3, 4>::output_shape<Shape<5, 6, 2>>, Shape<3, 4, 2>>);
static_assert(RandomCrop<3, 4>::accepts<Shape<3, 4, 1>> && !RandomCrop<3, 4>::accepts<Shape<2, 9, 1>>);
static_assert(!RandomCrop<3, 4>::accepts<Shape<9, 3, 1>> && !RandomCrop<3, 4>::accepts<Shape<12>>);
static_assert(std::is_same_v<RandomCrop<3, 4>::requirement, image_at_least<3, 4>>);
// Keras' smart_resize windows (rows, columns, top, left), worked by hand from its formulas:
// crop_height = min(h, int(w * height / width)), crop_width = min(w, int(h * width / height)).
static_assert(RandomCrop<2, 2>::inference_window<Shape<4, 6, 1>> == detail::CropWindow{4, 4, 0, 1});
static_assert(RandomCrop<3, 3>::inference_window<Shape<7, 5, 1>> == detail::CropWindow{5, 5, 1, 0});
static_assert(RandomCrop<4, 6>::inference_window<Shape<10, 20, 3>> == detail::CropWindow{10, 15, 0, 2});
static_assert(RandomCrop<24, 24>::inference_window<Shape<28, 28, 1>> == detail::CropWindow{28, 28, 0, 0});
static_assert(RandomCrop<3, 3>::inference_window<Shape<3, 7, 1>> == detail::CropWindow{3, 3, 0, 2});

namespace {

template <class In, std::size_t H, std::size_t W>
LayerRun run_crop(const RandomCrop<H, W>& layer, const std::vector<double>& x, std::size_t batch, Mode mode) {
    using Out = typename RandomCrop<H, W>::template output_shape<In>;
    LayerRun r{std::vector<double>(batch * Out::size, -99.0),
               std::vector<double>(batch * RandomCrop<H, W>::template workspace_per_sample<In>, -77.0)};
    Generator rng(5);
    ForwardArgs<double> a{x.data(), r.y.data(), nullptr, r.workspace.data(), batch, mode, &rng};
    layer.template forward<In, B, double>(a);
    return r;
}

std::vector<double> wavy(std::size_t n) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(0.7 * static_cast<double>(i)) + 0.01 * static_cast<double>(i);
    return v;
}

}  // namespace

TEST_CASE("RandomCrop in training: a window at a whole-pixel place drawn per image, every place in reach") {
    using In = Shape<5, 6, 2>;  // a 3 x 4 window fits at 3 x 3 places
    constexpr std::size_t batch = 360;
    const std::vector<double> x = counting(batch * In::size);
    const LayerRun r = run_crop<In>(RandomCrop<3, 4>{}, x, batch, Mode::train);
    std::map<std::pair<double, double>, int> places;
    for (std::size_t n = 0; n < batch; ++n) {
        const double top = r.workspace[5 * batch + n], left = r.workspace[2 * batch + n];
        REQUIRE(top == std::floor(top));
        REQUIRE(left == std::floor(left));
        REQUIRE(top >= 0.0);
        REQUIRE(top <= 2.0);
        REQUIRE(left >= 0.0);
        REQUIRE(left <= 2.0);
        ++places[{top, left}];
        const auto t = static_cast<std::size_t>(top), l = static_cast<std::size_t>(left);
        for (std::size_t row = 0; row < 3; ++row)
            for (std::size_t col = 0; col < 4; ++col)
                for (std::size_t c = 0; c < 2; ++c)
                    REQUIRE(r.y[((n * 3 + row) * 4 + col) * 2 + c] == x[((n * 5 + t + row) * 6 + l + col) * 2 + c]);
    }
    CHECK(places.size() == 9);
    for (const auto& entry : places) {
        INFO("place " << entry.first.first << ", " << entry.first.second);
        CHECK(entry.second > 20);  // 40 expected of each
        CHECK(entry.second < 60);
    }
}

TEST_CASE("RandomCrop in inference: Keras' smart resize, the largest centred window of the target's aspect") {
    auto check_inference = [](auto in, auto layer, detail::CropWindow window) {
        using In = decltype(in);
        using L = decltype(layer);
        const std::vector<double> x = wavy(2 * In::size);
        const LayerRun r = run_crop<In>(layer, x, 2, Mode::infer);
        constexpr detail::ImageDims image = detail::image_dims<In>;
        std::vector<double> expected;
        for (std::size_t n = 0; n < 2; ++n) {
            const std::vector<double> one(x.begin() + static_cast<long>(n * In::size),
                                          x.begin() + static_cast<long>((n + 1) * In::size));
            const auto resized = tf_resize_window(one, image.w, image.channels, window, L::height, L::width);
            expected.insert(expected.end(), resized.begin(), resized.end());
        }
        check_values(r.y, expected, 1e-12);
    };
    check_inference(Shape<7, 5, 2>{}, RandomCrop<3, 3>{}, {5, 5, 1, 0});     // a 5 x 5 window shrunk by 5/3
    check_inference(Shape<10, 20, 3>{}, RandomCrop<4, 6>{}, {10, 15, 0, 2});  // 10 x 15 to 4 x 6
    check_inference(Shape<4, 6, 1>{}, RandomCrop<2, 2>{}, {4, 4, 0, 1});      // halved: means of 2 x 2 blocks
    // A window of the target's size is the centre crop itself.
    const std::vector<double> x = wavy(Shape<3, 7, 1>::size);
    check_values(run_crop<Shape<3, 7, 1>>(RandomCrop<3, 3>{}, x, 1, Mode::infer).y,
                 {x[2], x[3], x[4], x[9], x[10], x[11], x[16], x[17], x[18]}, 1e-15);
    // Halving averages each 2 x 2 block of the 4 x 4 window: rows 0-1 and columns 1-2 first.
    const std::vector<double> counted = counting(24);
    CHECK(run_crop<Shape<4, 6, 1>>(RandomCrop<2, 2>{}, counted, 1, Mode::infer).y[0] ==
          doctest::Approx((2 + 3 + 8 + 9) / 4.0));
}

TEST_CASE("RandomCrop: gradients against central differences in training and inference (double)") {
    CHECK(check_layer_gradients<Shape<5, 6, 2>>(RandomCrop<3, 4>{}, {.batch = 6}) > 0);
    CHECK(check_layer_gradients<Shape<7, 5, 2>>(RandomCrop<3, 3>{}, {.mode = Mode::infer}) > 0);
    CHECK(check_layer_gradients<Shape<6, 9, 1>>(RandomCrop<4, 5>{}, {.mode = Mode::infer}) > 0);
    // Training needs a generator.
    RandomCrop<2, 2> crop("patch");
    std::vector<double> x(9, 1.0), y(4), workspace(8);
    ForwardArgs<double> a{x.data(), y.data(), nullptr, workspace.data(), 1, Mode::train, nullptr};
    LATENT_CHECK_ERROR(value_error, (crop.forward<Shape<3, 3, 1>, B, double>(a)), "latent.layers.random_crop.rng",
                       "RandomCrop \"patch\" in training mode needs a random generator");
}

TEST_CASE("RandomContrast and RandomBrightness: Keras' formulas with the draws the generator gives") {
    using In = Shape<2, 2, 2>;
    const std::vector<double> x{0, 10, 1, 20, 2, 30, 3, 40};  // channel means 1.5 and 25
    Generator g(5);
    const double factor = 0.6 + g.uniform_float() * (0.4 + 0.5);  // [1 - 0.4, 1 + 0.5]
    std::vector<double> expected;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double mean = i % 2 ? 25.0 : 1.5;
        expected.push_back(std::clamp((x[i] - mean) * factor + mean, 0.0, 255.0));
    }
    check_values(run<In>(RandomContrast{0.4, 0.5}, x).y, expected, 1e-6);
    // Clipped to the value range.
    const auto clipped = run<In>(RandomContrast{0.4, 0.5, {1.0, 28.0}}, x).y;
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(clipped[i] == doctest::Approx(std::clamp(expected[i], 1.0, 28.0)));
    CHECK(RandomContrast{0.3}.factor().lower == doctest::Approx(0.7));
    CHECK(RandomContrast{0.3}.factor().upper == doctest::Approx(1.3));

    Generator h(5);
    const double shift = (-0.1 + h.uniform_float() * 0.3) * 2.0;  // factor [-0.1, 0.2] of a range 2 wide
    const auto bright = run<In>(RandomBrightness{{-0.1, 0.2}, {-1.0, 1.0}}, {-1, -0.5, 0, 0.5, 0.9, 0.95, 1, 0.2}).y;
    const std::vector<double> before{-1, -0.5, 0, 0.5, 0.9, 0.95, 1, 0.2};
    for (std::size_t i = 0; i < before.size(); ++i)
        CHECK(bright[i] == doctest::Approx(std::clamp(before[i] + shift, -1.0, 1.0)).epsilon(1e-6));
}

TEST_CASE("In inference the augmentation layers are the identity, and so is their gradient") {
    using In = Shape<3, 4, 2>;
    const std::vector<double> x = counting(2 * In::size);
    auto check_identity = [&](const auto& layer) {
        INFO(layer.type_name);
        using L = std::remove_cvref_t<decltype(layer)>;
        LayerRun r = run<In>(layer, x, 2, Mode::infer);
        check_values(r.y, x);
        std::vector<double> dy(x.size()), dx(x.size(), -5.0);
        for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = std::sin(static_cast<double>(i));
        BackwardArgs<double> b{x.data(), r.y.data(), dy.data(), dx.data(), nullptr, nullptr, r.workspace.data(), 2};
        layer.template backward<In, B, double>(b);
        check_values(dx, dy);
        (void)sizeof(L);
    };
    check_identity(RandomFlip<>{});
    check_identity(RandomRotation{0.2});
    check_identity(RandomTranslation{0.2, 0.3});
    check_identity(RandomZoom{0.2});
    check_identity(RandomContrast{0.5});
    check_identity(RandomBrightness{0.5});
    // A layer never given its factor still passes images through in inference.
    check_identity(RandomRotation{});
}

TEST_CASE("Gradients of the augmentation layers against central differences (double)") {
    using In = Shape<5, 4, 2>;
    for (const FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        INFO("fill mode " << static_cast<int>(mode));
        const ImageSampling sampling{Interpolation::bilinear, mode, 0.25};
        CHECK(check_layer_gradients<In>(RandomRotation{0.3, sampling}) > 0);
        CHECK(check_layer_gradients<In>(RandomTranslation{0.6, 0.6, sampling}) > 0);
        CHECK(check_layer_gradients<In>(RandomZoom{{-0.5, 0.9}, FactorRange{-0.3, 0.6}, sampling}) > 0);
    }
    CHECK(check_layer_gradients<In>(RandomRotation{0.3, {Interpolation::nearest, FillMode::reflect, 0.0}}) > 0);
    CHECK(check_layer_gradients<In>(RandomFlip<>{}, {.batch = 6}) > 0);
    CHECK(check_layer_gradients<In>(RandomContrast{0.5, {-10.0, 10.0}}) > 0);
    CHECK(check_layer_gradients<In>(RandomContrast{0.9, 2.0, {-0.6, 0.6}}) > 0);  // some outputs clipped
    CHECK(check_layer_gradients<In>(RandomBrightness{0.3, {-1.0, 1.0}}) > 0);
}

TEST_CASE("Bad augmentation settings are refused, naming the layer, the setting and the value") {
    LATENT_CHECK_ERROR(value_error, RandomRotation(FactorRange{0.3, 0.1}), "latent.layers.random_rotation.factor",
                       "RandomRotation: factor must be a finite range with lower <= upper, got [0.3, 0.1]");
    LATENT_CHECK_ERROR(value_error, RandomRotation(std::nan("")), "latent.layers.random_rotation.factor", "nan]");
    LATENT_CHECK_ERROR(value_error, RandomTranslation(0.1, 1.5), "latent.layers.random_translation.width_factor",
                       "width_factor must lie in [-1, 1], got [-1.5, 1.5]");
    LATENT_CHECK_ERROR(value_error, RandomZoom(FactorRange{-1.2, 0.0}), "latent.layers.random_zoom.height_factor",
                       "must lie in [-1, 1]");
    LATENT_CHECK_ERROR(value_error, RandomZoom(0.1).fill_value(INFINITY), "latent.layers.random_zoom.fill_value",
                       "fill_value must be a finite number, got inf");
    LATENT_CHECK_ERROR(value_error, RandomContrast(1.5), "latent.layers.random_contrast.factor",
                       "lower bound must be at most 1");
    LATENT_CHECK_ERROR(value_error, RandomContrast(-0.1), "latent.layers.random_contrast.factor", "must lie in");
    LATENT_CHECK_ERROR(value_error, RandomContrast(0.1, ValueRange{1.0, 1.0}),
                       "latent.layers.random_contrast.value_range",
                       "value_range must be finite with low < high, got [1, 1]");
    LATENT_CHECK_ERROR(value_error, RandomBrightness(1.2), "latent.layers.random_brightness.factor",
                       "must lie in [-1, 1]");

    // Keras requires the factors: a layer a model default-constructed refuses to train without them.
    RandomTranslation half_set;
    half_set.set_name("shift");
    half_set.height_factor(0.1);
    LATENT_CHECK_ERROR(value_error, (run<Shape<2, 2, 1>>(half_set, {1, 2, 3, 4})),
                       "latent.layers.random_translation.width_factor",
                       "RandomTranslation \"shift\": width_factor was never set; give it, e.g. "
                       "layer<I>().width_factor(0.1)");
    LATENT_CHECK_ERROR(value_error, (run<Shape<2, 2, 1>>(RandomContrast{}, {1, 2, 3, 4})),
                       "latent.layers.random_contrast.factor", "factor was never set");
    LATENT_CHECK_ERROR(value_error, (run<Shape<2, 2, 1>>(RandomBrightness{}, {1, 2, 3, 4})),
                       "latent.layers.random_brightness.factor", "factor was never set");

    // Training needs a generator.
    std::vector<double> x(4, 1.0), y(4), workspace(8);
    ForwardArgs<double> a{x.data(), y.data(), nullptr, workspace.data(), 1, Mode::train, nullptr};
    LATENT_CHECK_ERROR(value_error, (RandomFlip<>{}.forward<Shape<2, 2, 1>, B, double>(a)),
                       "latent.layers.random_flip.rng",
                       "RandomFlip in training mode needs a random generator");
}

TEST_CASE("Augmentation inside a model: new images each step in training, the images themselves in predict") {
    using Net = Sequential<cpu::simd, Input<6, 6, 1>, RandomFlip<FlipMode::vertical>, RandomRotation, RandomZoom,
                           RandomContrast, RandomCrop<5, 5>, Flatten, Dense<2>, Softmax>;
    static_assert(Net::param_count == 25 * 2 + 2);
    Net model;
    model.layer<1>().factor(0.05).fill_mode(FillMode::nearest);
    model.layer<2>().height_factor(0.1);
    model.layer<3>().factor(0.2).value_range({0.0, 1.1});
    CHECK(model.layer<1>().fill_mode() == FillMode::nearest);
    CHECK(model.layer<0>().name() == "random_flip");

    // Two classes: the left half bright or the right half; flips top to bottom, small turns,
    // zooms and crops by a pixel keep the class.
    Generator g(3);
    Tensor<Shape<6, 6, 1>> x(128);
    Tensor<Shape<2>> y(128);
    for (std::size_t n = 0; n < 128; ++n) {
        const bool left = n % 2 == 0;
        for (std::size_t r = 0; r < 6; ++r)
            for (std::size_t c = 0; c < 6; ++c)
                x.data()[n * 36 + r * 6 + c] = ((c < 3) == left ? 1.0f : 0.0f) + 0.1f * g.uniform_float();
        y.data()[n * 2 + (left ? 0 : 1)] = 1.0f;
    }
    auto same = [](const auto& a, const auto& b) { return std::equal(a.data(), a.data() + a.size(), b.data()); };
    CHECK(same(model.predict(x), model.predict(x)));
    model.compile(optim::Adam{.lr = 0.05}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    const auto history = model.fit(x, y, {.epochs = 5, .batch_size = 16, .verbose = Verbosity::silent});
    CHECK(std::isfinite(history["loss"].back()));
    CHECK(history["loss"].back() < history["loss"].front());
    CHECK(same(model.predict(x), model.predict(x)));
    CHECK(model.evaluate(x, y)["accuracy"] > 0.95);
}
