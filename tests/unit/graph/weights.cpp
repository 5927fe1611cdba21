// save_weights / load_weights on a Sequential: round trip, all-or-nothing loads that leave the
// model unchanged, and the exact message a shape mismatch gives.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <latent/latent.hpp>

using namespace latent;
namespace fs = std::filesystem;

namespace {
using Mlp = Sequential<Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>, Softmax>;
using Narrow = Sequential<Input<784>, Dense<256>, ReLU, Dense<64>, ReLU, Dense<10>, Softmax>;

fs::path temp(const char* name) { return fs::path(LATENT_TEST_TMP_DIR) / name; }
std::vector<float> values_of(const auto& net) {
    return {net.parameters().values().begin(), net.parameters().values().end()};
}
}  // namespace

TEST_CASE("weights round-trip through safetensors and predictions are identical") {
    Mlp a(1), b(2);
    a.save_weights(temp("mlp.safetensors"));
    CHECK(values_of(a) != values_of(b));
    b.load_weights(temp("mlp.safetensors"));
    CHECK(values_of(a) == values_of(b));
    Tensor<Shape<784>> x(4);
    Generator g(3);
    for (auto& v : x.values()) v = g.uniform_float();
    const auto pa = a.predict(x), pb = b.predict(x);
    CHECK(std::equal(pa.values().begin(), pa.values().end(), pb.values().begin()));
    const auto file = io::read_safetensors(temp("mlp.safetensors"));
    CHECK(file.tensors.at("dense_1/kernel").dims == std::vector<std::size_t>{256, 128});
    CHECK(file.tensors.at("dense_2/bias").dtype == "F32");
    CHECK(file.tensors.size() == 6);
}

TEST_CASE("a shape mismatch names file, tensor, expected and found shapes, and changes nothing") {
    Narrow narrow(5);
    narrow.save_weights(temp("narrow.safetensors"));
    Mlp net(1);
    const auto before = values_of(net);
    CHECK_THROWS_WITH_AS(net.load_weights(temp("narrow.safetensors")),
                         "[latent.io.safetensors.shape] narrow.safetensors: tensor \"dense_1/kernel\" expected "
                         "(256, 128), file has (256, 64)",
                         shape_error);
    CHECK(values_of(net) == before);
}

TEST_CASE("missing, truncated or foreign files leave the model unchanged") {
    Mlp net(1);
    const auto before = values_of(net);
    CHECK_THROWS_AS(net.load_weights(temp("does-not-exist.safetensors")), io_error);
    net.save_weights(temp("whole.safetensors"));
    const auto size = fs::file_size(temp("whole.safetensors"));
    fs::copy_file(temp("whole.safetensors"), temp("cut.safetensors"), fs::copy_options::overwrite_existing);
    fs::resize_file(temp("cut.safetensors"), size / 2);
    Mlp other(9);
    const auto other_before = values_of(other);
    CHECK_THROWS_AS(other.load_weights(temp("cut.safetensors")), io_error);
    CHECK(values_of(other) == other_before);
    Sequential<Input<784>, Dense<10>> small;
    small.save_weights(temp("small.safetensors"));
    CHECK_THROWS_WITH_AS(net.load_weights(temp("small.safetensors")), doctest::Contains("missing"), io_error);
    CHECK(values_of(net) == before);
}

TEST_CASE("a failed save keeps the previous checkpoint") {
    Mlp net(1);
    net.save_weights(temp("keep.safetensors"));
    const auto size = fs::file_size(temp("keep.safetensors"));
    CHECK_THROWS_AS(net.save_weights(temp("no-such-dir/keep.safetensors")), io_error);
    fs::create_directories(temp("is-a-dir.safetensors"));
    CHECK_THROWS_AS(net.save_weights(temp("is-a-dir.safetensors")), io_error);
    CHECK(fs::file_size(temp("keep.safetensors")) == size);
    Mlp again(2);
    again.load_weights(temp("keep.safetensors"));
    CHECK(values_of(again) == values_of(net));
}

TEST_CASE("renaming a layer renames its parameters in files") {
    Sequential<Input<4>, Dense<3>, ReLU, Dense<2>> net;
    net.layer<0>().set_name("encoder");
    CHECK(net.layer(0).name() == "encoder");
    net.save_weights(temp("renamed.safetensors"));
    const auto file = io::read_safetensors(temp("renamed.safetensors"));
    CHECK(file.tensors.count("encoder/kernel") == 1);
    CHECK(file.tensors.count("dense/kernel") == 0);
    CHECK(net.layer("encoder").weights()[1].first->name == "encoder/bias");
    Sequential<Input<4>, Dense<3>, ReLU, Dense<2>> plain;
    CHECK_THROWS_WITH_AS(plain.load_weights(temp("renamed.safetensors")), doctest::Contains("dense/kernel"), io_error);
}
