// Functional models (Model over a graph) on a device backend, emulated on the host: with device
// memory out of the host's reach (guarded_device) they agree with the CPU, and with the step
// recorder (recorded_device) the models of one graph, which share its stream, record and replay
// their steps apart: bit for bit as the eager emulation, and a GAN as on the CPU.
#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include <latent/latent.hpp>

#include "support/device_functional_cases.hpp"
#include "support/guarded_device.hpp"
#include "support/recorded_device.hpp"

using namespace latent;
using latent::testing::guarded_device;
using latent::testing::recorded_device;
using latent::testing::recorder_stats;

namespace {
constexpr double tolerance = 1e-4;
}  // namespace

TEST_CASE("a functional model on a device backend predicts what the reference predicts") {
    testing::check_functional_device_predict<guarded_device>(1e-5);
}

TEST_CASE("the models of one graph train on a device backend as on the reference") {
    testing::check_functional_device_training<guarded_device>(
        tolerance, std::filesystem::path(LATENT_TEST_TMP_DIR) / "device_trunk.safetensors");
}

TEST_CASE("a functional model with several outputs trains on a device backend as on the reference") {
    testing::check_functional_device_outputs<guarded_device>(tolerance);
}

TEST_CASE("a functional model on a device backend reports the CPU's errors") {
    testing::check_functional_device_errors<guarded_device>();
}

TEST_CASE("a sub-model's host view of the weights follows what another model of its graph trained on the device") {
    auto on_device = testing::trunk_graph<guarded_device>(3);
    auto on_host = testing::trunk_graph<cpu::reference>(3);
    testing::ToyData d;
    on_device.classifier.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
    on_host.classifier.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
    on_device.classifier.train_on_batch(d.x, d.y);
    on_host.classifier.train_on_batch(d.x, d.y);
    // The encoder's host view sees the step the classifier took on the device.
    const auto device_view = on_device.encoder.get_layer("enc_1").get_weights();
    const auto host_view = on_host.encoder.get_layer("enc_1").get_weights();
    CHECK(testing::relative_error(device_view[0], host_view[0]) < 1e-5);
    CHECK(device_view[0] != testing::trunk_graph<cpu::reference>(3).encoder.get_layer("enc_1").get_weights()[0]);
}

TEST_CASE("the representation helpers compose Sequential networks on a device backend as on the reference") {
    testing::check_repr_on_device<guarded_device>(tolerance);
}

namespace {

struct AlternatingRun {
    std::vector<double> losses;
    std::vector<float> weights, predictions;
    detail::step_recorder<testing::host_graph_driver>::statistics stats;
};

// Two models on one graph take turns, as a GAN's do: each keeps its own recordings.
template <class B>
AlternatingRun alternate() {
    testing::ToyData d;
    auto inputs = input<B, 6>("inputs", 3);
    auto code = Tanh{}(Dense<4>{"enc"}(Dropout{0.2}(BatchNorm{}(Dense<16>{}(inputs)))));
    Model classifier(inputs, Softmax{}(Dense<3>{}(code)), "classifier");
    Model autoencoder(inputs, Dense<6>{}(code), "autoencoder");
    classifier.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    autoencoder.compile(optim::RMSprop{}, loss::MeanSquaredError{});
    AlternatingRun run;
    for (int turn = 0; turn < 6; ++turn) {
        run.losses.push_back(classifier.train_on_batch(d.x, d.y));
        run.losses.push_back(autoencoder.train_on_batch(d.x, d.x));
    }
    run.predictions = testing::values_of(classifier.predict(d.x, 30));
    const auto values = classifier.parameters().values();
    run.weights.assign(values.begin(), values.end());
    if constexpr (std::is_same_v<B, recorded_device>) run.stats = recorder_stats(classifier);
    return run;
}

}  // namespace

TEST_CASE("recorded steps: the models of one graph replay their own steps, bit for bit as the eager ones") {
    const auto eager = alternate<guarded_device>();
    const auto recorded = alternate<recorded_device>();
    CHECK(recorded.losses == eager.losses);
    CHECK(recorded.weights == eager.weights);
    CHECK(recorded.predictions == eager.predictions);
    // Two training keys (one per model: they share the graph's context) and one predict key:
    // each runs eagerly once, is recorded once and replays after; none diverges.
    CHECK(recorded.stats.eager == 3);
    CHECK(recorded.stats.recorded == 3);
    CHECK(recorded.stats.replayed == 2 * (6 - 2) + (3 - 2));
    CHECK(recorded.stats.diverged == 0);
}

// A GAN's discriminator (a Sequential called in the combined model's graph) and the combined
// model take turns on one context: each records and replays its own steps, as on the CPU.
TEST_CASE("recorded steps: a GAN's two networks train as on the CPU") {
    testing::check_gan_on_device<recorded_device>(tolerance);
}
