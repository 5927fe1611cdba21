// Greedy layer-wise pretraining on Fashion-MNIST (Bengio et al. 2007; with contractive
// autoencoders as in Rifai et al. 2011): the two sigmoid layers of a classifier are trained one
// at a time as autoencoders on 50,000 unlabelled images, then the whole network is fine-tuned
// on a few labelled ones. Compares, for 100 to 3,000 labels, random initialization, plain
// stacked autoencoders and stacked contractive autoencoders. Writes filters.png (the first
// layer's learned features) and pretraining.png (each stage's loss).
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/greedy.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

using namespace latent;

using Net = Sequential<Input<28, 28, 1>, Flatten, Dense<256>, Sigmoid, Dense<64>, Sigmoid, Dense<10>, Softmax>;

int main(int argc, char** argv) try {
    const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10;  // per pretraining stage
    const std::filesystem::path out_dir = argc > 2 ? argv[2] : ".";
    const std::size_t unlabelled = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 50000;
    const double contraction = argc > 4 ? std::strtod(argv[4], nullptr) : 1e-3;
    const auto start = std::chrono::steady_clock::now();
    const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto copy = [](const auto& view) {
        using S = typename std::remove_cvref_t<decltype(view)>::shape;
        return Tensor<S>(view.batch(), std::span<const float>(view.data(), view.size()));
    };
    // Unlabelled: the first images; the labelled pool: the last 10,000 training images.
    const std::size_t pool_n = std::min<std::size_t>(10000, data.train_images.batch());
    const auto x_unlabelled = data.train_images.slice(0, std::min(unlabelled, data.train_images.batch() - pool_n));
    const std::size_t pool_at = data.train_images.batch() - pool_n;
    std::printf("Fashion-MNIST: pretraining on %zu unlabelled images, fine-tuning on a few of the last %zu\n",
                x_unlabelled.batch(), pool_n);

    // Pretrained weights, as the network's whole parameter arena: random, stacked AE, stacked CAE.
    struct Start {
        std::string name;
        std::vector<float> weights;
    };
    std::vector<Start> starts;
    std::vector<io::LineSeries> curves;
    for (const double lambda : {-1.0, 0.0, contraction}) {
        Net net(1);  // the same random initialization for all three
        if (lambda >= 0) {
            std::ostringstream log;
            const auto losses = repr::greedy_pretrain<2>(
                net, x_unlabelled,
                {.epochs = epochs, .batch_size = 64, .lr = 1e-3, .contraction = lambda, .seed = 2,
                 .verbose = Verbosity::one_line_per_epoch, .out = &log});
            // The per-epoch losses of each stage, read back from the progress lines.
            std::vector<double> stage;
            std::istringstream lines(log.str());
            for (std::string line; std::getline(lines, line);) {
                const auto at = line.find("- loss: ");
                if (line.rfind("greedy pretraining", 0) == 0 && !stage.empty()) {
                    curves.push_back({(lambda > 0 ? "CAE" : "AE") + std::string(" stage 1"), stage});
                    stage.clear();
                } else if (at != std::string::npos) {
                    stage.push_back(std::stod(line.substr(at + 8)));
                }
            }
            curves.push_back({(lambda > 0 ? "CAE" : "AE") + std::string(" stage 2"), stage});
            std::printf("%s pretraining: final stage losses %.4f, %.4f (%.0f s so far)\n",
                        lambda > 0 ? "contractive" : "plain", losses[0], losses[1], seconds());
            if (lambda > 0) {
                // filters.png: the first layer's 256 kernels (columns), each scaled to [0, 1].
                const auto kernel = net.layer(1).weights()[0].second;  // (784, 256)
                std::vector<float> filters(256 * 784);
                for (std::size_t j = 0; j < 256; ++j) {
                    float lo = 1e30f, hi = -1e30f;
                    for (std::size_t i = 0; i < 784; ++i) {
                        lo = std::min(lo, kernel[i * 256 + j]);
                        hi = std::max(hi, kernel[i * 256 + j]);
                    }
                    for (std::size_t i = 0; i < 784; ++i)
                        filters[j * 784 + i] = (kernel[i * 256 + j] - lo) / std::max(hi - lo, 1e-12f);
                }
                io::write_png(out_dir / "filters.png",
                              io::image_grid(filters, 28, 28, 16,
                                             {.scale = 1, .title = "First-layer features of the stacked CAE",
                                              .row_captions = {}}));
            }
        }
        const auto& p = net.parameters();
        starts.push_back({lambda < 0 ? "random initialization" : lambda == 0 ? "stacked autoencoders"
                                                                              : "stacked contractive autoencoders",
                          std::vector<float>(p.data(), p.data() + p.size())});
    }
    io::write_png(out_dir / "pretraining.png",
                  io::line_plot({.title = "Pretraining loss per stage (cross-entropy + penalty)", .y_label = "loss"}, curves));

    std::printf("\n| labels | epochs |");
    for (const auto& s : starts) std::printf(" %s |", s.name.c_str());
    std::printf("\n|---|---|---|---|---|\n");
    for (const std::size_t labels : {100, 300, 1000, 3000}) {
        const std::size_t n = std::min(labels, pool_n);
        const auto x = copy(data.train_images.slice(pool_at, n));
        const auto y = copy(data.train_labels.slice(pool_at, n));
        const std::size_t fine_epochs = std::clamp<std::size_t>(20000 / n, 20, 200);
        std::printf("| %zu | %zu |", n, fine_epochs);
        for (const auto& s : starts) {
            Net net(1);
            auto& p = net.parameters();
            std::copy(s.weights.begin(), s.weights.end(), p.data());
            net.compile(optim::Adam{.lr = 1e-3}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
            net.fit(x, y, {.epochs = fine_epochs, .batch_size = 32, .seed = 4, .verbose = Verbosity::silent});
            std::printf(" %.4f |", net.evaluate(data.test_images, data.test_labels, 256).at("accuracy"));
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    std::printf("\ntest accuracy on the 10,000 test images after fine-tuning every layer; wrote filters.png, "
                "pretraining.png to %s (%.1f s in all)\n",
                out_dir.c_str(), seconds());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "greedy_pretraining: %s\n", e.what());
    return 1;
}
