// Nearest neighbours among codes and the k-nearest-neighbour probe: the search against a brute
// force in double, the weighted vote against hand-worked cases, and every refused input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include <latent/graph/sequential.hpp>
#include <latent/layers/activation.hpp>
#include <latent/layers/dense.hpp>
#include <latent/repr/nearest_neighbors.hpp>

#include "support/messages.hpp"

using namespace latent;

namespace {
template <std::size_t D>
Tensor<Shape<D>> random_codes(std::size_t n, std::uint64_t seed) {
    Tensor<Shape<D>> x(n);
    Generator g(seed);
    for (auto& v : x.values()) v = static_cast<float>(g.normal());
    return x;
}

// Every query's k best references by a double-precision score, ties to the lower index.
template <std::size_t D>
std::vector<std::size_t> brute_force(const Tensor<Shape<D>>& refs, const Tensor<Shape<D>>& queries, std::size_t k,
                                     repr::Similarity similarity, std::vector<double>& scores_out) {
    const auto score = [&](std::size_t q, std::size_t r) {
        double dot = 0, qq = 0, rr = 0, dist = 0;
        for (std::size_t c = 0; c < D; ++c) {
            const double a = queries.sample(q)[c], b = refs.sample(r)[c];
            dot += a * b;
            qq += a * a;
            rr += b * b;
            dist += (a - b) * (a - b);
        }
        switch (similarity) {
            case repr::Similarity::cosine: return qq > 0 && rr > 0 ? dot / std::sqrt(qq * rr) : 0.0;
            case repr::Similarity::dot: return dot;
            case repr::Similarity::euclidean: return -dist;
        }
        return 0.0;
    };
    std::vector<std::size_t> out;
    scores_out.clear();
    for (std::size_t q = 0; q < queries.batch(); ++q) {
        std::vector<double> s(refs.batch());
        for (std::size_t r = 0; r < refs.batch(); ++r) s[r] = score(q, r);
        std::vector<std::size_t> order(refs.batch());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                          [&](std::size_t a, std::size_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
        for (std::size_t j = 0; j < k; ++j) {
            out.push_back(order[j]);
            scores_out.push_back(s[order[j]]);
        }
    }
    return out;
}
}  // namespace

TEST_CASE("nearest_neighbors: the k nearest references, nearest first, as a brute force in double finds them") {
    // More queries than one block of scores holds (4M / 20,000 references = 209 rows), so the
    // blocking is exercised; random normal codes have no near-ties at float precision.
    const auto refs = random_codes<8>(20000, 1);
    const auto queries = random_codes<8>(300, 2);
    for (const auto similarity : {repr::Similarity::cosine, repr::Similarity::dot, repr::Similarity::euclidean}) {
        CAPTURE(static_cast<int>(similarity));
        std::vector<double> expected_scores;
        const auto expected = brute_force(refs, queries, 5, similarity, expected_scores);
        const auto found = repr::nearest_neighbors(refs, queries, 5, similarity);
        REQUIRE(found.queries == 300);
        REQUIRE(found.k == 5);
        CHECK(found.indices == expected);
        double worst = 0;
        for (std::size_t i = 0; i < expected_scores.size(); ++i)
            worst = std::max(worst, std::abs(found.scores[i] - expected_scores[i]) / (1.0 + std::abs(expected_scores[i])));
        CHECK(worst < 1e-5);
        for (std::size_t q = 0; q < found.queries; ++q)
            for (std::size_t j = 1; j < found.k; ++j) CHECK(found.score(q, j - 1) >= found.score(q, j));
    }
}

TEST_CASE("nearest_neighbors: cosine ignores length, euclidean does not; equal scores go to the lower index") {
    // References: (1, 0), (3, 0) on one ray, (0, 2), a zero row, and (3, 0) again.
    Tensor<Shape<2>> refs(5, {1, 0, 3, 0, 0, 2, 0, 0, 3, 0});
    Tensor<Shape<2>> query(1, {2, 0});
    const auto cosine = repr::nearest_neighbors(refs, query, 5, repr::Similarity::cosine);
    CHECK(cosine.indices == std::vector<std::size_t>{0, 1, 4, 2, 3});  // the zero row scores 0, as (0, 2)
    CHECK(cosine.scores == std::vector<float>{1, 1, 1, 0, 0});

    const auto euclidean = repr::nearest_neighbors(refs, query, 3, repr::Similarity::euclidean);
    CHECK(euclidean.indices == std::vector<std::size_t>{0, 1, 4});  // distances 1, 1, 1: ties by index
    CHECK(euclidean.score(0, 0) == doctest::Approx(-1.0));

    const auto dot = repr::nearest_neighbors(refs, query, 2, repr::Similarity::dot);
    CHECK(dot.indices == std::vector<std::size_t>{1, 4});  // 6, 6, then 2
    CHECK(dot.score(0, 1) == doctest::Approx(6.0));
}

TEST_CASE("knn_predict: votes weighted by exp(similarity / temperature); temperature 0 is a majority vote") {
    // One feature, euclidean: the query at 0 has one class-0 neighbour at 0.1 and two class-1
    // neighbours at 1.0 and 1.1. Scores -0.01, -1, -1.21.
    Tensor<Shape<1>> train(3, {0.1f, 1.0f, 1.1f}), labels(3, {0, 1, 1}), query(1, {0.0f});
    const repr::KnnOptions majority{.k = 3, .temperature = 0.0, .similarity = repr::Similarity::euclidean};
    CHECK(repr::knn_predict<2>(train, labels, query, majority) == std::vector<std::size_t>{1});
    // Weighted: class 0 gets 1 (relative to the nearest), class 1 exp(-0.99/T) + exp(-1.2/T).
    repr::KnnOptions weighted = majority;
    weighted.temperature = 0.07;  // class 1: 7.3e-7 + 3.6e-8
    CHECK(repr::knn_predict<2>(train, labels, query, weighted) == std::vector<std::size_t>{0});
    weighted.temperature = 10.0;  // class 1: 0.906 + 0.887 > 1
    CHECK(repr::knn_predict<2>(train, labels, query, weighted) == std::vector<std::size_t>{1});

    // A tie in votes goes to the class whose first voter is nearest: k = 2, one vote each.
    repr::KnnOptions two = majority;
    two.k = 2;
    CHECK(repr::knn_predict<2>(train, labels, query, two) == std::vector<std::size_t>{0});
    Tensor<Shape<1>> far_query(1, {2.0f});  // nearest 1.1 (class 1), then 1.0 (class 1)
    CHECK(repr::knn_predict<2>(train, labels, far_query, two) == std::vector<std::size_t>{1});
}

TEST_CASE("knn_probe: accuracy of the vote against the labels, from codes or from an encoder") {
    // Three clusters on three axes, a tenth of each set's labels wrong: the held-out accuracy
    // is the share whose label is right (the vote of 10 neighbours outvotes the wrong training labels).
    const auto make = [](std::size_t n, std::uint64_t seed) {
        Tensor<Shape<3>> x(n);
        Tensor<Shape<1>> y(n);
        Generator g(seed);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t c = i % 3;
            for (std::size_t f = 0; f < 3; ++f)
                x.sample(i)[f] = static_cast<float>((f == c ? 1.0 : 0.0) + 0.1 * g.normal());
            y[i] = static_cast<float>(i % 10 == 9 ? (c + 1) % 3 : c);
        }
        return std::pair{x, y};
    };
    const auto [train_x, train_y] = make(300, 1);
    const auto [val_x, val_y] = make(200, 2);
    const auto result = repr::knn_probe<3>(train_x, train_y, val_x, val_y, {.k = 10});
    CHECK(result.accuracy == doctest::Approx(0.9));
    REQUIRE(result.predictions.size() == 200);
    for (std::size_t i = 0; i < 200; ++i) CHECK(result.predictions[i] == i % 3);

