// The merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
// EuclideanDistance): shape rules as compile-time predicates, forward values against
// hand-computed Keras results, gradients of every input, and the backward contract (null entries
// skipped, gradients overwritten).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/merge.hpp>

#include "support/gradient_check.hpp"

using namespace latent;
using latent::testing::check_merge_gradients;

namespace {

using B = cpu::reference;

// Runs L's forward on one array per input, each holding `batch` samples.
template <class... In, class L>
std::vector<double> run(const L& layer, const std::vector<std::vector<double>>& xs, std::size_t batch = 1) {
    using Out = typename L::template output_shape<In...>;
    constexpr std::array<std::size_t, sizeof...(In)> sizes{In::size...};
    REQUIRE(xs.size() == sizeof...(In));
    std::vector<const double*> pointers;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        REQUIRE(xs[k].size() == batch * sizes[k]);
        pointers.push_back(xs[k].data());
    }
    std::vector<double> y(batch * Out::size, -99.0);
    layer.template forward<B, double, In...>(MergeForwardArgs<double>{pointers.data(), xs.size(), y.data(), batch});
    return y;
}

void check_values(const std::vector<double>& got, const std::vector<double>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == doctest::Approx(expected[i]));
    }
}

// first, first + 1, ...: values whose origin can be read off the output.
std::vector<double> counting(std::size_t n, double first = 1) {
    std::vector<double> v(n);
    std::iota(v.begin(), v.end(), first);
    return v;
}

}  // namespace

// ---- shape rules, as compile-time predicates ---------------------------------------------

static_assert(is_merge_layer_v<Add> && is_merge_layer_v<Subtract> && is_merge_layer_v<Multiply> &&
              is_merge_layer_v<Average> && is_merge_layer_v<Maximum> && is_merge_layer_v<Minimum> &&
              is_merge_layer_v<Concatenate<>> && is_merge_layer_v<Concatenate<0>>);
static_assert(!is_merge_layer_v<Dense<4>>);
// A merge layer is not a single-input layer, so a Sequential cannot take one by mistake.
static_assert(!layer<Add> && !layer<Concatenate<>>);
static_assert(Add::is_merge && Concatenate<2>::axis == 2 && Concatenate<>::axis == -1);

using S23 = Shape<2, 3>;

// The elementwise merges: two or more inputs of one shape, which the output keeps.
static_assert(merge_accepts_v<Add, S23, S23> && merge_accepts_v<Add, S23, S23, S23>);
static_assert(merge_accepts_v<Multiply, Shape<4>, Shape<4>, Shape<4>, Shape<4>>);
static_assert(merge_accepts_v<Average, S23, S23> && merge_accepts_v<Maximum, S23, S23> &&
              merge_accepts_v<Minimum, S23, S23, S23>);
static_assert(std::is_same_v<Add::output_shape<S23, S23, S23>, S23>);
static_assert(std::is_same_v<Maximum::output_shape<Shape<4, 4, 3>, Shape<4, 4, 3>>, Shape<4, 4, 3>>);
static_assert(!merge_accepts_v<Add, Shape<2>, Shape<3>>);
static_assert(!merge_accepts_v<Add, S23, Shape<3, 2>>);    // the same size is not the same shape
static_assert(!merge_accepts_v<Add, S23, Shape<6>>);
static_assert(!merge_accepts_v<Multiply, S23, S23, Shape<2, 4>>);
static_assert(!merge_accepts_v<Average, Shape<3>> && !merge_accepts_v<Add>);  // one input is no merge
static_assert(!merge_accepts_v<Maximum, Shape<3>, Shape<1>> && !merge_accepts_v<Minimum, Shape<3>, Shape<1>>);

// Subtract: exactly two.
static_assert(merge_accepts_v<Subtract, S23, S23>);
static_assert(!merge_accepts_v<Subtract, S23, S23, S23>);
static_assert(!merge_accepts_v<Subtract, S23>);
static_assert(!merge_accepts_v<Subtract, S23, Shape<3, 2>>);

