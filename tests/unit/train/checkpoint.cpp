// Crash-safe training: checkpoints every N epochs, resuming bit for bit after an epoch or in
// the middle of one, Ctrl-C through StopOnInterrupt, and the non-finite loss report.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <latent/latent.hpp>

#include "support/three_classes.hpp"

using namespace latent;
namespace fs = std::filesystem;

namespace {
using Net = testing::ThreeClassNet;
using Data = testing::ThreeClassData;

fs::path temp(const char* name) {
    const auto p = fs::path(LATENT_TEST_TMP_DIR) / name;
    fs::remove(p);
    return p;
}
std::vector<float> weights_of(Net& net) { return {net.parameters().values().begin(), net.parameters().values().end()}; }
std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

FitOptions options(std::size_t epochs) {
    return {.epochs = epochs, .batch_size = 10, .seed = 3, .verbose = Verbosity::silent};
}

std::vector<float> uninterrupted(std::size_t epochs) {
    Data d;
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    net.fit(d.x, d.y, options(epochs));
    return weights_of(net);
}
}  // namespace

TEST_CASE("FitOptions::checkpoint takes a path in any form; empty means no checkpointing") {
    FitOptions o;
    CHECK(o.checkpoint.empty());
    o.checkpoint = "run.ckpt";
    CHECK(o.checkpoint.path() == fs::path("run.ckpt"));
    o.checkpoint = std::string("dir/run.ckpt");
    CHECK(o.checkpoint.path() == fs::path("dir") / "run.ckpt");
    o.checkpoint = fs::path("other.ckpt");
    CHECK_FALSE(o.checkpoint.empty());
    const FitOptions designated{.checkpoint = "designated.ckpt", .resume = true};
    CHECK(designated.checkpoint.path() == fs::path("designated.ckpt"));
    o.checkpoint = "";
    CHECK(o.checkpoint.empty());

    // With no checkpoint, resume has nothing to resume from: the run starts afresh.
    Data d;
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto off = options(2);
    off.resume = true;
    CHECK(net.fit(d.x, d.y, off).epochs == 2);
    CHECK(weights_of(net) == uninterrupted(2));
}

TEST_CASE("a run stopped after epoch 2 and resumed ends bit-identical to an uninterrupted run") {
    const auto reference = uninterrupted(4);
    Data d;
    const auto path = temp("resume.ckpt");
    {
        Net first;
        first.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
        auto o = options(2);
        o.checkpoint = path;
        first.fit(d.x, d.y, o);  // "crashes" after epoch 2
    }
    REQUIRE(fs::exists(path));
    Net second(99);  // other initial weights: the checkpoint replaces them
    second.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    auto o = options(4);
    o.checkpoint = path;
    o.resume = true;
    const auto history = second.fit(d.x, d.y, o);
    CHECK(weights_of(second) == reference);
    CHECK(history["loss"].size() == 4);
    CHECK(history.epochs == 4);
}

TEST_CASE("a stop request in the middle of an epoch checkpoints that step; resuming is bit-identical") {
    const auto reference = uninterrupted(2);
    Data d;
    const auto path = temp("midway.ckpt");
    std::atomic<bool> stop{true};  // already set: stop after the first step
    Net net;
    net.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    auto o = options(2);
    o.checkpoint = path;
    o.stop = &stop;
    const auto partial = net.fit(d.x, d.y, o);
    CHECK(partial.epochs == 0);
    CHECK(io::read_safetensors(path).metadata.at("step") == "1");
    stop = false;
    o.resume = true;
    Net resumed(5);
    resumed.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});
    resumed.fit(d.x, d.y, o);
    CHECK(weights_of(resumed) == reference);
}

