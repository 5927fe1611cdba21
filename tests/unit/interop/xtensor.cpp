// xtensor in and out: predict, fit and evaluate on xtensor containers (row-major in place,
// column-major, strided, lazy and double copied), the run-time shape errors, and the views both
// ways (as_xtensor, as_tensor_view, to_tensor).
#include <doctest/doctest.h>

#include <vector>

#include <latent/latent.hpp>
#include <latent/interop/xtensor.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "support/messages.hpp"

using namespace latent;

namespace {
using Net = Sequential<Input<2, 3>, Flatten, Dense<4>, Tanh, Dense<3>, Softmax>;

// n samples of shape (2, 3) with distinct values, as a latent tensor and an xtensor.
Tensor<Shape<2, 3>> samples(std::size_t n) {
    Tensor<Shape<2, 3>> x(n);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 11) / 5.0f - 1.0f;
    return x;
}
xt::xtensor<float, 3> as_xt(const Tensor<Shape<2, 3>>& t) {
    xt::xtensor<float, 3> x = xt::zeros<float>({t.batch(), std::size_t{2}, std::size_t{3}});
    std::copy(t.data(), t.data() + t.size(), x.data());
    return x;
}
template <class T>
std::vector<float> values_of(const T& t) {
    return std::vector<float>(t.data(), t.data() + t.size());
}
}  // namespace

TEST_CASE("predict takes xtensor containers, views and expressions, and agrees with latent tensors") {
    Net net(7);
    const auto x = samples(5);
    const auto expected = values_of(net.predict(x));

    const xt::xtensor<float, 3> row_major = as_xt(x);
    CHECK(values_of(net.predict(row_major)) == expected);
    const xt::xarray<float> dynamic = row_major;
    CHECK(values_of(net.predict(dynamic)) == expected);

    // Another memory order, another element type, a strided view and a lazy expression are
    // read element by element in row-major order.
    const xt::xtensor<float, 3, xt::layout_type::column_major> column_major = row_major;
    CHECK(values_of(net.predict(column_major)) == expected);
    const xt::xarray<double> doubles = xt::cast<double>(row_major);
    CHECK(values_of(net.predict(doubles)) == expected);
    CHECK(values_of(net.predict(row_major * 1.0f)) == expected);
    const xt::xtensor<float, 3> wide = xt::concatenate(xt::xtuple(row_major, row_major), 2);  // (5, 2, 6)
    const auto every_other = xt::view(wide, xt::all(), xt::all(), xt::range(0, 6, 2));
    std::vector<float> strided_expected;
    {
        Tensor<Shape<2, 3>> picked(5);
        for (std::size_t b = 0; b < 5; ++b)
            for (std::size_t r = 0; r < 2; ++r)
                for (std::size_t c = 0; c < 3; ++c) picked[b * 6 + r * 3 + c] = wide(b, r, 2 * c);
        strided_expected = values_of(net.predict(picked));
    }
    CHECK(values_of(net.predict(every_other)) == strided_expected);

    // One sample: an xtensor_fixed of the sample shape, or an array of that shape.
    xt::xtensor_fixed<float, xt::xshape<2, 3>> one;
    std::copy(x.data(), x.data() + 6, one.data());
    const auto single = net.predict(one);
    REQUIRE(single.batch() == 1);
    CHECK(std::vector<float>(single.data(), single.data() + 3) == std::vector<float>(expected.begin(), expected.begin() + 3));
    xt::xtensor_fixed<float, xt::xshape<5, 2, 3>> fixed_batch;
    std::copy(x.data(), x.data() + x.size(), fixed_batch.data());
    CHECK(values_of(net.predict(fixed_batch)) == expected);
}

TEST_CASE("an xtensor array of another shape is a shape_error naming both shapes") {
    Net net(1);
    const xt::xarray<float> transposed = xt::zeros<float>({4, 3, 2});
    LATENT_CHECK_ERROR(shape_error, net.predict(transposed), "latent.interop.shape",
                       "needs an array of shape (n, 2, 3) (n samples of shape (2, 3)) or (2, 3) (one sample), got an "
                       "array of shape (4, 3, 2)");
    const xt::xtensor<float, 2> flat = xt::zeros<float>({4, 6});
    LATENT_CHECK_ERROR(shape_error, net.predict(flat), "latent.interop.shape", "got an array of shape (4, 6)");

    net.compile(optim::SGD{.lr = 0.1}, loss::SparseCategoricalCrossentropy{});
    const xt::xtensor<float, 3> inputs = as_xt(samples(4));
    const xt::xtensor<float, 2> two_per_sample = xt::zeros<float>({4, 2});
    LATENT_CHECK_ERROR(shape_error, net.fit(inputs, two_per_sample), "latent.interop.labels",
                       "the labels need 3 values per sample (the output shape (3,)) or 1 (a class index), got an "
                       "array of shape (4, 2)");
    const xt::xtensor<float, 1> too_few = xt::zeros<float>({3});
    LATENT_CHECK_ERROR(shape_error, net.fit(inputs, too_few), "latent.train.batch", "fit got 4 inputs but 3 labels");
}