// Concatenate: one rank, the axis inside it, every other axis equal; negative axes count from
// the end of the sample shape.
static_assert(std::is_same_v<Concatenate<>::output_shape<S23, Shape<2, 1>>, Shape<2, 4>>);
static_assert(std::is_same_v<Concatenate<-1>::output_shape<S23, Shape<2, 1>>, Shape<2, 4>>);
static_assert(std::is_same_v<Concatenate<1>::output_shape<S23, Shape<2, 1>>, Shape<2, 4>>);
static_assert(std::is_same_v<Concatenate<0>::output_shape<S23, Shape<1, 3>>, Shape<3, 3>>);
static_assert(std::is_same_v<Concatenate<-2>::output_shape<S23, Shape<1, 3>>, Shape<3, 3>>);
static_assert(std::is_same_v<Concatenate<>::output_shape<Shape<4, 4, 3>, Shape<4, 4, 5>>, Shape<4, 4, 8>>);
static_assert(std::is_same_v<Concatenate<1>::output_shape<Shape<4, 2, 3>, Shape<4, 5, 3>>, Shape<4, 7, 3>>);
static_assert(std::is_same_v<Concatenate<0>::output_shape<Shape<2>, Shape<3>, Shape<4>>, Shape<9>>);  // Keras axis=1
static_assert(merge_accepts_v<Concatenate<>, S23, Shape<2, 1>> && merge_accepts_v<Concatenate<0>, S23, Shape<1, 3>>);
static_assert(merge_accepts_v<Concatenate<-3>, Shape<1, 2, 3>, Shape<4, 2, 3>>);
static_assert(!merge_accepts_v<Concatenate<>, S23, Shape<3, 1>>);     // differ on axis 0 too
static_assert(!merge_accepts_v<Concatenate<0>, S23, Shape<2, 1>>);    // differ on the last axis
static_assert(!merge_accepts_v<Concatenate<>, Shape<4, 4, 3>, Shape<4, 5, 3>>);
static_assert(!merge_accepts_v<Concatenate<>, S23, Shape<2, 3, 1>>);  // different ranks
static_assert(!merge_accepts_v<Concatenate<2>, S23, S23>);           // out of range
static_assert(!merge_accepts_v<Concatenate<-3>, S23, S23>);
static_assert(!merge_accepts_v<Concatenate<>, S23>);

// Dot: exactly two vectors of one size, one number out.
static_assert(is_merge_layer_v<Dot<>> && Dot<>::axes == -1 && Dot<0>::axes == 0);
static_assert(merge_accepts_v<Dot<>, Shape<5>, Shape<5>> && merge_accepts_v<Dot<0>, Shape<1>, Shape<1>>);
static_assert(std::is_same_v<Dot<>::output_shape<Shape<5>, Shape<5>>, Shape<1>>);
static_assert(!merge_accepts_v<Dot<>, Shape<5>, Shape<4>>);
static_assert(!merge_accepts_v<Dot<>, S23, S23>);  // vectors only
static_assert(!merge_accepts_v<Dot<>, Shape<5>, Shape<5>, Shape<5>> && !merge_accepts_v<Dot<>, Shape<5>>);
static_assert(std::is_same_v<Dot<>::requirement_for<Shape<5>, Shape<4>>, same_size_vectors>);
static_assert(std::is_same_v<Dot<>::requirement_for<S23, S23>, same_size_vectors>);
static_assert(std::is_same_v<Dot<>::requirement_for<Shape<5>>, exactly_inputs<2>>);
static_assert(Dot<>::params<Shape<5>, Shape<5>>.empty() && Dot<>::flops_per_sample<Shape<5>, Shape<5>> == 10);
// EuclideanDistance: as Dot, two vectors of one size, one number out.
static_assert(is_merge_layer_v<EuclideanDistance>);
static_assert(merge_accepts_v<EuclideanDistance, Shape<5>, Shape<5>>);
static_assert(std::is_same_v<EuclideanDistance::output_shape<Shape<5>, Shape<5>>, Shape<1>>);
static_assert(!merge_accepts_v<EuclideanDistance, Shape<5>, Shape<4>> && !merge_accepts_v<EuclideanDistance, S23, S23>);
static_assert(!merge_accepts_v<EuclideanDistance, Shape<5>, Shape<5>, Shape<5>>);
static_assert(std::is_same_v<EuclideanDistance::requirement_for<Shape<5>, Shape<4>>, same_size_vectors>);
static_assert(EuclideanDistance::workspace_per_sample<Shape<5>, Shape<5>> == 7);

