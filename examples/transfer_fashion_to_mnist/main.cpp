// Keras' transfer-learning exercise with the functional API: the MiniVGGNet trained on
// Fashion-MNIST (examples/fashion_cnn), frozen, gets a new head trained on the MNIST digits;
// compared with the same network trained from scratch and with fine-tuning its top conv block.
#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <type_traits>
#include <vector>

using namespace latent;

namespace {

using B = cpu::simd;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// One statement per layer call: C++ leaves the order of a call's arguments unspecified, and the
// order of first calls decides Keras' default names ("conv2d", "conv2d_1", ...), which must match
// the names in the file examples/fashion_cnn saved.
template <std::size_t Filters, class S>
auto conv_relu_bn(const Symbolic<S, B>& x) {
    auto conv = Conv2D<Filters, 3, Padding::same>{}(x);
    auto relu = ReLU{}(conv);
    return BatchNorm{}(relu);
}

template <std::size_t Filters, class S>
auto conv_block(const Symbolic<S, B>& x) {
    auto first = conv_relu_bn<Filters>(x);
    auto second = conv_relu_bn<Filters>(first);
    auto pooled = MaxPool2D<2>{}(second);
    return Dropout{0.25}(pooled);
}

// The convolutional base of MiniVGGNet, from "inputs" to the Flatten called "features".
struct ConvBase {
    Symbolic<Shape<28, 28, 1>, B> inputs;
    Symbolic<Shape<3136>, B> features;
};

ConvBase conv_base() {
    auto inputs = input<B, 28, 28, 1>("inputs");
    auto block1 = conv_block<32>(inputs);
    auto block2 = conv_block<64>(block1);
    auto features = Flatten{"features"}(block2);
    return {inputs, features};
}

// MiniVGGNet's classifier: the Fashion-MNIST head and the new MNIST head are both this.
Symbolic<Shape<10>, B> classifier_head(const Symbolic<Shape<3136>, B>& features) {
    auto dense = Dense<512>{}(features);
    auto relu = ReLU{}(dense);
    auto norm = BatchNorm{}(relu);
    auto drop = Dropout{0.5}(norm);
    auto logits = Dense<10>{}(drop);
    return Softmax{}(logits);
}

// fit() reports metrics per epoch in its History but not the time each epoch took; this stream
// passes fit's one-line-per-epoch progress to stdout and notes when each line ends.
class EpochClock : public std::streambuf {
public:
    std::vector<clock_type::time_point> line_ends;

protected:
    int overflow(int c) override {
        if (c == traits_type::eof()) return traits_type::not_eof(c);
        std::putchar(c);
        if (c == '\n') {
            std::fflush(stdout);
            line_ends.push_back(clock_type::now());
        }
        return c;
    }
};

struct Run {
    std::string approach;
    History history;
    std::vector<double> epoch_seconds;
    double fit_seconds = 0;
    double test_loss = 0, test_accuracy = 0;
    double recalibrated_accuracy = 0;
};

// Five epochs of 8,000 digits in batches of 512 are 80 steps, after which BatchNorm's moving
// averages (momentum 0.99) still hold 0.99^80 = 45% of their starting values. To tell the quality
// of the weights apart from that lag, this re-estimates the moving statistics of the trainable
// BatchNorm layers as the plain mean over the training batches (momentum k / (k + 1) at batch k,
// dropout on, as in training), evaluates, and puts every BatchNorm weight back as it was.
template <class M, class X, class Y>
double accuracy_with_fresh_statistics(M& model, const X& x, const X& x_test, const Y& y_test) {
    std::vector<typename M::LayerHandle> norms;
    std::vector<std::vector<std::vector<float>>> kept;
    std::vector<double> momenta;
    for (auto& layer : model.layers())
        if (layer.type_name() == "BatchNormalization" && layer.trainable()) {
            norms.push_back(layer);
            kept.push_back(layer.get_weights());
            momenta.push_back(layer.template as<BatchNorm>().momentum());
        }
    constexpr std::size_t batch = 512;
    constexpr std::size_t sample = std::remove_cvref_t<X>::sample_size;
    Generator rng(7);
    for (std::size_t k = 0; k < x.batch() / batch; ++k) {
        for (auto& norm : norms) norm.template as<BatchNorm>().momentum(double(k) / double(k + 1));
        model.forward(x.data() + k * batch * sample, batch, Mode::train, &rng);
    }
    const double accuracy = model.evaluate(x_test, y_test, 256).at("accuracy");
    for (std::size_t i = 0; i < norms.size(); ++i) {
        norms[i].set_weights(kept[i]);
        norms[i].template as<BatchNorm>().momentum(momenta[i]);
    }
    return accuracy;
}

template <class M, class X, class Y>
Run train(const std::string& approach, M& model, const X& x, const Y& y, const X& x_test, const Y& y_test,
          std::size_t epochs) {
    std::printf("\n== %s: %zu epochs, batch 512, validation = the %zu test digits\n", approach.c_str(), epochs,
                x_test.batch());
    EpochClock clock;
    std::ostream progress(&clock);
    Run run;
    run.approach = approach;
    const auto start = clock_type::now();
    run.history = model.fit(x, y, {.epochs = epochs, .batch_size = 512, .validation = {x_test, y_test},
                                   .verbose = Verbosity::one_line_per_epoch, .out = &progress});
    run.fit_seconds = seconds_since(start);
    auto previous = start;
    for (const auto& end : clock.line_ends) {
        run.epoch_seconds.push_back(std::chrono::duration<double>(end - previous).count());
        previous = end;
    }
    const auto test = model.evaluate(x_test, y_test, 256);
    run.test_loss = test.at("loss");
    run.test_accuracy = test.at("accuracy");
    std::printf("%s: test loss %.4f, test accuracy %.4f, %.1f s of training\n", approach.c_str(), run.test_loss,
                run.test_accuracy, run.fit_seconds);
    run.recalibrated_accuracy = accuracy_with_fresh_statistics(model, x, x_test, y_test);
    std::printf("%s: test accuracy %.4f with the BatchNorm statistics re-estimated on the training digits\n",
                approach.c_str(), run.recalibrated_accuracy);
    return run;
}

void print_epochs(const Run& run) {
    std::printf("\n%s\n\n| epoch | loss | accuracy | val_loss | val_accuracy | time |\n|---|---|---|---|---|---|\n",
                run.approach.c_str());
    const auto& h = run.history;
    for (std::size_t e = 0; e < h.epochs; ++e)
        std::printf("| %zu | %.4f | %.4f | %.4f | %.4f | %.1f s |\n", e + 1, h["loss"][e], h["accuracy"][e],
                    h["val_loss"][e], h["val_accuracy"][e], e < run.epoch_seconds.size() ? run.epoch_seconds[e] : 0.0);
}

template <class M>
void print_counts(const M& model) {
    const std::size_t total = model.count_params(), trainable = model.count_trainable_params();
    std::printf("%s: %zu parameters, %zu trainable, %zu non-trainable\n", model.name().c_str(), total, trainable,
                total - trainable);
}

void print_report(const io::LoadReport& report, const std::string& path) {
    std::printf("loaded from %s: %zu layers (", path.c_str(), report.loaded.size());
    for (std::size_t i = 0; i < report.loaded.size(); ++i)
        std::printf("%s%s", i ? ", " : "", report.loaded[i].c_str());
    std::printf("); skipped %zu, unused tensors in the file %zu\n", report.skipped.size(), report.unused.size());
    for (const auto& s : report.skipped) std::printf("  skipped: %s\n", s.c_str());
    for (const auto& u : report.unused) std::printf("  unused: %s\n", u.c_str());
}

// Steps 1 and 2: MiniVGGNet on `base` as examples/fashion_cnn built it, its weights loaded (or
// trained here first when the file is missing), then frozen. The Fashion-MNIST model and data are
// dropped on return: the weights and the frozen flags live in the graph that `base` holds.
void load_and_freeze_pretrained(const ConvBase& base, const std::string& weights, std::size_t epochs) {
    const auto fashion_out = classifier_head(base.features);
    Model fashion(base.inputs, fashion_out, "fashion_cnn");
    fashion.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    const auto fashion_data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist
    if (!std::filesystem::exists(weights)) {
        std::printf("%s not found: training MiniVGGNet on Fashion-MNIST first, as examples/fashion_cnn does "
                    "(%zu epochs)\n",
                    weights.c_str(), epochs);
        const auto y = data::one_hot<10>(fashion_data.train_labels);
        fashion.fit(fashion_data.train_images, y,
                    {.epochs = epochs, .batch_size = 128, .validation_split = 0.1,
                     .verbose = Verbosity::one_line_per_epoch});
        fashion.save_weights(weights);
        std::printf("weights saved to %s\n", weights.c_str());
    }
    print_report(fashion.load_weights(weights), weights);
    // The rebuilt graph must score what fashion_cnn printed, or the names matched the wrong layers.
    const auto test = fashion.evaluate(fashion_data.test_images, data::one_hot<10>(fashion_data.test_labels), 256);
    std::printf("MiniVGGNet on the Fashion-MNIST test images: loss %.4f, accuracy %.4f\n", test.at("loss"),
                test.at("accuracy"));
    // Frozen BatchNorm layers normalize with their Fashion-MNIST moving statistics, as in Keras.
    fashion.set_trainable(false);
}

// Step 5: a fresh graph of the transfer model's architecture; its buffers go when it is done.
template <class Y>
Run train_from_scratch(const data::ImageDataset& mnist, const Y& y_train, const Y& y_test, std::size_t epochs) {
    const ConvBase fresh = conv_base();
    const auto out = classifier_head(fresh.features);
    Model scratch(fresh.inputs, out, "scratch");
    print_counts(scratch);
    scratch.compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    return train("from scratch (same network, random weights)", scratch, mnist.train_images, y_train,
                 mnist.test_images, y_test, epochs);
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string weights = argc > 1 ? argv[1] : "fashion_cnn.safetensors";
    const std::size_t epochs = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 5;
    const auto start = clock_type::now();

    const auto mnist = data::load_mnist();  // $LATENT_DATA/mnist (scripts/fetch-data)
    const auto y_train = data::one_hot<10>(mnist.train_labels);
    const auto y_test = data::one_hot<10>(mnist.test_labels);
    std::printf("MNIST: %zu training and %zu test digits; GEMM threads: %d\n", mnist.train_images.batch(),
                mnist.test_images.batch(), cpu::threads());

    // 1-2. MiniVGGNet with examples/fashion_cnn's weights, all of it frozen.
    const ConvBase base = conv_base();
    load_and_freeze_pretrained(base, weights, epochs);

    // 3. A new head on "features"; the old head stays in the graph but not in this model.
    const auto digits_out = classifier_head(base.features);
    Model transfer(base.inputs, digits_out, "transfer");
    transfer.summary();
    if (transfer.count_params() != 1'679'082 || transfer.count_trainable_params() != 1'612'298)
        throw std::runtime_error("the transfer model's parameter counts differ from Keras'");

    // 4. Train the head alone.
    transfer.compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    std::vector<Run> runs;
    runs.push_back(train("transfer (frozen Fashion-MNIST base, new head)", transfer, mnist.train_images, y_train,
                         mnist.test_images, y_test, epochs));

    // 5. The same architecture from random weights, everything trainable, the same budget.
    runs.push_back(train_from_scratch(mnist, y_train, y_test, epochs));

    // 6. Fine-tuning: the first conv block (conv2d .. dropout) stays frozen; conv2d_2, re_lu_2,
    // batch_normalization_2, conv2d_3, re_lu_3, batch_normalization_3, max_pooling2d_1 and
    // dropout_1 learn again with the head, at a tenth of the rate. As in Keras, the unfrozen
    // BatchNorm layers train normally: batch statistics in training, moving statistics updated.
    transfer.freeze_until("dropout");
    print_counts(transfer);
    transfer.compile(optim::SGD{.lr = 0.001, .momentum = 0.9}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    runs.push_back(train("fine-tuning (top conv block unfrozen, after transfer)", transfer, mnist.train_images, y_train,
                         mnist.test_images, y_test, epochs));

    // 7. Everything measured, as the README shows it.
    for (const auto& run : runs) print_epochs(run);
    std::printf("\n| approach | test accuracy | training time | test loss | test accuracy, BatchNorm statistics "
                "re-estimated |\n|---|---|---|---|---|\n");
    for (const auto& run : runs)
        std::printf("| %s | %.4f | %.1f s | %.4f | %.4f |\n", run.approach.c_str(), run.test_accuracy, run.fit_seconds,
                    run.test_loss, run.recalibrated_accuracy);
    std::printf("\ntotal wall time %.1f s\n", seconds_since(start));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "transfer_fashion_to_mnist: %s\n", e.what());
    return 1;
}
