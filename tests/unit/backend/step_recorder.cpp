// The CUDA backend's step recorder (backend/cuda/step_recorder.hpp) through a host driver: its
// states on hand-made kernels (record, replay, node updates, divergences, an exception in a
// step), then whole models trained and run on a device backend that records and replays their
// steps, bit for bit as the same kernels run eagerly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <latent/latent.hpp>

#include "support/device_model_cases.hpp"
#include "support/guarded_device.hpp"
#include "support/recorded_device.hpp"

using namespace latent;
using latent::testing::guarded_device;
using latent::testing::host_graph_driver;
using latent::testing::recorded_device;
using latent::testing::recorder_stats;

namespace {

// x[i] = x[i] * scale + add over n elements: the arguments a replay must update.
struct axpb {
    float* x;
    float scale, add;
    void operator()(std::size_t i) const { x[i] = x[i] * scale + add; }
};

// Launches as the executor does: through the recorder while it is active, else directly.
struct launcher {
    detail::step_recorder<host_graph_driver>& r;
    void operator()(float* x, std::size_t n, float scale, float add) {
        const axpb body{x, scale, add};
        if (r.active())
            r.kernel(reinterpret_cast<const void*>(&testing::run_host_kernel<axpb>), 1, 256, n, body);
        else
            testing::run_host_kernel<axpb>(n, &body);
    }
    void gemm(float* c, const float* a, const float* b) {  // (2x2) = (2x2)(2x2), column-major
        detail::gemm_call call;
        call.m = call.n = call.k = 2;
        call.alpha = 1;
        call.A = a;
        call.B = b;
        call.C = c;
        call.lda = call.ldb = call.ldc = 2;
        if (r.active())
            r.gemm(call);
        else
            testing::host_executor{}.gemm_col_major(false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    }
};

// A step of two stretches: two kernels, a read (the host waits), a GEMM and a kernel.
float step(detail::step_recorder<host_graph_driver>& r, std::vector<float>& x, float scale, std::size_t first_kernels = 2,
           std::size_t key = 7) {
    launcher launch{r};
    r.begin_step(key);
    for (std::size_t k = 0; k < first_kernels; ++k) launch(x.data(), 4, scale, 1.0f);
    r.flush();
    const float seen = x[0];
    static const float identity[4] = {1, 0, 0, 1};
    launch.gemm(x.data() + 4, x.data(), identity);  // x[4..8) = x[0..4)
    launch(x.data() + 4, 4, 1.0f, seen);
    r.end_step();
    return seen;
}

// The same arithmetic, eagerly and by hand.
float expected_step(std::vector<float>& x, float scale, std::size_t first_kernels = 2) {
    for (std::size_t k = 0; k < first_kernels; ++k)
        for (std::size_t i = 0; i < 4; ++i) x[i] = x[i] * scale + 1.0f;
    const float seen = x[0];
    for (std::size_t i = 0; i < 4; ++i) x[4 + i] = x[i] + seen;
    return seen;
}

// A functor with padding, built in storage that held other bytes (as a stack does).
struct padded_body {
    float scale;  // four bytes of padding follow
    const float* x;
    bool flag;  // seven more
};
std::vector<unsigned char> padded_key(unsigned char garbage, float scale, const float* x, bool flag) {
    alignas(padded_body) unsigned char storage[sizeof(padded_body)];
    std::memset(storage, garbage, sizeof storage);
    auto* body = ::new (static_cast<void*>(storage)) padded_body;
    body->scale = scale;
    body->x = x;
    body->flag = flag;
    std::vector<unsigned char> key(sizeof(padded_body));
    detail::launch_key(*body, key.data());
    return key;
}

}  // namespace

TEST_CASE("step recorder: a launch's key leaves out the functor's padding, not its members") {
    const float a = 0, b = 0;
    const auto key = padded_key(0x11, 1.5f, &a, true);
    if constexpr (detail::launch_key_clears_padding) CHECK(padded_key(0xEE, 1.5f, &a, true) == key);
    CHECK(padded_key(0x11, 2.5f, &a, true) != key);
    CHECK(padded_key(0x11, 1.5f, &b, true) != key);
    CHECK(padded_key(0x11, 1.5f, &a, false) != key);
}

TEST_CASE("step recorder: the first step runs eagerly, the second is recorded, later ones replay") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(8, 0.5f), want(8, 0.5f);
    for (int s = 0; s < 5; ++s) {
        INFO("step " << s);
        const float scale = 1.0f + 0.125f * static_cast<float>(s);  // new arguments every step
        CHECK(step(r, x, scale) == expected_step(want, scale));
        CHECK(x == want);
    }
    const auto stats = r.stats();
    CHECK(stats.eager == 1);
    CHECK(stats.recorded == 1);
    CHECK(stats.replayed == 3);
    CHECK(stats.diverged == 0);
    const auto& counts = r.driver().counts;
    // Two stretches per recorded or replayed step; nothing eager after the first step.
    CHECK(counts.graph_launches == 2 * 4);
    CHECK(counts.eager_kernels == 0);  // the first step ran outside the recorder, as the executor does
    CHECK(counts.graph_gemms == 4);
    // The scale changes every step: the first stretch's two kernels are updated in each replay.
    CHECK(counts.node_updates == 3 * 2 + 3);  // the last kernel's `seen` changes too
    CHECK(stats.node_updates == counts.node_updates);
}

