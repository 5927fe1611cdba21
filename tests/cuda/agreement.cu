// On a GPU: every layer's forward and backward, and every op, computed by latent::cuda on
// device memory agrees with cpu::reference (float32, TF32 off, relative error under 1e-4) —
// the same cases the host run of these kernels checks (tests/unit/backend/cuda_kernels.cpp).
#include <doctest/doctest.h>

#include <optional>

#include <latent/cuda.hpp>
#include <latent/latent.hpp>

#include "support/device_functional_cases.hpp"
#include "support/device_model_cases.hpp"
#include "support/layer_agreement_cases.hpp"
#include "support/op_agreement_cases.hpp"
#include "support/outputs_cases.hpp"

using namespace latent;

namespace {
constexpr double tolerance = 1e-4;

struct device_arrays {
    using buffer = CudaBuffer<float>;
    static buffer upload(const std::vector<float>& v) { return buffer(std::span<const float>(v)); }
    static std::vector<float> download(const buffer& b) { return b.to_host(); }
    static CudaBuffer<std::size_t> upload_indices(const std::vector<std::size_t>& v) {
        return CudaBuffer<std::size_t>(std::span<const std::size_t>(v));
    }
};
}  // namespace

TEST_CASE("cuda: dense and activation layers agree with the reference") {
    testing::check_dense_and_activations<cuda, device_arrays>(tolerance);
}
TEST_CASE("cuda: convolutions agree with the reference") {
    testing::check_convolutions<cuda, device_arrays>(tolerance);
}
TEST_CASE("cuda: pooling, resampling and padding agree with the reference") {
    testing::check_pooling_and_resampling<cuda, device_arrays>(tolerance);
}
TEST_CASE("cuda: batch normalization agrees with the reference") {
    testing::check_batch_norm<cuda, device_arrays>(tolerance);
}
TEST_CASE("cuda: merge layers agree with the reference") { testing::check_merges<cuda, device_arrays>(tolerance); }
TEST_CASE("cuda: cuBLAS GEMM in every transpose and scale") { testing::check_gemm<cuda, device_arrays>(tolerance); }
TEST_CASE("cuda: reductions over several chunks") { testing::check_reductions<cuda, device_arrays>(tolerance); }
TEST_CASE("cuda: fused losses") { testing::check_losses<cuda, device_arrays>(tolerance); }
TEST_CASE("cuda: batch norm backward") { testing::check_batch_norm_backward<cuda, device_arrays>(tolerance); }
TEST_CASE("cuda: affine warp") { testing::check_affine_warp<cuda, device_arrays>(tolerance); }
TEST_CASE("cuda: copy2d") { testing::check_copy2d<cuda, device_arrays>(); }
TEST_CASE("cuda: gather_rows") { testing::check_gather_rows<cuda, device_arrays>(); }
TEST_CASE("cuda: Dense's bias and activation in one kernel") {
    testing::check_bias_add_activation<cuda, device_arrays>(tolerance);
}
TEST_CASE("cuda: counter-based random fills") { testing::check_random_fills<cuda, device_arrays>(); }

TEST_CASE("cuda: failed calls and bad copies throw errors that name them") {
    CudaBuffer<float> small(4);
    std::vector<float> host(5);
    CHECK_THROWS_WITH_AS(small.copy_from_host(host), doctest::Contains("the buffer holds 4 elements, the host array 5"),
                         shape_error);
    // More memory than any GPU has: cudaMalloc's failure becomes a cuda_error naming it.
    CHECK_THROWS_WITH_AS(CudaBuffer<float>(std::size_t{1} << 46), doctest::Contains("cudaMalloc"), cuda_error);
    try {
        CudaBuffer<float> huge(std::size_t{1} << 46);
    } catch (const cuda_error& e) {
        CHECK(e.id() == "latent.cuda.cudaMalloc");
    }
    // The runtime is usable afterwards.
    CudaBuffer<float> fine{std::span<const float>(host)};
    CHECK(fine.to_host() == host);
}

namespace {
// Queues tens of milliseconds of GEMMs on the current context's stream, so that a copy queued
// after them runs long after its call returned, unless the call waited.
struct queued_work {
    static constexpr std::size_t n = 2048;
    CudaBuffer<float> a{n * n}, c{n * n};
    queued_work() {
        for (int i = 0; i < 40; ++i) ops::gemm<cuda>(false, false, n, n, n, 1.0f, a.data(), n, a.data(), n, 0.0f, c.data(), n);
    }
};
}  // namespace

