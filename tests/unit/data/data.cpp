// Tests of latent/data: one_hot, BatchSampler and gather, and the dataset loaders on tiny fake
// datasets written with io::write_idx (including every kind of inconsistent dataset).
#include <doctest/doctest.h>

#include "support/files.hpp"
#include "support/messages.hpp"

#include <latent/data/batching.hpp>
#include <latent/data/datasets.hpp>
#include <latent/data/one_hot.hpp>
#include <latent/io/idx.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace latent;

namespace {


#define CHECK_ERROR(E, expr, id, fragment) LATENT_CHECK_ERROR(E, expr, id, fragment)

fs::path fresh_dir(const std::string& name) { return latent::testing::fresh_dir("data", name); }

// Sets (or unsets, for nullopt) LATENT_DATA for the scope, then restores it.
class ScopedDataEnv {
public:
    explicit ScopedDataEnv(const std::optional<std::string>& value) {
        if (const char* old = std::getenv("LATENT_DATA")) old_ = old;
        set(value);
    }
    ~ScopedDataEnv() { set(old_); }
    ScopedDataEnv(const ScopedDataEnv&) = delete;
    ScopedDataEnv& operator=(const ScopedDataEnv&) = delete;

private:
    static void set(const std::optional<std::string>& value) {
        if (value)
            ::setenv("LATENT_DATA", value->c_str(), 1);
        else
            ::unsetenv("LATENT_DATA");
    }
    std::optional<std::string> old_;
};

// Image i of a fake dataset: pixel p is (i * 31 + p) % 256.
std::vector<std::uint8_t> fake_images(std::size_t n, std::size_t height = 28, std::size_t width = 28) {
    std::vector<std::uint8_t> out(n * height * width);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t p = 0; p < height * width; ++p)
            out[i * height * width + p] = static_cast<std::uint8_t>((i * 31 + p) % 256);
    return out;
}

std::vector<std::uint8_t> fake_labels(std::size_t n, std::size_t offset = 0) {
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((i + offset) % 10);
    return out;
}

// A complete fake dataset in `dir`: 5 training and 3 test images; the training files are
// gzip, the test files raw and named without .gz (both forms must be found).
void write_fake_dataset(const fs::path& dir, std::size_t train = 5, std::size_t test = 3) {
    fs::create_directories(dir);
    io::write_idx_u8(dir / "train-images-idx3-ubyte.gz", {train, 28, 28}, fake_images(train), true);
    io::write_idx_u8(dir / "train-labels-idx1-ubyte.gz", {train}, fake_labels(train), true);
    io::write_idx_u8(dir / "t10k-images-idx3-ubyte", {test, 28, 28}, fake_images(test), false);
    io::write_idx_u8(dir / "t10k-labels-idx1-ubyte", {test}, fake_labels(test, 7), false);
}

void check_fake_dataset(const data::ImageDataset& d, std::size_t train = 5, std::size_t test = 3) {
    REQUIRE(d.train_images.batch() == train);
    REQUIRE(d.train_labels.batch() == train);
    REQUIRE(d.test_images.batch() == test);
    REQUIRE(d.test_labels.batch() == test);
    const auto pixels = fake_images(train);
    bool pixels_ok = true;
    for (std::size_t k = 0; k < pixels.size(); ++k)
        pixels_ok = pixels_ok && d.train_images[k] == static_cast<float>(pixels[k]) / 255.0f;
    CHECK(pixels_ok);
    CHECK(d.train_images[0] == 0.0f);
    CHECK(d.train_images[255] == 1.0f);
    CHECK(d.train_images[51] == static_cast<float>(51) / 255.0f);
    CHECK(d.test_images.sample(2)[0] == static_cast<float>(62) / 255.0f);
    CHECK(d.train_labels[4] == 4.0f);
    CHECK(d.test_labels[0] == 7.0f);
    CHECK(d.test_labels[2] == 9.0f);
}

}  // namespace

