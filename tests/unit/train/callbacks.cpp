// fit's callbacks: Keras' rules for EarlyStopping, ReduceLROnPlateau, LearningRateScheduler,
// ModelCheckpoint and CSVLogger, user-written callbacks, their errors, and their state across a
// checkpoint and resume.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <latent/latent.hpp>

#include "support/outputs_cases.hpp"
#include "support/three_classes.hpp"

using namespace latent;
namespace fs = std::filesystem;

namespace {
using Net = testing::ThreeClassNet;
using Data = testing::ThreeClassData;

fs::path temp(const std::string& name) {
    const auto p = fs::path(LATENT_TEST_TMP_DIR) / name;
    fs::remove_all(p);
    return p;
}
std::vector<float> weights_of(Net& net) { return testing::weights_of(net); }
std::vector<std::string> lines_of(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

FitOptions options(std::size_t epochs) {
    return {.epochs = epochs, .batch_size = 10, .seed = 3, .verbose = Verbosity::silent};
}

// A context over a plain vector of weights and a learning rate, to drive a callback by hand.
struct Harness : TrainingContext::Access {
    std::vector<float> values{0.0f, 0.0f};
    double lr = 0.1;
    std::vector<fs::path> saved;
    double learning_rate() const override { return lr; }
    void set_learning_rate(double v) override { lr = v; }
    std::span<float> weights() override { return values; }
    void save_weights(const fs::path& p) override { saved.push_back(p); }
    TrainingContext context{*this, 10, 5, {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}};
};
Logs logs_with(const char* key, double value) { return Logs{{{key, value}}}; }

// Records what a user-written callback sees.
struct Recorder {
    std::vector<std::string> calls;
    std::vector<std::vector<float>> weights;  // at each epoch's end
    std::vector<double> rates;                // the learning rate at each epoch's end
    void on_train_begin(TrainingContext&) { calls.push_back("train_begin"); }
    void on_epoch_begin(std::size_t e) { calls.push_back("epoch_begin " + std::to_string(e)); }
    void on_epoch_end(std::size_t e, Logs& logs, TrainingContext& c) {
        calls.push_back("epoch_end " + std::to_string(e) + " " + logs.keys());
        const auto w = c.weights();
        weights.emplace_back(w.begin(), w.end());
        rates.push_back(c.learning_rate());
    }
    void on_train_end(const Logs&) { calls.push_back("train_end"); }
};
}  // namespace

TEST_CASE("EarlyStopping follows Keras' rules: patience, min_delta, baseline, start_from_epoch") {
    SUBCASE("stops once `patience` epochs have not improved") {
        Harness h;
        callbacks::EarlyStopping es{.monitor = "val_loss", .patience = 2};
        es.on_train_begin(h.context);
        const double values[] = {1.0, 0.8, 0.9, 0.85, 0.7};
        std::size_t stopped_after = 0;
        for (std::size_t e = 0; e < 5 && !h.context.stop_training; ++e) {
            auto logs = logs_with("val_loss", values[e]);
            es.on_epoch_end(e, logs, h.context);
            stopped_after = e;
        }
        CHECK(h.context.stop_training);
        CHECK(stopped_after == 3);
        CHECK(es.stopped_epoch == 3);
        CHECK(es.best == doctest::Approx(0.8));
        CHECK(es.best_epoch == 1);
    }
    SUBCASE("an improvement must beat the best by more than min_delta") {
        Harness h;
        callbacks::EarlyStopping es{.monitor = "val_loss", .min_delta = 0.1, .patience = 1};
        es.on_train_begin(h.context);
        auto first = logs_with("val_loss", 1.0), second = logs_with("val_loss", 0.95);
        es.on_epoch_end(0, first, h.context);
        es.on_epoch_end(1, second, h.context);  // 0.05 better: not enough
        CHECK(h.context.stop_training);
        CHECK(es.best == doctest::Approx(1.0));
    }
    SUBCASE("accuracies rise; a baseline not beaten keeps the wait running") {
        Harness h;
        callbacks::EarlyStopping es{.monitor = "val_accuracy", .patience = 2, .baseline = 0.9};
        es.on_train_begin(h.context);
        // Improvements below the baseline do not restart the wait, so a setback at epoch 2 is
        // the third epoch waited; without a baseline it would be the first.
        const double values[] = {0.5, 0.6, 0.55};
        for (std::size_t e = 0; e < 3; ++e) {
            auto logs = logs_with("val_accuracy", values[e]);
            es.on_epoch_end(e, logs, h.context);
        }
        CHECK(es.best == doctest::Approx(0.6));
        CHECK(h.context.stop_training);
        CHECK(es.stopped_epoch == 2);
        Harness without;
        callbacks::EarlyStopping plain{.monitor = "val_accuracy", .patience = 2};
        plain.on_train_begin(without.context);
        for (std::size_t e = 0; e < 3; ++e) {
            auto logs = logs_with("val_accuracy", values[e]);
            plain.on_epoch_end(e, logs, without.context);
        }
        CHECK_FALSE(without.context.stop_training);
    }
    SUBCASE("nothing counts before start_from_epoch") {
        Harness h;
        callbacks::EarlyStopping es{.monitor = "val_loss", .patience = 0, .start_from_epoch = 3};
        es.on_train_begin(h.context);
        for (std::size_t e = 0; e < 3; ++e) {
            auto logs = logs_with("val_loss", 1.0 + static_cast<double>(e));
            es.on_epoch_end(e, logs, h.context);
        }
        CHECK_FALSE(h.context.stop_training);
        CHECK_FALSE(es.best.has_value());
    }
    SUBCASE("restore_best_weights brings back the best epoch's weights at the end") {
        Harness h;
        callbacks::EarlyStopping es{.monitor = "val_loss", .patience = 1, .verbose = true, .restore_best_weights = true};
        es.on_train_begin(h.context);
        const double values[] = {1.0, 0.5, 0.7};
        for (std::size_t e = 0; e < 3 && !h.context.stop_training; ++e) {
            h.values = {static_cast<float>(e), static_cast<float>(10 * e)};
            auto logs = logs_with("val_loss", values[e]);
            es.on_epoch_end(e, logs, h.context);
        }
        CHECK(es.stopped_epoch == 2);
        es.on_train_end({}, h.context);
        CHECK(h.values == std::vector<float>{1.0f, 10.0f});
        std::ostringstream out;
        h.context.flush_messages(out);
        CHECK(out.str() == "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n");
    }
}

TEST_CASE("EarlyStopping in fit: training ends early and History has the epochs that ran") {
    Data d;
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    // No loss ever falls by 10: the first epoch is the best, and patience 2 ends the third.
    callbacks::EarlyStopping es{.monitor = "loss", .min_delta = 10.0, .patience = 2};
    auto o = options(20);
    o.callbacks = {es};
    const auto history = net.fit(d.x, d.y, o);
    CHECK(history.epochs == 3);
    CHECK(history["loss"].size() == 3);
    CHECK(es.stopped_epoch == 2);
}

TEST_CASE("restore_best_weights in fit leaves the model with the weights of its best validation epoch") {
    Data d;
    Net net;
    net.compile(optim::SGD{.lr = 0.5, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
    callbacks::EarlyStopping es{.monitor = "val_loss", .patience = 3, .restore_best_weights = true};
    Recorder seen;
    auto o = options(8);
    o.validation_split = 0.25;
    o.callbacks = {seen, es};  // seen runs first: it records the weights es keeps
    const auto history = net.fit(d.x, d.y, o);
    const auto& val = history["val_loss"];
    const auto best = static_cast<std::size_t>(std::min_element(val.begin(), val.end()) - val.begin());
    CHECK(es.best_epoch == best);
    REQUIRE(seen.weights.size() == history.epochs);
    CHECK(weights_of(net) == seen.weights[best]);
}

TEST_CASE("ReduceLROnPlateau follows Keras' rules and logs the learning rate") {
    Harness h;
    callbacks::ReduceLROnPlateau r{.monitor = "val_loss", .factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.02};
    r.on_train_begin(h.context);
    const double values[] = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
    std::vector<double> logged, after;
    for (std::size_t e = 0; e < 8; ++e) {
        auto logs = logs_with("val_loss", values[e]);
        r.on_epoch_end(e, logs, h.context);
        logged.push_back(*logs.get("learning_rate"));
        after.push_back(h.lr);
    }
    // Epoch 0 sets the best; epochs 1-2 wait, then halve. As in Keras, the cooldown epoch that
    // follows counts down and then waits too (cooldown 1), so the rate halves every second
    // epoch; min_lr holds the third halving at 0.02.
    CHECK(after == std::vector<double>{0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02});
    CHECK(logged == std::vector<double>{0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02});
    auto logs = logs_with("val_loss", 1.0);
    r.on_epoch_end(8, logs, h.context);
    CHECK(h.lr == doctest::Approx(0.02));
    auto again = logs_with("val_loss", 1.0);
    r.on_epoch_end(9, again, h.context);
    r.on_epoch_end(10, again, h.context);
    r.on_epoch_end(11, again, h.context);
    CHECK(h.lr == doctest::Approx(0.02));  // at min_lr: no further change

    callbacks::ReduceLROnPlateau bad{.factor = 1.5};
    CHECK_THROWS_WITH_AS(bad.on_train_begin(h.context), doctest::Contains("factor must be in (0, 1)"), value_error);
}

TEST_CASE("ReduceLROnPlateau and LearningRateScheduler in fit change the optimizer's rate; History keeps it") {
    Data d;
    SUBCASE("ReduceLROnPlateau") {
        Net net;
        net.compile(optim::SGD{.lr = 0.1}, loss::SparseCategoricalCrossentropy{});
        Recorder seen;
        auto o = options(4);
        o.callbacks = {callbacks::ReduceLROnPlateau{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 10.0},
                       seen};
        const auto history = net.fit(d.x, d.y, o);
        CHECK(history["learning_rate"] == std::vector<double>{0.1, 0.1, 0.05, 0.025});
        CHECK(seen.rates == std::vector<double>{0.1, 0.05, 0.025, 0.0125});
    }
    SUBCASE("LearningRateScheduler, with its message") {
        Net net;
        net.compile(optim::Adam{.lr = 0.1}, loss::SparseCategoricalCrossentropy{});
        std::ostringstream out;
        auto o = options(3);
        o.out = &out;
        o.callbacks = {callbacks::LearningRateScheduler{
            .schedule = [](std::size_t epoch, double lr) { return epoch == 0 ? lr : lr / 10; }, .verbose = true}};
        const auto history = net.fit(d.x, d.y, o);
        CHECK(history["learning_rate"][0] == doctest::Approx(0.1));
        CHECK(history["learning_rate"][1] == doctest::Approx(0.01));
        CHECK(history["learning_rate"][2] == doctest::Approx(0.001));
        CHECK(out.str().find("Epoch 2: LearningRateScheduler setting learning rate to 0.01.") != std::string::npos);

        Net other;
        other.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
        const auto before = weights_of(other);
        o.callbacks = {callbacks::LearningRateScheduler{.schedule = [](std::size_t, double) { return -1.0; }}};
        CHECK_THROWS_WITH_AS(other.fit(d.x, d.y, o), doctest::Contains("a learning rate must be positive"), value_error);
        CHECK(weights_of(other) == before);  // refused before the first step
    }
}

TEST_CASE("ModelCheckpoint saves each epoch's weights under a formatted path, or only improvements") {
    Data d;
    const auto dir = temp("model_checkpoint");
    SUBCASE("every epoch, the path naming the epoch and the loss") {
        Net net;
        net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
        Recorder seen;
        auto o = options(3);
        o.callbacks = {callbacks::ModelCheckpoint{.filepath = (dir / "w-{epoch:02d}-{loss:.3f}.safetensors").string()},
                       seen};
        const auto history = net.fit(d.x, d.y, o);
        for (std::size_t e = 0; e < 3; ++e) {
            char name[64];
            std::snprintf(name, sizeof name, "w-%02zu-%.3f.safetensors", e + 1, history["loss"][e]);
            REQUIRE(fs::exists(dir / name));
            Net loaded;
            loaded.load_weights(dir / name);
            CHECK(weights_of(loaded) == seen.weights[e]);
        }
    }
    SUBCASE("save_best_only writes when the monitored figure improves") {
        Net net;
        net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
        std::ostringstream out;
        auto o = options(3);
        o.out = &out;
        o.callbacks = {callbacks::ModelCheckpoint{.filepath = (dir / "best.safetensors").string(),
                                                  .monitor = "loss",
                                                  .verbose = true,
                                                  .save_best_only = true,
                                                  .initial_value_threshold = 0.0}};  // no loss beats 0
        net.fit(d.x, d.y, o);
        CHECK_FALSE(fs::exists(dir / "best.safetensors"));
        CHECK(out.str().find("Epoch 3: loss did not improve from 0.00000") != std::string::npos);
        o.callbacks = {callbacks::ModelCheckpoint{
            .filepath = (dir / "best.safetensors").string(), .monitor = "loss", .save_best_only = true}};
        net.fit(d.x, d.y, o);
        CHECK(fs::exists(dir / "best.safetensors"));
    }
    SUBCASE("a placeholder that names nothing fit logs is refused before training") {
        Net net;
        net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
        const auto before = weights_of(net);
        auto o = options(2);
        o.callbacks = {callbacks::ModelCheckpoint{.filepath = (dir / "{val_loss:.2f}.safetensors").string()}};
        CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o), doctest::Contains("names \"val_loss\""), value_error);
        o.callbacks = {callbacks::ModelCheckpoint{.filepath = (dir / "{epoch:%n}.safetensors").string()}};
        CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o), doctest::Contains("[0][width][.precision]"), value_error);
        o.callbacks = {callbacks::ModelCheckpoint{.filepath = (dir / "{epoch.safetensors").string()}};
        CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o), doctest::Contains("that no '}' closes"), value_error);
        CHECK(weights_of(net) == before);
        CHECK_FALSE(fs::exists(dir));
    }
}