TEST_CASE("cuda: a model's upload does not wait for the GPU; the host array and other contexts are safe") {
    const std::vector<float> values = testing::random_vector(1 << 20, 7);
    CudaBuffer<float> device(values.size());
    SUBCASE("pageable memory is staged by the call: the host may write to it at once") {
        std::vector<float> host = values;
        queued_work work;
        upload<cuda>(device.data(), host.data(), host.size());
        // The CUDA runtime may wait for the stream before it stages pageable memory: reported,
        // not required (bench/gpu measures what it costs).
        const bool went_on = cudaStreamQuery(current_cuda_context().stream()) == cudaErrorNotReady;
        MESSAGE("upload returned before the queued GEMMs finished: " << (went_on ? "yes" : "no (the driver waited)"));
        CHECK(current_cuda_context().has_unwaited_copies());
        std::fill(host.begin(), host.end(), -1.0f);
        CHECK(device.to_host() == values);
        CHECK_FALSE(current_cuda_context().has_unwaited_copies());
    }
    SUBCASE("page-locked memory is read by DMA later: the call waits") {
        float* pinned = nullptr;
        REQUIRE(cudaMallocHost(reinterpret_cast<void**>(&pinned), values.size() * sizeof(float)) == cudaSuccess);
        std::copy(values.begin(), values.end(), pinned);
        {
            queued_work work;
            upload<cuda>(device.data(), pinned, values.size());
            CHECK_FALSE(current_cuda_context().has_unwaited_copies());
            std::fill(pinned, pinned + values.size(), -1.0f);
            CHECK(device.to_host() == values);
        }
        cudaFreeHost(pinned);
    }
    SUBCASE("another context reads the memory only after the copy: scopes wait for it") {
        CudaContext mine, other;
        std::optional<queued_work> work;  // kept until the end: freeing it would wait for the GPU
        {
            CudaContextScope in_mine(mine);
            work.emplace();
            upload<cuda>(device.data(), values.data(), values.size());
        }  // leaving: other streams do not wait for this one
        CHECK_FALSE(mine.has_unwaited_copies());
        {
            CudaContextScope in_other(other);
            CHECK(device.to_host() == values);
        }
        CudaContext& own = current_cuda_context();  // this thread's, current where no scope is
        CudaBuffer<float> second(values.size());
        work.emplace();
        upload<cuda>(second.data(), values.data(), values.size());
        CHECK(own.has_unwaited_copies());
        {
            CudaContextScope in_other(other);  // entering: the thread's context waits first
            CHECK_FALSE(own.has_unwaited_copies());
            CHECK(second.to_host() == values);
        }
    }
}

TEST_CASE("cuda: a Sequential predicts on the GPU what it predicts on the CPU") {
    testing::check_device_predict<cuda>(tolerance);
}
TEST_CASE("cuda: train on the CPU, save the weights, predict on the GPU") {
    testing::check_device_loads_trained_weights<cuda>(tolerance, "cuda_device_mlp.safetensors");
}

TEST_CASE("cuda: a Sequential trains on the GPU as on the CPU") {
    testing::check_device_training<cuda>(tolerance);
    testing::check_device_unfused_losses<cuda>(tolerance);
}
TEST_CASE("cuda: every optimizer and Keras 3's settings train on the GPU as on the CPU") {
    testing::check_device_optimizers<cuda>(tolerance);
}
TEST_CASE("cuda: train_on_batch on DeviceTensors trains as on host tensors, and reports their errors") {
    testing::check_device_tensor_training<cuda>(1e-6);
}
TEST_CASE("cuda: callbacks restore, save and change what the GPU holds") {
    testing::check_device_callbacks<cuda>(tolerance, "cuda_device_callbacks");
}
TEST_CASE("cuda: checkpoints resume bit for bit") {
    testing::check_device_checkpoint_resume<cuda>("cuda_device_resume.safetensors");
}
TEST_CASE("cuda: a model on the GPU reports the CPU's errors") { testing::check_device_errors<cuda>(); }

