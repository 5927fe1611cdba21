// The semi-supervised microscopy study: 400 labelled and 3,892 unlabelled 40x40 crops of
// dividing bacteria in three stages (synthetic_cells.hpp; saved to and read back from an .npz
// as a real data set would be). Compares
//   (a) a CNN trained from scratch on the labelled images only, with
//   (c) a small classifier on the codes of a convolutional autoencoder (b) trained on the
//       unlabelled images, and
//   (d) that encoder with a new head, fine-tuned on the labels,
// for 25, 50, 100 and 300 labels (validation: the same 100 labelled images throughout), and
// probes the codes linearly against a random encoder's. Writes samples.png, reconstructions.png,
// codes_2d.png and autoencoder_training.png.
#include <latent/latent.hpp>
#include <latent/io/plot.hpp>
#include <latent/repr/autoencoder.hpp>
#include <latent/repr/linear_probe.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "synthetic_cells.hpp"

using namespace latent;
using Image = Shape<40, 40, 1>;
using Labels = Tensor<Shape<1>>;

// (a) The supervised baseline: three conv blocks, a small dense head.
struct Classifier : Sequential<Input<40, 40, 1>,
                               Conv2D<16, 3, Padding::same>, ReLU, MaxPool2D<2>,
                               Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                               Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                               Flatten, Dense<64>, ReLU, Dropout, Dense<3>, Softmax> {
    explicit Classifier(std::uint64_t seed) : Sequential(seed) { layer<12>().rate(0.5); }
};

// (b) The autoencoder: the same conv blocks down to a 32-number code, and their mirror image.
using Encoder = Sequential<Input<40, 40, 1>,
                           Conv2D<16, 3, Padding::same>, ReLU, MaxPool2D<2>,
                           Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                           Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                           Flatten, Dense<32>>;
using Decoder = Sequential<Input<32>, Dense<5 * 5 * 32>, ReLU, Reshape<5, 5, 32>,
                           UpSampling2D<2>, Conv2D<32, 3, Padding::same>, ReLU,
                           UpSampling2D<2>, Conv2D<16, 3, Padding::same>, ReLU,
                           UpSampling2D<2>, Conv2D<1, 3, Padding::same>, Sigmoid>;
using Autoencoder = repr::Autoencoder<Encoder, Decoder>;

// (d) The pretrained encoder with a new head, all of it trained on the labels (fine-tuning).
struct FineTuned : Sequential<Input<40, 40, 1>,
                              Conv2D<16, 3, Padding::same>, ReLU, MaxPool2D<2>,
                              Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                              Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                              Flatten, Dense<32>, Dense<32>, ReLU, Dropout, Dense<3>, Softmax> {
    explicit FineTuned(std::uint64_t seed) : Sequential(seed) { layer<13>().rate(0.3); }
};

// (c) The classifier on codes.
struct CodeClassifier : Sequential<Input<32>, Dense<32>, ReLU, Dropout, Dense<3>, Softmax> {
    explicit CodeClassifier(std::uint64_t seed) : Sequential(seed) { layer<2>().rate(0.3); }
};