// What a refusal is reported as.
static_assert(std::is_same_v<Add::requirement_for<Shape<2>, Shape<3>>, same_shapes>);
static_assert(std::is_same_v<Add::requirement_for<Shape<2>>, at_least_inputs<2>>);
static_assert(std::is_same_v<Subtract::requirement_for<S23, S23, S23>, exactly_inputs<2>>);
static_assert(std::is_same_v<Subtract::requirement_for<S23, Shape<3>>, same_shapes>);
static_assert(std::is_same_v<Concatenate<>::requirement_for<S23, Shape<3, 1>>, concatenable_on<-1>>);
static_assert(std::is_same_v<Concatenate<2>::requirement_for<S23, S23>, concatenable_on<2>>);
static_assert(std::is_same_v<Concatenate<>::requirement_for<S23>, at_least_inputs<2>>);

// After a refusal the output shape is a plausible stand-in, so later layers stay quiet.
static_assert(std::is_same_v<Add::output_shape<Shape<2>, Shape<3>>, Shape<2>>);
static_assert(std::is_same_v<Subtract::output_shape<S23, S23, S23>, S23>);
static_assert(std::is_same_v<Add::output_shape<>, Shape<1>>);
static_assert(std::is_same_v<Concatenate<>::output_shape<Shape<4, 4, 3>, Shape<5, 4, 2>>, Shape<4, 4, 5>>);
static_assert(std::is_same_v<Concatenate<>::output_shape<S23, Shape<2, 3, 1>>, S23>);
static_assert(std::is_same_v<Concatenate<2>::output_shape<S23, S23>, S23>);
static_assert(std::is_same_v<Concatenate<>::output_shape<>, Shape<1>>);

// Counts: no parameters, no workspace; one operation per element and extra input.
static_assert(Add::params<S23, S23>.empty() && Concatenate<>::params<S23, S23>.empty());
static_assert(Add::workspace_per_sample<S23, S23> == 0 && Maximum::workspace_fixed<S23, S23> == 0);
static_assert(Add::flops_per_sample<S23, S23> == 6 && Add::flops_per_sample<S23, S23, S23> == 12);
static_assert(Subtract::flops_per_sample<S23, S23> == 6);
static_assert(Multiply::flops_per_sample<Shape<4>, Shape<4>, Shape<4>> == 8);
static_assert(Average::flops_per_sample<Shape<4>, Shape<4>, Shape<4>> == 12);
static_assert(Maximum::flops_per_sample<Shape<4>, Shape<4>> == 4 && Minimum::flops_per_sample<Shape<4>, Shape<4>> == 4);
static_assert(Concatenate<>::flops_per_sample<S23, Shape<2, 1>> == 0);
static_assert(Add::flops_per_sample<S23> == 0);

TEST_CASE("merge layers carry Keras' class and default names") {
    CHECK(Add::type_name == "Add");
    CHECK(Add::default_name == "add");
    CHECK(Subtract::type_name == "Subtract");
    CHECK(Subtract::default_name == "subtract");
    CHECK(Multiply::type_name == "Multiply");
    CHECK(Multiply::default_name == "multiply");
    CHECK(Average::type_name == "Average");
    CHECK(Average::default_name == "average");
    CHECK(Maximum::type_name == "Maximum");
    CHECK(Maximum::default_name == "maximum");
    CHECK(Minimum::type_name == "Minimum");
    CHECK(Minimum::default_name == "minimum");
    CHECK(Concatenate<>::type_name == "Concatenate");
    CHECK(Concatenate<>::default_name == "concatenate");
    CHECK(Dot<>::type_name == "Dot");
    CHECK(Dot<>::default_name == "dot");
    CHECK(Add{"skip"}.name() == "skip");
    CHECK(Dot<>{"similarity"}.name() == "similarity");  // a name, not normalize = true
    CHECK_FALSE(Dot<>{"similarity"}.normalize());
    CHECK(Dot<>{true, "cosine"}.normalize());
    CHECK(Dot<>{true, "cosine"}.name() == "cosine");
    CHECK_FALSE(Dot<>{}.normalize());
    CHECK(Concatenate<0>{}.name().empty());
}

