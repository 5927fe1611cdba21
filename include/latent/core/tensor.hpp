// Tensor<S>: an owning batch of samples whose per-sample shape S is a type and whose batch
// size is a runtime value; TensorView<S> is the non-owning counterpart over someone's memory.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "buffer.hpp"
#include "errors.hpp"
#include "shape.hpp"

namespace latent {

template <shape_type S, class T = float>
class TensorView {
public:
    using shape = S;
    using value_type = std::remove_const_t<T>;
    static constexpr std::size_t sample_size = S::size;

    TensorView() = default;
    TensorView(T* data, std::size_t batch) : data_(data), batch_(batch) {}
    // A mutable view converts to a read-only one.
    template <class U>
        requires(std::is_const_v<T> && std::is_same_v<std::remove_const_t<T>, U>)
    TensorView(TensorView<S, U> other) : data_(other.data()), batch_(other.batch()) {}

    T* data() const noexcept { return data_; }
    std::size_t batch() const noexcept { return batch_; }
    std::size_t size() const noexcept { return batch_ * sample_size; }
    std::span<T> sample(std::size_t b) const { return {data_ + b * sample_size, sample_size}; }
    T& operator[](std::size_t i) const noexcept { return data_[i]; }

    // Samples [first, first + count) as a view: mini-batches without copies.
    TensorView slice(std::size_t first, std::size_t count) const {
        if (first + count > batch_)
            throw shape_error("latent.tensor.slice", "slice [" + std::to_string(first) + ", " +
                                                         std::to_string(first + count) + ") is outside a batch of " +
                                                         std::to_string(batch_));
        return {data_ + first * sample_size, count};
    }

private:
    T* data_ = nullptr;
    std::size_t batch_ = 0;
};

template <shape_type S, class T = float>
class Tensor {
public:
    using shape = S;
    using value_type = T;
    static constexpr std::size_t sample_size = S::size;

    Tensor() = default;
    explicit Tensor(std::size_t batch) : batch_(batch), data_(batch * sample_size) {}
    // Copies `values` (batch * S::size of them, sample after sample, channels last).
    Tensor(std::size_t batch, std::span<const T> values) : Tensor(batch) {
        if (values.size() != size())
            throw shape_error("latent.tensor.values", "a batch of " + std::to_string(batch) + " samples of shape " +
                                                          S::to_string() + " needs " + std::to_string(size()) +
                                                          " values, got " + std::to_string(values.size()));
        std::copy(values.begin(), values.end(), data_.data());
    }
    Tensor(std::size_t batch, std::initializer_list<T> values)
        : Tensor(batch, std::span<const T>(values.begin(), values.size())) {}

    T* data() noexcept { return data_.data(); }
    const T* data() const noexcept { return data_.data(); }
    std::size_t batch() const noexcept { return batch_; }
    std::size_t size() const noexcept { return batch_ * sample_size; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    std::span<T> sample(std::size_t b) { return {data() + b * sample_size, sample_size}; }
    std::span<const T> sample(std::size_t b) const { return {data() + b * sample_size, sample_size}; }
    std::span<T> values() noexcept { return data_.span(); }
    std::span<const T> values() const noexcept { return data_.span(); }
    void fill(T value) { data_.fill(value); }

    TensorView<S, T> view() noexcept { return {data(), batch_}; }
    TensorView<S, const T> view() const noexcept { return {data(), batch_}; }
    operator TensorView<S, T>() noexcept { return view(); }
    operator TensorView<S, const T>() const noexcept { return view(); }
    TensorView<S, const T> slice(std::size_t first, std::size_t count) const { return view().slice(first, count); }

private:
    std::size_t batch_ = 0;
    AlignedBuffer<T> data_;
};

template <class X>
struct is_tensor_like : std::false_type {};
template <shape_type S, class T>
struct is_tensor_like<Tensor<S, T>> : std::true_type {};
template <shape_type S, class T>
struct is_tensor_like<TensorView<S, T>> : std::true_type {};

// Anything holding float samples of a compile-time shape: Tensor<S> or TensorView<S, (const) float>.
template <class X>
concept float_batch = is_tensor_like<std::remove_cvref_t<X>>::value &&
                      std::is_same_v<typename std::remove_cvref_t<X>::value_type, float>;

// The read-only view of a Tensor or TensorView, whichever was passed.
template <float_batch X>
TensorView<typename std::remove_cvref_t<X>::shape, const float> as_const_view(const X& x) {
    return {x.data(), x.batch()};
}

// The same samples seen with another shape of equal element count (28x28x1 images as 784
// features): a view, no copy; a mismatch of element counts is a compile error.
template <shape_type To, float_batch X>
auto as_shape(X& x) {
    using From = typename std::remove_cvref_t<X>::shape;
    static_assert(From::size == To::size, "latent: as_shape needs the same number of elements per sample");
    using V = std::remove_pointer_t<decltype(x.data())>;
    return TensorView<To, V>(x.data(), x.batch());
}

}  // namespace latent
