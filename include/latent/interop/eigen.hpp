// Eigen in and out: predict, fit and evaluate take Eigen matrices, maps and expressions with one
// sample per row (RowMajor viewed in place, ColMajor copied in the right order), and latent
// tensors are viewable as Eigen::Map matrices. CMake: latent::eigen.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "../core/batch_source.hpp"
#include "../core/diagnostics.hpp"
#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"

namespace latent {
namespace interop {

// The shape of an Eigen matrix type as a diagnostic names it (Eigen::Dynamic is -1).
template <int Rows, int Cols>
struct eigen_matrix {};

// Rows x Cols float matrices, row-major where that is allowed (Eigen keeps vectors of one
// column column-major): the type through which latent batches are seen.
template <int Cols>
using eigen_batch = Eigen::Matrix<float, Eigen::Dynamic, Cols, Cols == 1 ? Eigen::ColMajor : Eigen::RowMajor>;

namespace detail {
// True when x's element (r, c) is at x.data()[r * cols + c] (inner and outer strides of
// both storage orders).
template <class X>
bool eigen_rows_contiguous(const X& x) {
    const auto row_step = X::IsRowMajor ? x.outerStride() : x.innerStride();
    const auto col_step = X::IsRowMajor ? x.innerStride() : x.outerStride();
    return (x.cols() <= 1 || col_step == 1) && (x.rows() <= 1 || row_step == x.cols());
}
}  // namespace detail
}  // namespace interop

// Any Eigen dense expression: one sample per row, S flattened in C order along the columns.
template <class X>
    requires(std::is_base_of_v<Eigen::DenseBase<X>, X>)
struct batch_adapter<X> {
    static constexpr bool rows_are_samples = true;

    static std::vector<std::size_t> dims(const X& x) {
        return {static_cast<std::size_t>(x.rows()), static_cast<std::size_t>(x.cols())};
    }

    static const float* contiguous(const X& x) {
        if constexpr (std::is_same_v<typename X::Scalar, float> && (X::Flags & Eigen::DirectAccessBit) != 0) {
            if (interop::detail::eigen_rows_contiguous(x)) return x.data();
        }
        return nullptr;
    }

    static void copy_row_major(const X& x, float* out) {
        using RowMajorMap = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
        RowMajorMap(out, x.rows(), x.cols()) = x.template cast<float>();
    }

    // A matrix type whose column count is fixed must have the sample's element count.
    template <class Net, shape_type S>
    static constexpr void check_fixed() {
        constexpr int cols = X::ColsAtCompileTime;
        if constexpr (cols != Eigen::Dynamic && cols != static_cast<int>(S::size))
            (void)sizeof(input_batch_mismatch<Net, got<interop::eigen_matrix<X::RowsAtCompileTime, cols>>, expected<S>>);
    }
};

namespace interop {

// A latent batch as a (batch x S::size) Eigen matrix sharing its memory; the tensor must
// outlive the map. A temporary tensor is refused (the map would dangle): use to_eigen.
template <shape_type S>
Eigen::Map<eigen_batch<static_cast<int>(S::size)>> as_eigen(Tensor<S>& t) {
    return {t.data(), static_cast<Eigen::Index>(t.batch()), static_cast<Eigen::Index>(S::size)};
}
template <shape_type S>
Eigen::Map<const eigen_batch<static_cast<int>(S::size)>> as_eigen(const Tensor<S>& t) {
    return {t.data(), static_cast<Eigen::Index>(t.batch()), static_cast<Eigen::Index>(S::size)};
}
template <shape_type S, class T>
auto as_eigen(TensorView<S, T> t) {
    using Matrix = std::conditional_t<std::is_const_v<T>, const eigen_batch<static_cast<int>(S::size)>,
                                      eigen_batch<static_cast<int>(S::size)>>;
    return Eigen::Map<Matrix>(t.data(), static_cast<Eigen::Index>(t.batch()), static_cast<Eigen::Index>(S::size));
}
template <shape_type S>
void as_eigen(Tensor<S>&& t) = delete;

// A copy of the batch as an Eigen matrix of its own.
template <shape_type S>
eigen_batch<static_cast<int>(S::size)> to_eigen(const Tensor<S>& t) {
    return as_eigen(t);
}

// Contiguous row-major float rows as a latent view, no copy; anything else is refused (to_tensor
// copies it).
template <shape_type S, class X>
    requires(std::is_base_of_v<Eigen::DenseBase<X>, X>)
TensorView<S, const float> as_tensor_view(const X& x) {
    const auto dims = batch_adapter<X>::dims(x);
    if (dims[1] != S::size)
        throw shape_error("latent.interop.shape", "as_tensor_view<" + S::to_string() + "> needs " +
                                                      std::to_string(S::size) + " columns (one sample per row), got " +
                                                      format_shape(dims));
    const float* data = batch_adapter<X>::contiguous(x);
    if (!data)
        throw value_error("latent.interop.layout",
                          "as_tensor_view needs float rows stored one after another (RowMajor, or a single column); "
                          "this matrix of shape " + format_shape(dims) + " is column-major, strided or not float. "
                          "Copy it with latent::interop::to_tensor<S>(x) instead");
    return {data, dims[0]};
}

// Any Eigen expression (either storage order, any scalar) copied into a latent tensor.
template <shape_type S, class X>
    requires(std::is_base_of_v<Eigen::DenseBase<X>, X>)
Tensor<S> to_tensor(const X& x) {
    return latent::detail::adapted_copy<S>(x, "to_tensor<" + S::to_string() + ">");
}

}  // namespace interop
}  // namespace latent
