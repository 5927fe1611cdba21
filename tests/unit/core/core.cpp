// Core vocabulary: Shape algebra, owning and viewing tensors, aligned buffers, the
// parameter arena, the random generator, the error types and the shared index sort.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <latent/core/arena.hpp>
#include <latent/core/errors.hpp>
#include <latent/core/order.hpp>
#include <latent/core/random.hpp>
#include <latent/core/shape.hpp>
#include <latent/core/tensor.hpp>

using namespace latent;

static_assert(Shape<28, 28, 1>::rank == 3);
static_assert(Shape<28, 28, 1>::size == 784);
static_assert(Shape<28, 28, 1>::dims[1] == 28);
static_assert(dim_v<Shape<4, 5>, 1> == 5);
static_assert(is_shape_v<Shape<3>> && !is_shape_v<int>);
static_assert(Tensor<Shape<2, 3>>::sample_size == 6);

TEST_CASE("Shape prints like NumPy") {
    CHECK(Shape<28, 28, 1>::to_string() == "(28, 28, 1)");
    CHECK(Shape<10>::to_string() == "(10,)");
    CHECK(format_shape({784, 256}) == "(784, 256)");
    CHECK(dims_of<Shape<2, 3>>() == std::vector<std::size_t>{2, 3});
}

TEST_CASE("Tensor owns aligned heap storage with a runtime batch") {
    Tensor<Shape<2, 3>> t(4);
    CHECK(t.batch() == 4);
    CHECK(t.size() == 24);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    CHECK(std::all_of(t.values().begin(), t.values().end(), [](float v) { return v == 0.0f; }));
    t.sample(2)[5] = 7.0f;
    CHECK(t[17] == 7.0f);
    Tensor<Shape<2>> init(2, {1, 2, 3, 4});
    CHECK(init.sample(1)[0] == 3.0f);
    CHECK_THROWS_WITH_AS((Tensor<Shape<2>>(2, {1, 2, 3})), doctest::Contains("needs 4 values, got 3"), shape_error);

    SUBCASE("copies are deep, moves steal") {
        Tensor<Shape<2>> copy = init;
        copy[0] = 9;
        CHECK(init[0] == 1.0f);
        Tensor<Shape<2>> moved = std::move(copy);
        CHECK(moved[0] == 9.0f);
    }
    SUBCASE("views and slices share memory") {
        TensorView<Shape<2, 3>, float> v = t;
        v[0] = 3.0f;
        CHECK(t[0] == 3.0f);
        const auto s = t.slice(2, 2);
        CHECK(s.batch() == 2);
        CHECK(s.sample(0)[5] == 7.0f);
        CHECK_THROWS_WITH_AS(t.slice(3, 2), doctest::Contains("outside a batch of 4"), shape_error);
        auto flat = as_shape<Shape<6>>(t);
        CHECK(flat.data() == t.data());
        CHECK(flat.batch() == 4);
    }
}

TEST_CASE("AlignedBuffer") {
    AlignedBuffer<double> b(3);
    CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % 64 == 0);
    b.fill(2.0);
    AlignedBuffer<double> c = b;
    CHECK(c[2] == 2.0);
    b.resize_discard(5);
    CHECK(b.size() == 5);
    CHECK(b[4] == 0.0);
    AlignedBuffer<double> empty;
    CHECK(empty.empty());
}

TEST_CASE("ParameterArena lays slots out back to back and reports trainable ranges") {
    ParameterArena<float> arena({ParamSlot{"a/kernel", {2, 3}, 0, 6, true, 0}, ParamSlot{"a/bias", {3}, 0, 3, true, 0},
                                 ParamSlot{"b/moving_mean", {3}, 0, 3, false, 1},
                                 ParamSlot{"c/kernel", {3, 1}, 0, 3, true, 2}});
    CHECK(arena.size() == 15);
    CHECK(arena.slots()[2].offset == 9);
    CHECK(arena.find("c/kernel")->offset == 12);
    CHECK(arena.find("nope") == nullptr);
    CHECK(arena.trainable_count() == 12);
    // one range per trainable slot (an optimizer merges neighbours; clipnorm clips each apart)
    const auto ranges = arena.trainable_ranges();
    REQUIRE(ranges.size() == 3);
    CHECK(ranges[0] == ArenaRange{0, 6});
    CHECK(ranges[1] == ArenaRange{6, 9});
    CHECK(ranges[2] == ArenaRange{12, 15});
}