// y's blocks = x's: `count` products I(2x2) * (x's 2x2 block) at `stride` elements apart, as one
// batched GEMM in a step of key 3.
void copy_blocks(detail::step_recorder<host_graph_driver>& r, const float* x, float* y, std::size_t count,
                 std::size_t stride) {
    static const float identity[4] = {1, 0, 0, 1};
    r.begin_step(3);
    if (r.active())
        r.gemm(detail::make_batched_gemm_call(count, false, false, 2, 2, 2, 1.0f, identity, 2, 0, x, 2, stride, 0.0f,
                                              y, 2, stride));
    else
        testing::host_executor{}.gemm_batched_col_major(count, false, false, 2, 2, 2, 1.0f, identity, 2, 0, x, 2,
                                                        stride, 0.0f, y, 2, stride);
    r.end_step();
}

TEST_CASE("step recorder: a batched GEMM is one node, replayed while its count and strides stay the same") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(15);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i + 1);
    std::vector<float> y(15);  // one array for every step: a replay needs the recorded addresses
    auto check = [&](std::size_t count, std::size_t stride) {
        std::fill(y.begin(), y.end(), -1.0f);
        copy_blocks(r, x.data(), y.data(), count, stride);
        for (std::size_t i = 0; i < y.size(); ++i) {
            INFO("count " << count << ", stride " << stride << ", element " << i);
            const bool written = i / stride < count && i % stride < 4;
            CHECK(y[i] == (written ? x[i] : -1.0f));  // the gaps between blocks are left alone
        }
    };
    for (int s = 0; s < 3; ++s) check(3, 5);  // eager, recorded, replayed
    CHECK(r.driver().counts.graph_gemms == 2);
    CHECK(r.driver().counts.eager_gemms == 0);
    CHECK(r.stats().replayed == 1);
    check(2, 6);  // other strides and count: not the recorded call
    CHECK(r.stats().diverged == 1);
    check(3, 4);
    CHECK(r.stats().diverged == 1);
}

TEST_CASE("step recorder: forgetting the recordings between steps keeps the counts; the next steps record anew") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(8, 0.5f), want(8, 0.5f);
    for (int s = 0; s < 3; ++s) CHECK(step(r, x, 1.5f) == expected_step(want, 1.5f));
    r.begin_step(0);
    CHECK_THROWS_AS(r.forget_recordings(), std::logic_error);  // not inside a step
    r.end_step();
    r.forget_recordings();
    auto stats = r.stats();
    CHECK(stats.eager == 2);  // key 7 once, and the empty step of key 0 (its first)
    CHECK(stats.recorded == 1);
    CHECK(stats.replayed == 1);
    for (int s = 0; s < 3; ++s) CHECK(step(r, x, 1.5f) == expected_step(want, 1.5f));
    CHECK(x == want);
    stats = r.stats();
    CHECK(stats.eager == 3);
    CHECK(stats.recorded == 2);
    CHECK(stats.replayed == 2);
}