// ---- forward values ----------------------------------------------------------------------

TEST_CASE("Add sums its inputs elementwise") {
    check_values(run<Shape<3>, Shape<3>>(Add{}, {{1, 2, 3}, {10, 20, 30}}), {11, 22, 33});
    SUBCASE("three inputs, two samples") {
        const std::vector<double> a{1, 2, 3, 4, 5, 6, 7, 8}, b{10, 20, 30, 40, 50, 60, 70, 80}, c(8, -1);
        check_values(run<Shape<2, 2>, Shape<2, 2>, Shape<2, 2>>(Add{}, {a, b, c}, 2),
                     {10, 21, 32, 43, 54, 65, 76, 87});
    }
}

TEST_CASE("Subtract takes the second input from the first") {
    check_values(run<Shape<3>, Shape<3>>(Subtract{}, {{5, 1, 0}, {2, 3, 0}}), {3, -2, 0});
}

TEST_CASE("Multiply multiplies its inputs elementwise") {
    check_values(run<Shape<3>, Shape<3>>(Multiply{}, {{1, 2, -3}, {4, 0.5, 2}}), {4, 1, -6});
    check_values(run<Shape<3>, Shape<3>, Shape<3>>(Multiply{}, {{1, 2, -3}, {4, 0.5, 2}, {2, 2, -1}}), {8, 2, 6});
}

TEST_CASE("Average takes the elementwise mean") {
    check_values(run<Shape<3>, Shape<3>>(Average{}, {{1, 2, 3}, {3, 6, 9}}), {2, 4, 6});
    check_values(run<Shape<3>, Shape<3>, Shape<3>>(Average{}, {{1, 2, 3}, {3, 6, 9}, {2, 1, 0}}), {2, 3, 4});
}

TEST_CASE("Maximum and Minimum pick the extreme value of each element") {
    const std::vector<std::vector<double>> xs{{1, 5, -2}, {3, 0, -7}, {2, 5, -1}};
    check_values(run<Shape<3>, Shape<3>, Shape<3>>(Maximum{}, xs), {3, 5, -1});
    check_values(run<Shape<3>, Shape<3>, Shape<3>>(Minimum{}, xs), {1, 0, -7});
    check_values(run<Shape<3>, Shape<3>>(Maximum{}, {{1, 5, -2}, {3, 0, -7}}), {3, 5, -2});

    SUBCASE("a NaN in any input shows in the output") {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (const auto& y : {run<Shape<2>, Shape<2>>(Maximum{}, {{1, nan}, {nan, 2}}),
                              run<Shape<2>, Shape<2>>(Minimum{}, {{1, nan}, {nan, 2}})}) {
            CHECK(std::isnan(y[0]));
            CHECK(std::isnan(y[1]));
        }
    }
}

TEST_CASE("Concatenate on the last axis puts each row's features side by side") {
    // [[1 2 3], [4 5 6]] and [[7], [8]] -> [[1 2 3 7], [4 5 6 8]]; the second sample adds 100.
    check_values(run<Shape<2, 3>, Shape<2, 1>>(Concatenate<>{}, {counting(6), {7, 8}}), {1, 2, 3, 7, 4, 5, 6, 8});
    std::vector<double> a = counting(6), b{7, 8};
    for (double v : counting(6)) a.push_back(v + 100);
    b.insert(b.end(), {107, 108});
    check_values(run<Shape<2, 3>, Shape<2, 1>>(Concatenate<-1>{}, {a, b}, 2),
                 {1, 2, 3, 7, 4, 5, 6, 8, 101, 102, 103, 107, 104, 105, 106, 108});

    SUBCASE("three feature vectors: Keras' Concatenate(axis=1) over (batch, features)") {
        const std::vector<std::vector<double>> xs{{1, 2, 11, 12}, {3, 13}, {4, 5, 6, 14, 15, 16}};
        check_values(run<Shape<2>, Shape<1>, Shape<3>>(Concatenate<0>{}, xs, 2), {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16});
    }
}

