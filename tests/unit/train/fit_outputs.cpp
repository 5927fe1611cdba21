// fit of a model with several inputs or outputs does what fit of a one-input model does:
// non-finite data refused with the array named, checkpoints and bit-identical resume, stop
// requests; and it refuses what it does not take yet.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <limits>

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

TEST_CASE("fit of a model with several inputs and outputs refuses what it does not take") {
    const TwoByTwoData data;
    auto model = two_by_two<cpu::reference>(1);
    FitOptions with_arrays{.verbose = Verbosity::silent};
    with_arrays.validation = ValidationData(data.features, data.digit);
    LATENT_CHECK_ERROR(value_error, model.fit(data.x(), data.y(), with_arrays), "latent.train.options",
                       "takes no validation arrays yet; use validation_split");
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