TEST_CASE("step recorder: a replay that leaves the recording runs what it skipped and records anew") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(8, 0.25f), want(8, 0.25f);
    step(r, x, 1.5f);
    expected_step(want, 1.5f);
    step(r, x, 1.5f);  // recorded
    expected_step(want, 1.5f);
    // A stretch shorter than recorded: its first kernel was held back and must run eagerly.
    CHECK(step(r, x, 1.25f, 1) == expected_step(want, 1.25f, 1));
    CHECK(x == want);
    // A stretch longer than recorded.
    CHECK(step(r, x, 0.75f, 3) == expected_step(want, 0.75f, 3));
    CHECK(x == want);
    auto stats = r.stats();
    CHECK(stats.diverged == 1);  // the longer step ran as a recording: the one before dropped it
    CHECK(stats.recorded == 2);
    // Back to two kernels: the three-kernel recording diverges, then two records and replays.
    for (int s = 0; s < 3; ++s) {
        CHECK(step(r, x, 1.0625f) == expected_step(want, 1.0625f));
        CHECK(x == want);
    }
    stats = r.stats();
    CHECK(stats.diverged == 2);
    CHECK(stats.recorded == 3);
    CHECK(stats.replayed == 1);
}

TEST_CASE("step recorder: steps that keep diverging stay eager; recording can be turned off") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(8, 0.5f), want(8, 0.5f);
    for (std::size_t s = 0; s < 12; ++s) {
        const std::size_t kernels = 1 + s % 2;  // every step differs from the one before
        CHECK(step(r, x, 1.0f, kernels) == expected_step(want, 1.0f, kernels));
        CHECK(x == want);
    }
    const auto stats = r.stats();
    CHECK(stats.diverged == 3);
    CHECK(stats.eager + stats.recorded + stats.diverged == 12);
    CHECK(stats.replayed == 0);

    detail::step_recorder<host_graph_driver> off;
    off.enable(false);
    for (int s = 0; s < 4; ++s) {
        CHECK(step(off, x, 1.0f) == expected_step(want, 1.0f));
        CHECK(x == want);
    }
    CHECK(off.stats().eager == 4);
    CHECK(off.driver().counts.graph_launches == 0);
}

TEST_CASE("step recorder: a context keeps the recordings of the 16 keys it used last") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(8, 0.5f), want(8, 0.5f);
    for (std::size_t key = 0; key < 20; ++key) {
        CHECK(step(r, x, 1.0f, 2, key) == expected_step(want, 1.0f));
        CHECK(step(r, x, 1.0f, 2, key) == expected_step(want, 1.0f));  // recorded
    }
    CHECK(r.stats().eager == 20);
    CHECK(r.stats().recorded == 20);
    CHECK(step(r, x, 1.0f, 2, 19) == expected_step(want, 1.0f));  // kept: replayed
    CHECK(r.stats().replayed == 1);
    CHECK(step(r, x, 1.0f, 2, 0) == expected_step(want, 1.0f));  // forgotten: eager again
    CHECK(r.stats().eager == 21);
    CHECK(x == want);
}