namespace {

struct Study {
    Tensor<Image> labelled, unlabelled;
    Labels labels;
};

io::NpyArray images_array(const std::vector<std::uint8_t>& pixels, std::size_t count) {
    return io::make_npy<std::uint8_t>({count, microscopy::side, microscopy::side}, pixels);
}

// The data set as the course hands it out: one .npz with uint8 arrays labelled (400, 40, 40),
// labels (400,) and unlabelled (3892, 40, 40). Written once, from a fixed seed.
void generate(const std::filesystem::path& path) {
    latent::Generator g(2026);
    const auto draw = [&](std::size_t count, std::vector<std::uint8_t>* stages) {
        std::vector<std::uint8_t> pixels;
        pixels.reserve(count * microscopy::pixels);
        for (std::size_t i = 0; i < count; ++i) {
            const int stage = microscopy::random_stage(g);
            if (stages) stages->push_back(static_cast<std::uint8_t>(stage));
            const auto crop = microscopy::render(stage, g);
            pixels.insert(pixels.end(), crop.begin(), crop.end());
        }
        return pixels;
    };
    std::vector<std::uint8_t> stages;
    const auto labelled = draw(400, &stages);
    const auto unlabelled = draw(3892, nullptr);
    io::save_npz(path, {{"labelled", images_array(labelled, 400)},
                        {"labels", io::make_npy<std::uint8_t>({400}, stages)},
                        {"unlabelled", images_array(unlabelled, 3892)}});
}

// Reads the .npz (validated as a whole; the (n, 40, 40) arrays become (n, 40, 40, 1) images)
// and scales grey levels to [0, 1].
Study load(const std::filesystem::path& path) {
    const auto arrays = io::load_npz(path);
    const auto member = [&](const char* name) -> const io::NpyArray& {
        const auto it = arrays.find(name);
        if (it == arrays.end())
            throw io_error("example.microscopy", path.string() + " has no array \"" + std::string(name) + "\"");
        return it->second;
    };
    Study s{io::npy_to_tensor<Image>(member("labelled"), path.string() + ": labelled"),
            io::npy_to_tensor<Image>(member("unlabelled"), path.string() + ": unlabelled"),
            io::npy_to_tensor<Shape<1>>(member("labels"), path.string() + ": labels")};
    for (auto* t : {&s.labelled, &s.unlabelled})
        for (auto& v : t->values()) v /= 255.0f;
    if (s.labels.batch() != s.labelled.batch())
        throw shape_error("example.microscopy", "labels and labelled images differ in number");
    return s;
}

template <shape_type S>
Tensor<S> pick(const Tensor<S>& x, const std::vector<std::size_t>& rows) {
    Tensor<S> out(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) std::ranges::copy(x.sample(rows[i]), out.sample(i).begin());
    return out;
}

// Training epochs for n labelled samples: about the same number of updates for every n.
std::size_t epochs_for(std::size_t n, std::size_t batch) {
    const std::size_t steps_per_epoch = (n + batch - 1) / batch;
    return std::max<std::size_t>(30, (600 + steps_per_epoch - 1) / steps_per_epoch);
}

struct Summary {
    double mean = 0, spread = 0;
};
Summary summarize(const std::vector<double>& v) {
    Summary s;
    for (double x : v) s.mean += x / static_cast<double>(v.size());
    for (double x : v) s.spread = std::max(s.spread, std::abs(x - s.mean));
    return s;
}

// The first two principal components of the codes, for a 2-D picture of the representation.
std::pair<std::vector<float>, std::vector<float>> principal_plane(const Tensor<Shape<32>>& codes) {
    const std::size_t n = codes.batch(), d = 32;
    std::vector<double> mean(d, 0.0), cov(d * d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) mean[j] += codes.sample(i)[j] / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t a = 0; a < d; ++a)
            for (std::size_t b = 0; b < d; ++b)
                cov[a * d + b] += (codes.sample(i)[a] - mean[a]) * (codes.sample(i)[b] - mean[b]);
    std::vector<std::vector<double>> axes;
    for (int k = 0; k < 2; ++k) {  // power iteration, deflating the first component
        std::vector<double> v(d, 1.0 / std::sqrt(static_cast<double>(d)));
        v[static_cast<std::size_t>(k)] += 0.5;
        for (int it = 0; it < 500; ++it) {
            std::vector<double> w(d, 0.0);
            for (std::size_t a = 0; a < d; ++a)
                for (std::size_t b = 0; b < d; ++b) w[a] += cov[a * d + b] * v[b];
            for (const auto& u : axes) {
                double dot = 0;
                for (std::size_t a = 0; a < d; ++a) dot += w[a] * u[a];
                for (std::size_t a = 0; a < d; ++a) w[a] -= dot * u[a];
            }
            double norm = 0;
            for (double x : w) norm += x * x;
            norm = std::sqrt(norm);
            if (norm == 0) break;
            for (std::size_t a = 0; a < d; ++a) v[a] = w[a] / norm;
        }
        axes.push_back(v);
    }
    std::vector<float> xs(n), ys(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t a = 0; a < d; ++a) {
            xs[i] += static_cast<float>((codes.sample(i)[a] - mean[a]) * axes[0][a]);
            ys[i] += static_cast<float>((codes.sample(i)[a] - mean[a]) * axes[1][a]);
        }
    return {xs, ys};
}

}  // namespace

