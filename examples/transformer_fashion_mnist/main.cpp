// A Transformer encoder on Fashion-MNIST read as sequences of rows: each image's 28 rows are
// embedded (a Dense on every row), given their positions (PositionEmbedding), and attend to one
// another through a Transformer block (MultiHeadAttention, residual connections, layer
// normalization, a position-wise feed-forward network), as keras.io's "Text classification with
// Transformer" builds it; the rows' mean then goes to a softmax classifier.
#include <latent/latent.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

using namespace latent;

constexpr std::size_t steps = 28, embed_dim = 64, num_heads = 4, ff_dim = 128;
using Rows = Shape<steps, 28>;  // (steps, features): row t of the image is step t

// Keras' TransformerBlock(embed_dim, num_heads, ff_dim): attention, then the feed-forward
// network, each added to what it read and layer-normalized (post-norm, as in that example).
template <class X>
auto transformer_block(const X& x) {
    auto attended = MultiHeadAttention<num_heads, embed_dim / num_heads>{}(x);
    auto out1 = LayerNormalization{1e-6}(Add{}(x, attended));
    auto hidden = ReLU{}(TimeDistributed<Dense<ff_dim>>{}(out1));
    auto ffn = TimeDistributed<Dense<embed_dim>>{}(hidden);
    return LayerNormalization{1e-6}(Add{}(out1, ffn));
}

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5;
    if (epochs == 0) {
        std::fprintf(stderr, "usage: transformer_fashion_mnist [epochs=5]\n");
        return 2;
    }
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto x_train = as_shape<Rows>(data.train_images);
    const auto x_test = as_shape<Rows>(data.test_images);
    const auto y_train = data::one_hot<10>(data.train_labels);
    const auto y_test = data::one_hot<10>(data.test_labels);
    std::printf("Fashion-MNIST as sequences of 28 rows: %zu training and %zu test images\n", x_train.batch(),
                x_test.batch());

    auto rows = input<steps, 28>("rows");
    auto embedded = TimeDistributed<Dense<embed_dim>>{}(rows);
    auto positioned = Add{}(embedded, PositionEmbedding<steps>{}(embedded));
    auto encoded = transformer_block(positioned);
    auto pooled = GlobalAveragePooling1D{}(encoded);
    auto probabilities = Softmax{}(Dense<10>{}(pooled));
    Model transformer(rows, probabilities, "transformer");
    transformer.summary();

    transformer.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    const auto start = std::chrono::steady_clock::now();
    const auto history =
        transformer.fit(x_train, y_train, {.epochs = epochs, .batch_size = 64, .validation_split = 0.1});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto test = transformer.evaluate(x_test, y_test);
    std::printf("Transformer encoder: test loss %.4f, test accuracy %.4f after %zu epochs (%.1f s of training, "
                "%.1f s per epoch)\n",
                test.at("loss"), test.at("accuracy"), history.epochs, seconds,
                seconds / static_cast<double>(history.epochs));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "transformer_fashion_mnist: %s\n", e.what());
    return 1;
}
