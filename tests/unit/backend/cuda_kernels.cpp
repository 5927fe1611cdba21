// The CUDA backend's kernels (backend/cuda/kernels.hpp) run on the host by the emulating
// executor: every layer, op and a whole training run agree with cpu::reference, so the index
// arithmetic and reductions the GPU runs are checked on every machine (the GPU run: tests/cuda/).
// Then Sequential models on a device backend, with device memory emulated out of the host's reach.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <limits>
#include <vector>

#include <latent/latent.hpp>

#include "support/device_model_cases.hpp"
#include "support/messages.hpp"
#include "support/layer_agreement_cases.hpp"
#include "support/op_agreement_cases.hpp"
#include "support/guarded_device.hpp"
#include "support/per_index_emulation.hpp"

using namespace latent;
using latent::testing::guarded_device;
using latent::testing::host_arrays;
using latent::testing::per_index_emulation;
using latent::testing::relative_error;

namespace {
constexpr double tolerance = 1e-5;
}  // namespace

TEST_CASE("cuda kernels on the host: dense and activation layers agree with the reference") {
    testing::check_dense_and_activations<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: convolutions agree with the reference") {
    testing::check_convolutions<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: pooling, resampling and padding agree with the reference") {
    testing::check_pooling_and_resampling<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: batch normalization agrees with the reference") {
    testing::check_batch_norm<per_index_emulation, host_arrays>(tolerance);
}

TEST_CASE("cuda kernels on the host: merge layers agree with the reference") {
    testing::check_merges<per_index_emulation, host_arrays>(tolerance);
}

TEST_CASE("cuda kernels on the host: GEMM through the column-major call, every transpose and scale") {
    testing::check_gemm<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: reductions agree with the reference over several chunks") {
    testing::check_reductions<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: fused losses give the reference's value and gradient") {
    testing::check_losses<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: batch norm backward, through batch or fixed statistics") {
    testing::check_batch_norm_backward<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: affine_warp2d and its adjoint, every fill mode and interpolation") {
    testing::check_affine_warp<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: copy2d places blocks between strides") {
    testing::check_copy2d<per_index_emulation, host_arrays>();
}
TEST_CASE("cuda kernels on the host: gather_rows picks rows by index") {
    testing::check_gather_rows<per_index_emulation, host_arrays>();
}
TEST_CASE("cuda kernels on the host: Dense's bias and activation in one kernel") {
    testing::check_bias_add_activation<per_index_emulation, host_arrays>(tolerance);
}
TEST_CASE("cuda kernels on the host: counter-based random fills") {
    testing::check_random_fills<per_index_emulation, host_arrays>();
}