TEST_CASE("CSVLogger writes Keras' header and one row per epoch; append keeps the rows there") {
    Data d;
    const auto path = temp("log.csv");
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto o = options(2);
    o.validation_split = 0.25;
    o.callbacks = {callbacks::CSVLogger{.filename = path.string()}};
    const auto history = net.fit(d.x, d.y, o);
    auto lines = lines_of(path);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss");
    CHECK(lines[1].rfind("0,", 0) == 0);
    CHECK(std::stod(lines[2].substr(lines[2].find(',', 2) + 1)) == history["loss"][1]);  // exact, as Python's str

    net.fit(d.x, d.y, o);  // append = false: the file starts over
    CHECK(lines_of(path).size() == 3);
    o.callbacks = {callbacks::CSVLogger{.filename = path.string(), .separator = ';', .append = true}};
    std::ofstream(path) << "epoch;accuracy;loss;val_accuracy;val_loss\n";
    net.fit(d.x, d.y, o);
    lines = lines_of(path);
    REQUIRE(lines.size() == 3);
    CHECK(std::count(lines[1].begin(), lines[1].end(), ';') == 4);
}

TEST_CASE("messages and CSV rows write numbers as Python's str() does") {
    using callbacks::detail::shortest;
    CHECK(shortest(0.0005) == "0.0005");
    CHECK(shortest(0.00025) == "0.00025");
    CHECK(shortest(1e-5) == "1e-05");
    CHECK(shortest(1.0) == "1.0");
    CHECK(shortest(1e16) == "1e+16");
    CHECK(shortest(1.0 / 3) == "0.3333333333333333");
    CHECK(shortest(-2.5) == "-2.5");
}