TEST_CASE("fit, evaluate and train_on_batch on xtensor data train exactly as on latent tensors") {
    const auto x = samples(24);
    Tensor<Shape<1>> classes(24);
    Tensor<Shape<3>> one_hot(24);
    for (std::size_t i = 0; i < 24; ++i) {
        classes[i] = static_cast<float>(i % 3);
        one_hot[3 * i + i % 3] = 1.0f;
    }
    const FitOptions options{.epochs = 3, .batch_size = 8, .verbose = Verbosity::silent};
    const auto weights = [](const Net& n) {
        return std::vector<float>(n.parameters().values().begin(), n.parameters().values().end());
    };

    Net reference(3), sparse(3), dense(3), column(3);
    reference.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
    sparse.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
    dense.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::CategoricalCrossentropy{});
    column.compile(optim::SGD{.lr = 0.1, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
    reference.fit(x, classes, options);

    const xt::xtensor<float, 3> inputs = as_xt(x);
    xt::xtensor<float, 1> labels = xt::zeros<float>({std::size_t{24}});
    xt::xtensor<float, 2> hot = xt::zeros<float>({std::size_t{24}, std::size_t{3}});
    for (std::size_t i = 0; i < 24; ++i) {
        labels(i) = static_cast<float>(i % 3);
        hot(i, i % 3) = 1.0f;
    }
    sparse.fit(inputs, labels, options);
    CHECK(weights(sparse) == weights(reference));
    dense.fit(inputs, hot, options);  // one-hot with categorical cross-entropy is the same loss
    const auto w_dense = weights(dense);
    const auto w_reference = weights(reference);
    for (std::size_t i = 0; i < w_dense.size(); ++i) CHECK(w_dense[i] == doctest::Approx(w_reference[i]).epsilon(1e-4));
    const xt::xtensor<float, 3, xt::layout_type::column_major> inputs_cm = inputs;
    column.fit(inputs_cm, classes, options);  // an xtensor input with latent labels
    CHECK(weights(column) == weights(reference));

    CHECK(sparse.evaluate(inputs, labels).at("loss") == reference.evaluate(x, classes).at("loss"));
    CHECK(sparse.train_on_batch(inputs, labels) == reference.train_on_batch(x, classes));
}

TEST_CASE("a functional model takes xtensor data too") {
    auto in = input<2, 3>("in");
    auto out = Softmax{}(Dense<3>{}(Flatten{}(in)));
    Model model(in, out);
    const auto x = samples(6);
    const xt::xtensor<float, 3> xs = as_xt(x);
    CHECK(values_of(model.predict(xs)) == values_of(model.predict(x)));
    model.compile(optim::SGD{.lr = 0.1}, loss::SparseCategoricalCrossentropy{});
    const xt::xtensor<float, 1> labels = {0.0f, 1.0f, 2.0f, 0.0f, 1.0f, 2.0f};
    CHECK(std::isfinite(model.evaluate(xs, labels).at("loss")));
    model.fit(xs, labels, {.epochs = 1, .batch_size = 3, .verbose = Verbosity::silent});
}

TEST_CASE("latent tensors as xtensor arrays and xtensor arrays as latent views, without copies") {
    Tensor<Shape<2, 3>> t = samples(2);
    auto view = interop::as_xtensor(t);
    CHECK(view.shape().size() == 3);
    CHECK(view.shape()[0] == 2);
    CHECK(view.shape()[2] == 3);
    CHECK(view(1, 0, 2) == t[6 + 2]);
    view(1, 1, 1) = 42.0f;  // writes go to the tensor
    CHECK(t[6 + 3 + 1] == 42.0f);
    CHECK(view.data() == t.data());

    // A temporary is taken over, not copied (its values stay where predict put them).
    Net net(2);
    const auto expected = values_of(net.predict(t));
    auto owned = interop::as_xtensor(net.predict(t));
    CHECK(owned.shape()[0] == 2);
    CHECK(owned.shape()[1] == 3);
    CHECK(std::vector<float>(owned.begin(), owned.end()) == expected);

    xt::xtensor<float, 3> data = as_xt(samples(3));
    const auto as_view = interop::as_tensor_view<Shape<2, 3>>(data);
    CHECK(as_view.data() == data.data());
    CHECK(as_view.batch() == 3);
    auto writable = interop::as_tensor_view<Shape<2, 3>>(data);
    writable[0] = -5.0f;
    CHECK(data(0, 0, 0) == -5.0f);

    const xt::xtensor<float, 3, xt::layout_type::column_major> column_major = data;
    LATENT_CHECK_ERROR(value_error, (interop::as_tensor_view<Shape<2, 3>>(column_major)), "latent.interop.layout",
                       "is column-major, strided or of another element type");
    LATENT_CHECK_ERROR(shape_error, (interop::as_tensor_view<Shape<3, 2>>(data)), "latent.interop.shape",
                       "needs an array of shape (n, 3, 2) or (3, 2), got (3, 2, 3)");
    const auto copied = interop::to_tensor<Shape<2, 3>>(column_major);
    CHECK(copied.data() != data.data());
    CHECK(values_of(copied) == std::vector<float>(data.begin(), data.end()));
}