TEST_CASE("cuda: a functional model predicts on the GPU what it predicts on the CPU") {
    testing::check_functional_device_predict<cuda>(tolerance);
}
TEST_CASE("cuda: the models of one graph train on the GPU as on the CPU") {
    testing::check_functional_device_training<cuda>(tolerance, "cuda_trunk.safetensors");
    testing::check_functional_device_outputs<cuda>(tolerance);
}
TEST_CASE("cuda: self- and cross-attention (MultiHeadAttention on two inputs) train on the GPU as on the CPU") {
    testing::check_functional_device_attention<cuda>(tolerance);
}
TEST_CASE("cuda: a model with several inputs and outputs trains batch by batch, and resumes bit for bit") {
    testing::check_outputs_train_on_batch<cuda>(tolerance);
    testing::check_outputs_resume<cuda>("cuda_outputs_resume.safetensors");
}
TEST_CASE("cuda: a functional model on the GPU reports the CPU's errors") {
    testing::check_functional_device_errors<cuda>();
}
TEST_CASE("cuda: an autoencoder, a GAN, SimCLR and a VAE of Sequential networks train on the GPU") {
    testing::check_repr_on_device<cuda>(tolerance);
}

TEST_CASE("cuda: the README's example computes a Dense layer on the GPU") {
    const std::size_t batch = 3;
    const std::vector<float> host_x = testing::random_vector(batch * 784, 1);
    const std::vector<float> host_kernel_then_bias = testing::random_vector(784 * 256 + 256, 2);
    using L = Dense<256>;
    CudaBuffer<float> x(host_x), w(host_kernel_then_bias), y(batch * 256);
    CudaBuffer<float> ws(workspace_size<L, Shape<784>>(batch) + 1);
    L{}.forward<Shape<784>, cuda, float>({x.data(), y.data(), w.data(), ws.data(), batch, Mode::infer});
    std::vector<float> out = y.to_host();

    std::vector<float> want(batch * 256), host_ws(workspace_size<L, Shape<784>>(batch) + 1);
    L{}.forward<Shape<784>, cpu::reference, float>(
        {host_x.data(), want.data(), host_kernel_then_bias.data(), host_ws.data(), batch, Mode::infer});
    CHECK(testing::relative_error(out, want) < tolerance);
}

TEST_CASE("cuda: the README's network trains, predicts and saves weights the CPU loads") {
    using Net = Sequential<cuda, Input<28, 28, 1>, Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>, Flatten,
                           Dense<10>, Softmax>;
    using CpuNet = Sequential<cpu::reference, Input<28, 28, 1>, Conv2D<32, 3, Padding::same>, ReLU, MaxPool2D<2>,
                              Flatten, Dense<10>, Softmax>;
    Tensor<Shape<28, 28, 1>> images(64);
    Tensor<Shape<1>> labels(64);
    Generator g(1);
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(g.uniform(0.0, 1.0));
    for (std::size_t i = 0; i < 64; ++i) labels[i] = static_cast<float>(i % 10);
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    const auto history = net.fit(images, labels, {.epochs = 5, .verbose = Verbosity::silent});
    CHECK(history["loss"].back() < history["loss"].front());
    Tensor<Shape<10>> probabilities = net.predict(images);
    net.save_weights("cuda_readme_net.safetensors");
    CpuNet cpu_net;
    cpu_net.load_weights("cuda_readme_net.safetensors");
    CHECK(testing::relative_error(testing::values_of(probabilities), testing::values_of(cpu_net.predict(images))) <
          tolerance);
}

TEST_CASE("cuda: the README's functional autoencoder trains on the GPU; its encoder reads what it trained") {
    const auto images = testing::random_batch<Shape<28, 28, 1>>(64, 1);
    auto image = input<cuda, 28, 28, 1>("image");
    auto code = Dense<32>{"code"}(Flatten{}(image));
    Model autoencoder(image, Reshape<28, 28, 1>{}(Dense<784>{}(code)));
    Model encoder(image, code);
    autoencoder.compile(optim::Adam{}, loss::MeanSquaredError{});
    const auto history = autoencoder.fit(images, images, {.epochs = 5, .verbose = Verbosity::silent});
    CHECK(history["loss"].back() < history["loss"].front());
    Tensor<Shape<32>> codes = encoder.predict(images);
    autoencoder.save_weights("cuda_readme_autoencoder.safetensors");

    auto cpu_image = input<cpu::reference, 28, 28, 1>("image");
    auto cpu_code = Dense<32>{"code"}(Flatten{}(cpu_image));
    Model cpu_autoencoder(cpu_image, Reshape<28, 28, 1>{}(Dense<784>{}(cpu_code)));
    Model cpu_encoder(cpu_image, cpu_code);
    cpu_autoencoder.load_weights("cuda_readme_autoencoder.safetensors");
    CHECK(testing::relative_error(testing::values_of(codes), testing::values_of(cpu_encoder.predict(images))) <
          tolerance);
}

