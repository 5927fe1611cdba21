// fit of a model with several inputs or outputs does what fit of a one-input model does:
// non-finite data refused with the array named, validation data, checkpoints and bit-identical
// resume, stop requests; train_on_batch takes one step on std::tuples of arrays.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <limits>
#include <string>
#include <tuple>

#include <latent/latent.hpp>

#include "support/messages.hpp"
#include "support/outputs_cases.hpp"

using namespace latent;
using testing::TwoByTwoData;
using testing::two_by_two;

namespace {
std::filesystem::path temp(const char* name) {
    const auto p = std::filesystem::path(LATENT_TEST_TMP_DIR) / name;
    std::filesystem::remove(p);
    return p;
}
}  // namespace

TEST_CASE("fit of a model with several inputs and outputs refuses non-finite data, naming the array") {
    TwoByTwoData data;
    auto model = two_by_two<cpu::reference>(1);
    const auto before = testing::weights_of(model);
    data.extra[2 * 5 + 1] = std::numeric_limits<float>::quiet_NaN();
    LATENT_CHECK_ERROR(value_error, model.fit(data.x(), data.y(), {.verbose = Verbosity::silent}),
                       "latent.train.non_finite_data", "fit: input \"extra\": sample 5, element 1 is nan");
    data.extra[2 * 5 + 1] = 0.0f;
    data.level[7] = std::numeric_limits<float>::infinity();
    LATENT_CHECK_ERROR(value_error, model.fit(data.x(), data.y(), {.verbose = Verbosity::silent}),
                       "latent.train.non_finite_data", "fit: labels of output \"level\": sample 7, element 0 is inf");
    CHECK(testing::weights_of(model) == before);  // refused before any step
}

TEST_CASE("fit of a model with several inputs and outputs resumes from its checkpoints bit for bit") {
    testing::check_outputs_resume<cpu::reference>(temp("outputs_resume.safetensors"));
}

TEST_CASE("fit of a model with several inputs and outputs stops at a stop request, after the step it is in") {
    const TwoByTwoData data;
    auto model = two_by_two<cpu::reference>(1);
    const auto before = testing::weights_of(model);
    std::atomic<bool> stop{true};
    const History history = model.fit(data.x(), data.y(), {.epochs = 3, .batch_size = 16, .verbose = Verbosity::silent, .stop = &stop});
    CHECK(history.epochs == 0);
    CHECK(history.history.empty());  // no epoch ended
    CHECK(testing::weights_of(model) != before);  // one step was taken

    auto one_step = two_by_two<cpu::reference>(1);
    one_step.fit(data.x(), data.y(), {.epochs = 1, .batch_size = 16, .verbose = Verbosity::silent, .stop = &stop});
    CHECK(testing::weights_of(one_step) == testing::weights_of(model));
}

TEST_CASE("fit of a model with several inputs and outputs validates on std::tuples of arrays (Keras' validation_data)") {
    const TwoByTwoData data;
    TwoByTwoData other;  // other samples: the same features shifted
    for (auto& v : other.features.values()) v += 0.25f;
    auto model = two_by_two<cpu::reference>(1);
    const History history = model.fit(
        data.x(), data.y(),
        {.epochs = 2, .batch_size = 16, .validation = {other.x(), other.y()}, .verbose = Verbosity::silent});
    // The validation figures are evaluate's on the model as each epoch left it.
    const auto evaluated = model.evaluate(other.x(), other.y(), 16);
    for (const char* key : {"loss", "digit_loss", "level_loss", "digit_accuracy"}) {
        INFO(key);
        REQUIRE(history.at(std::string("val_") + key).size() == 2);
        CHECK(history.at(std::string("val_") + key).back() == evaluated.at(key));
    }
    // Given validation data takes precedence over validation_split: every sample trains.
    auto with_split = two_by_two<cpu::reference>(1);
    const History split_ignored =
        with_split.fit(data.x(), data.y(),
                       {.epochs = 2, .batch_size = 16, .validation_split = 0.5, .validation = {other.x(), other.y()},
                        .verbose = Verbosity::silent});
    CHECK(split_ignored.at("loss") == history.at("loss"));
    CHECK(testing::weights_of(with_split) == testing::weights_of(model));
}

