// Eigen in and out: one sample per row, RowMajor viewed in place and ColMajor copied in the right
// order (the classic misreading), maps, blocks and double matrices, run-time shape errors, and
// latent tensors as Eigen maps.
#include <doctest/doctest.h>

#include <vector>

#include <latent/latent.hpp>
#include <latent/interop/eigen.hpp>

#include "support/messages.hpp"

using namespace latent;

namespace {
using Net = Sequential<Input<2, 3>, Flatten, Dense<4>, Tanh, Dense<3>, Softmax>;
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Tensor<Shape<2, 3>> samples(std::size_t n) {
    Tensor<Shape<2, 3>> x(n);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 11) / 5.0f - 1.0f;
    return x;
}
RowMajor rows_of(const Tensor<Shape<2, 3>>& t) {
    RowMajor m(static_cast<Eigen::Index>(t.batch()), 6);
    for (std::size_t b = 0; b < t.batch(); ++b)
        for (std::size_t j = 0; j < 6; ++j) m(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(j)) = t[b * 6 + j];
    return m;
}
template <class T>
std::vector<float> values_of(const T& t) {
    return std::vector<float>(t.data(), t.data() + t.size());
}
}  // namespace

TEST_CASE("predict takes Eigen matrices of either storage order, maps and blocks, one sample per row") {
    Net net(5);
    const auto x = samples(4);
    const auto expected = values_of(net.predict(x));

    const RowMajor row_major = rows_of(x);
    CHECK(values_of(net.predict(row_major)) == expected);
    const Eigen::MatrixXf column_major = row_major;  // same matrix, column-major memory
    CHECK(values_of(net.predict(column_major)) == expected);
    const Eigen::MatrixXd doubles = row_major.cast<double>();
    CHECK(values_of(net.predict(doubles)) == expected);
    const Eigen::Map<const RowMajor> map(row_major.data(), 4, 6);
    CHECK(values_of(net.predict(map)) == expected);
    CHECK(values_of(net.predict(column_major.topRows(2))) ==
          std::vector<float>(expected.begin(), expected.begin() + 6));
    const Eigen::Matrix<float, Eigen::Dynamic, 6, Eigen::RowMajor> fixed_columns = row_major;
    CHECK(values_of(net.predict(fixed_columns)) == expected);
    CHECK(values_of(net.predict(row_major.transpose().transpose())) == expected);
}

TEST_CASE("an Eigen matrix with another column count is a shape_error naming both shapes") {
    Net net(1);
    const Eigen::MatrixXf wrong(3, 5);
    LATENT_CHECK_ERROR(shape_error, net.predict(wrong), "latent.interop.shape",
                       "needs a matrix of one sample per row and 6 columns (samples of shape (2, 3), flattened in C "
                       "order), got an array of shape (3, 5)");
}

TEST_CASE("fit and evaluate on Eigen data train exactly as on latent tensors") {
    const auto x = samples(12);
    Tensor<Shape<1>> classes(12);
    Eigen::VectorXf labels(12);
    for (std::size_t i = 0; i < 12; ++i) {
        classes[i] = static_cast<float>(i % 3);
        labels(static_cast<Eigen::Index>(i)) = static_cast<float>(i % 3);
    }
    const FitOptions options{.epochs = 2, .batch_size = 4, .verbose = Verbosity::silent};
    Net reference(9), from_eigen(9);
    reference.compile(optim::Adam{.lr = 0.01}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    from_eigen.compile(optim::Adam{.lr = 0.01}, loss::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    reference.fit(x, classes, options);
    const Eigen::MatrixXf inputs = rows_of(x);  // column-major: copied in row order
    from_eigen.fit(inputs, labels, options);
    CHECK(std::equal(reference.parameters().values().begin(), reference.parameters().values().end(),
                     from_eigen.parameters().values().begin()));
    CHECK(from_eigen.evaluate(inputs, labels) == reference.evaluate(x, classes));
}

TEST_CASE("latent tensors as Eigen maps and row-major Eigen data as latent views, without copies") {
    Tensor<Shape<2, 3>> t = samples(3);
    auto map = interop::as_eigen(t);
    CHECK(map.rows() == 3);
    CHECK(map.cols() == 6);
    CHECK(map.data() == t.data());
    CHECK(map(2, 4) == t[2 * 6 + 4]);
    map(1, 0) = 7.0f;
    CHECK(t[6] == 7.0f);
    const Eigen::MatrixXf owned = interop::to_eigen(t);
    CHECK(owned(1, 0) == 7.0f);

    Tensor<Shape<1>> scalars(4, {1.0f, 2.0f, 3.0f, 4.0f});
    CHECK(interop::as_eigen(scalars).sum() == 10.0f);  // one column: a column vector

    RowMajor rows = rows_of(samples(2));
    const auto view = interop::as_tensor_view<Shape<2, 3>>(rows);
    CHECK(view.data() == rows.data());
    CHECK(view.batch() == 2);
    const Eigen::MatrixXf column_major = rows;
    LATENT_CHECK_ERROR(value_error, (interop::as_tensor_view<Shape<2, 3>>(column_major)), "latent.interop.layout",
                       "is column-major, strided or not float");
    LATENT_CHECK_ERROR(shape_error, (interop::as_tensor_view<Shape<7>>(rows)), "latent.interop.shape",
                       "needs 7 columns (one sample per row), got (2, 6)");
    const auto copied = interop::to_tensor<Shape<2, 3>>(column_major);
    CHECK(values_of(copied) == std::vector<float>(rows.data(), rows.data() + rows.size()));
}
