// Data augmentation inside the model, as Keras' image-classification guides do it: the same
// small CNN trained on 2,000 Fashion-MNIST images with and without RandomFlip and
// RandomTranslation in front of it, both scored on the 10,000 test images; writes augmented.png
// (test images and what the augmentation makes of them in training).
#include <latent/backend/cpu/simd.hpp>
#include <latent/io/plot.hpp>
#include <latent/latent.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

using namespace latent;

namespace {

using B = cpu::simd;

// The classifier both runs train, two conv-pool blocks and a dropout before the softmax, with
// the layers `Front` before it.
template <class... Front>
using Classifier = Sequential<B, Input<28, 28, 1>, Front..., Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                              Conv2D<64, 3, Padding::same>, ReLU, MaxPool2D<2>, Flatten, Dropout, Dense<128>, ReLU,
                              Dense<10>, Softmax>;
using Plain = Classifier<>;
// The augmentation layers first: in training every image is flipped left to right with
// probability one half and shifted by up to two pixels each way; in evaluation and predict they
// pass the images through.
using Augmented = Classifier<RandomFlip<FlipMode::horizontal>, RandomTranslation>;
using Augmenter = Sequential<B, Input<28, 28, 1>, RandomFlip<FlipMode::horizontal>, RandomTranslation>;
static_assert(Plain::param_count == Augmented::param_count);

// Fashion-MNIST's background is black: what a shift uncovers is filled with 0, not reflected
// (Keras' default), so that no second collar or sole appears at the edge. Whole-pixel shifts
// (nearest) keep the images sharp: bilinear sub-pixel shifts blur every training image, which
// the test images are not (measured in the README).
constexpr ImageSampling whole_pixels_black_border{Interpolation::nearest, FillMode::constant, 0.0};
constexpr double two_pixels = 2.0 / 28;

template <class M>
void configure_augmentation(M& model) {
    model.template layer<1>().height_factor(two_pixels).width_factor(two_pixels).image_sampling(
        whole_pixels_black_border);
}

struct Result {
    double train_accuracy, test_accuracy, test_loss, seconds;
};

template <class M, class X, class Y>
Result train(const char* label, M& model, const X& x, const Y& y, const X& x_test, const Y& y_test,
             std::size_t epochs) {
    model.compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{}, metrics::Accuracy{});
    const auto start = std::chrono::steady_clock::now();
    const auto history = model.fit(x, y, {.epochs = epochs, .batch_size = 64, .seed = 1, .verbose = Verbosity::silent});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto train_score = model.evaluate(x, y, 500), test_score = model.evaluate(x_test, y_test, 500);
    std::printf("%-28s final training loss %.4f | accuracy on its 2,000 training images %.4f | test accuracy %.4f, "
                "test loss %.4f | %.1f s\n",
                label, history.at("loss").back(), train_score.at("accuracy"), test_score.at("accuracy"),
                test_score.at("loss"), seconds);
    return {train_score.at("accuracy"), test_score.at("accuracy"), test_score.at("loss"), seconds};
}

}  // namespace

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
    const std::size_t count = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000;
    const std::filesystem::path out_dir = argc > 3 ? argv[3] : ".";
    const auto start = std::chrono::steady_clock::now();

    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    if (count == 0 || count > data.train_images.batch())
        throw value_error("example.count", "the training subset must hold 1 to " +
                                               std::to_string(data.train_images.batch()) + " images, got " +
                                               std::to_string(count));
    // The first `count` training images (Fashion-MNIST's training set comes shuffled).
    const Tensor<Shape<28, 28, 1>> x(count, std::span<const float>(data.train_images.data(), count * 784));
    const Tensor<Shape<1>> labels(count, std::span<const float>(data.train_labels.data(), count));
    const auto y = data::one_hot<10>(labels);
    const auto y_test = data::one_hot<10>(data.test_labels);
    std::printf("Fashion-MNIST: training on the first %zu of %zu images for %zu epochs (batch 64, Adam), testing "
                "on all %zu; threads: %d\n\n",
                count, data.train_images.batch(), epochs, data.test_images.batch(), cpu::threads());

    Plain plain(1);
    plain.layer<7>().rate(0.5);
    const Result without = train("without augmentation", plain, x, y, data.test_images, y_test, epochs);

    Augmented augmented(1);
    configure_augmentation(augmented);
    augmented.layer<9>().rate(0.5);
    augmented.summary();
    const Result with = train("with augmentation", augmented, x, y, data.test_images, y_test, epochs);

    std::printf("\n| model | training accuracy | test accuracy | gap | test loss | training time |\n"
                "|---|---|---|---|---|---|\n");
    for (const auto& [label, r] : {std::pair{"without augmentation", without}, std::pair{"with augmentation", with}})
        std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.1f s |\n", label, r.train_accuracy, r.test_accuracy,
                    r.train_accuracy - r.test_accuracy, r.test_loss, r.seconds);

    // What the network saw: eight test images (first column), each augmented seven times.
    constexpr std::size_t shown = 8, variants = 7;
    Augmenter augmenter;
    configure_augmentation(augmenter);
    std::vector<float> originals(data.test_images.data(), data.test_images.data() + shown * 784);
    std::vector<float> repeated;
    for (std::size_t v = 0; v < variants; ++v) repeated.insert(repeated.end(), originals.begin(), originals.end());
    Generator rng(11);
    const float* views = augmenter.forward(repeated.data(), shown * variants, Mode::train, &rng);
    std::vector<float> grid;
    for (std::size_t i = 0; i < shown; ++i) {
        grid.insert(grid.end(), originals.begin() + i * 784, originals.begin() + (i + 1) * 784);
        for (std::size_t v = 0; v < variants; ++v)
            grid.insert(grid.end(), views + (v * shown + i) * 784, views + (v * shown + i + 1) * 784);
    }
    const char* class_names[10] = {"t-shirt/top", "trouser", "pullover", "dress", "coat",
                                   "sandal",      "shirt",   "sneaker",  "bag",   "ankle boot"};
    std::vector<std::string> captions;
    for (std::size_t i = 0; i < shown; ++i)
        captions.emplace_back(class_names[static_cast<std::size_t>(data.test_labels.data()[i])]);
    const auto png = out_dir / "augmented.png";
    io::write_png(png, io::image_grid(grid, 28, 28, variants + 1,
                                      {.scale = 2,
                                       .title = "Test images, then 7 augmentations",
                                       .row_captions = captions}));
    std::printf("\nwrote %s\n", png.c_str());
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("total wall time %.1f s\n", total);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "augmentation_fashion: %s\n", e.what());
    return 1;
}