TEST_CASE("one_hot of byte labels") {
    const std::vector<std::uint8_t> labels = {2, 0, 9, 2};
    const Tensor<Shape<10>> y = data::one_hot<10>(labels);
    REQUIRE(y.batch() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        const auto row = y.sample(i);
        CHECK(std::accumulate(row.begin(), row.end(), 0.0f) == 1.0f);
        CHECK(row[labels[i]] == 1.0f);
    }
    CHECK(data::one_hot<3>(std::span<const std::uint8_t>{}).batch() == 0);
    const std::vector<std::uint8_t> bad = {1, 2, 3, 10};
    CHECK_ERROR(value_error, data::one_hot<10>(bad), "latent.data.one_hot",
                "label 3 is 10, outside the classes for one_hot<10> (classes 0 to 9)");
    CHECK_THROWS_AS(data::one_hot<3>(std::vector<std::uint8_t>{3}), value_error);
    CHECK_NOTHROW(data::one_hot<3>(std::vector<std::uint8_t>{2}));
}

TEST_CASE("one_hot of class indices stored as float") {
    const Tensor<Shape<1>> labels(3, {1.0f, 0.0f, 4.0f});
    const auto y = data::one_hot<5>(labels);
    REQUIRE(y.batch() == 3);
    const std::vector<float> expected = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(std::vector<float>(y.values().begin(), y.values().end()) == expected);
    // Views, mutable and read-only, work too.
    Tensor<Shape<1>> mutable_labels(3, {1.0f, 0.0f, 4.0f});
    CHECK(data::one_hot<5>(mutable_labels.view())[1] == 1.0f);
    CHECK(data::one_hot<5>(labels.view())[1] == 1.0f);

    const auto bad = [](float v) { return Tensor<Shape<1>>(2, {0.0f, v}); };
    CHECK_ERROR(value_error, data::one_hot<5>(bad(5.0f)), "latent.data.one_hot",
                "label 1 is 5, outside the classes for one_hot<5> (classes 0 to 4)");
    CHECK_ERROR(value_error, data::one_hot<5>(bad(-1.0f)), "latent.data.one_hot",
                "label 1 is -1, negative for one_hot<5>");
    CHECK_ERROR(value_error, data::one_hot<5>(bad(1.5f)), "latent.data.one_hot",
                "label 1 is 1.5, not a whole number for one_hot<5>");
    CHECK_ERROR(value_error, data::one_hot<5>(bad(std::numeric_limits<float>::quiet_NaN())), "latent.data.one_hot",
                "not a finite number");
    CHECK_ERROR(value_error, data::one_hot<5>(bad(std::numeric_limits<float>::infinity())), "latent.data.one_hot",
                "label 1 is inf");
}

TEST_CASE("BatchSampler covers every index once per epoch, short last batch") {
    data::BatchSampler s(10, 3, true, 42);
    CHECK(s.count() == 10);
    CHECK(s.batch_size() == 3);
    CHECK(s.shuffles());
    REQUIRE(s.batches() == 4);
    CHECK(s.batch(0).size() == 3);
    CHECK(s.batch(2).size() == 3);
    CHECK(s.batch(3).size() == 1);
    CHECK(s.batch_length(3) == 1);
    for (int epoch = 0; epoch < 5; ++epoch) {
        CHECK(s.epoch() == static_cast<std::size_t>(epoch));
        std::vector<std::size_t> seen;
        for (std::size_t b = 0; b < s.batches(); ++b)
            for (const std::size_t i : s.batch(b)) seen.push_back(i);
        CHECK(std::vector<std::size_t>(s.order().begin(), s.order().end()) == seen);
        std::sort(seen.begin(), seen.end());
        std::vector<std::size_t> all(10);
        std::iota(all.begin(), all.end(), std::size_t{0});
        CHECK(seen == all);
        s.next_epoch();
    }
    CHECK_ERROR(value_error, s.batch(4), "latent.data.batch",
                "batch 4 does not exist: 10 samples in batches of 3 make 4 batches");

    data::BatchSampler exact(12, 4, false);
    CHECK(exact.batches() == 3);
    CHECK(exact.batch(2).size() == 4);
    data::BatchSampler one(5, 100, false);
    CHECK(one.batches() == 1);
    CHECK(one.batch(0).size() == 5);
    data::BatchSampler none(0, 8);
    CHECK(none.batches() == 0);
    CHECK_THROWS_AS(none.batch(0), value_error);
}