TEST_CASE("callbacks are called in Keras' order, and a named one is the object fit calls") {
    Data d;
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    Recorder seen;
    std::size_t steps = 0;
    auto o = options(2);
    o.validation_split = 0.25;
    o.callbacks = {seen, callbacks::LambdaCallback{.on_train_batch_end = [&](std::size_t, const Logs& logs) {
                             CHECK(logs.contains("loss"));
                             ++steps;
                         }}};
    net.fit(d.x, d.y, o);
    CHECK(steps == 2 * 8);  // 72 training samples in batches of 10
    CHECK(seen.calls == std::vector<std::string>{"train_begin", "epoch_begin 0",
                                                 "epoch_end 0 loss, accuracy, val_loss, val_accuracy", "epoch_begin 1",
                                                 "epoch_end 1 loss, accuracy, val_loss, val_accuracy", "train_end"});
}

TEST_CASE("a callback may stop training after a step; fit returns the epochs that finished") {
    Data d;
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    struct StopAtStep {
        std::size_t at;
        bool ended = false;
        void on_train_batch_end(std::size_t step, const Logs&, TrainingContext& c) {
            if (step == at) c.stop_training = true;
        }
        void on_train_end(const Logs& logs) { ended = logs.contains("loss"); }
    } stop{3};
    auto o = options(3);
    o.callbacks = {stop};
    const auto history = net.fit(d.x, d.y, o);
    CHECK(history.epochs == 0);
    CHECK(stop.ended);
}