TEST_CASE("checkpoints are written every N epochs; bad checkpoints are refused and change nothing") {
    Data d;
    const auto path = temp("every.ckpt");
    Net net;
    net.compile(optim::SGD{.lr = 0.01, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
    auto o = options(3);
    o.checkpoint = path;
    o.checkpoint_every = 2;
    net.fit(d.x, d.y, o);
    const auto file = io::read_safetensors(path);
    CHECK(file.metadata.at("epoch") == "3");  // the last epoch is always saved
    CHECK(file.tensors.count("__optimizer__/velocity") == 1);
    CHECK(file.tensors.count("dense/kernel") == 1);

    Net other(8);
    other.compile(optim::Adam{}, loss::SparseCategoricalCrossentropy{});  // another optimizer
    const auto before = weights_of(other);
    o.resume = true;
    CHECK_THROWS_WITH_AS(other.fit(d.x, d.y, o), doctest::Contains("another optimizer"), io_error);
    CHECK(weights_of(other) == before);
    net.save_weights(temp("plain.safetensors"));
    o.checkpoint = fs::path(LATENT_TEST_TMP_DIR) / "plain.safetensors";
    CHECK_THROWS_WITH_AS(other.fit(d.x, d.y, o), doctest::Contains("not a latent checkpoint"), io_error);
    CHECK(weights_of(other) == before);
    o.checkpoint_every = 0;
    CHECK_THROWS_AS(other.fit(d.x, d.y, o), value_error);
}

TEST_CASE("StopOnInterrupt turns Ctrl-C into a stop request and restores the previous handler") {
    using handler = void (*)(int);
    const handler before = std::signal(SIGINT, SIG_DFL);  // whatever the test runner had installed
    std::signal(SIGINT, before);
    {
        StopOnInterrupt guard;
        CHECK_FALSE(guard.requested()->load());
        std::raise(SIGINT);
        CHECK(guard.requested()->load());
        Data d;
        Net net;
        net.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
        auto o = options(5);
        o.stop = guard.requested();
        const auto h = net.fit(d.x, d.y, o);
        CHECK(h.epochs == 0);  // stopped after the first step
    }
    const bool restored = std::signal(SIGINT, before) == before;
    CHECK(restored);
}

TEST_CASE("a non-finite loss names epoch, step and the first non-finite layer, and keeps the last checkpoint") {
    Data d;
    const auto path = temp("good.ckpt");
    Net net;
    net.compile(optim::SGD{}, loss::SparseCategoricalCrossentropy{});
    auto o = options(1);
    o.checkpoint = path;
    net.fit(d.x, d.y, o);
    const auto saved = bytes_of(path);
    net.layer("dense_1").weights()[0].second[0] = std::numeric_limits<float>::infinity();
    o.epochs = 2;
    o.resume = false;
    CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o), doctest::Contains("epoch 1, step 1: the loss is"), value_error);
    CHECK_THROWS_WITH_AS(net.fit(d.x, d.y, o),
                         doctest::Contains("the first non-finite output is layer 3 \"dense_1\" (Dense)"), value_error);
    CHECK(bytes_of(path) == saved);
}

TEST_CASE("use_ema: the average is checkpointed, and a resumed run ends bit-identical, averaged") {
    const optim::Adam ema{.use_ema = true, .ema_momentum = 0.9};
    Data d;
    Net whole;
    whole.compile(ema, loss::SparseCategoricalCrossentropy{});
    whole.fit(d.x, d.y, options(4));
    const auto path = temp("ema.ckpt");
    {
        Net first;
        first.compile(ema, loss::SparseCategoricalCrossentropy{});
        auto o = options(2);
        o.checkpoint = path;
        first.fit(d.x, d.y, o);
    }
    const auto file = io::read_safetensors(path);
    CHECK(std::any_of(file.tensors.begin(), file.tensors.end(),
                      [](const auto& t) { return t.first.find("average") != std::string::npos; }));
    Net second(99);
    second.compile(ema, loss::SparseCategoricalCrossentropy{});
    auto o = options(4);
    o.checkpoint = path;
    o.resume = true;
    second.fit(d.x, d.y, o);
    CHECK(weights_of(second) == weights_of(whole));
    CHECK(weights_of(whole) != uninterrupted(4));  // the averaged weights, not Adam's last ones
}
