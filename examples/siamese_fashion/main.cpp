// A Siamese network on Fashion-MNIST: one convolutional encoder embeds both images of a pair,
// and the cosine of the two embeddings (Dot<>{true}, Keras' Dot(normalize=True)) is trained
// towards 1 when the images show the same kind of garment and towards 0 when they do not. The
// embedding is then judged as Keras' similarity-learning examples judge theirs: pairs of test
// images told apart by their cosine, and each test image classified by its nearest training
// image, against the same encoder at its random start and against the raw pixels.
#include <latent/latent.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <type_traits>
#include <vector>

using namespace latent;

using Encoder = Sequential<Input<28, 28, 1>, Conv2D<16, 3, Padding::same>, ReLU, MaxPool2D<2>,
                           Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>, Flatten, Dense<64>>;

namespace {

struct Pairs {
    Tensor<Shape<28, 28, 1>> left, right;
    Tensor<Shape<1>> same;  // 1: the same class, 0: different classes
};

// `count` pairs from `images`: half of one class (the class drawn uniformly), half of two
// different classes, in random order.
template <class Images, class Labels>
Pairs make_pairs(const Images& images, const Labels& labels, std::size_t count, Generator& g) {
    std::vector<std::vector<std::size_t>> by_class(10);
    for (std::size_t i = 0; i < labels.batch(); ++i) by_class[static_cast<std::size_t>(labels[i])].push_back(i);
    Pairs p{Tensor<Shape<28, 28, 1>>(count), Tensor<Shape<28, 28, 1>>(count), Tensor<Shape<1>>(count)};
    const auto pick = [&](std::size_t c) { return by_class[c][g.below(by_class[c].size())]; };
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t a = g.below(10);
        std::size_t b = a;
        const bool same = g.below(2) == 0;
        if (!same) b = (a + 1 + g.below(9)) % 10;
        const std::size_t i = pick(a), j = pick(b);
        std::copy_n(images.data() + i * 784, 784, p.left.data() + k * 784);
        std::copy_n(images.data() + j * 784, 784, p.right.data() + k * 784);
        p.same[k] = same ? 1.0f : 0.0f;
    }
    return p;
}

// Rows scaled to unit length, so that a dot product is a cosine.
std::vector<float> unit_rows(const float* x, std::size_t rows, std::size_t width) {
    std::vector<float> out(x, x + rows * width);
    for (std::size_t r = 0; r < rows; ++r) {
        double squares = 0;
        for (std::size_t c = 0; c < width; ++c) squares += double(out[r * width + c]) * out[r * width + c];
        const float inv = squares > 1e-12 ? static_cast<float>(1 / std::sqrt(squares)) : 0.0f;
        for (std::size_t c = 0; c < width; ++c) out[r * width + c] *= inv;
    }
    return out;
}

// The share of queries whose most similar reference (cosine) has their class: 1-nearest-neighbour
// classification in the given representation.
double nearest_neighbour_accuracy(const std::vector<float>& references, const Tensor<Shape<1>>& reference_labels,
                                  const std::vector<float>& queries, const Tensor<Shape<1>>& query_labels,
                                  std::size_t width) {
    const std::size_t n_ref = reference_labels.batch(), n_query = query_labels.batch();
    std::size_t right = 0;
    for (std::size_t q = 0; q < n_query; ++q) {
        const float* x = queries.data() + q * width;
        std::size_t best = 0;
        float best_score = -2.0f;
        for (std::size_t r = 0; r < n_ref; ++r) {
            const float* y = references.data() + r * width;
            float score = 0.0f;
            for (std::size_t c = 0; c < width; ++c) score += x[c] * y[c];
            if (score > best_score) {
                best_score = score;
                best = r;
            }
        }
        right += reference_labels[best] == query_labels[q];
    }
    return static_cast<double>(right) / static_cast<double>(n_query);
}

// Pairs whose cosine is above 0.5 called "the same class": the share called right.
double verification_accuracy(const Tensor<Shape<1>>& cosines, const Tensor<Shape<1>>& same) {
    std::size_t right = 0;
    for (std::size_t i = 0; i < same.batch(); ++i) right += (cosines[i] > 0.5f) == (same[i] > 0.5f);
    return static_cast<double>(right) / static_cast<double>(same.batch());
}

}  // namespace

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10;
    const std::size_t pair_count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 30000;
    const auto start = std::chrono::steady_clock::now();
    const auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)

    Generator g(7);
    const auto train = make_pairs(data.train_images, data.train_labels, pair_count, g);
    const auto test = make_pairs(data.test_images, data.test_labels, 10000, g);
    std::printf("Fashion-MNIST: %zu training pairs, 10000 test pairs; half of each of one class\n", pair_count);

    // One encoder, called on both inputs: its weights are shared, and training the pair model
    // trains the encoder itself.
    Encoder encoder(1);
    auto left = input<28, 28, 1>("left");
    auto right = input<28, 28, 1>("right");
    auto similarity = Dot<>{true, "cosine"}(encoder(left), encoder(right));
    Model siamese(std::tuple{left, right}, similarity);
    siamese.compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
    siamese.summary();

    // The nearest-neighbour test: 2,000 test images classified by the closest of the first
    // 10,000 training images.
    const std::size_t n_ref = 10000, n_query = 2000;
    const auto copy = [](const auto& view) {
        using S = typename std::remove_cvref_t<decltype(view)>::shape;
        return Tensor<S>(view.batch(), std::span<const float>(view.data(), view.size()));
    };
    const auto x_ref = copy(data.train_images.slice(0, n_ref));
    const auto y_ref = copy(data.train_labels.slice(0, n_ref));
    const auto x_query = copy(data.test_images.slice(0, n_query));
    const auto y_query = copy(data.test_labels.slice(0, n_query));
    const auto embedding_accuracy = [&] {
        const auto refs = encoder.predict(x_ref, 256), queries = encoder.predict(x_query, 256);
        return nearest_neighbour_accuracy(unit_rows(refs.data(), n_ref, 64), y_ref,
                                          unit_rows(queries.data(), n_query, 64), y_query, 64);
    };
    const double pixels = nearest_neighbour_accuracy(unit_rows(x_ref.data(), n_ref, 784), y_ref,
                                                     unit_rows(x_query.data(), n_query, 784), y_query, 784);
    const double random_nn = embedding_accuracy();
    const double random_pairs =
        verification_accuracy(siamese.predict(std::tuple{test.left, test.right}, 256), test.same);
    std::printf("before training: pair accuracy %.4f, nearest-neighbour accuracy %.4f (raw pixels: %.4f)\n",
                random_pairs, random_nn, pixels);

    const auto history = siamese.fit(std::tuple{train.left, train.right}, train.same,
                                     {.epochs = epochs, .batch_size = 128, .validation_split = 0.1, .seed = 3});
    const double pairs = verification_accuracy(siamese.predict(std::tuple{test.left, test.right}, 256), test.same);
    const double nn = embedding_accuracy();
    std::printf("| representation | test pairs told apart (cosine > 0.5) | 1-NN test accuracy |\n|---|---|---|\n"
                "| raw pixels (784) | - | %.4f |\n| encoder, random start (64) | %.4f | %.4f |\n"
                "| encoder after %zu Siamese epochs (64) | %.4f | %.4f |\n",
                pixels, random_pairs, random_nn, epochs, pairs, nn);
    std::printf("final loss %.4f, val_loss %.4f; %.1f s in all\n", history.at("loss").back(),
                history.at("val_loss").back(), seconds());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "siamese_fashion: %s\n", e.what());
    return 1;
}