TEST_CASE("cuda: contexts are per scope, and the kernels follow the current one") {
    CudaContext mine;
    {
        CudaContextScope scope(mine);
        CHECK(&current_cuda_context() == &mine);
        const std::vector<float> x = testing::random_vector(1000, 1);
        CudaBuffer<float> dx{std::span<const float>(x)};
        CHECK(ops::sum<cuda>(x.size(), dx.data()) == doctest::Approx(ops::sum<cpu::reference>(x.size(), x.data())).epsilon(1e-5));
    }
    CHECK(&current_cuda_context() != &mine);
}

namespace {
template <class B>
using GraphMlp = Sequential<B, Input<6>, Dense<16>, ReLU, Dropout, BatchNorm, Dense<8>, Tanh, Dense<3>, Softmax>;

// Trains with the steps recorded into CUDA graphs (the default) or kernel by kernel.
std::pair<History, std::vector<float>> train_graph_mlp(bool record, CudaContext::step_statistics& stats) {
    testing::ToyData d;
    GraphMlp<cuda> net(9);
    {
        [[maybe_unused]] const auto scope = net.context_scope();
        current_cuda_context().record_steps(record);
    }
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto h = net.fit(d.x, d.y, {.epochs = 4, .batch_size = 16, .validation_split = 0.2, .seed = 2,
                                .verbose = Verbosity::silent});
    for (int i = 0; i < 3; ++i) net.train_on_batch(d.x, d.y);
    {
        [[maybe_unused]] const auto scope = net.context_scope();
        stats = current_cuda_context().step_statistics_so_far();
    }
    const auto values = net.parameters().values();
    return {h, {values.begin(), values.end()}};
}
}  // namespace

TEST_CASE("cuda: steps replayed from CUDA graphs train as steps run kernel by kernel") {
    CudaContext::step_statistics eager_stats, graph_stats;
    const auto eager = train_graph_mlp(false, eager_stats);
    const auto graphs = train_graph_mlp(true, graph_stats);
    CHECK(eager_stats.replayed == 0);
    CHECK(eager_stats.recorded == 0);
    // 4 epochs of 4 steps of 16 and one of 8, then 3 steps of 90, and the validation in batches
    // of 16 and 2 after each epoch: each key eager once, recorded once, then replayed.
    CHECK(graph_stats.diverged == 0);
    CHECK(graph_stats.replayed == 16 - 2 + 4 - 2 + 3 - 2 + 2 * (4 - 2));
    // For the record: replays whose kernel arguments were unchanged should update nothing.
    MESSAGE("kernel nodes updated over " << graph_stats.replayed << " replays: " << graph_stats.node_updates);
    CHECK(testing::relative_error(graphs.second, eager.second) < 1e-6);
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"})
        for (std::size_t e = 0; e < 4; ++e) {
            INFO(key << ", epoch " << e + 1);
            CHECK(graphs.first[key][e] == doctest::Approx(eager.first[key][e]).epsilon(1e-6));
        }
}

TEST_CASE("cuda: allow_tf32 between steps forgets the recordings, and is refused inside a step") {
    testing::ToyData d;
    GraphMlp<cuda> net(9);
    net.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
    for (int i = 0; i < 3; ++i) net.train_on_batch(d.x, d.y);  // eager, recorded, replayed
    [[maybe_unused]] const auto scope = net.context_scope();
    CudaContext& context = current_cuda_context();
    CHECK(context.step_statistics_so_far().replayed == 1);
    context.begin_step(12345);
    CHECK_THROWS_AS(context.allow_tf32(true), value_error);
    context.end_step();
    context.allow_tf32(false);
    for (int i = 0; i < 3; ++i) net.train_on_batch(d.x, d.y);  // recorded anew: eager, recorded, replayed
    const auto stats = context.step_statistics_so_far();
    CHECK(stats.recorded == 2);
    CHECK(stats.replayed == 2);
    CHECK(stats.diverged == 0);
}

