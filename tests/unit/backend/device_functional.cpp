// Functional models (Model over a graph) on a device backend, emulated on the host: with device
// memory out of the host's reach (guarded_device) they agree with the CPU, and with the step
// recorder (recorded_device) the models of one graph, which share its stream, record and replay
// their steps apart: bit for bit as the eager emulation, and a GAN as on the CPU. A model with
// several inputs and outputs holds its arrays on the device, resumes and replays its steps.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <latent/latent.hpp>

#include "support/device_functional_cases.hpp"
#include "support/guarded_device.hpp"
#include "support/outputs_cases.hpp"
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

TEST_CASE("self- and cross-attention (MultiHeadAttention on two inputs) train on a device backend as on the reference") {
    testing::check_functional_device_attention<guarded_device>(tolerance);
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

// A model with several inputs and outputs: fit copies its arrays over once (validation_split's
// samples with them) and gathers each batch there; with too little free memory it copies a batch
// per step and trains bit for bit the same. Copies are counted through the guarded device's uploads.
TEST_CASE("fit of a model with several inputs and outputs on a device backend copies its arrays over once") {
    const testing::TwoByTwoData data;
    struct fitted {
        std::size_t uploaded_bytes = 0;
        History history;
        std::vector<float> weights;
    };
    const auto fit = [&](std::size_t epochs) {
        auto model = testing::two_by_two<guarded_device>(2);
        (void)model.predict(data.features, data.extra);  // the weights go over before the count starts
        const std::size_t before = testing::guarded_uploaded_bytes();
        fitted run;
        run.history = model.fit(data.x(), data.y(),
                                {.epochs = epochs, .batch_size = 16, .validation_split = 0.2, .seed = 4,
                                 .verbose = Verbosity::silent});
        run.uploaded_bytes = testing::guarded_uploaded_bytes() - before;
        run.weights = testing::weights_of(model);
        return run;
    };
    const std::size_t sample_bytes = (6 + 2 + 3 + 1) * sizeof(float);  // 72 samples to train on, 18 to validate
    const fitted held_1 = fit(1), held_4 = fit(4);
    // Three more epochs cost three more orders of the training samples, and no samples.
    CHECK(held_4.uploaded_bytes - held_1.uploaded_bytes == 3 * 72 * sizeof(std::size_t));
    CHECK(held_1.uploaded_bytes >= 90 * sample_bytes);

    testing::guarded_free_memory() = 90 * sample_bytes;  // the arrays would take more than half of it
    const fitted copied_1 = fit(1), copied_4 = fit(4);
    testing::guarded_free_memory() = std::numeric_limits<std::size_t>::max();
    CHECK(copied_4.uploaded_bytes - copied_1.uploaded_bytes == 3 * 90 * sample_bytes);  // every batch, every epoch
    for (const auto& [key, values] : held_4.history.history) CHECK(copied_4.history.at(key) == values);
    CHECK(copied_4.history.history.size() == held_4.history.history.size());
    CHECK(copied_4.weights == held_4.weights);
}

TEST_CASE("fit of a model with several inputs and outputs on a device backend resumes bit for bit") {
    testing::check_outputs_resume<guarded_device>(std::filesystem::path(LATENT_TEST_TMP_DIR) /
                                                  "device_outputs_resume.safetensors");
}

namespace {
struct OutputsRun {
    History history;
    std::map<std::string, double> evaluation;
    std::vector<float> weights;
    detail::step_recorder<testing::host_graph_driver>::statistics stats;
};
template <class B>
OutputsRun fit_two_by_two() {
    const testing::TwoByTwoData data;
    auto model = testing::two_by_two<B>(3);
    OutputsRun run;
    run.history = model.fit(data.x(), data.y(),
                            {.epochs = 4, .batch_size = 16, .validation_split = 0.2, .verbose = Verbosity::silent});
    run.evaluation = model.evaluate(data.x(), data.y(), 32);
    run.weights = testing::weights_of(model);
    if constexpr (std::is_same_v<B, recorded_device>) run.stats = recorder_stats(model);
    return run;
}
}  // namespace

// fit and evaluate of a model with several inputs and outputs record their steps and replay them,
// bit for bit as the eager emulation.
TEST_CASE("recorded steps: a model with several inputs and outputs replays its fit and evaluate steps") {
    const auto eager = fit_two_by_two<guarded_device>();
    const auto recorded = fit_two_by_two<recorded_device>();
    CHECK(recorded.history.history == eager.history.history);
    CHECK(recorded.evaluation == eager.evaluation);
    CHECK(recorded.weights == eager.weights);
    // Six keys: training batches of 16 (4 an epoch) and 8, validation batches of 16 and 2,
    // evaluate's batches of 32 (twice) and 26. Each runs eagerly once and is recorded the
    // second time, except evaluate's batch of 26, which comes once.
    CHECK(recorded.stats.eager == 6);
    CHECK(recorded.stats.recorded == 5);
    CHECK(recorded.stats.replayed == (16 - 2) + (4 - 2) + (4 - 2) + (4 - 2));
    CHECK(recorded.stats.diverged == 0);
}

TEST_CASE("train_on_batch of a model with several inputs and outputs on a device backend trains as on the CPU") {
    testing::check_outputs_train_on_batch<guarded_device>(tolerance);
    // With dropout, replayed steps bit for bit as eager ones: each draws new numbers.
    detail::step_recorder<testing::host_graph_driver>::statistics stats;
    const auto eager = testing::step_two_by_two<guarded_device>(0.25, [](auto&) {});
    const auto recorded =
        testing::step_two_by_two<recorded_device>(0.25, [&](auto& model) { stats = recorder_stats(model); });
    CHECK(recorded.losses == eager.losses);
    CHECK(recorded.weights == eager.weights);
    CHECK(stats.eager == 1);
    CHECK(stats.recorded == 1);
    CHECK(stats.replayed == 2);
    CHECK(stats.diverged == 0);
}

namespace {
template <class B>
History fit_two_by_two_validated() {
    const testing::TwoByTwoData data;
    testing::TwoByTwoData other;
    for (auto& v : other.features.values()) v -= 0.5f;
    auto model = testing::two_by_two<B>(2, 0.0);
    return model.fit(data.x(), data.y(),
                     {.epochs = 2, .batch_size = 16, .validation = {other.x(), other.y()}, .verbose = Verbosity::silent});
}
}  // namespace

// Validation arrays given to fit (Keras' validation_data) go over once beside the training arrays,
// or a batch at a time where the device has too little free memory: the same figures, and the CPU's.
TEST_CASE("fit of a model with several inputs and outputs on a device backend validates on given arrays") {
    const History want = fit_two_by_two_validated<cpu::reference>();
    const History held = fit_two_by_two_validated<guarded_device>();
    testing::guarded_free_memory() = 1000;
    const History copied = fit_two_by_two_validated<guarded_device>();
    testing::guarded_free_memory() = std::numeric_limits<std::size_t>::max();
    CHECK(copied.history == held.history);
    for (const auto& entry : want.history) {
        INFO(entry.first);
        REQUIRE(held.at(entry.first).size() == 2);
        for (std::size_t e = 0; e < 2; ++e)
            CHECK(held.at(entry.first)[e] == doctest::Approx(entry.second[e]).epsilon(tolerance));
    }
    CHECK(want.contains("val_digit_accuracy"));
}
