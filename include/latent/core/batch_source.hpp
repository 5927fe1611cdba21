// Batches held by other libraries' arrays (xtensor, Eigen): the adapter point that
// latent/interop/*.hpp specialize, and the shared rules that turn such an array into a
// TensorView of the model's sample shape, zero-copy where the memory layout allows.
#pragma once

#include <algorithm>
#include <concepts>
#include <span>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "errors.hpp"
#include "shape.hpp"
#include "tensor.hpp"

namespace latent {

// Specialized by the interop headers; a type without a specialization is not adapted. A
// specialization provides
//   static constexpr bool rows_are_samples;  // true: a matrix, one flattened sample per row (Eigen)
//   static std::vector<std::size_t> dims(const X&);      // the array's shape
//   static const float* contiguous(const X&);            // row-major float data, else nullptr
//   static void copy_row_major(const X&, float* out);    // every element, as float, in C order
//   template <class Net, shape_type S> static constexpr void check_fixed();  // compile-time shapes
template <class X>
struct batch_adapter;

template <class X>
concept adapted_batch = !float_batch<X> && requires(const std::remove_cvref_t<X>& x, float* out) {
    { batch_adapter<std::remove_cvref_t<X>>::dims(x) } -> std::same_as<std::vector<std::size_t>>;
    { batch_adapter<std::remove_cvref_t<X>>::contiguous(x) } -> std::same_as<const float*>;
    batch_adapter<std::remove_cvref_t<X>>::copy_row_major(x, out);
};

// What predict, fit and evaluate take: latent tensors, or an adapted array.
template <class X>
concept batch_source = float_batch<X> || adapted_batch<X>;

namespace detail {

inline constexpr std::size_t no_samples = static_cast<std::size_t>(-1);

// How many samples of shape S an array of `dims` holds, or no_samples when it holds none.
// Arrays: (n, S...) is n samples and S itself one sample; a rank-1 array of n scalars is n
// samples of Shape<1>. Matrices (rows_are_samples): n rows of S::size columns.
template <shape_type S>
std::size_t samples_in(const std::vector<std::size_t>& dims, bool rows_are_samples) {
    if (rows_are_samples) return dims.size() == 2 && dims[1] == S::size ? dims[0] : no_samples;
    if (dims.size() == S::rank + 1 && std::equal(S::dims.begin(), S::dims.end(), dims.begin() + 1)) return dims[0];
    if (dims.size() == S::rank && std::equal(S::dims.begin(), S::dims.end(), dims.begin())) return 1;
    if (dims.size() == 1 && std::is_same_v<S, Shape<1>>) return dims[0];
    return no_samples;
}

// Elements per sample of an array whose first axis (or rows) counts samples.
inline std::size_t per_sample_size(const std::vector<std::size_t>& dims) {
    std::size_t size = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) size *= dims[i];
    return size;
}

// "(n, 28, 28, 1)": the shape of a batch of S, for messages.
template <shape_type S>
std::string batch_shape_text() {
    std::string out = "(n";
    for (std::size_t d : S::dims) out += ", " + std::to_string(d);
    return out + ")";
}

// x as samples of shape S: a view of x's memory when it is float and row-major contiguous,
// else of `copy`, filled from x in C order. `role` names the argument in messages.
template <shape_type S, adapted_batch X>
TensorView<S, const float> adapted_view(const X& x, Tensor<S>& copy, const std::string& role) {
    using A = batch_adapter<std::remove_cvref_t<X>>;
    const std::vector<std::size_t> dims = A::dims(x);
    const std::size_t n = samples_in<S>(dims, A::rows_are_samples);
    if (n == no_samples) {
        const std::string want = A::rows_are_samples
                                     ? "a matrix of one sample per row and " + std::to_string(S::size) +
                                           " columns (samples of shape " + S::to_string() + ", flattened in C order)"
                                     : "an array of shape " + batch_shape_text<S>() + " (n samples of shape " +
                                           S::to_string() + ") or " + S::to_string() + " (one sample)";
        throw shape_error("latent.interop.shape", role + " needs " + want + ", got an array of shape " +
                                                      format_shape(dims));
    }
    if (const float* data = A::contiguous(x)) return {data, n};
    copy = Tensor<S>(n);
    if (n > 0) A::copy_row_major(x, copy.data());
    return copy.view();
}

// x as a tensor of its own, whatever its layout (interop's to_tensor).
template <shape_type S, adapted_batch X>
Tensor<S> adapted_copy(const X& x, const std::string& role) {
    Tensor<S> copy;
    const TensorView<S, const float> view = adapted_view<S>(x, copy, role);
    if (view.data() == copy.data()) return copy;
    return Tensor<S>(view.batch(), std::span<const float>(view.data(), view.size()));
}

// The model's input from x: a compile-time check for arrays whose shape is in their type,
// then the run-time rules of adapted_view.
template <class Net, shape_type S, batch_source X>
TensorView<S, const float> input_view(const X& x, Tensor<S>& copy) {
    if constexpr (float_batch<X>) {
        Net::template check_input<X>();
        return as_const_view(x);
    } else {
        batch_adapter<std::remove_cvref_t<X>>::template check_fixed<Net, S>();
        return adapted_view<S>(x, copy, "the model's input");
    }
}

// Calls f with the labels y as a view: latent tensors as they are, adapted arrays as samples of
// the output shape Out when their per-sample size is Out's, else as class indices (Shape<1>)
// when they hold one value per sample. Which one a loss takes is checked by fit and evaluate.
template <shape_type Out, batch_source Y, class F>
decltype(auto) with_labels(const Y& y, F&& f) {
    if constexpr (float_batch<Y>) {
        return f(as_const_view(y));
    } else {
        using A = batch_adapter<std::remove_cvref_t<Y>>;
        const std::vector<std::size_t> dims = A::dims(y);
        const std::size_t per_sample = dims.empty() ? 0 : per_sample_size(dims);
        if (per_sample == Out::size) {
            Tensor<Out> copy;
            return f(adapted_view<Out>(y, copy, "the labels"));
        }
        if (per_sample == 1) {
            Tensor<Shape<1>> copy;
            return f(adapted_view<Shape<1>>(y, copy, "the labels"));
        }
        throw shape_error("latent.interop.labels", "the labels need " + std::to_string(Out::size) +
                                                       " values per sample (the output shape " + Out::to_string() +
                                                       ") or 1 (a class index), got an array of shape " +
                                                       format_shape(dims));
    }
}

}  // namespace detail
}  // namespace latent