TEST_CASE("BatchSampler: seeded, reshuffled every epoch, identity without shuffle") {
    const auto orders = [](data::BatchSampler s, int epochs) {
        std::vector<std::vector<std::size_t>> out;
        for (int e = 0; e < epochs; ++e, s.next_epoch()) out.emplace_back(s.order().begin(), s.order().end());
        return out;
    };
    const auto a = orders(data::BatchSampler(50, 7, true, 1), 3);
    const auto b = orders(data::BatchSampler(50, 7, true, 1), 3);
    const auto c = orders(data::BatchSampler(50, 7, true, 2), 3);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a[0] != a[1]);
    CHECK(a[1] != a[2]);
    std::vector<std::size_t> identity(50);
    std::iota(identity.begin(), identity.end(), std::size_t{0});
    CHECK(a[0] != identity);
    for (const auto& order : orders(data::BatchSampler(50, 7, false, 1), 3)) CHECK(order == identity);

    // A shared generator: the sampler draws from it, so equal seeds give equal orders and the
    // caller's generator advances.
    Generator g1(9), g2(9);
    data::BatchSampler s1(20, 5, true, g1), s2(20, 5, true, g2);
    CHECK(std::equal(s1.order().begin(), s1.order().end(), s2.order().begin()));
    CHECK(g1 == g2);
    CHECK(g1 != Generator(9));
    s1.next_epoch();
    CHECK(g1 != g2);

    CHECK_ERROR(value_error, data::BatchSampler(10, 0), "latent.data.batch_size",
                "batch_size is 0, expected at least 1");
    CHECK_THROWS_AS(data::BatchSampler(10, 0, true, g1), value_error);
}

TEST_CASE("gather copies the chosen samples in order") {
    Tensor<Shape<2, 2>> x(4);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
    const std::vector<std::size_t> indices = {3, 0, 3};
    std::vector<float> to(3 * 4, -1.0f);
    data::gather(x, indices, to.data());
    CHECK(to == std::vector<float>{12, 13, 14, 15, 0, 1, 2, 3, 12, 13, 14, 15});
    std::fill(to.begin(), to.end(), -1.0f);
    data::gather(TensorView<Shape<2, 2>, const float>(x.view()), indices, to.data());
    CHECK(to[4] == 0.0f);
    std::fill(to.begin(), to.end(), -1.0f);
    data::gather(x.view(), std::span<const std::size_t>(indices).first(1), to.data());
    CHECK(to[3] == 15.0f);
    CHECK(to[4] == -1.0f);

    const Tensor<Shape<2, 2>> g = data::gather(x, indices);
    REQUIRE(g.batch() == 3);
    CHECK(g.sample(1)[1] == 1.0f);
    CHECK(g.sample(2)[3] == 15.0f);

    // Through a sampler's batches: every sample lands once.
    data::BatchSampler s(4, 3, true, 5);
    std::vector<float> firsts;
    for (std::size_t b = 0; b < s.batches(); ++b) {
        const auto batch = data::gather(x, s.batch(b));
        for (std::size_t i = 0; i < batch.batch(); ++i) firsts.push_back(batch.sample(i)[0]);
    }
    std::sort(firsts.begin(), firsts.end());
    CHECK(firsts == std::vector<float>{0, 4, 8, 12});

    const std::vector<std::size_t> bad = {1, 4};
    CHECK_ERROR(value_error, data::gather(x, bad, to.data()), "latent.data.gather",
                "index 1 is 4, outside a batch of 4 samples");
}

TEST_CASE("data_dir is $LATENT_DATA, else data/") {
    {
        ScopedDataEnv env(std::nullopt);
        CHECK(data::data_dir() == fs::path("data"));
    }
    {
        ScopedDataEnv env(std::string(""));
        CHECK(data::data_dir() == fs::path("data"));
    }
    {
        ScopedDataEnv env(std::string("/somewhere/else"));
        CHECK(data::data_dir() == fs::path("/somewhere/else"));
    }
}

TEST_CASE("load_mnist and load_fashion_mnist read a tiny fake dataset") {
    const fs::path root = fresh_dir("fake");
    write_fake_dataset(root / "mnist");
    write_fake_dataset(root / "fashion-mnist");
    check_fake_dataset(data::load_mnist(root / "mnist"));
    check_fake_dataset(data::load_fashion_mnist(root / "fashion-mnist"));
    // The defaults look under $LATENT_DATA.
    ScopedDataEnv env(root.string());
    check_fake_dataset(data::load_mnist());
    check_fake_dataset(data::load_fashion_mnist());
}