    Sequential<Input<3>, Dense<2>, Tanh> encoder(7);
    const auto via_encoder = repr::knn_probe<3>(encoder, train_x, train_y, val_x, val_y, {.k = 5});
    const auto via_codes =
        repr::knn_probe<3>(encoder.predict(train_x), train_y, encoder.predict(val_x), val_y, {.k = 5});
    CHECK(via_encoder.accuracy == via_codes.accuracy);
    CHECK(via_encoder.predictions == via_codes.predictions);
}

TEST_CASE("nearest_neighbors and knn_probe refuse impossible settings, codes that are not finite and bad labels") {
    Tensor<Shape<2>> refs(3, {1, 0, 0, 1, 1, 1}), queries(1, {1, 0});
    Tensor<Shape<1>> labels(3, {0, 1, 1});
    const char* nn = "latent.repr.nearest_neighbors";
    LATENT_CHECK_ERROR(value_error, repr::nearest_neighbors(refs, queries, 0), nn, "k is 0 but there are 3 references");
    LATENT_CHECK_ERROR(value_error, repr::nearest_neighbors(refs, queries, 4), nn, "k is 4 but there are 3 references");
    Tensor<Shape<2>> none(0);
    LATENT_CHECK_ERROR(value_error, repr::nearest_neighbors(none, queries, 1), nn, "there are 0 references");

    Tensor<Shape<2>> bad = refs;
    bad.sample(2)[1] = std::numeric_limits<float>::quiet_NaN();
    LATENT_CHECK_ERROR(value_error, repr::nearest_neighbors(bad, queries, 1), nn,
                       "the references hold nan at row 2, feature 1");
    Tensor<Shape<2>> bad_query = queries;
    bad_query.sample(0)[0] = std::numeric_limits<float>::infinity();
    LATENT_CHECK_ERROR(value_error, repr::nearest_neighbors(refs, bad_query, 1), nn,
                       "the queries hold inf at row 0, feature 0");

    const char* probe = "latent.repr.knn_probe";
    LATENT_CHECK_ERROR(value_error, repr::knn_predict<2>(refs, labels, queries, {.k = 1, .temperature = -1.0}), probe,
                       "the temperature must be a finite number >= 0, got -1");
    Tensor<Shape<1>> two_labels(2, {0, 1});
    LATENT_CHECK_ERROR(shape_error, repr::knn_predict<2>(refs, two_labels, queries, {.k = 1}), probe,
                       "the training codes have 3 rows but their labels 2");
    Tensor<Shape<1>> out_of_range(3, {0, 2, 1});
    LATENT_CHECK_ERROR(value_error, repr::knn_predict<2>(refs, out_of_range, queries, {.k = 1}), probe,
                       "the training label of row 1 is 2, not a class index in [0, 2)");
    Tensor<Shape<1>> fractional(1, {0.5f});
    LATENT_CHECK_ERROR(value_error, repr::knn_probe<2>(refs, labels, queries, fractional, {.k = 1}), probe,
                       "the validation label of row 0 is 0.5");
    LATENT_CHECK_ERROR(shape_error, repr::knn_probe<2>(refs, labels, queries, labels, {.k = 1}), probe,
                       "the validation codes have 1 rows but their labels 3");
}
