// cuda/conv_library.hpp's hooks, the way latent::cuda hands its convolutions to cuDNN, over a
// stand-in library on the recorded device (support/library_device.hpp): every convolution layer
// agrees with cpu::reference through the library, with each pass withheld and with the library
// off; a CNN trains as on the reference, and its steps recorded and replayed around the
// library's calls train bit for bit as kernel by kernel.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <latent/latent.hpp>

#include "support/layer_agreement_cases.hpp"
#include "support/op_agreement_cases.hpp"
#include "support/library_device.hpp"

using namespace latent;
using latent::testing::fake_library;
using latent::testing::fake_library_settings;
using latent::testing::guarded_arrays;
using latent::testing::library_device;

namespace {
constexpr double tolerance = 1e-5;

// The layer agreement cases in a context of the recorded device, the stand-in set as asked.
void check_convolutions_with(fake_library_settings settings) {
    fake_library() = settings;
    testing::recording_context context;
    testing::recording_context_scope scope(context);
    testing::check_convolutions<library_device, guarded_arrays>(tolerance);
}
}  // namespace

TEST_CASE("convolution library: every convolution layer agrees with the reference through it") {
    static_assert(ops::conv2d_needs_no_patches<library_device, float>(make_window(28, 28, 1, {3, 3}, {1, 1}, Padding::same), 32),
                  "a window the library takes needs no im2col workspace in the layer");
    static_assert(!ops::conv2d_is_implicit<library_device, float>(make_window(28, 28, 1, {3, 3}, {2, 2}, Padding::same), 32),
                  "Keras' one-sided padding stays with im2col");
    check_convolutions_with({});
    CHECK(fake_library().forward_calls > 0);
    CHECK(fake_library().data_calls > 0);
    CHECK(fake_library().filter_calls > 0);
}

TEST_CASE("convolution library: a pass it has no algorithm for, or the library switched off, runs as im2col") {
    SUBCASE("forward withheld") {
        check_convolutions_with({.forward = false});
        CHECK(fake_library().forward_calls == 0);
        CHECK(fake_library().data_calls > 0);
        CHECK(fake_library().filter_calls > 0);
    }
    SUBCASE("input gradient withheld") {
        check_convolutions_with({.backward_data = false});
        CHECK(fake_library().forward_calls > 0);
        CHECK(fake_library().data_calls == 0);
        CHECK(fake_library().filter_calls > 0);
    }
    SUBCASE("kernel gradient withheld") {
        check_convolutions_with({.backward_filter = false});
        CHECK(fake_library().forward_calls > 0);
        CHECK(fake_library().data_calls > 0);
        CHECK(fake_library().filter_calls == 0);
    }
    SUBCASE("switched off") {
        check_convolutions_with({.on = false});
        CHECK(fake_library().forward_calls + fake_library().data_calls + fake_library().filter_calls == 0);
    }
    fake_library() = {};
}

TEST_CASE("convolution library: the kernel gradient adds to what the gradient holds, as the op's contract says") {
    // (A layer used twice in a graph adds both uses' gradients into one buffer.)
    for (const bool on : {true, false}) {
        fake_library() = {.on = on};
        INFO("library " << std::string(on ? "on" : "off"));
        const Window2D w = make_window(6, 5, 3, {3, 3}, {1, 1}, Padding::same);
        const std::size_t batch = 2, filters = 4;
        const auto x = testing::random_vector(batch * w.in_size(), 1);
        const auto dy = testing::random_vector(batch * w.positions() * filters, 2);
        const auto before = testing::random_vector(w.patch_size() * filters, 3);
        std::vector<float> want = before, cols(batch * w.positions() * w.patch_size());
        ops::im2col<cpu::reference>(w, batch, x.data(), cols.data());  // what the reference's conv2d leaves
        ops::conv2d_kernel_gradient<cpu::reference>(w, batch, x.data(), dy.data(), filters, want.data(), cols.data());
        testing::recording_context context;
        testing::recording_context_scope scope(context);
        auto x_there = guarded_arrays::upload(x), dy_there = guarded_arrays::upload(dy);
        auto got = guarded_arrays::upload(before), scratch = guarded_arrays::upload(std::vector<float>(1));
        ops::conv2d_kernel_gradient<library_device>(w, batch, x_there.data(), dy_there.data(), filters, got.data(),
                                                    scratch.data());
        CHECK(testing::relative_error(guarded_arrays::download(got), want) < tolerance);
        CHECK(fake_library().filter_calls == (on ? 1u : 0u));
    }
    fake_library() = {};
}

namespace {
// A window the library takes, one with Keras' one-sided padding (im2col), a transposed one.
template <class B>
using LibraryCnn = Sequential<B, Input<8, 8, 2>, Conv2D<6, 3, Padding::same>, BatchNorm, ReLU, MaxPool2D<2>,
                              Conv2D<6, 3, Padding::same, 2>, ReLU, Conv2DTranspose<4, 3, Padding::same>, Flatten,
                              Dense<3>, Softmax>;

struct CnnRun {
    History history;
    std::vector<float> weights;
    detail::step_recorder<testing::host_graph_driver>::statistics stats;
};

template <class B>
CnnRun train_cnn(bool record = true) {
    const std::size_t n = 40;
    Tensor<Shape<8, 8, 2>> x(n);
    Tensor<Shape<1>> y(n);
    Generator g(5);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(g.uniform(-1.0, 1.0));
    for (std::size_t i = 0; i < n; ++i) y.data()[i] = static_cast<float>(i % 3);
    LibraryCnn<B> net(4);
    if constexpr (std::is_same_v<B, library_device>) {
        [[maybe_unused]] const auto scope = net.context_scope();
        testing::current_recording_context().recorder.enable(record);
    }
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    CnnRun run;
    run.history = net.fit(x, y, {.epochs = 3, .batch_size = 16, .validation_split = 0.2, .seed = 2,
                                 .verbose = Verbosity::silent});
    const auto values = net.parameters().values();
    run.weights.assign(values.begin(), values.end());
    if constexpr (std::is_same_v<B, library_device>) run.stats = testing::recorder_stats(net);
    return run;
}
}  // namespace

TEST_CASE("convolution library: a CNN trains as on the reference; replays around its calls match kernel by kernel") {
    fake_library() = {};
    const CnnRun want = train_cnn<cpu::reference>();
    const CnnRun eager = train_cnn<library_device>(false);
    const std::size_t calls = fake_library().forward_calls;
    CHECK(calls > 0);
    CHECK(fake_library().data_calls > 0);
    CHECK(fake_library().filter_calls > 0);
    const CnnRun recorded = train_cnn<library_device>(true);
    CHECK(fake_library().forward_calls == 2 * calls);  // the replays call the library as the eager steps did

    CHECK(testing::relative_error(eager.weights, want.weights) < 1e-4);
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"})
        for (std::size_t e = 0; e < 3; ++e) {
            INFO(key << ", epoch " << e + 1);
            CHECK(eager.history[key][e] == doctest::Approx(want.history[key][e]).epsilon(1e-4));
        }
    // 3 epochs of 32 training samples in steps of 16 and 8 validation samples in one batch:
    // each key runs eagerly once, is recorded once, then replays; a library call ends a stretch.
    CHECK(recorded.stats.replayed == 3 * 2 - 2 + 3 - 2);
    CHECK(recorded.stats.diverged == 0);
    CHECK(recorded.weights == eager.weights);
    CHECK(recorded.history.history == eager.history.history);
}