TEST_CASE("missing datasets say how to get them") {
    const fs::path root = fresh_dir("missing");
    CHECK_ERROR(io_error, data::load_mnist(root / "mnist"), "latent.data.missing", "scripts/fetch-data");
    CHECK_ERROR(io_error, data::load_mnist(root / "mnist"), "latent.data.missing", "LATENT_DATA");
    CHECK_ERROR(io_error, data::load_mnist(root / "mnist"), "latent.data.missing",
                (root / "mnist").string() + ": MNIST is not there");
    // One file missing out of four is named.
    write_fake_dataset(root / "partial");
    fs::remove(root / "partial" / "t10k-labels-idx1-ubyte");
    CHECK_ERROR(io_error, data::load_fashion_mnist(root / "partial"), "latent.data.missing",
                "(missing t10k-labels-idx1-ubyte(.gz))");
    {
        ScopedDataEnv env(root.string());
        CHECK_ERROR(io_error, data::load_mnist(), "latent.data.missing", "LATENT_DATA is \"" + root.string() + "\"");
        // The default Fashion-MNIST falls back to Debian's package when it is installed.
        if (data::detail::has_idx_dataset(data::debian_fashion_mnist_dir())) {
            const auto d = data::load_fashion_mnist();
            CHECK(d.train_images.batch() == 60000);
            CHECK(d.test_images.batch() == 10000);
            CHECK(d.train_labels[0] == 9.0f);  // the first training image is an ankle boot
        } else {
            CHECK_ERROR(io_error, data::load_fashion_mnist(), "latent.data.missing",
                        "/usr/share/datasets/fashion-mnist");
        }
    }
}

TEST_CASE("inconsistent datasets are rejected naming the file") {
    const fs::path root = fresh_dir("bad");
    const auto make = [&](const std::string& name) {
        const fs::path dir = root / name;
        write_fake_dataset(dir);
        return dir;
    };
    {
        const fs::path dir = make("count");
        io::write_idx_u8(dir / "train-labels-idx1-ubyte.gz", {4}, fake_labels(4), true);
        CHECK_ERROR(
            shape_error, data::load_mnist(dir), "latent.data.count",
            "train-labels-idx1-ubyte.gz: has 4 labels, expected one per image of train-images-idx3-ubyte.gz (5)");
    }
    {
        const fs::path dir = make("image-dims");
        io::write_idx_u8(dir / "t10k-images-idx3-ubyte", {3, 28, 27}, fake_images(3, 28, 27));
        CHECK_ERROR(shape_error, data::load_fashion_mnist(dir), "latent.data.shape",
                    "t10k-images-idx3-ubyte: expected images of dims (n, 28, 28), file has (3, 28, 27)");
    }
    {
        const fs::path dir = make("image-rank");
        io::write_idx_u8(dir / "t10k-images-idx3-ubyte", {3, 784}, fake_images(3));
        CHECK_ERROR(shape_error, data::load_mnist(dir), "latent.data.shape", "file has (3, 784)");
    }
    {
        const fs::path dir = make("label-dims");
        io::write_idx_u8(dir / "t10k-labels-idx1-ubyte", {3, 1}, fake_labels(3));
        CHECK_ERROR(shape_error, data::load_mnist(dir), "latent.data.shape",
                    "t10k-labels-idx1-ubyte: expected labels of dims (n,), file has (3, 1)");
    }
    {
        const fs::path dir = make("label-value");
        auto labels = fake_labels(5);
        labels[3] = 10;
        io::write_idx_u8(dir / "train-labels-idx1-ubyte.gz", {5}, labels, true);
        CHECK_ERROR(io_error, data::load_mnist(dir), "latent.data.label",
                    "train-labels-idx1-ubyte.gz: label 3 is 10, expected a class in [0, 10)");
    }
    {
        const fs::path dir = make("type");
        const std::vector<std::byte> payload(3 * 28 * 28 * 4);
        io::write_idx(dir / "t10k-images-idx3-ubyte", io::IdxType::f32, {3, 28, 28}, payload);
        CHECK_ERROR(io_error, data::load_mnist(dir), "latent.data.type",
                    "t10k-images-idx3-ubyte: expected images of type u8, file has f32");
    }
    {
        const fs::path dir = make("corrupt");
        fs::resize_file(dir / "t10k-images-idx3-ubyte", 100);
        CHECK_ERROR(io_error, data::load_mnist(dir), "latent.io.idx.length",
                    "t10k-images-idx3-ubyte: dims (3, 28, 28)");
    }
}