TEST_CASE("Concatenate on the first axis stacks each sample's rows") {
    // Sample 0: [[1 2 3], [4 5 6]] over [[7 8 9]]; sample 1 the same plus 10.
    std::vector<double> a = counting(6), b = counting(3, 7);
    for (double v : counting(6)) a.push_back(v + 10);
    for (double v : counting(3, 7)) b.push_back(v + 10);
    check_values(run<Shape<2, 3>, Shape<1, 3>>(Concatenate<0>{}, {a, b}, 2),
                 {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19});
}

TEST_CASE("Concatenate joins images along their channels") {
    // A (2, 2, 2) image with pixels (p, -p) and a (2, 2, 1) one with pixels 10 p.
    const std::vector<double> a{1, -1, 2, -2, 3, -3, 4, -4}, b{10, 20, 30, 40};
    check_values(run<Shape<2, 2, 2>, Shape<2, 2, 1>>(Concatenate<>{}, {a, b}),
                 {1, -1, 10, 2, -2, 20, 3, -3, 30, 4, -4, 40});
    SUBCASE("and along their width") {
        // [[1 2], [3 4]] beside [[5], [6]], one channel.
        check_values(run<Shape<2, 2, 1>, Shape<2, 1, 1>>(Concatenate<1>{}, {{1, 2, 3, 4}, {5, 6}}), {1, 2, 5, 3, 4, 6});
    }
}

TEST_CASE("Dot: the dot product of two vectors per sample; normalized, their cosine (as Keras)") {
    // Keras: Dot(axes=1)([[1, 2, 3]], [[4, -5, 6]]) = 12; with normalize=True, 12 / (|x1| |x2|)
    check_values(run<Shape<3>, Shape<3>>(Dot<>{}, {{1, 2, 3}, {4, -5, 6}}), {12});
    check_values(run<Shape<3>, Shape<3>>(Dot<>{true}, {{1, 2, 3}, {4, -5, 6}}),
                 {12 / (std::sqrt(14.0) * std::sqrt(77.0))});
    SUBCASE("two samples; parallel and opposite vectors") {
        check_values(run<Shape<2>, Shape<2>>(Dot<0>{true}, {{3, 4, 1, 0}, {6, 8, -2, 0}}, 2), {1, -1});
        check_values(run<Shape<2>, Shape<2>>(Dot<0>{}, {{3, 4, 1, 0}, {6, 8, -2, 0}}, 2), {50, -2});
    }
    SUBCASE("a zero vector's norm is floored (1e-12 on its square), so its cosine is 0, not NaN") {
        check_values(run<Shape<3>, Shape<3>>(Dot<>{true}, {{0, 0, 0}, {1, 2, 3}}), {0});
    }
}