TEST_CASE("Generator: deterministic, uniform in range, unbiased enough, shuffles to permutations") {
    Generator a(5), b(5), c(6);
    CHECK(a.next_u64() == b.next_u64());
    CHECK(a.next_u64() != c.next_u64());
    double total = 0;
    for (int i = 0; i < 10000; ++i) {
        const float u = a.uniform_float();
        CHECK_FALSE((u < 0.0f || u >= 1.0f));
        total += u;
    }
    CHECK(total / 10000 == doctest::Approx(0.5).epsilon(0.02));
    double sq = 0;
    for (int i = 0; i < 10000; ++i) {
        const double n = a.normal();
        sq += n * n;
    }
    CHECK(sq / 10000 == doctest::Approx(1.0).epsilon(0.05));
    for (int i = 0; i < 1000; ++i) CHECK(a.below(7) < 7);
    std::vector<int> v(50);
    std::iota(v.begin(), v.end(), 0);
    auto w = v;
    Generator s(1);
    shuffle(w.begin(), w.end(), s);
    CHECK(w != v);
    CHECK(std::set<int>(w.begin(), w.end()).size() == 50);
}

TEST_CASE("errors carry a stable id in front of the message") {
    const io_error e("latent.io.test", "file.bin: broken");
    CHECK(std::string(e.what()) == "[latent.io.test] file.bin: broken");
    CHECK(e.id() == "latent.io.test");
    CHECK_THROWS_AS(throw shape_error("x", "y"), error);
    CHECK_THROWS_AS(throw value_error("x", "y"), std::runtime_error);
}

TEST_CASE("detail::concat joins strings, literals and views") {
    const std::string name = "dense";
    const std::string_view view = "kernel";
    CHECK(detail::concat("layer \"", name, "\" has no ", view, "") == "layer \"dense\" has no kernel");
    CHECK(detail::concat() == "");
}

TEST_CASE("detail::sorted_order is a stable sort's permutation, whatever it compares") {
    const std::vector<std::string> names{"b", "a", "c", "a", "b"};
    const auto by_name =
        detail::sorted_order(names.size(), [&](std::size_t i, std::size_t j) { return names[i] < names[j]; });
    CHECK(by_name == std::vector<std::size_t>{1, 3, 0, 4, 2});  // equal names keep their order

    // Another element type and comparator through the same sort; apply_order moves the items.
    std::vector<std::pair<int, std::string>> items{{3, "x"}, {1, "y"}, {2, "z"}, {1, "w"}};
    const auto descending = detail::sorted_order(
        items.size(), [&](std::size_t i, std::size_t j) { return items[i].first > items[j].first; });
    detail::apply_order(items, descending);
    CHECK(items == std::vector<std::pair<int, std::string>>{{3, "x"}, {2, "z"}, {1, "y"}, {1, "w"}});

    CHECK(detail::sorted_order(0, [](std::size_t, std::size_t) { return false; }).empty());
    // A larger shuffled input comes out sorted, ties in index order.
    std::vector<int> keys(1000);
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<int>((i * 7919) % 97);
    const auto order =
        detail::sorted_order(keys.size(), [&](std::size_t i, std::size_t j) { return keys[i] < keys[j]; });
    for (std::size_t k = 1; k < order.size(); ++k) {
        CHECK(keys[order[k - 1]] <= keys[order[k]]);
        if (keys[order[k - 1]] == keys[order[k]]) CHECK(order[k - 1] < order[k]);
    }
}
