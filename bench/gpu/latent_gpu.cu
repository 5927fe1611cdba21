// The latent side of the GPU comparison (bench/gpu/run): issue 6's workloads on latent::cuda.
// Prints one line per repetition: "<row>\t<value>\t<unit>"; the run script interleaves it with
// PyTorch on the same GPU. Every step is synchronous (train_on_batch brings the loss back,
// predict the output), as the PyTorch side synchronizes after each step; training batches stay
// on the GPU on both sides, the batch-1 predict copies its input over and its output back.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <latent/cuda.hpp>
#include <latent/latent.hpp>

#include "../models.hpp"

using namespace latent;
using B = cuda;
using clock_type = std::chrono::steady_clock;

namespace {

struct Args {
    int reps = 3;
    bool eager = false;  // --eager: every step kernel by kernel, none replayed from CUDA graphs
    bool im2col = false;  // --no-cudnn: convolutions as im2col and cuBLAS GEMMs even where cuDNN is built in
    std::set<std::string> rows;
    bool wants(const std::string& row) const {
        return rows.empty() || rows.count(row) || rows.count(row.substr(0, row.find('.')));
    }
};

// A warm-up (the first step allocates, the second is recorded into CUDA graphs), then `reps` timed blocks
// of at least `min_seconds`; value = units per second, or ns per step for latency rows.
void measure(const Args& args, const std::string& row, const char* unit, double units_per_iteration,
             const std::function<void()>& step, bool latency = false, double min_seconds = 0.5) {
    auto run_for = [&](double seconds, std::size_t min_iterations) {
        std::size_t iterations = 0;
        const auto start = clock_type::now();
        double elapsed = 0;
        do {
            step();
            ++iterations;
            elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
        } while (elapsed < seconds || iterations < min_iterations);
        return std::pair{iterations, elapsed};
    };
    run_for(min_seconds / 2, 3);
    for (int r = 0; r < args.reps; ++r) {
        const auto [iterations, seconds] = run_for(min_seconds, 3);
        const double value = latency ? seconds * 1e9 / static_cast<double>(iterations)
                                     : units_per_iteration * static_cast<double>(iterations) / seconds;
        std::printf("%s\t%.6g\t%s\n", row.c_str(), value, unit);
        std::fflush(stdout);
    }
}

// Steps recorded into CUDA graphs and replayed (the default), or all run kernel by kernel;
// convolutions through cuDNN where latent::cuda has it (the default), or as im2col and GEMMs.
template <class Net>
void set_recording(const Args& args, Net& net) {
    [[maybe_unused]] const auto scope = net.context_scope();
    current_cuda_context().record_steps(!args.eager);
    if (CudaContext::has_cudnn) current_cuda_context().use_cudnn(!args.im2col);
}

// How the row's steps ran, on stderr (the table reads stdout): a replay should update few
// kernel nodes (only arguments that change, such as Adam's step count).
template <class Net>
void report_steps(const Args& args, const std::string& row, Net& net) {
    if (args.eager) return;
    [[maybe_unused]] const auto scope = net.context_scope();
    const auto s = current_cuda_context().step_statistics_so_far();
    std::fprintf(stderr, "latent_gpu %s: steps eager %zu, recorded %zu, replayed %zu, diverged %zu; kernel nodes updated %zu\n",
                 row.c_str(), s.eager, s.recorded, s.replayed, s.diverged, s.node_updates);
    if (const std::string plans = current_cuda_context().cudnn_plans(); !plans.empty())
        std::fprintf(stderr, "latent_gpu %s: cuDNN plans (cudnn*Algo_t values):\n%s", row.c_str(), plans.c_str());
}

// The batch is kept on the GPU (DeviceTensor), as PyTorch's is: a step copies nothing from the
// host, and the row measures training, not PCIe (a 4096-image batch is 12.8 MB to copy).
template <class Net, class XS, class YS>
void train_row(const Args& args, const std::string& row, Net& net, const Tensor<XS>& x, const Tensor<YS>& y) {
    set_recording(args, net);
    const DeviceTensor<B, XS> x_there(x);
    const DeviceTensor<B, YS> y_there(y);
    measure(args, row, "samples/s", static_cast<double>(x.batch()), [&] { net.train_on_batch(x_there, y_there); });
    report_steps(args, row, net);
}

void mlp_rows(const Args& args) {
    for (std::size_t batch : {64, 256, 4096}) {
        const std::string row = "G1.b" + std::to_string(batch);
        if (!args.wants(row)) continue;
        bench::Mlp<B> net(1);
        net.compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{});
        Tensor<Shape<784>> x(batch);
        bench::fill_uniform(x, 2);
        train_row(args, row, net, x, bench::random_one_hot<10>(batch, 3));
    }
}

void conv_rows(const Args& args) {
    for (std::size_t batch : {64, 512}) {
        Tensor<Shape<28, 28, 1>> x(batch);
        bench::fill_uniform(x, 4);
        if (const std::string row = "G2.b" + std::to_string(batch); args.wants(row)) {
            auto net = std::make_unique<bench::MiniVGG<B>>(1);
            net->compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{});
            train_row(args, row, *net, x, bench::random_one_hot<10>(batch, 5));
        }
        if (const std::string row = "G3.b" + std::to_string(batch); args.wants(row)) {
            auto net = std::make_unique<bench::ConvAutoencoder<B>>(1);
            net->compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
            train_row(args, row, *net, x, x);
        }
    }
}

void latency_row(const Args& args) {
    if (!args.wants("G4.mlp")) return;
    bench::Mlp<B> net(1);
    Tensor<Shape<784>> x(1);
    bench::fill_uniform(x, 6);
    Tensor<Shape<10>> y(1);
    set_recording(args, net);
    measure(
        args, "G4.mlp", "ns", 1.0, [&] { net.predict(x, y); }, true);
    report_steps(args, "G4.mlp", net);
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--eager") {
            args.eager = true;
        } else if (a == "--no-cudnn") {
            args.im2col = true;
        } else if (a == "--reps" && i + 1 < argc) {
            args.reps = std::atoi(argv[++i]);
        } else if (a == "--rows" && i + 1 < argc) {
            std::stringstream list(argv[++i]);
            for (std::string r; std::getline(list, r, ',');) args.rows.insert(r);
        } else {
            std::fprintf(stderr, "usage: latent_gpu [--eager] [--no-cudnn] [--reps R] [--rows G1,G2.b64,...]\n");
            return 2;
        }
    }
    std::fprintf(stderr, "latent_gpu: convolutions %s\n",
                 !CudaContext::has_cudnn ? "as im2col and cuBLAS GEMMs (built without cuDNN)"
                 : args.im2col          ? "as im2col and cuBLAS GEMMs (--no-cudnn)"
                                        : "through cuDNN");
    mlp_rows(args);
    conv_rows(args);
    latency_row(args);
    return 0;
}