TEST_CASE("EuclideanDistance: sqrt(max(sum((x0 - x1)^2), 1e-7)), Keras' Siamese example's distance") {
    const std::vector<double> x0{3, 4, 1, 1, 0, 2}, x1{0, 0, 1, 1, 1, 0};  // three samples of 2
    const double* xs[] = {x0.data(), x1.data()};
    std::vector<double> y(3, -1.0), workspace(3 * EuclideanDistance::workspace_per_sample<Shape<2>, Shape<2>>);
    const EuclideanDistance distance{"distance"};
    CHECK(distance.name() == "distance");
    CHECK(EuclideanDistance::default_name == "euclidean_distance");
    distance.forward<B, double, Shape<2>, Shape<2>>({xs, 2, y.data(), 3, nullptr, workspace.data()});
    // equal vectors: the floor's square root, not 0
    check_values(y, {5, std::sqrt(1e-7), std::sqrt(5.0)});

    // dx0 = dy (x0 - x1) / distance, dx1 = -dx0; nothing for the equal pair (the floor holds).
    const std::vector<double> dy{2, 7, -1};
    std::vector<double> dx0(6, 99.0), dx1(6, 99.0);
    double* both[] = {dx0.data(), dx1.data()};
    distance.backward<B, double, Shape<2>, Shape<2>>({xs, 2, y.data(), dy.data(), both, 3, nullptr, nullptr,
                                                      workspace.data()});
    check_values(dx0, {1.2, 1.6, 0, 0, 1 / std::sqrt(5.0), -2 / std::sqrt(5.0)});
    check_values(dx1, {-1.2, -1.6, 0, 0, -1 / std::sqrt(5.0), 2 / std::sqrt(5.0)});
    std::vector<double> only(6, 99.0);
    double* second_only[] = {nullptr, only.data()};
    distance.backward<B, double, Shape<2>, Shape<2>>({xs, 2, y.data(), dy.data(), second_only, 3, nullptr, nullptr,
                                                      workspace.data()});
    check_values(only, dx1);
}

// ---- gradients ---------------------------------------------------------------------------

TEST_CASE("Add, Subtract and Average gradients") {
    CHECK(check_merge_gradients<S23, S23>(Add{}) > 0);
    CHECK(check_merge_gradients<Shape<4>, Shape<4>, Shape<4>>(Add{}) > 0);
    CHECK(check_merge_gradients<S23, S23>(Subtract{}) > 0);
    CHECK(check_merge_gradients<S23, S23>(Average{}) > 0);
    CHECK(check_merge_gradients<Shape<4>, Shape<4>, Shape<4>>(Average{}) > 0);
}

TEST_CASE("Multiply gradients") {
    CHECK(check_merge_gradients<S23, S23>(Multiply{}) > 0);
    CHECK(check_merge_gradients<Shape<2, 2, 2>, Shape<2, 2, 2>, Shape<2, 2, 2>>(Multiply{}) > 0);
}

// Defined where one input holds the extreme: the random inputs are distinct.
TEST_CASE("Maximum and Minimum gradients") {
    CHECK(check_merge_gradients<S23, S23>(Maximum{}) > 0);
    CHECK(check_merge_gradients<Shape<5>, Shape<5>, Shape<5>>(Maximum{}) > 0);
    CHECK(check_merge_gradients<S23, S23>(Minimum{}) > 0);
    CHECK(check_merge_gradients<Shape<5>, Shape<5>, Shape<5>>(Minimum{}) > 0);
}

TEST_CASE("Dot gradients, plain and normalized") {
    CHECK(check_merge_gradients<Shape<5>, Shape<5>>(Dot<>{}) > 0);
    CHECK(check_merge_gradients<Shape<5>, Shape<5>>(Dot<>{true}) > 0);
}

TEST_CASE("EuclideanDistance gradients") {
    CHECK(check_merge_gradients<Shape<5>, Shape<5>>(EuclideanDistance{}) > 0);
    CHECK(check_merge_gradients<Shape<1>, Shape<1>>(EuclideanDistance{}, {.batch = 4}) > 0);
}

TEST_CASE("Concatenate gradients") {
    CHECK(check_merge_gradients<S23, Shape<2, 1>>(Concatenate<>{}) > 0);
    CHECK(check_merge_gradients<S23, Shape<1, 3>>(Concatenate<0>{}) > 0);
    CHECK(check_merge_gradients<Shape<2, 2, 2>, Shape<2, 2, 1>, Shape<2, 2, 3>>(Concatenate<>{}) > 0);
    CHECK(check_merge_gradients<Shape<2, 2, 1>, Shape<2, 3, 1>>(Concatenate<1>{}) > 0);
}