TEST_CASE("step recorder: when the graph driver fails, the held work runs eagerly and the key stays eager") {
    const auto run = [](auto fail, int steps) {
        detail::step_recorder<host_graph_driver> r;
        std::vector<float> x(8, 0.5f), want(8, 0.5f);
        fail(r.driver());
        for (int s = 0; s < steps; ++s) {
            const float scale = 1.0f + 0.25f * static_cast<float>(s);
            CHECK(step(r, x, scale) == expected_step(want, scale));
            CHECK(x == want);
        }
        return r.stats();
    };
    // a GEMM that cannot be captured while recording: the stretch's kernels run eagerly
    auto stats = run([](host_graph_driver& d) { d.fail_capture = true; }, 5);
    CHECK(stats.replayed == 0);
    CHECK(stats.recorded == 0);
    CHECK(stats.diverged == 1);
    CHECK(stats.eager == 4);
    // a graph that cannot be instantiated
    stats = run([](host_graph_driver& d) { d.fail_instantiate = true; }, 5);
    CHECK(stats.diverged == 1);
    CHECK(stats.eager == 4);
    // a node that cannot be updated (new arguments every step)
    stats = run([](host_graph_driver& d) { d.fail_update = true; }, 5);
    CHECK(stats.recorded == 1);
    CHECK(stats.diverged == 1);
    CHECK(stats.replayed == 0);
}

TEST_CASE("step recorder: an exception inside a replayed step leaves done what ran before it") {
    detail::step_recorder<host_graph_driver> r;
    std::vector<float> x(8, 0.5f), want(8, 0.5f);
    step(r, x, 2.0f);
    step(r, x, 2.0f);
    expected_step(want, 2.0f);
    expected_step(want, 2.0f);
    launcher launch{r};
    CHECK_THROWS_AS(([&] {
                        r.begin_step(7);
                        launch(x.data(), 4, 3.0f, 1.0f);  // held back: the stretch is not complete
                        throw std::runtime_error("the loss is NaN");
                    }()),
                    std::runtime_error);
    r.end_step();  // as the step scope's destructor does
    for (std::size_t i = 0; i < 4; ++i) want[i] = want[i] * 3.0f + 1.0f;
    CHECK(x == want);
    // and in a recorded step: its held-back work is launched
    detail::step_recorder<host_graph_driver> fresh;
    std::vector<float> y(8, 0.5f), want_y(8, 0.5f);
    step(fresh, y, 2.0f);
    expected_step(want_y, 2.0f);
    launcher launch_fresh{fresh};
    fresh.begin_step(7);  // recorded
    launch_fresh(y.data(), 4, 3.0f, 1.0f);
    fresh.end_step();
    for (std::size_t i = 0; i < 4; ++i) want_y[i] = want_y[i] * 3.0f + 1.0f;
    CHECK(y == want_y);
}

