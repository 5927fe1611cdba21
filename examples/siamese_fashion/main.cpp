// A Siamese network on Fashion-MNIST: one convolutional encoder embeds both images of a pair,
// and the cosine of the two embeddings (Dot<>{true}, Keras' Dot(normalize=True)) is trained
// towards 1 when the images show the same kind of garment and towards 0 when they do not. The
// embedding is then judged as Keras' similarity-learning examples judge theirs: pairs of test
// images told apart by their cosine, and each test image classified by its nearest training
// images (repr::knn_probe), against the same encoder at its random start and against the raw pixels.
#include <latent/latent.hpp>
#include <latent/repr/nearest_neighbors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
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

    // The nearest-neighbour tests: each of the 10,000 test images classified by its nearest of
    // the 60,000 training images (cosine), by the closest one alone and by the weighted vote of
    // the 20 closest (exp(cosine / 0.07), the kNN probe of self-supervised papers).
    const auto &x_train = data.train_images, &x_test = data.test_images;
    const auto &y_train = data.train_labels, &y_test = data.test_labels;
    struct Neighbours {
        double one = 0, twenty = 0;
    };
    const auto knn = [&](const auto& train_codes, const auto& test_codes) {
        return Neighbours{repr::knn_probe<10>(train_codes, y_train, test_codes, y_test, {.k = 1}).accuracy,
                          repr::knn_probe<10>(train_codes, y_train, test_codes, y_test, {.k = 20}).accuracy};
    };
    const auto embedding_knn = [&] { return knn(encoder.predict(x_train, 256), encoder.predict(x_test, 256)); };
    const Neighbours pixels = knn(x_train, x_test);
    const Neighbours random_nn = embedding_knn();
    const double random_pairs =
        verification_accuracy(siamese.predict(std::tuple{test.left, test.right}, 256), test.same);
    std::printf("before training: pair accuracy %.4f, 1-NN accuracy %.4f (raw pixels: %.4f)\n", random_pairs,
                random_nn.one, pixels.one);

    const auto history = siamese.fit(std::tuple{train.left, train.right}, train.same,
                                     {.epochs = epochs, .batch_size = 128, .validation_split = 0.1, .seed = 3});
    const double pairs = verification_accuracy(siamese.predict(std::tuple{test.left, test.right}, 256), test.same);
    const Neighbours nn = embedding_knn();
    std::printf("| representation | test pairs told apart (cosine > 0.5) | 1-NN test accuracy | 20-NN test accuracy |\n"
                "|---|---|---|---|\n| raw pixels (784) | - | %.4f | %.4f |\n"
                "| encoder, random start (64) | %.4f | %.4f | %.4f |\n"
                "| encoder after %zu Siamese epochs (64) | %.4f | %.4f | %.4f |\n",
                pixels.one, pixels.twenty, random_pairs, random_nn.one, random_nn.twenty, epochs, pairs, nn.one,
                nn.twenty);
    std::printf("final loss %.4f, val_loss %.4f; %.1f s in all\n", history.at("loss").back(),
                history.at("val_loss").back(), seconds());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "siamese_fashion: %s\n", e.what());
    return 1;
}
