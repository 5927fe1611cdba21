// Nearest neighbours among embeddings, and the k-nearest-neighbour probe: how well a frozen
// representation classifies by similarity alone, with no classifier trained (the weighted kNN of
// Wu et al. 2018 that DINO and most self-supervised papers report beside the linear probe).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../backend/default.hpp"
#include "../backend/ops.hpp"
#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../layers/layer.hpp"

namespace latent::repr {

// How near two codes are; larger is nearer. euclidean scores minus the squared distance.
enum class Similarity { cosine, dot, euclidean };

// The k nearest references of each query, nearest first: (queries, k) row-major. A tie in score
// goes to the lower reference index, so results do not depend on the order of evaluation.
struct Neighbors {
    std::size_t queries = 0, k = 0;
    std::vector<std::size_t> indices;
    std::vector<float> scores;

    std::size_t index(std::size_t query, std::size_t rank) const { return indices.at(query * k + rank); }
    float score(std::size_t query, std::size_t rank) const { return scores.at(query * k + rank); }
};

struct KnnOptions {
    std::size_t k = 20;
    // Each neighbour votes exp(similarity / temperature) for its class (Wu et al. 2018; DINO
    // evaluates with k = 20 and 0.07 on cosine). 0 gives every neighbour one vote: a majority vote.
    double temperature = 0.07;
    Similarity similarity = Similarity::cosine;
};

struct KnnResult {
    double accuracy = 0.0;
    std::vector<std::size_t> predictions;  // one class per query
};

namespace detail {
// The codes as rows of floats; cosine scales each row to unit length (a zero row stays zero:
// it is as similar to everything as nothing is, score 0). Any value not finite is refused.
template <class S>
std::vector<float> neighbor_rows(const Tensor<S>& codes, Similarity similarity, const char* what) {
    std::vector<float> rows(codes.data(), codes.data() + codes.size());
    for (std::size_t r = 0; r < codes.batch(); ++r) {
        float* row = rows.data() + r * S::size;
        double squares = 0;
        for (std::size_t c = 0; c < S::size; ++c) {
            if (!std::isfinite(row[c]))
                throw value_error("latent.repr.nearest_neighbors",
                                  std::string("the ") + what + " hold " + latent::detail::number_text(row[c]) +
                                      " at row " + std::to_string(r) + ", feature " + std::to_string(c) +
                                      ": codes must be finite numbers");
            squares += double(row[c]) * row[c];
        }
        if (similarity == Similarity::cosine && squares > 0) {
            const double inv = 1.0 / std::sqrt(squares);
            for (std::size_t c = 0; c < S::size; ++c) row[c] = static_cast<float>(row[c] * inv);
        }
    }
    return rows;
}

inline std::vector<double> squared_norms(const std::vector<float>& rows, std::size_t width) {
    std::vector<double> norms(rows.size() / width, 0.0);
    for (std::size_t r = 0; r < norms.size(); ++r)
        for (std::size_t c = 0; c < width; ++c) norms[r] += double(rows[r * width + c]) * rows[r * width + c];
    return norms;
}

// Whether (score a, index a) ranks before (score b, index b).
inline bool nearer(float score_a, std::size_t index_a, float score_b, std::size_t index_b) {
    return score_a > score_b || (score_a == score_b && index_a < index_b);
}

inline std::size_t class_of(float label, std::size_t classes, std::size_t row, const char* what) {
    if (!(label >= 0.0f) || label >= static_cast<float>(classes) || label != std::floor(label))
        throw value_error("latent.repr.knn_probe", std::string("the ") + what + " label of row " + std::to_string(row) +
                                                       " is " + latent::detail::number_text(label) +
                                                       ", not a class index in [0, " + std::to_string(classes) + ")");
    return static_cast<std::size_t>(label);
}

template <class S>
void require_labels_for(const Tensor<S>& codes, const Tensor<Shape<1>>& labels, const char* what) {
    if (codes.batch() != labels.batch())
        throw shape_error("latent.repr.knn_probe", std::string("the ") + what + " codes have " +
                                                       std::to_string(codes.batch()) + " rows but their labels " +
                                                       std::to_string(labels.batch()) + ": one label per code");
}
}  // namespace detail

// The k references nearest to each query under `similarity`, found exactly: the scores are one
// matrix product per block of queries (on the CPU: the codes live in host memory whatever
// backend made them), the selection a bounded heap per query.
template <shape_type S>
Neighbors nearest_neighbors(const Tensor<S>& references, const Tensor<S>& queries, std::size_t k,
                            Similarity similarity = Similarity::cosine) {
    const std::size_t n = references.batch(), width = S::size;
    if (k == 0 || k > n)
        throw value_error("latent.repr.nearest_neighbors",
                          "k is " + std::to_string(k) + " but there are " + std::to_string(n) +
                              " references: k must be at least 1 and at most the number of references");
    const std::vector<float> refs = detail::neighbor_rows(references, similarity, "references");
    const std::vector<float> qs = detail::neighbor_rows(queries, similarity, "queries");
    const bool euclidean = similarity == Similarity::euclidean;
    const std::vector<double> ref_norms = euclidean ? detail::squared_norms(refs, width) : std::vector<double>{};
    const std::vector<double> query_norms = euclidean ? detail::squared_norms(qs, width) : std::vector<double>{};

    Neighbors out;
    out.queries = queries.batch();
    out.k = k;
    out.indices.resize(out.queries * k);
    out.scores.resize(out.queries * k);
    // Blocks of queries whose scores take about 16 MB, so memory stays flat however many references.
    const std::size_t block = std::clamp<std::size_t>((std::size_t{1} << 22) / n, 1, 256);
    std::vector<float> scores(block * n);
    std::vector<std::pair<float, std::size_t>> heap;
    heap.reserve(k);
    // The heap keeps the worst of the best k on top.
    const auto worse_on_top = [](const auto& a, const auto& b) {
        return detail::nearer(a.first, a.second, b.first, b.second);
    };
    for (std::size_t q0 = 0; q0 < out.queries; q0 += block) {
        const std::size_t rows = std::min(block, out.queries - q0);
        ops::gemm<cpu::simd>(false, true, rows, n, width, 1.0f, qs.data() + q0 * width, width, refs.data(), width,
                             0.0f, scores.data(), n);
        for (std::size_t r = 0; r < rows; ++r) {
            const float* s = scores.data() + r * n;
            const auto score_of = [&](std::size_t i) {
                // -|q - r|^2 = 2 q.r - |q|^2 - |r|^2, floored at 0 distance against rounding
                return euclidean ? static_cast<float>(std::min(0.0, 2.0 * s[i] - query_norms[q0 + r] - ref_norms[i]))
                                 : s[i];
            };
            heap.clear();
            for (std::size_t i = 0; i < n; ++i) {
                const float v = score_of(i);
                if (heap.size() < k) {
                    heap.emplace_back(v, i);
                    std::push_heap(heap.begin(), heap.end(), worse_on_top);
                } else if (detail::nearer(v, i, heap.front().first, heap.front().second)) {
                    std::pop_heap(heap.begin(), heap.end(), worse_on_top);
                    heap.back() = {v, i};
                    std::push_heap(heap.begin(), heap.end(), worse_on_top);
                }
            }
            std::sort_heap(heap.begin(), heap.end(), worse_on_top);  // nearest first
            for (std::size_t j = 0; j < k; ++j) {
                out.scores[(q0 + r) * k + j] = heap[j].first;
                out.indices[(q0 + r) * k + j] = heap[j].second;
            }
        }
    }
    return out;
}

// The class each query gets from its k nearest training codes, each voting for its label with
// weight exp(similarity / temperature) (one vote each at temperature 0). A tie in votes goes to
// the tied class whose first voter is nearest.
template <std::size_t Classes, shape_type S>
std::vector<std::size_t> knn_predict(const Tensor<S>& train_codes, const Tensor<Shape<1>>& train_labels,
                                     const Tensor<S>& queries, const KnnOptions& options = {}) {
    static_assert(Classes >= 1, "latent: knn_predict needs at least one class");
    detail::require_labels_for(train_codes, train_labels, "training");
    if (!(options.temperature >= 0.0) || !std::isfinite(options.temperature))
        throw value_error("latent.repr.knn_probe", "the temperature must be a finite number >= 0, got " +
                                                       latent::detail::number_text(options.temperature));
    std::vector<std::size_t> train_classes(train_labels.batch());
    for (std::size_t i = 0; i < train_classes.size(); ++i)
        train_classes[i] = detail::class_of(train_labels[i], Classes, i, "training");

    const Neighbors near = nearest_neighbors(train_codes, queries, options.k, options.similarity);
    std::vector<std::size_t> predictions(near.queries);
    std::vector<double> votes(Classes);
    std::vector<std::size_t> first_rank(Classes);
    for (std::size_t q = 0; q < near.queries; ++q) {
        std::fill(votes.begin(), votes.end(), 0.0);
        std::fill(first_rank.begin(), first_rank.end(), near.k);
        const double best = near.score(q, 0);  // weights relative to the nearest: no overflow
        for (std::size_t j = 0; j < near.k; ++j) {
            const std::size_t c = train_classes[near.index(q, j)];
            votes[c] += options.temperature > 0 ? std::exp((near.score(q, j) - best) / options.temperature) : 1.0;
            first_rank[c] = std::min(first_rank[c], j);
        }
        std::size_t chosen = 0;
        for (std::size_t c = 1; c < Classes; ++c)
            if (votes[c] > votes[chosen] || (votes[c] == votes[chosen] && first_rank[c] < first_rank[chosen]))
                chosen = c;
        predictions[q] = chosen;
    }
    return predictions;
}

// The k-nearest-neighbour probe: each validation code classified by its nearest training codes
// (knn_predict), scored against its label. The labels are class indices (Shape<1>).
template <std::size_t Classes, shape_type S>
KnnResult knn_probe(const Tensor<S>& train_codes, const Tensor<Shape<1>>& train_labels,
                    const Tensor<S>& validation_codes, const Tensor<Shape<1>>& validation_labels,
                    const KnnOptions& options = {}) {
    detail::require_labels_for(validation_codes, validation_labels, "validation");
    std::vector<std::size_t> truth(validation_labels.batch());
    for (std::size_t i = 0; i < truth.size(); ++i)
        truth[i] = detail::class_of(validation_labels[i], Classes, i, "validation");
    KnnResult result;
    result.predictions = knn_predict<Classes>(train_codes, train_labels, validation_codes, options);
    std::size_t right = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) right += result.predictions[i] == truth[i];
    result.accuracy = truth.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(truth.size());
    return result;
}

// The same from a frozen encoder network and the data: encodes both sets, then probes.
template <std::size_t Classes, class Encoder, float_batch X>
KnnResult knn_probe(Encoder& encoder, const X& train_x, const Tensor<Shape<1>>& train_labels, const X& validation_x,
                    const Tensor<Shape<1>>& validation_labels, const KnnOptions& options = {}) {
    return knn_probe<Classes>(encoder.predict(train_x, 256), train_labels, encoder.predict(validation_x, 256),
                              validation_labels, options);
}

}  // namespace latent::repr
