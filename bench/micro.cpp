// Google Benchmark microbenchmarks (bench/run): GEMM, one kernel per layer (forward and
// backward) and whole models (a training step and inference), for cpu::reference and
// cpu::simd; items/second are samples (GFLOP/s for the GEMM rows, as a counter).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include <latent/backend/cpu/simd.hpp>

#include "models.hpp"

using namespace latent;

namespace {

template <class B>
void BM_Gemm(benchmark::State& state) {
    const auto M = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1)),
               K = static_cast<std::size_t>(state.range(2));
    AlignedBuffer<float> a(M * K), b(K * N), c(M * N);
    a.fill(0.5f);
    b.fill(0.25f);
    for (auto _ : state) {
        ops::gemm<B>(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N);
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(M) * double(N) * double(K) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// One layer's forward (and with `backward`, its backward too) on a batch of 64.
template <class B, class In, class L, bool backward>
void BM_Layer(benchmark::State& state) {
    constexpr std::size_t batch = 64;
    using Out = typename L::template output_shape<In>;
    std::size_t param_size = 0;
    for (const auto& s : L::template params<In>) param_size += s.size();
    std::vector<float> x(batch * In::size), y(batch * Out::size), dy(y.size()), dx(x.size());
    std::vector<float> params(param_size, 0.5f), dparams(param_size), workspace(workspace_size<L, In>(batch) + 1);
    Generator g(1);
    for (auto& v : x) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (auto& v : dy) v = static_cast<float>(g.uniform(-1.0, 1.0));
    L layer;
    for (auto _ : state) {
        ForwardArgs<float> a{x.data(), y.data(), params.data(), workspace.data(), batch, Mode::train, &g};
        a.state = params.data();
        layer.template forward<In, B, float>(a);
        if constexpr (backward) {
            BackwardArgs<float> b{x.data(), y.data(), dy.data(), dx.data(), params.data(), dparams.data(),
                                  workspace.data(), batch};
            layer.template backward<In, B, float>(b);
        }
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

template <class Net, class Y>
void train_steps(benchmark::State& state, Net& net, const Tensor<typename Net::input_shape>& x, const Y& y) {
    for (auto _ : state) benchmark::DoNotOptimize(net.train_on_batch(x, y));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.batch()));
}

template <class B>
void BM_MlpTrain(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    bench::Mlp<B> net(1);
    net.compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{});
    Tensor<Shape<784>> x(batch);
    bench::fill_uniform(x, 2);
    train_steps(state, net, x, bench::random_one_hot<10>(batch, 3));
}

template <class B>
void BM_MiniVGGTrain(benchmark::State& state) {
    auto net = std::make_unique<bench::MiniVGG<B>>(1);
    net->compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::CategoricalCrossentropy{});
    Tensor<Shape<28, 28, 1>> x(64);
    bench::fill_uniform(x, 4);
    train_steps(state, *net, x, bench::random_one_hot<10>(64, 5));
}

template <class B>
void BM_ConvAutoencoderTrain(benchmark::State& state) {
    auto net = std::make_unique<bench::ConvAutoencoder<B>>(1);
    net->compile(optim::Adam{.lr = 1e-3}, loss::MeanSquaredError{});
    Tensor<Shape<28, 28, 1>> x(64);
    bench::fill_uniform(x, 4);
    train_steps(state, *net, x, x);
}

template <class Net>
void BM_Predict(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto net = std::make_unique<Net>(1);
    Tensor<typename Net::input_shape> x(batch);
    Tensor<typename Net::output_shape> y(batch);
    bench::fill_uniform(x, 6);
    for (auto _ : state) {
        net->predict(x, y);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

using cpu::reference;
using cpu::simd;
using Image = Shape<28, 28, 1>;
using Maps = Shape<28, 28, 32>;

}  // namespace


BENCHMARK_TEMPLATE(BM_Gemm, reference)->Args({64, 256, 784})->Args({256, 512, 3136})->Args({512, 512, 512})->UseRealTime();
BENCHMARK_TEMPLATE(BM_Gemm, simd)->Args({64, 256, 784})->Args({256, 512, 3136})->Args({512, 512, 512})->UseRealTime();

// Layers, forward only and forward + backward, batch 64.
BENCHMARK_TEMPLATE(BM_Layer, reference, Shape<784>, Dense<256>, false);
BENCHMARK_TEMPLATE(BM_Layer, simd, Shape<784>, Dense<256>, false);
BENCHMARK_TEMPLATE(BM_Layer, reference, Shape<784>, Dense<256>, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Shape<784>, Dense<256>, true);
BENCHMARK_TEMPLATE(BM_Layer, reference, Image, Conv2D<32, 3, Padding::same>, false);
BENCHMARK_TEMPLATE(BM_Layer, simd, Image, Conv2D<32, 3, Padding::same>, false);
BENCHMARK_TEMPLATE(BM_Layer, reference, Image, Conv2D<32, 3, Padding::same>, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Image, Conv2D<32, 3, Padding::same>, true);
BENCHMARK_TEMPLATE(BM_Layer, reference, Shape<14, 14, 32>, Conv2D<64, 3, Padding::same>, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Shape<14, 14, 32>, Conv2D<64, 3, Padding::same>, true);
BENCHMARK_TEMPLATE(BM_Layer, reference, Maps, MaxPool2D<2>, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Maps, MaxPool2D<2>, true);
BENCHMARK_TEMPLATE(BM_Layer, reference, Maps, BatchNorm, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Maps, BatchNorm, true);
BENCHMARK_TEMPLATE(BM_Layer, reference, Maps, ReLU, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Maps, ReLU, true);
BENCHMARK_TEMPLATE(BM_Layer, reference, Shape<10>, Softmax, true);
BENCHMARK_TEMPLATE(BM_Layer, simd, Shape<10>, Softmax, true);
// The Transformer example's attention: 4 heads of 16 over 28 steps of 64 features.
BENCHMARK_TEMPLATE(BM_Layer, reference, Shape<28, 64>, MultiHeadAttention<4, 16>, true)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Layer, simd, Shape<28, 64>, MultiHeadAttention<4, 16>, true)->UseRealTime();

// Whole models: a training step (forward, loss, backward, optimizer) and inference.
BENCHMARK_TEMPLATE(BM_MlpTrain, reference)->Arg(64)->Arg(256)->UseRealTime();
BENCHMARK_TEMPLATE(BM_MlpTrain, simd)->Arg(64)->Arg(256)->UseRealTime();
BENCHMARK_TEMPLATE(BM_MiniVGGTrain, reference)->Iterations(3)->UseRealTime();
BENCHMARK_TEMPLATE(BM_MiniVGGTrain, simd)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ConvAutoencoderTrain, reference)->Iterations(3)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ConvAutoencoderTrain, simd)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Predict, bench::Mlp<reference>)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Predict, bench::Mlp<simd>)->Arg(1)->Arg(64)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Predict, bench::TinyMlp<reference>)->Arg(1)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Predict, bench::TinyMlp<simd>)->Arg(1)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Predict, bench::MiniVGG<simd>)->Arg(1)->Arg(64)->UseRealTime();

BENCHMARK_MAIN();