TEST_CASE("a monitor that fit does not log is refused before training, naming what it logs") {
    Data d;
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    const auto before = weights_of(net);
    auto o = options(2);
    o.callbacks = {callbacks::EarlyStopping{}};  // val_loss, without validation data
    CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o),
                         doctest::Contains("EarlyStopping monitors \"val_loss\", which this fit does not log; it logs "
                                           "loss, accuracy, learning_rate (\"val_\" keys need validation data"),
                         value_error);
    o.callbacks = {callbacks::ReduceLROnPlateau{.monitor = "acuracy"}};
    CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o), doctest::Contains("monitors \"acuracy\""), value_error);
    CHECK(weights_of(net) == before);
}

TEST_CASE("models with several outputs log per-output keys that callbacks can monitor") {
    testing::TwoByTwoData data;
    auto model = testing::two_by_two<cpu::reference>(1);
    callbacks::EarlyStopping es{.monitor = "level_loss", .min_delta = 10.0, .patience = 1};
    Recorder seen;
    FitOptions o{.epochs = 5, .batch_size = 16, .verbose = Verbosity::silent};
    o.callbacks = {es, seen};
    const auto history = model.fit(data.x(), data.y(), o);
    CHECK(history.epochs == 2);
    CHECK(es.stopped_epoch == 1);
    REQUIRE_FALSE(seen.calls.empty());
    CHECK(seen.calls[2].find("digit_loss") != std::string::npos);
    o.callbacks = {callbacks::EarlyStopping{.monitor = "loss_level"}};
    CHECK_THROWS_WITH_AS(model.fit(data.x(), data.y(), o), doctest::Contains("it logs loss, digit_loss, level_loss"),
                         value_error);
}