TEST_CASE("cuda: convolutions as im2col and cuBLAS GEMMs (use_cudnn(false)) agree with the reference") {
    CudaContext& context = current_cuda_context();
#if defined(LATENT_CUDNN)
    // A build machine's cudnn.h and a device machine's libcudnn (PyTorch's wheel) may differ.
    MESSAGE("this latent::cuda has cuDNN: yes, built with " << CUDNN_VERSION << ", running " << cudnnGetVersion());
#else
    MESSAGE("this latent::cuda has cuDNN: no (the case above ran im2col too)");
#endif
    context.use_cudnn(false);
    CHECK_FALSE(context.uses_cudnn());
    testing::check_convolutions<cuda, device_arrays>(tolerance);
    if (CudaContext::has_cudnn) {
        context.use_cudnn(true);
        CHECK(context.uses_cudnn());
    } else {
        CHECK_THROWS_WITH_AS(context.use_cudnn(true), doctest::Contains("built without cuDNN"), value_error);
    }
}

namespace {
template <class B>
using GraphCnn = Sequential<B, Input<12, 12, 2>, Conv2D<8, 3, Padding::same>, BatchNorm, ReLU, MaxPool2D<2>,
                            Conv2D<8, 3, Padding::same, 2>,  // padded 0 and 1: im2col even where cuDNN is on
                            ReLU, Conv2DTranspose<4, 3, Padding::same>, Flatten, Dense<3>, Softmax>;

// A small CNN trained on the GPU: cuDNN's calls (where used) end a recorded stretch, as a copy does.
std::pair<History, std::vector<float>> train_graph_cnn(bool record, bool cudnn, CudaContext::step_statistics& stats) {
    const std::size_t n = 40;
    Tensor<Shape<12, 12, 2>> x(n);
    Tensor<Shape<1>> y(n);
    const std::vector<float> values = testing::random_vector(x.size(), 5);
    std::copy(values.begin(), values.end(), x.data());
    for (std::size_t i = 0; i < n; ++i) y.data()[i] = static_cast<float>(i % 3);
    GraphCnn<cuda> net(4);
    {
        [[maybe_unused]] const auto scope = net.context_scope();
        current_cuda_context().record_steps(record);
        if (CudaContext::has_cudnn) current_cuda_context().use_cudnn(cudnn);
    }
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto h = net.fit(x, y, {.epochs = 3, .batch_size = 16, .seed = 2, .verbose = Verbosity::silent});
    {
        [[maybe_unused]] const auto scope = net.context_scope();
        stats = current_cuda_context().step_statistics_so_far();
        if (cudnn) MESSAGE("cuDNN plans of the CNN:\n" << current_cuda_context().cudnn_plans());
    }
    const auto p = net.parameters().values();
    return {h, {p.begin(), p.end()}};
}
}  // namespace

TEST_CASE("cuda: a CNN trains alike with cuDNN and with im2col, replayed or kernel by kernel") {
    CudaContext::step_statistics eager_stats, graph_stats, im2col_stats;
    const auto eager = train_graph_cnn(false, true, eager_stats);
    const auto graphs = train_graph_cnn(true, true, graph_stats);
    const auto im2col = train_graph_cnn(true, false, im2col_stats);
    CHECK(graph_stats.diverged == 0);
    CHECK(graph_stats.replayed == 3 * 3 - 2 * 2);  // steps of 16, 16 and 8: each key eager, recorded, replayed
    CHECK(im2col_stats.diverged == 0);
    // Deterministic algorithms: a replay computes what the eager steps computed.
    CHECK(testing::relative_error(graphs.second, eager.second) < 1e-6);
    CHECK(testing::relative_error(im2col.second, eager.second) < 1e-4);
    for (std::size_t e = 0; e < 3; ++e) {
        CHECK(graphs.first["loss"][e] == doctest::Approx(eager.first["loss"][e]).epsilon(1e-6));
        CHECK(im2col.first["loss"][e] == doctest::Approx(eager.first["loss"][e]).epsilon(1e-4));
    }
}

TEST_CASE("cuda: use_cudnn is refused inside a step") {
    CudaContext context;
    CudaContextScope scope(context);
    context.begin_step(777);
    CHECK_THROWS_WITH_AS(context.use_cudnn(false), doctest::Contains("between steps"), value_error);
    context.end_step();
    context.use_cudnn(false);
    CHECK_FALSE(context.uses_cudnn());
}
