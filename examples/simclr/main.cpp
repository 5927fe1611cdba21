// SimCLR on Fashion-MNIST (Chen et al. 2020), small enough for a laptop: a convolutional encoder
// and a projection head learn, without labels, to match two random views (crop and resize,
// flip, brightness/contrast, noise) of each image against the other images of the batch. The
// representation is then judged by a linear probe (a softmax classifier on the frozen codes) and a
// kNN probe (the weighted vote of the 20 most similar labelled images)
// against the same encoder left at its random initialization, and against raw pixels. Writes
// views.png (augmented views) and training_curves.png.
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/linear_probe.hpp>
#include <latent/repr/nearest_neighbors.hpp>
#include <latent/repr/simclr.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace latent;

using Encoder = Sequential<Input<28, 28, 1>, Conv2D<16, 3, Padding::same>, ReLU, MaxPool2D<2>,
                           Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>, Flatten, Dense<128>, ReLU>;
using Head = Sequential<Input<128>, Dense<128>, ReLU, Dense<64>>;

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20;
    const std::filesystem::path out_dir = argc > 2 ? argv[2] : ".";
    const std::size_t unlabelled = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 30000;
    const std::size_t labelled = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 10000;
    // "constant": Adam's 1e-3 throughout; "cosine": the SimCLR paper's shape of learning rate,
    // a linear warm-up (here 2 epochs) to 2e-3 then a cosine decay to 0 (README: it lowers the
    // contrastive loss further but probes worse at this budget).
    const std::string schedule = argc > 5 ? argv[5] : "constant";
    if (schedule != "cosine" && schedule != "constant")
        throw std::invalid_argument("the schedule (5th argument) is cosine or constant, not \"" + schedule + "\"");
    const auto start = std::chrono::steady_clock::now();
    const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    // The first images are the unlabelled pool; the probe trains on the labels of the last
    // `labelled` training images and is scored on the 10,000 test images.
    const std::size_t pool = std::min(unlabelled, data.train_images.batch());
    const std::size_t probe_n = std::min(labelled, data.train_images.batch());
    const auto x_pool = data.train_images.slice(0, pool);
    const auto copy = [](const auto& view) {
        using S = typename std::remove_cvref_t<decltype(view)>::shape;
        return Tensor<S>(view.batch(), std::span<const float>(view.data(), view.size()));
    };
    const auto x_probe = copy(data.train_images.slice(data.train_images.batch() - probe_n, probe_n));
    const auto y_probe = copy(data.train_labels.slice(data.train_labels.batch() - probe_n, probe_n));
    const auto& x_test = data.test_images;
    std::printf("Fashion-MNIST: SimCLR on %zu unlabelled images; probe on %zu labelled, scored on %zu test images\n",
                pool, probe_n, data.test_images.batch());

    const repr::Augmentation augmentation{};  // crop 35-100%, flip, brightness 0.2, contrast 0.3, noise 0.05
    {
        Generator g(1);
        std::vector<float> grid;
        for (std::size_t i = 0; i < 6; ++i) {
            const auto image = data.test_images.slice(i, 1);
            grid.insert(grid.end(), image.data(), image.data() + 784);
            for (int v = 0; v < 7; ++v) {
                const auto view = repr::augment(image, augmentation, g);
                grid.insert(grid.end(), view.data(), view.data() + 784);
            }
        }
        io::write_png(out_dir / "views.png",
                      io::image_grid(grid, 28, 28, 8, {.scale = 2, .title = "Test images (left) and 7 random views of each", .row_captions = {}}));
    }

    // The baselines: the same encoder at its random initialization, and the pixels themselves.
    const repr::ProbeOptions probe{.epochs = 60, .batch_size = 128, .lr = 1e-3, .standardize = true, .seed = 5};
    // Beside it the kNN probe: the weighted vote of the 20 most similar labelled images (cosine,
    // exp(cosine / 0.07)), which trains nothing.
    const repr::KnnOptions knn{.k = 20, .temperature = 0.07, .similarity = repr::Similarity::cosine};
    const auto pixels = repr::linear_probe<10>(x_probe, y_probe, x_test, data.test_labels, probe);
    const auto pixels_knn = repr::knn_probe<10>(x_probe, y_probe, x_test, data.test_labels, knn);
    std::printf("raw pixels: linear probe %.4f, kNN probe %.4f (%.0f s so far)\n", pixels.validation_accuracy,
                pixels_knn.accuracy, seconds());
    Encoder random_encoder(1);
    const auto random = repr::linear_probe<10>(random_encoder, x_probe, y_probe, x_test, data.test_labels, probe);
    const auto random_knn = repr::knn_probe<10>(random_encoder, x_probe, y_probe, x_test, data.test_labels, knn);
    std::printf("a random encoder: linear probe %.4f, kNN probe %.4f (%.0f s so far)\n", random.validation_accuracy,
                random_knn.accuracy, seconds());

    repr::SimCLR<Encoder, Head> simclr(Encoder(1), Head(2));  // the same initial encoder
    const std::size_t steps_per_epoch = (pool + 255) / 256, warmup_epochs = std::min<std::size_t>(2, epochs / 4);
    if (schedule == "cosine")
        simclr.compile(optim::Adam{.lr = optim::schedules::CosineDecay{
                                       .initial_learning_rate = 0.0,
                                       .decay_steps = std::max<std::size_t>(1, (epochs - warmup_epochs) * steps_per_epoch),
                                       .warmup_target = 2e-3,
                                       .warmup_steps = std::max<std::size_t>(1, warmup_epochs * steps_per_epoch)}});
    else
        simclr.compile(optim::Adam{.lr = 1e-3});
    const auto history = simclr.fit(x_pool, {.epochs = epochs, .batch_size = 256, .temperature = 0.5,
                                             .augmentation = augmentation, .seed = 3});
    const auto learned = repr::linear_probe<10>(simclr.encoder(), x_probe, y_probe, x_test, data.test_labels, probe);
    const auto learned_knn = repr::knn_probe<10>(simclr.encoder(), x_probe, y_probe, x_test, data.test_labels, knn);
    std::printf("the SimCLR encoder: linear probe %.4f, kNN probe %.4f (%.0f s so far)\n",
                learned.validation_accuracy, learned_knn.accuracy, seconds());

    io::write_png(out_dir / "training_curves.png",
                  io::line_plot({.title = "SimCLR training (batch of 256 images, 512 views)", .y_label = "per epoch"},
                                {{"NT-Xent loss", history.at("loss")},
                                 {"contrastive accuracy", history.at("contrastive_accuracy")}}));
    std::printf("| representation | linear-probe test accuracy | 20-NN test accuracy |\n|---|---|---|\n"
                "| raw pixels (784) | %.4f | %.4f |\n| random encoder (128) | %.4f | %.4f |\n"
                "| SimCLR encoder (128), %zu epochs, %s learning rate | %.4f | %.4f |\n",
                pixels.validation_accuracy, pixels_knn.accuracy, random.validation_accuracy, random_knn.accuracy,
                epochs, schedule.c_str(), learned.validation_accuracy, learned_knn.accuracy);
    std::printf("wrote views.png, training_curves.png to %s (%.1f s in all)\n", out_dir.c_str(), seconds());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "simclr: %s\n", e.what());
    return 1;
}