TEST_CASE("Maximum routes a tie's gradient to the first input holding the maximum") {
    const std::vector<double> x0{1, 4, 2}, x1{3, 4, 2}, x2{3, 0, 2}, y{3, 4, 2}, dy{10, 20, 30};
    const double* xs[] = {x0.data(), x1.data(), x2.data()};
    std::vector<double> dx0(3, -1), dx1(3, -1), dx2(3, -1);
    double* dxs[] = {dx0.data(), dx1.data(), dx2.data()};
    Maximum{}.backward<B, double, Shape<3>, Shape<3>, Shape<3>>({xs, 3, y.data(), dy.data(), dxs, 1});
    check_values(dx0, {0, 20, 30});
    check_values(dx1, {10, 0, 0});
    check_values(dx2, {0, 0, 0});
}

TEST_CASE("backward skips a null gradient entry and overwrites the others") {
    SUBCASE("Multiply") {
        const std::vector<double> x0{1, 2, 3}, x1{4, 5, 6}, y{4, 10, 18}, dy{1, -1, 2};
        const double* xs[] = {x0.data(), x1.data()};
        std::vector<double> dx0(3, 99.0);  // stale values: must not survive
        double* dxs[] = {dx0.data(), nullptr};
        Multiply{}.backward<B, double, Shape<3>, Shape<3>>({xs, 2, y.data(), dy.data(), dxs, 1});
        check_values(dx0, {4, -5, 12});
    }
    SUBCASE("Dot, plain and normalized, one input needing nothing") {
        const std::vector<double> x0{3, 4}, x1{1, 0}, dy{2};
        const double* xs[] = {x0.data(), x1.data()};
        std::vector<double> dx1(2, 99.0);
        double* second_only[] = {nullptr, dx1.data()};
        const std::vector<double> y{3};
        Dot<>{}.backward<B, double, Shape<2>, Shape<2>>({xs, 2, y.data(), dy.data(), second_only, 1});
        check_values(dx1, {6, 8});  // dy * x0
        // cosine 0.6: d/dx1 = dy / |x1| * (x0 / |x0| - 0.6 * x1 / |x1|) = 2 * ((0.6, 0.8) - (0.6, 0))
        const std::vector<double> cosine{0.6};
        Dot<>{true}.backward<B, double, Shape<2>, Shape<2>>({xs, 2, cosine.data(), dy.data(), second_only, 1});
        check_values(dx1, {0, 1.6});
    }
    SUBCASE("Concatenate, the middle input needing nothing") {
        const std::vector<double> x0{1, 2}, x1{3}, x2{4, 5}, y{1, 2, 3, 4, 5}, dy{10, 20, 30, 40, 50};
        const double* xs[] = {x0.data(), x1.data(), x2.data()};
        std::vector<double> dx0(2, 99.0), dx2(2, 99.0);
        double* dxs[] = {dx0.data(), nullptr, dx2.data()};
        Concatenate<>{}.backward<B, double, Shape<2>, Shape<1>, Shape<2>>({xs, 3, y.data(), dy.data(), dxs, 1});
        check_values(dx0, {10, 20});
        check_values(dx2, {40, 50});
    }
    SUBCASE("Add, Subtract, Average, Minimum") {
        const std::vector<double> x0{1, 2}, x1{3, 0}, dy{1, -2};
        const double* xs[] = {x0.data(), x1.data()};
        std::vector<double> dx(2, 99.0);
        double* first_only[] = {dx.data(), nullptr};
        double* second_only[] = {nullptr, dx.data()};
        const std::vector<double> sum{4, 2}, diff{-2, 2}, mean{2, 1}, min{1, 0};
        Add{}.backward<B, double, Shape<2>, Shape<2>>({xs, 2, sum.data(), dy.data(), second_only, 1});
        check_values(dx, {1, -2});
        Subtract{}.backward<B, double, Shape<2>, Shape<2>>({xs, 2, diff.data(), dy.data(), second_only, 1});
        check_values(dx, {-1, 2});
        Average{}.backward<B, double, Shape<2>, Shape<2>>({xs, 2, mean.data(), dy.data(), first_only, 1});
        check_values(dx, {0.5, -1});
        Minimum{}.backward<B, double, Shape<2>, Shape<2>>({xs, 2, min.data(), dy.data(), second_only, 1});
        check_values(dx, {0, -2});
    }
}