namespace {
template <class B>
using Mlp = Sequential<B, Input<6>, Dense<16>, ReLU, BatchNorm, Dense<8>, Tanh, Dense<3>, Softmax>;

template <class B>
std::pair<double, std::vector<float>> train_mlp(auto optimizer) {
    Tensor<Shape<6>> x(120);
    Tensor<Shape<1>> y(120);
    Generator g(4);
    for (std::size_t i = 0; i < 120; ++i) {
        y[i] = static_cast<float>(i % 3);
        for (std::size_t j = 0; j < 6; ++j) x[6 * i + j] = static_cast<float>(g.normal()) + (j == i % 3 ? 1.5f : 0.0f);
    }
    Mlp<B> net(9);
    net.compile(optimizer, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    const auto history = net.fit(x, y, {.epochs = 6, .batch_size = 16, .seed = 2, .verbose = Verbosity::silent});
    return {history["loss"].back(), {net.parameters().values().begin(), net.parameters().values().end()}};
}
}  // namespace

TEST_CASE("cuda kernels on the host: a whole training run follows the reference's") {
    SUBCASE("Adam") {
        const auto [loss0, w0] = train_mlp<cpu::reference>(optim::Adam{});
        const auto [loss1, w1] = train_mlp<per_index_emulation>(optim::Adam{});
        CHECK(loss1 == doctest::Approx(loss0).epsilon(1e-4));
        CHECK(relative_error(w1, w0) < 1e-4);
    }
    SUBCASE("SGD with momentum") {
        const auto [loss0, w0] = train_mlp<cpu::reference>(optim::SGD{.lr = 0.05, .momentum = 0.9});
        const auto [loss1, w1] = train_mlp<per_index_emulation>(optim::SGD{.lr = 0.05, .momentum = 0.9});
        CHECK(loss1 == doctest::Approx(loss0).epsilon(1e-4));
        CHECK(relative_error(w1, w0) < 1e-4);
    }
}

// ---- models on a device backend: the guarded emulation keeps the "device" arrays out of the
// host's reach, so any host access to them crashes here as it would on a GPU -----------------

TEST_CASE("a Sequential on a device backend predicts what the reference predicts") {
    testing::check_device_predict<guarded_device>(tolerance);
}

TEST_CASE("train on the CPU, save the weights, predict on a device backend") {
    testing::check_device_loads_trained_weights<guarded_device>(
        tolerance, std::filesystem::path(LATENT_TEST_TMP_DIR) / "device_mlp.safetensors");
}

TEST_CASE("a Sequential trains on a device backend as on the reference") {
    testing::check_device_training<guarded_device>(1e-4);
    testing::check_device_unfused_losses<guarded_device>(1e-4);
}
// Clipping reads norms the device computes in its own memory; weight decay rides along.
TEST_CASE("every optimizer and Keras 3's settings train on a device backend as on the reference") {
    testing::check_device_optimizers<guarded_device>(1e-4);
}
TEST_CASE("callbacks on a device backend restore, save and change what the device holds") {
    testing::check_device_callbacks<guarded_device>(1e-4, std::filesystem::path(LATENT_TEST_TMP_DIR) /
                                                              "device_callbacks");
}

TEST_CASE("train_on_batch on DeviceTensors trains as on host tensors, and reports their errors") {
    testing::check_device_tensor_training<guarded_device>(0.0);
}

// fit on a device backend copies the training set (and its validation data) over once and gathers
// each batch there; the copies are counted through the guarded device's uploads. Where the device
// has too little free memory for the set, fit copies one batch per step and trains bit for bit the
// same.
TEST_CASE("fit on a device backend copies the training set over once, not a batch per step") {
    testing::ToyData d;  // 90 samples of 6 features, one class index each
    struct fitted {
        std::size_t uploaded_bytes = 0;
        std::vector<double> losses, validation_losses;
        std::vector<float> weights;
    };
    const auto fit = [&](std::size_t epochs) {
        testing::DeviceBnMlp<guarded_device> net(3);
        net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
        (void)net.predict(d.x);  // the weights go over before the count starts
        const std::size_t before = testing::guarded_uploaded_bytes();
        fitted run;
        const FitOptions options{.epochs = epochs, .batch_size = 16, .validation_split = 0.2, .seed = 4,
                                 .verbose = Verbosity::silent};
        const History history = net.fit(d.x, d.y, options);
        run.losses = history["loss"];
        run.validation_losses = history["val_loss"];
        run.uploaded_bytes = testing::guarded_uploaded_bytes() - before;
        const auto values = net.parameters().values();
        run.weights.assign(values.begin(), values.end());
        return run;
    };
    const std::size_t sample_bytes = (6 + 1) * sizeof(float);  // 72 samples to train on, 18 to validate
    const fitted held_1 = fit(1), held_4 = fit(4);
    // Three more epochs cost three more orders of the training samples, and no samples: neither
    // training nor validation batches go over.
    CHECK(held_4.uploaded_bytes - held_1.uploaded_bytes == 3 * 72 * sizeof(std::size_t));
    CHECK(held_1.uploaded_bytes >= 90 * sample_bytes);

    testing::guarded_free_memory() = 90 * sample_bytes;  // the set would take more than half of it
    const fitted copied_1 = fit(1), copied_4 = fit(4);
    testing::guarded_free_memory() = std::numeric_limits<std::size_t>::max();
    CHECK(copied_4.uploaded_bytes - copied_1.uploaded_bytes == 3 * 90 * sample_bytes);  // every batch, every epoch
    CHECK(copied_4.losses == held_4.losses);
    CHECK(copied_4.validation_losses == held_4.validation_losses);
    CHECK(copied_4.weights == held_4.weights);
}

TEST_CASE("checkpoints of a model on a device backend resume bit for bit") {
    testing::check_device_checkpoint_resume<guarded_device>(std::filesystem::path(LATENT_TEST_TMP_DIR) /
                                                            "device_resume.safetensors");
}

TEST_CASE("a model on a device backend reports the CPU's errors") { testing::check_device_errors<guarded_device>(); }

TEST_CASE("the guarded device memory is out of the host's reach") {
    // A host read of a guarded buffer does not survive (checked in a child process).
    testing::GuardedBuffer<float> buffer(16);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::signal(SIGSEGV, SIG_DFL);  // not doctest's crash report: the parent judges
        std::freopen("/dev/null", "w", stderr);
        volatile float value = buffer.data()[0];
        (void)value;
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

// An Embedding index that names no row cannot be refused on a device before the step (its
// values stay there): its row is NaN, and the step fails with the CPU's non-finite-loss error
// naming the Embedding, before the optimizer changes any weight.
TEST_CASE("an Embedding index that names no row on a device backend fails the step, naming the layer") {
    using Net = Sequential<guarded_device, Input<3>, Embedding<4, 2>, Flatten, Dense<1>>;
    Net net(1);
    net.compile(optim::SGD{}, loss::MeanSquaredError{});
    Tensor<Shape<3>> x(2);
    const float indices[] = {0, 1, 2, 3, 7, 1};
    std::copy(std::begin(indices), std::end(indices), x.data());
    const Tensor<Shape<1>> y(2);
    const auto before = testing::values_of(net.predict(Tensor<Shape<3>>(1)));
    const auto values = net.parameters().values();
    const std::vector<float> weights(values.begin(), values.end());
    LATENT_CHECK_ERROR(value_error, net.fit(x, y, {.verbose = Verbosity::silent}), "latent.train.non_finite_loss",
                       "the first non-finite output is layer 0 \"embedding\" (Embedding)");
    const auto after = net.parameters().values();
    CHECK(std::vector<float>(after.begin(), after.end()) == weights);
    CHECK(testing::values_of(net.predict(Tensor<Shape<3>>(1))) == before);
}