TEST_CASE("an interrupted run with callbacks resumes as the uninterrupted one goes on") {
    Data d;
    const auto path = temp("callbacks.ckpt");
    const auto csv = temp("callbacks.csv");
    auto run = [&](Net& net, std::size_t epochs, bool resume, callbacks::EarlyStopping& es) {
        net.compile(optim::SGD{.lr = 0.05, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
        auto o = options(epochs);
        o.validation_split = 0.25;
        o.checkpoint = path;
        o.resume = resume;
        o.callbacks = {es,
                       callbacks::ReduceLROnPlateau{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 10.0},
                       callbacks::LearningRateScheduler{.schedule = [](std::size_t, double lr) { return lr * 0.9; }},
                       callbacks::CSVLogger{.filename = csv.string()}};
        return net.fit(d.x, d.y, o);
    };
    callbacks::EarlyStopping es_reference{.monitor = "loss", .min_delta = 10.0, .patience = 4};
    Net reference;
    const auto expected = run(reference, 8, false, es_reference);
    REQUIRE(expected.epochs == 5);  // stopped by EarlyStopping after epoch 5
    const auto reference_rows = lines_of(csv);
    fs::remove(path);

    callbacks::EarlyStopping es{.monitor = "loss", .min_delta = 10.0, .patience = 4};
    Net first;
    run(first, 2, false, es);
    // A crash after epoch 3's CSV row, but before its checkpoint: resuming writes it again.
    std::ofstream(csv, std::ios::app) << "2,9,9,9,9,9\n";
    callbacks::EarlyStopping es_resumed{.monitor = "loss", .min_delta = 10.0, .patience = 4};
    Net second(42);
    const auto history = run(second, 8, true, es_resumed);
    CHECK(weights_of(second) == weights_of(reference));
    CHECK(history.history == expected.history);
    CHECK(es_resumed.stopped_epoch == es_reference.stopped_epoch);
    CHECK(lines_of(csv) == reference_rows);

    // Mid-epoch: the scheduler runs again on the interrupted epoch, from the rate it began with.
    fs::remove(path);
    std::atomic<bool> stop{true};
    callbacks::EarlyStopping es_mid{.monitor = "loss", .min_delta = 10.0, .patience = 4};
    Net third;
    {
        third.compile(optim::SGD{.lr = 0.05, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
        auto o = options(8);
        o.validation_split = 0.25;
        o.checkpoint = path;
        o.stop = &stop;
        o.callbacks = {es_mid,
                       callbacks::ReduceLROnPlateau{.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 10.0},
                       callbacks::LearningRateScheduler{.schedule = [](std::size_t, double lr) { return lr * 0.9; }},
                       callbacks::CSVLogger{.filename = csv.string()}};
        third.fit(d.x, d.y, o);
    }
    callbacks::EarlyStopping es_after{.monitor = "loss", .min_delta = 10.0, .patience = 4};
    Net fourth(7);
    run(fourth, 8, true, es_after);
    CHECK(weights_of(fourth) == weights_of(reference));
}

TEST_CASE("checkpoints keep the learning rate a callback set") {
    Data d;
    const auto path = temp("rate.ckpt");
    Net net;
    net.compile(optim::Adam{.lr = 0.01}, loss::SparseCategoricalCrossentropy{});
    auto o = options(1);
    o.checkpoint = path;
    o.callbacks = {callbacks::LearningRateScheduler{.schedule = [](std::size_t, double) { return 0.0025; }}};
    net.fit(d.x, d.y, o);
    CHECK(io::read_safetensors(path).metadata.at("learning_rate") == "0.0025");
    CHECK(io::read_safetensors(path).metadata.at("callbacks") == "LearningRateScheduler");

    Net resumed;
    resumed.compile(optim::Adam{.lr = 0.01}, loss::SparseCategoricalCrossentropy{});
    Recorder seen;
    o.epochs = 2;
    o.resume = true;
    o.callbacks = {seen};
    resumed.fit(d.x, d.y, o);
    CHECK(seen.rates == std::vector<double>{0.0025});
}

TEST_CASE("a learning-rate schedule in fit: resumed runs follow it bit for bit; callbacks that set the rate refuse it") {
    Data d;
    const auto path = temp("schedule.ckpt");
    const auto compiled = [](Net& net) {
        net.compile(optim::Adam{.lr = optim::schedules::CosineDecay{
                                    .initial_learning_rate = 0.0, .decay_steps = 30, .warmup_target = 0.01, .warmup_steps = 10}},
                    loss::SparseCategoricalCrossentropy{});
    };
    Net straight;
    compiled(straight);
    Recorder seen;
    auto o = options(4);
    o.callbacks = {seen};
    straight.fit(d.x, d.y, o);
    // 10 steps an epoch: the warm-up to 0.01 in the first, then the cosine down to 0 by step 40
    // (the rate each epoch ends with is the next step's).
    CHECK(seen.rates[0] == doctest::Approx(0.01));
    CHECK(seen.rates[1] == doctest::Approx(0.0075));
    CHECK(seen.rates[2] == doctest::Approx(0.0025));
    CHECK(seen.rates[3] == doctest::Approx(0.0));

    Net first;
    compiled(first);
    auto stopped = options(2);
    stopped.checkpoint = path;
    first.fit(d.x, d.y, stopped);
    Net resumed(6);
    compiled(resumed);
    auto rest = options(4);
    rest.checkpoint = path;
    rest.resume = true;
    resumed.fit(d.x, d.y, rest);
    CHECK(weights_of(resumed) == weights_of(straight));

    const auto before = weights_of(resumed);
    rest.resume = false;
    rest.callbacks = {callbacks::ReduceLROnPlateau{.monitor = "loss"}};
    CHECK_THROWS_WITH_AS(resumed.fit(d.x, d.y, rest), doctest::Contains("follows a schedule"), value_error);
    CHECK(weights_of(resumed) == before);
}
