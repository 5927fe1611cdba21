// xtensor in and out: predict, fit and evaluate take xtensor expressions (xtensor_fixed checked
// at compile time, xtensor/xarray at run time), latent tensors are viewable as xtensor arrays and
// contiguous row-major xtensor data as latent views, without copies. CMake: latent::xtensor.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xexpression.hpp>
#include <xtensor/xshape.hpp>
#include <xtensor/xstrides.hpp>
#include <xtensor/xtensor_forward.hpp>

#include "../core/batch_source.hpp"
#include "../core/diagnostics.hpp"
#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"

namespace latent {
namespace interop::detail {

// The dimensions of an xtensor shape type known at compile time (xt::xshape<28, 28, 1>).
template <class ShapeType>
struct fixed_dims {
    static constexpr bool known = false;
};
template <std::size_t... D>
struct fixed_dims<xt::fixed_shape<D...>> {
    static constexpr bool known = true;
    static constexpr std::array<std::size_t, sizeof...(D)> dims{D...};
};

template <class X>
constexpr bool has_fixed_shape() {
    if constexpr (requires { typename X::shape_type; })
        return fixed_dims<typename X::shape_type>::known;
    else
        return false;
}

// Either S itself (one sample) or (N, S...) (N samples).
template <shape_type S, std::size_t R>
constexpr bool fixed_shape_holds(const std::array<std::size_t, R>& dims) {
    if constexpr (R == S::rank) {
        for (std::size_t i = 0; i < R; ++i)
            if (dims[i] != S::dims[i]) return false;
        return true;
    } else if constexpr (R == S::rank + 1) {
        for (std::size_t i = 0; i < S::rank; ++i)
            if (dims[i + 1] != S::dims[i]) return false;
        return true;
    } else {
        return false;
    }
}

// True when x's elements lie in row-major order without gaps from x.data() + x.data_offset().
// xtensor gives axes of length 1 a stride of 0, so those are skipped.
template <class X>
bool xtensor_row_major_contiguous(const X& x) {
    const auto& shape = x.shape();
    const auto& strides = x.strides();
    std::ptrdiff_t expected = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
        if (shape[i] == 1) continue;
        if (static_cast<std::ptrdiff_t>(strides[i]) != expected) return false;
        expected *= static_cast<std::ptrdiff_t>(shape[i]);
    }
    return true;
}

}  // namespace interop::detail

// Any xtensor expression: containers, adaptors, views and lazy expressions.
template <class X>
    requires(xt::is_xexpression<X>::value)
struct batch_adapter<X> {
    static constexpr bool rows_are_samples = false;

    static std::vector<std::size_t> dims(const X& x) {
        const auto& shape = x.shape();
        return std::vector<std::size_t>(shape.begin(), shape.end());
    }

    static const float* contiguous(const X& x) {
        if constexpr (std::is_same_v<std::remove_cv_t<typename X::value_type>, float> &&
                      xt::has_data_interface<X>::value) {
            if (interop::detail::xtensor_row_major_contiguous(x)) return x.data() + x.data_offset();
        }
        return nullptr;
    }

    // Any layout, any arithmetic type: read in row-major order, converted to float.
    static void copy_row_major(const X& x, float* out) {
        for (auto it = x.template cbegin<xt::layout_type::row_major>(),
                  end = x.template cend<xt::layout_type::row_major>();
             it != end; ++it)
            *out++ = static_cast<float>(*it);
    }

    // An xtensor_fixed whose shape is neither S nor (N, S...) cannot be this model's input.
    template <class Net, shape_type S>
    static constexpr void check_fixed() {
        if constexpr (interop::detail::has_fixed_shape<X>()) {
            using Given = typename X::shape_type;
            if constexpr (!interop::detail::fixed_shape_holds<S>(interop::detail::fixed_dims<Given>::dims))
                (void)sizeof(input_batch_mismatch<Net, got<Given>, expected<S>>);
        }
    }
};

namespace interop {

namespace detail {
template <shape_type S>
std::array<std::size_t, S::rank + 1> batch_shape(std::size_t batch) {
    std::array<std::size_t, S::rank + 1> shape{};
    shape[0] = batch;
    for (std::size_t i = 0; i < S::rank; ++i) shape[i + 1] = S::dims[i];
    return shape;
}
}  // namespace detail

// A latent batch as an xtensor array of shape (batch, S...), sharing its memory: writes go to
// the tensor, and the tensor must outlive the view.
template <shape_type S>
auto as_xtensor(Tensor<S>& t) {
    return xt::adapt(t.data(), t.size(), xt::no_ownership(), detail::batch_shape<S>(t.batch()));
}
template <shape_type S>
auto as_xtensor(const Tensor<S>& t) {
    return xt::adapt(t.data(), t.size(), xt::no_ownership(), detail::batch_shape<S>(t.batch()));
}
template <shape_type S, class T>
auto as_xtensor(TensorView<S, T> t) {
    return xt::adapt(t.data(), t.size(), xt::no_ownership(), detail::batch_shape<S>(t.batch()));
}
// A temporary (as_xtensor(net.predict(x))): the array takes the tensor over, still without
// copying its values.
template <shape_type S>
auto as_xtensor(Tensor<S>&& t) {
    auto owner = std::make_shared<Tensor<S>>(std::move(t));
    float* data = owner->data();
    const auto dims = detail::batch_shape<S>(owner->batch());
    return xt::adapt_smart_ptr(data, std::vector<std::size_t>(dims.begin(), dims.end()), std::move(owner));
}

// Contiguous row-major float data as a latent view, no copy: shape (n, S...) or S (one sample).
// Anything else (column-major, strided, another element type) is refused; to_tensor copies it.
template <shape_type S, class X>
    requires(xt::is_xexpression<std::remove_cvref_t<X>>::value)
TensorView<S, const float> as_tensor_view(const X& x) {
    using A = batch_adapter<std::remove_cvref_t<X>>;
    const auto dims = A::dims(x);
    const std::size_t n = latent::detail::samples_in<S>(dims, false);
    if (n == latent::detail::no_samples)
        throw shape_error("latent.interop.shape", "as_tensor_view<" + S::to_string() + "> needs an array of shape " +
                                                      latent::detail::batch_shape_text<S>() + " or " + S::to_string() +
                                                      ", got " + format_shape(dims));
    const float* data = A::contiguous(x);
    if (!data)
        throw value_error("latent.interop.layout",
                          "as_tensor_view needs float32 elements in row-major (C) order without gaps; this array "
                          "of shape " + format_shape(dims) + " is column-major, strided or of another element type. "
                          "Copy it with latent::interop::to_tensor<S>(x) instead");
    return {data, n};
}
// The mutable twin, for writing into an xtensor container through latent.
template <shape_type S, class X>
    requires(xt::is_xexpression<std::remove_cvref_t<X>>::value && !std::is_const_v<X>)
TensorView<S, float> as_tensor_view(X& x) {
    const TensorView<S, const float> view = as_tensor_view<S>(std::as_const(x));
    return {const_cast<float*>(view.data()), view.batch()};
}

// Any xtensor expression (any layout, any arithmetic element type) copied into a latent tensor.
template <shape_type S, class X>
    requires(xt::is_xexpression<std::remove_cvref_t<X>>::value)
Tensor<S> to_tensor(const X& x) {
    return latent::detail::adapted_copy<S>(x, "to_tensor<" + S::to_string() + ">");
}

}  // namespace interop
}  // namespace latent
