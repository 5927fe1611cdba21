// The latent side of the peer comparison (bench/peers/run): the workloads of issue 5 on
// cpu::simd, plus OpenBLAS's cblas_sgemm for the GEMM rows. Prints one line per repetition:
// "<row>\t<threads>\t<value>\t<unit>"; the run script interleaves it with PyTorch and dlib.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <latent/backend/cpu/simd.hpp>

#include "../models.hpp"

using namespace latent;
using B = cpu::simd;
using clock_type = std::chrono::steady_clock;

namespace {

struct Args {
    int threads = 1;
    int reps = 3;
    std::set<std::string> rows;
    bool wants(const std::string& row) const { return rows.empty() || rows.count(row) || rows.count(row.substr(0, 2)); }
};

// Runs `step` for a warm-up, then `reps` timed blocks of at least `min_seconds` each; prints
// value = per_iteration_units * iterations / seconds (or ns per iteration for latency rows).
void measure(const Args& args, const std::string& row, const char* unit, double units_per_iteration,
             const std::function<void()>& step, bool latency = false, double min_seconds = 0.3) {
    // The clock is read once per chunk of steps (about a millisecond's worth), so that its own
    // cost (~20 ns) does not inflate a 100 ns step.
    std::size_t chunk = 1;
    auto run_for = [&](double seconds, std::size_t min_iterations) {
        std::size_t iterations = 0;
        const auto start = clock_type::now();
        double elapsed = 0;
        do {
            for (std::size_t i = 0; i < chunk; ++i) step();
            iterations += chunk;
            elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
        } while (elapsed < seconds || iterations < min_iterations);
        return std::pair{iterations, elapsed};
    };
    const auto [warm_iterations, warm_seconds] = run_for(min_seconds / 2, 3);
    chunk = std::max<std::size_t>(1, static_cast<std::size_t>(1e-3 * double(warm_iterations) / warm_seconds));
    for (int r = 0; r < args.reps; ++r) {
        const auto [iterations, seconds] = run_for(min_seconds, 3);
        const double value = latency ? seconds * 1e9 / static_cast<double>(iterations)
                                     : units_per_iteration * static_cast<double>(iterations) / seconds;
        std::printf("%s\t%d\t%.6g\t%s\n", row.c_str(), args.threads, value, unit);
        std::fflush(stdout);
    }
}

void gemm_rows(const Args& args) {
    const std::size_t shapes[][3] = {{64, 256, 784}, {256, 512, 3136}, {512, 512, 512}};
    for (const auto& s : shapes) {
        const std::size_t M = s[0], N = s[1], K = s[2];
        const std::string name = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
        if (!args.wants("W1." + name) && !args.wants("W1blas." + name)) continue;
        AlignedBuffer<float> a(M * K), b(K * N), c(M * N);
        Generator g(1);
        for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(g.uniform(-1, 1));
        for (std::size_t i = 0; i < b.size(); ++i) b.data()[i] = static_cast<float>(g.uniform(-1, 1));
        const double gflop = 2.0 * double(M) * double(N) * double(K) * 1e-9;
        if (args.wants("W1." + name))
            measure(args, "W1." + name, "GFLOP/s", gflop, [&] {
                ops::gemm<B>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N);
            });
        if (args.wants("W1blas." + name))
            measure(args, "W1blas." + name, "GFLOP/s", gflop, [&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(M), int(N), int(K), 1.0f, a.data(), int(K),
                            b.data(), int(N), 0.0f, c.data(), int(N));
            });
    }
}

template <class Net, class Y>
void train_row(const Args& args, const std::string& row, Net& net, const Tensor<typename Net::input_shape>& x,
               const Y& y) {
    if (!args.wants(row)) return;
    measure(args, row, "samples/s", static_cast<double>(x.batch()), [&] { net.train_on_batch(x, y); });
}

void mlp_rows(const Args& args) {
    for (std::size_t batch : {64, 256}) {
        const std::string row = "W2.b" + std::to_string(batch);
        if (!args.wants(row)) continue;
        bench::Mlp<B> net(1);
        net.compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{});
        Tensor<Shape<784>> x(batch);
        bench::fill_uniform(x, 2);
        const auto y = bench::random_one_hot<10>(batch, 3);
        train_row(args, row, net, x, y);
    }
}

void conv_rows(const Args& args) {
    constexpr std::size_t batch = 64;
    Tensor<Shape<28, 28, 1>> x(batch);
    bench::fill_uniform(x, 4);
    if (args.wants("W3.b64")) {
        auto net = std::make_unique<bench::MiniVGG<B>>(1);
        net->compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{});
        train_row(args, "W3.b64", *net, x, bench::random_one_hot<10>(batch, 5));
    }
    if (args.wants("W4.b64")) {
        auto net = std::make_unique<bench::ConvAutoencoder<B>>(1);
        net->compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
        train_row(args, "W4.b64", *net, x, x);
    }
}

// W7: sequence classifiers on 28 rows of 28 pixels (MNIST read row by row), Adam, batch 64.
void recurrent_rows(const Args& args) {
    constexpr std::size_t batch = 64;
    Tensor<Shape<28, 28>> x(batch);
    bench::fill_uniform(x, 7);
    const auto y = bench::random_one_hot<10>(batch, 8);
    if (args.wants("W7.lstm")) {
        auto net = std::make_unique<Sequential<B, Input<28, 28>, LSTM<128>, Dense<10>, Softmax>>(1);
        net->compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{});
        train_row(args, "W7.lstm", *net, x, y);
    }
    if (args.wants("W7.gru")) {
        auto net = std::make_unique<Sequential<B, Input<28, 28>, GRU<128>, Dense<10>, Softmax>>(1);
        net->compile(optim::Adam{.lr = 1e-3}, loss::CategoricalCrossentropy{});
        train_row(args, "W7.gru", *net, x, y);
    }
}

template <class Net>
void latency_row(const Args& args, const std::string& row, Net& net) {
    if (!args.wants(row)) return;
    Tensor<typename Net::input_shape> x(1);
    bench::fill_uniform(x, 6);
    Tensor<typename Net::output_shape> y(1);
    measure(
        args, row, "ns", 1.0, [&] { net.predict(x, y); }, true);
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc)
            args.threads = std::atoi(argv[++i]);
        else if (a == "--reps" && i + 1 < argc)
            args.reps = std::atoi(argv[++i]);
        else if (a == "--rows" && i + 1 < argc) {
            std::stringstream list(argv[++i]);
            for (std::string r; std::getline(list, r, ',');) args.rows.insert(r);
        } else {
            std::fprintf(stderr, "usage: latent_peer [--threads T] [--reps R] [--rows W1,W2.b64,...]\n");
            return 2;
        }
    }
    cpu::set_threads(args.threads);
    openblas_set_num_threads(args.threads);
    gemm_rows(args);
    mlp_rows(args);
    conv_rows(args);
    recurrent_rows(args);
    bench::Mlp<B> mlp(1);
    latency_row(args, "W5.mlp", mlp);
    bench::TinyMlp<B> tiny(1);
    latency_row(args, "W5.tiny", tiny);
    return 0;
}