namespace {
template <class B>
using DropoutMlp = Sequential<B, Input<6>, Dense<16>, ReLU, Dropout, Dense<8>, Tanh, Dense<3>, Softmax>;

struct TrainedRun {
    History history;
    std::vector<float> weights;
    detail::step_recorder<host_graph_driver>::statistics stats;
};
template <class B, template <class> class Net, class Optimizer>
TrainedRun train(Optimizer optimizer, std::size_t batch) {
    testing::ToyData d;
    Net<B> net(9);
    net.compile(optimizer, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    TrainedRun run;
    run.history = net.fit(d.x, d.y, {.epochs = 4, .batch_size = batch, .validation_split = 0.2, .seed = 2,
                                     .verbose = Verbosity::silent});
    for (int i = 0; i < 3; ++i) net.train_on_batch(d.x, d.y);
    const auto values = net.parameters().values();
    run.weights.assign(values.begin(), values.end());
    if constexpr (std::is_same_v<B, recorded_device>) run.stats = recorder_stats(net);
    return run;
}
}  // namespace

TEST_CASE("a device backend that records steps trains bit for bit as the eager one") {
    // Adam's and RMSprop's steps change their kernels' arguments every step; Dropout draws a new
    // key every step; the last batch of an epoch (8 of 72) is a step of its own key.
    const auto adam_eager = train<guarded_device, testing::DeviceBnMlp>(optim::Adam{}, 16);
    const auto adam_recorded = train<recorded_device, testing::DeviceBnMlp>(optim::Adam{}, 16);
    CHECK(adam_recorded.weights == adam_eager.weights);
    CHECK(adam_recorded.history.history == adam_eager.history.history);
    // 4 epochs of 4 steps of 16 and one of 8 (72 training samples), then 3 steps of 90, and
    // the validation (18 samples) in batches of 16 and 2 after each epoch: each key runs
    // eagerly once, is recorded once, then replays.
    CHECK(adam_recorded.stats.replayed == 16 - 2 + 4 - 2 + 3 - 2 + 2 * (4 - 2));
    CHECK(adam_recorded.stats.diverged == 0);

    const auto rms_eager = train<guarded_device, DropoutMlp>(optim::RMSprop{.momentum = 0.5}, 16);
    const auto rms_recorded = train<recorded_device, DropoutMlp>(optim::RMSprop{.momentum = 0.5}, 16);
    CHECK(rms_recorded.weights == rms_eager.weights);
    CHECK(rms_recorded.history.history == rms_eager.history.history);
    CHECK(rms_recorded.stats.replayed == 16 - 2 + 4 - 2 + 3 - 2 + 2 * (4 - 2));

    const auto sgd_eager = train<guarded_device, DropoutMlp>(optim::SGD{.lr = 0.05, .momentum = 0.9}, 24);
    const auto sgd_recorded = train<recorded_device, DropoutMlp>(optim::SGD{.lr = 0.05, .momentum = 0.9}, 24);
    CHECK(sgd_recorded.weights == sgd_eager.weights);
    CHECK(sgd_recorded.history.history == sgd_eager.history.history);
    CHECK(sgd_recorded.stats.replayed > 0);

    // Clipping's norms and factors are kernels of the step too, reading and writing the
    // optimizer's own device memory, which stays where it is: the replays match.
    const optim::AdamW clipped{.clipnorm = 0.3};
    const auto clipped_eager = train<guarded_device, DropoutMlp>(clipped, 16);
    const auto clipped_recorded = train<recorded_device, DropoutMlp>(clipped, 16);
    CHECK(clipped_recorded.weights == clipped_eager.weights);
    CHECK(clipped_recorded.history.history == clipped_eager.history.history);
    CHECK(clipped_recorded.stats.replayed == 16 - 2 + 4 - 2 + 3 - 2 + 2 * (4 - 2));
    CHECK(clipped_recorded.stats.diverged == 0);
}

TEST_CASE("a recorded model's steps replay: fit, train_on_batch and predict") {
    testing::ToyData d;
    testing::DeviceBnMlp<recorded_device> net(3);
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    net.fit(d.x, d.y, {.epochs = 3, .batch_size = 18, .verbose = Verbosity::silent});  // 5 steps of 18 per epoch
    auto stats = recorder_stats(net);
    CHECK(stats.eager == 1);
    CHECK(stats.recorded == 1);
    CHECK(stats.replayed == 13);
    CHECK(stats.diverged == 0);

    // predict into a kept tensor, one sample at a time (the real-time use): recorded, then replayed
    Tensor<Shape<6>> one(1);
    Tensor<Shape<3>> out(1);
    testing::DeviceBnMlp<guarded_device> eager(3);
    const auto trained = net.parameters().values();
    std::copy(trained.begin(), trained.end(), eager.parameters().values().begin());
    Tensor<Shape<3>> want(1);
    const std::size_t updates_before = recorder_stats(net).node_updates;
    for (std::size_t i = 0; i < 6; ++i) {
        std::copy_n(d.x.data() + 6 * i, 6, one.data());
        net.predict(one, out);
        eager.predict(one, want);
        CHECK(testing::values_of(out) == testing::values_of(want));
    }
    stats = recorder_stats(net);
    CHECK(stats.replayed == 13 + 4);
    // The same buffers and settings each call: the replays update no kernel node (the bodies are
    // compared byte for byte, padding included: padding that differed would update every call).
    CHECK(stats.node_updates == updates_before);
}

// Training is compared bit for bit with the eager emulation above; here predictions in batches
// (a last short batch), weights changed between calls, and the errors thrown inside a step.
TEST_CASE("recorded steps: predictions and errors as on the CPU") {
    testing::check_device_predict<recorded_device>(1e-5);
    testing::check_device_errors<recorded_device>();
}