TEST_CASE("fit of a model with several inputs and outputs refuses validation data that does not fit it") {
    TwoByTwoData data;
    auto model = two_by_two<cpu::reference>(1);
    const auto before = testing::weights_of(model);
    const auto fit_with = [&](ValidationData v) {
        return model.fit(data.x(), data.y(), {.validation = std::move(v), .verbose = Verbosity::silent});
    };
    LATENT_CHECK_ERROR(shape_error, fit_with({std::tuple{data.features}, data.y()}), "latent.train.arrays",
                       "fit: validation data needs 2 input arrays and 2 label arrays, got 1 and 2");
    const Tensor<Shape<5>> wide(90);
    LATENT_CHECK_ERROR(shape_error, fit_with({std::tuple{data.features, wide}, data.y()}), "latent.train.validation",
                       "validation data for input \"extra\" has samples of 5 elements; the model needs 2");
    const Tensor<Shape<1>> short_level(89);
    LATENT_CHECK_ERROR(shape_error, ValidationData(data.x(), std::tuple{data.digit, short_level}),
                       "latent.train.validation", "validation data has 90 inputs but 89 labels");
    const Tensor<Shape<2>> short_extra(89);
    LATENT_CHECK_ERROR(shape_error, ValidationData(std::tuple{data.features, short_extra}, data.y()),
                       "latent.train.validation", "validation data has 90 inputs but 89 in another input array");
    TwoByTwoData poisoned;
    poisoned.features[6 * 3] = std::numeric_limits<float>::quiet_NaN();
    LATENT_CHECK_ERROR(value_error, fit_with({poisoned.x(), poisoned.y()}), "latent.train.non_finite_data",
                       "fit: validation data: input \"features\": sample 3, element 0 is nan");
    CHECK(testing::weights_of(model) == before);  // refused before any step

    // A one-input, one-output model is given one tensor of each.
    Sequential<Input<6>, Dense<3>, Softmax> net;
    net.compile(optim::SGD{}, loss::CategoricalCrossentropy{});
    LATENT_CHECK_ERROR(shape_error,
                       net.fit(data.features, data.digit,
                               {.validation = {data.x(), data.y()}, .verbose = Verbosity::silent}),
                       "latent.train.validation",
                       "validation data has 2 input arrays and 2 label arrays; this model has one input and one output");
    const History fitted = net.fit(data.features, data.digit,
                                   {.validation = {std::tuple{data.features}, std::tuple{data.digit}},
                                    .verbose = Verbosity::silent});
    CHECK(fitted.contains("val_loss"));
}

TEST_CASE("fit of a model with several inputs and outputs refuses a checkpoint interval of 0") {
    const TwoByTwoData data;
    auto model = two_by_two<cpu::reference>(1);
    LATENT_CHECK_ERROR(value_error,
                       model.fit(data.x(), data.y(),
                                 {.verbose = Verbosity::silent, .checkpoint = temp("never.safetensors"), .checkpoint_every = 0}),
                       "latent.train.checkpoint_every", "at least 1 epoch");
    CHECK_FALSE(std::filesystem::exists(std::filesystem::path(LATENT_TEST_TMP_DIR) / "never.safetensors"));
}

TEST_CASE("train_on_batch of a model with several inputs and outputs takes one step, as fit on that one batch") {
    const TwoByTwoData data;
    // Without dropout, fit's one step on the whole set in order is train_on_batch's.
    auto stepped = two_by_two<cpu::reference>(1, 0.0);
    auto fitted = two_by_two<cpu::reference>(1, 0.0);
    const auto losses = stepped.train_on_batch(data.x(), data.y());
    const History history =
        fitted.fit(data.x(), data.y(), {.batch_size = 90, .shuffle = false, .verbose = Verbosity::silent});
    CHECK(testing::weights_of(stepped) == testing::weights_of(fitted));
    REQUIRE(losses.size() == 3);
    CHECK(losses.at("loss") == history.last("loss"));
    CHECK(losses.at("digit_loss") == history.last("digit_loss"));
    CHECK(losses.at("level_loss") == history.last("level_loss"));
    CHECK(losses.at("loss") == doctest::Approx(losses.at("digit_loss") + 0.5 * losses.at("level_loss")));

    // With dropout, steps on one batch lower its loss.
    auto model = two_by_two<cpu::reference>(2);
    const double first = model.train_on_batch(data.x(), data.y()).at("loss");
    double last = first;
    for (int i = 0; i < 30; ++i) last = model.train_on_batch(data.x(), data.y()).at("loss");
    CHECK(last < 0.7 * first);

    Tensor<Shape<1>> short_level(89);
    LATENT_CHECK_ERROR(shape_error, model.train_on_batch(data.x(), std::tuple{data.digit, short_level}),
                       "latent.train.batch", "train_on_batch got 90 inputs but 89 labels for output \"level\"");
    auto features = input<6>("features");
    auto extra = input<2>("extra");
    Model uncompiled(std::tuple{features, extra}, Dense<1>{}(Concatenate<>{}(features, extra)));
    LATENT_CHECK_ERROR(value_error, uncompiled.train_on_batch(data.x(), data.level), "latent.train.not_compiled",
                       "train_on_batch of a model with several inputs or outputs needs compile(");
}

TEST_CASE("a checkpoint whose step is past the resuming run's epoch is refused and changes nothing") {
    const TwoByTwoData data;
    const auto path = temp("outputs_step.safetensors");
    auto first = two_by_two<cpu::reference>(1);
    first.fit(data.x(), data.y(), {.batch_size = 16, .verbose = Verbosity::silent, .checkpoint = path});
    auto file = io::read_safetensors(path);
    file.metadata["step"] = "4";  // as a run with smaller batches would have left it
    io::write_safetensors(path, file);
    auto second = two_by_two<cpu::reference>(2);
    const auto before = testing::weights_of(second);
    LATENT_CHECK_ERROR(value_error,
                       second.fit(data.x(), data.y(),
                                  {.epochs = 2, .batch_size = 90, .verbose = Verbosity::silent, .checkpoint = path,
                                   .resume = true}),
                       "latent.train.checkpoint", "outputs_step.safetensors: step 4 is past the 1 steps of an epoch");
    CHECK(testing::weights_of(second) == before);
}