int main(int argc, char** argv) try {
    const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
    const std::size_t ae_epochs = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 20;
    const std::size_t repeats = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 3;
    const auto start = std::chrono::steady_clock::now();
    const auto seconds_since = [](auto t0) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::filesystem::create_directories(out_dir);

    const auto data_path = out_dir / "microscopy.npz";
    if (!std::filesystem::exists(data_path)) {
        generate(data_path);
        std::printf("generated %s\n", data_path.c_str());
    }
    const Study data = load(data_path);
    std::vector<std::size_t> per_stage(3, 0);
    for (std::size_t i = 0; i < data.labels.batch(); ++i) ++per_stage[static_cast<std::size_t>(data.labels[i])];
    std::printf("%zu labelled crops (stage 0/1/2: %zu/%zu/%zu), %zu unlabelled\n", data.labelled.batch(),
                per_stage[0], per_stage[1], per_stage[2], data.unlabelled.batch());

    // samples.png: eight crops of each stage.
    {
        std::vector<float> grid;
        for (int stage = 0; stage < 3; ++stage) {
            std::size_t shown = 0;
            for (std::size_t i = 0; i < data.labels.batch() && shown < 8; ++i)
                if (static_cast<int>(data.labels[i]) == stage) {
                    grid.insert(grid.end(), data.labelled.sample(i).begin(), data.labelled.sample(i).end());
                    ++shown;
                }
        }
        io::write_png(out_dir / "samples.png",
                      io::image_grid(grid, 40, 40, 8,
                                     {.scale = 2, .title = "Synthetic crops by division stage",
                                      .row_captions = {"stage 0", "stage 1", "stage 2"}}));
    }

    // Train: the first 300 labelled crops; validation: the last 100.
    std::vector<std::size_t> train_rows(300), val_rows(100);
    std::iota(train_rows.begin(), train_rows.end(), 0);
    std::iota(val_rows.begin(), val_rows.end(), 300);
    const auto x_val = pick(data.labelled, val_rows);
    const auto y_val = pick(data.labels, val_rows);

    // (b) The autoencoder on the unlabelled crops, validated on reconstructing the labelled ones.
    const auto ae_start = std::chrono::steady_clock::now();
    Autoencoder ae(Encoder(1), Decoder(2));
    ae.compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
    const auto ae_history = ae.fit(data.unlabelled, {.epochs = ae_epochs, .batch_size = 32,
                                                     .validation = {data.labelled, data.labelled},
                                                     .verbose = Verbosity::one_line_per_epoch});
    const double ae_seconds = seconds_since(ae_start);
    std::printf("autoencoder: reconstruction MSE %.5f on the labelled crops after %zu epochs (%.1f s)\n",
                ae_history.last("val_loss"), ae_history.epochs, ae_seconds);
    const auto codes = ae.encode(data.labelled, 128);
    const auto encoder_weights = out_dir / "encoder.safetensors";
    ae.encoder().save_weights(encoder_weights);

    // The supervised CNN (a) and the classifier on codes (c), for growing label counts; each
    // repeated on different random subsets of the 300 training crops.
    const std::vector<std::size_t> label_counts{25, 50, 100, 300};
    std::map<std::size_t, std::vector<double>> cnn_accuracy, code_accuracy, tuned_accuracy;
    const auto val_codes = pick(codes, val_rows);
    for (std::size_t n : label_counts)
        for (std::size_t rep = 0; rep < repeats; ++rep) {
            std::vector<std::size_t> rows = train_rows;
            latent::Generator g(100 + rep);
            for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[g.below(i)]);
            rows.resize(n);
            const auto x = pick(data.labelled, rows);
            const auto y = pick(data.labels, rows);

            Classifier cnn(10 + rep);
            cnn.compile(optim::Adam{.lr = 1e-3}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
            cnn.fit(x, y, {.epochs = epochs_for(n, 16), .batch_size = 16, .seed = rep, .verbose = Verbosity::silent});
            cnn_accuracy[n].push_back(cnn.evaluate(x_val, y_val).at("accuracy"));

            auto train_codes = pick(codes, rows);
            auto validation_codes = val_codes;
            const repr::Standardizer<Shape<32>> scale(train_codes);
            scale.apply(train_codes);
            scale.apply(validation_codes);
            CodeClassifier head(20 + rep);
            head.compile(optim::Adam{.lr = 3e-3}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
            head.fit(train_codes, y, {.epochs = epochs_for(n, 16), .batch_size = 16, .seed = rep,
                                      .verbose = Verbosity::silent});
            code_accuracy[n].push_back(head.evaluate(validation_codes, y_val).at("accuracy"));

            FineTuned tuned(30 + rep);
            tuned.load_weights(encoder_weights, {.by_name = true});  // the encoder's layers; the head stays new
            tuned.compile(optim::Adam{.lr = 1e-3}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
            tuned.fit(x, y, {.epochs = epochs_for(n, 16), .batch_size = 16, .seed = rep, .verbose = Verbosity::silent});
            tuned_accuracy[n].push_back(tuned.evaluate(x_val, y_val).at("accuracy"));
            std::printf("  %3zu labels, subset %zu: CNN from scratch %.2f, autoencoder codes %.2f, fine-tuned %.2f\n",
                        n, rep, cnn_accuracy[n].back(), code_accuracy[n].back(), tuned_accuracy[n].back());
        }

    std::printf("\nvalidation accuracy (100 crops; mean and largest deviation over %zu subsets)\n", repeats);
    std::printf("| labels | (a) CNN from scratch | (c) classifier on autoencoder codes | (d) pretrained encoder, "
                "fine-tuned |\n|---|---|---|---|\n");
    for (std::size_t n : label_counts) {
        const auto a = summarize(cnn_accuracy[n]), c = summarize(code_accuracy[n]), d = summarize(tuned_accuracy[n]);
        std::printf("| %zu | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f |\n", n, a.mean, a.spread, c.mean, c.spread,
                    d.mean, d.spread);
    }

    // The linear probe: the autoencoder's codes against those of an untrained encoder.
    const auto x_train = pick(data.labelled, train_rows);
    const auto y_train = pick(data.labels, train_rows);
    Encoder random_encoder(99);
    const auto learned = repr::linear_probe<3>(ae.encoder(), x_train, y_train, x_val, y_val);
    const auto random = repr::linear_probe<3>(random_encoder, x_train, y_train, x_val, y_val);
    std::printf("\nlinear probe on 300 labels: autoencoder codes %.3f, random encoder %.3f (validation accuracy)\n",
                learned.validation_accuracy, random.validation_accuracy);

    // reconstructions.png, codes_2d.png, autoencoder_training.png.
    const auto shown = pick(data.labelled, std::vector<std::size_t>{300, 301, 302, 303, 304, 305, 306, 307, 308, 309});
    const auto rebuilt = ae.predict(shown);
    std::vector<float> grid(shown.values().begin(), shown.values().end());
    grid.insert(grid.end(), rebuilt.values().begin(), rebuilt.values().end());
    io::write_png(out_dir / "reconstructions.png",
                  io::image_grid(grid, 40, 40, 10,
                                 {.scale = 2, .title = "Validation crops and their reconstructions from 32 numbers",
                                  .row_captions = {"original", "reconstructed"}}));
    const auto [xs, ys] = principal_plane(codes);
    std::vector<int> stage(codes.batch());
    for (std::size_t i = 0; i < codes.batch(); ++i) stage[i] = static_cast<int>(data.labels[i]);
    io::write_png(out_dir / "codes_2d.png",
                  io::scatter_plot({.width = 800, .height = 640,
                                    .title = "Autoencoder codes of the labelled crops",
                                    .x_label = "principal axis 1", .y_label = "principal axis 2", .dot_alpha = 0.8},
                                   xs, ys, stage, {"stage 0", "stage 1", "stage 2"}));
    io::write_png(out_dir / "autoencoder_training.png",
                  io::line_plot({.title = "Autoencoder reconstruction loss (MSE)", .y_label = "loss"},
                                {{"unlabelled (training)", ae_history.at("loss")},
                                 {"labelled (validation)", ae_history.at("val_loss")}}));
    std::printf("wrote samples.png, reconstructions.png, codes_2d.png and autoencoder_training.png to %s\n",
                out_dir.c_str());
    std::printf("total wall time %.1f s\n", seconds_since(start));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "microscopy_semi_supervised: %s\n", e.what());
    return 1;
}
