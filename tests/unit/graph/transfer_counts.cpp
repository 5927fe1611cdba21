// The model of examples/transfer_fashion_to_mnist, constructed but never run: with its
// Fashion-MNIST base frozen it must count parameters as Keras does (DESIGN.md quotes the totals).
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <latent/latent.hpp>

using namespace latent;

namespace {

// One statement per layer call, so the default names come out in the Sequential's order.
template <std::size_t Filters, class S>
auto conv_relu_bn(const Symbolic<S>& x) {
    auto conv = Conv2D<Filters, 3, Padding::same>{}(x);
    auto relu = ReLU{}(conv);
    return BatchNorm{}(relu);
}

template <std::size_t Filters, class S>
auto conv_block(const Symbolic<S>& x) {
    auto first = conv_relu_bn<Filters>(x);
    auto second = conv_relu_bn<Filters>(first);
    auto pooled = MaxPool2D<2>{}(second);
    return Dropout{0.25}(pooled);
}

Symbolic<Shape<10>> classifier_head(const Symbolic<Shape<3136>>& features) {
    auto dense = Dense<512>{}(features);
    auto relu = ReLU{}(dense);
    auto norm = BatchNorm{}(relu);
    auto drop = Dropout{0.5}(norm);
    auto logits = Dense<10>{}(drop);
    return Softmax{}(logits);
}

}  // namespace

TEST_CASE("transfer learning: a frozen MiniVGGNet base under a new head counts 1,679,082 / 1,612,298 / 66,784") {
    auto inputs = input<28, 28, 1>("inputs");
    auto block1 = conv_block<32>(inputs);
    auto block2 = conv_block<64>(block1);
    auto features = Flatten{"features"}(block2);
    auto fashion_out = classifier_head(features);
    Model fashion(inputs, fashion_out, "fashion_cnn");
    // The names examples/fashion_cnn's Sequential saved its weights under.
    CHECK(fashion.layer_names() ==
          std::vector<std::string>{"conv2d", "re_lu", "batch_normalization", "conv2d_1", "re_lu_1",
                                   "batch_normalization_1", "max_pooling2d", "dropout", "conv2d_2", "re_lu_2",
                                   "batch_normalization_2", "conv2d_3", "re_lu_3", "batch_normalization_3",
                                   "max_pooling2d_1", "dropout_1", "features", "dense", "re_lu_4",
                                   "batch_normalization_4", "dropout_2", "dense_1", "softmax"});
    CHECK(fashion.count_params() == 1'679'082);
    CHECK(fashion.count_trainable_params() == 1'679'082 - 1'408);

    fashion.set_trainable(false);
    CHECK(fashion.count_trainable_params() == 0);

    auto digits_out = classifier_head(features);
    Model transfer(inputs, digits_out, "transfer");
    CHECK(transfer.count_params() == 1'679'082);
    CHECK(transfer.count_trainable_params() == 1'612'298);
    CHECK(transfer.count_params() - transfer.count_trainable_params() == 66'784);
    CHECK_FALSE(transfer.get_layer("conv2d_3").trainable());
    CHECK(transfer.get_layer("dense_2").trainable());
    CHECK(transfer.get_layer("dense_2").output_shape() == std::vector<std::size_t>{512});
    std::ostringstream text;
    transfer.summary(text);
    CHECK(text.str().find("Total params: 1,679,082\nTrainable params: 1,612,298\nNon-trainable params: 66,784\n") !=
          std::string::npos);

    // The example's fine-tuning step: the first conv block stays frozen, the second learns again
    // (its BatchNorm moving statistics stay non-trainable parameters).
    transfer.freeze_until("dropout");
    CHECK_FALSE(transfer.get_layer("batch_normalization_1").trainable());
    CHECK(transfer.get_layer("conv2d_2").trainable());
    CHECK(transfer.count_trainable_params() == 1'612'298 + 18'496 + 128 + 36'928 + 128);
    CHECK(transfer.count_params() - transfer.count_trainable_params() == 11'104);
}
