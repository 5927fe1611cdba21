// Keras' merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and
// EuclideanDistance (the Siamese pair's distance): layers that combine N >= 2 tensors, and the
// multi-input extension of the layer contract they follow.
#pragma once

/* A merge layer L takes one sample of each of its N = sizeof...(In) inputs, of shapes In...; it
   follows layer.hpp's contract with its single `In` replaced by the pack, and derives from
   MergeLayerBase (a LayerBase, so it has a runtime name; `is_merge = true`, so a graph can tell
   it from a single-input layer, which it is not: it has no `requirement` and no `accepts`):

   static constexpr std::string_view type_name / default_name    "Add" / "add", as for a layer
   template <class... In> static constexpr bool accepts_inputs
       whether L can take one sample of each shape In...; a pure predicate, never an error. It
       checks the input count too (Subtract takes exactly 2, every other merge at least 2)
   template <class... In> using requirement_for
       = at_least_inputs<2> | exactly_inputs<N> | same_shapes | concatenable_on<Axis>
       what accepts_inputs asks of these inputs, spelled into the compile-time diagnostic
   template <class... In> using output_shape = Shape<...>
       the sample shape L produces; well-formed whatever In... is (then the first input's shape,
       or for Concatenate the first input's shape grown along the axis), so that one wiring
       mistake gives one error
   template <class... In> static constexpr params, workspace_per_sample, workspace_fixed
       as for a layer; inherited empty from MergeLayerBase (no Keras merge layer has parameters
       or keeps anything from forward to backward). A single-input layer may take several inputs
       too, following this contract as well (MultiHeadAttention: mha(query, value, key)); forward
       and backward then find params, workspace, mode and rng in the arguments as a layer does
   template <class... In> static constexpr std::size_t flops_per_sample
       floating-point operations of one forward pass over one sample
   template <backend_policy B, class T, class... In> void forward(const MergeForwardArgs<T>&) const
       y (batch, Out) from xs[k] (batch, In_k) for k < N
   template <backend_policy B, class T, class... In> void backward(const MergeBackwardArgs<T>&) const
       given dy, *overwrites* dxs[k] (batch, In_k) for every k whose dxs[k] is not null (a null
       entry: nothing below that input needs a gradient). Never accumulated: when one tensor
       feeds several inputs (Add()([x, x])) or several layers, the caller sums the parts, as it
       does for every fan-out

   The backend comes first among forward's and backward's template arguments because the pack
   must come last. Both are instantiated only for inputs L accepts (a graph runs only a valid
   model), and `count` is always N: it travels with the pointers so that code holding only the
   arguments can walk them. */

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "layer.hpp"

namespace latent {

template <class T>
struct MergeForwardArgs {
    const T* const* xs = nullptr;  // count pointers, xs[k] (batch, In_k)
    std::size_t count = 0;
    T* y = nullptr;                // (batch, Out)
    std::size_t batch = 0;
    // As ForwardArgs' (layer.hpp), for the layers of several inputs that have weights or keep
    // what backward needs (MultiHeadAttention's cross-attention); Keras' merges use none of them.
    const T* params = nullptr;
    T* workspace = nullptr;  // batch * workspace_per_sample<In...> + workspace_fixed<In...> elements
    Mode mode = Mode::infer;
    Generator* rng = nullptr;
};

template <class T>
struct MergeBackwardArgs {
    const T* const* xs = nullptr;  // count pointers, forward's inputs, xs[k] (batch, In_k)
    std::size_t count = 0;
    const T* y = nullptr;          // (batch, Out), forward's output
    const T* dy = nullptr;         // (batch, Out)
    T* const* dxs = nullptr;       // count pointers, dxs[k] (batch, In_k), overwritten; null entries skipped
    std::size_t batch = 0;
    const T* params = nullptr;     // as BackwardArgs'
    T* dparams = nullptr;          // gradients are added here; null when frozen
    T* workspace = nullptr;        // what forward left there
};

// Descriptions of what a merge layer needs, used only to spell compile-time diagnostics.
template <std::size_t N>
struct at_least_inputs {};  // N or more inputs
template <std::size_t N>
struct exactly_inputs {};   // N inputs, no more, no fewer
struct same_shapes {};      // every input of one shape
// Inputs of one rank that has an axis Axis (negative counts from the end), equal in every
// other axis.
template <int Axis>
struct concatenable_on {};
struct same_size_vectors {};  // rank-1 samples of one size (Dot, EuclideanDistance)

// The runtime part every merge layer shares, and the contract's defaults.
class MergeLayerBase : public LayerBase {
public:
    MergeLayerBase() = default;
    explicit MergeLayerBase(std::string name) : LayerBase(std::move(name)) {}

    static constexpr bool is_merge = true;

    // These hide LayerBase's single-input defaults, so that a merge layer is asked with the pack.
    template <class... In>
    static constexpr std::array<ParamSpec, 0> params{};
    template <class... In>
    static constexpr std::size_t workspace_per_sample = 0;
    template <class... In>
    static constexpr std::size_t workspace_fixed = 0;
    template <class... In>
    static constexpr std::size_t flops_per_sample = 0;
};

template <class L>
concept merge_layer = std::derived_from<L, MergeLayerBase> && L::is_merge && requires {
    { L::type_name } -> std::convertible_to<std::string_view>;
    { L::default_name } -> std::convertible_to<std::string_view>;
};

template <class L>
inline constexpr bool is_merge_layer_v = merge_layer<L>;

// Whether merge layer L takes one sample of each of the shapes In... (a predicate; never a
// compile error).
template <class L, class... In>
inline constexpr bool merge_accepts_v = L::template accepts_inputs<In...>;

namespace detail {

inline constexpr std::size_t any_count = std::numeric_limits<std::size_t>::max();

// The stand-in for "the first input's shape"; with no input at all there is nothing better.
template <class... In>
struct first_input {
    using type = Shape<1>;
};
template <class First, class... Rest>
struct first_input<First, Rest...> {
    using type = First;
};
template <class... In>
using first_input_t = typename first_input<In...>::type;

template <class... In>
inline constexpr bool all_same_shape = true;
template <class First, class... Rest>
inline constexpr bool all_same_shape<First, Rest...> = (std::is_same_v<First, Rest> && ...);

// The rule of the elementwise merges: between MinCount and MaxCount inputs, all of one shape.
template <std::size_t MinCount, std::size_t MaxCount>
struct same_shape_rule {
    template <class... In>
    static constexpr bool count_fits = sizeof...(In) >= MinCount && sizeof...(In) <= MaxCount;
    template <class... In>
    static constexpr bool accepts = count_fits<In...> && all_same_shape<In...>;
    template <class... In>
    using requirement = std::conditional_t<
        count_fits<In...>, same_shapes,
        std::conditional_t<MinCount == MaxCount, exactly_inputs<MinCount>, at_least_inputs<MinCount>>>;
    template <class... In>
    using output_shape = first_input_t<In...>;
    // One operation per element for each input after the first.
    template <class... In>
    static constexpr std::size_t combining_flops =
        sizeof...(In) > 1 ? (sizeof...(In) - 1) * output_shape<In...>::size : 0;
};

// The per-element functions of the merges, as function objects rather than generic lambdas: a
// GPU backend can call only lambdas that are marked LATENT_HOST_DEVICE and not generic.
template <class T>
struct merge_sum {
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& y, const X&... x) const { y = (... + x); }
};
template <class T>
struct merge_product {
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& y, const X&... x) const { y = (... * x); }
};
template <class T>
struct merge_mean {
    T count;
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& y, const X&... x) const { y = (... + x) / count; }
};
// Maximum and Minimum: a NaN wins, so that a diverging input shows in the output.
template <class T>
struct merge_max {
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& y, const T& x0, const X&... x) const {
        y = x0;
        ((y = (x > y || std::isnan(x)) ? x : y), ...);
    }
};
template <class T>
struct merge_min {
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& y, const T& x0, const X&... x) const {
        y = x0;
        ((y = (x < y || std::isnan(x)) ? x : y), ...);
    }
};
// Multiply's backward for input k: dy times the product of the other inputs, formed without
// dividing by x_k (which may be zero).
template <class T>
struct product_of_others {
    std::size_t k;
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& dx, const T& dy, const X&... x) const {
        const T values[] = {x...};
        T product = dy;
        for (std::size_t j = 0; j < sizeof...(X); ++j)
            if (j != k) product *= values[j];
        dx = product;
    }
};
// Maximum's and Minimum's backward for input k: the gradient when input k is the first to hold
// the chosen value y.
template <class T>
struct gradient_if_first_equal {
    std::size_t k;
    template <class... X>
    LATENT_HOST_DEVICE void operator()(T& dx, const T& dy, const T& y, const X&... x) const {
        const T values[] = {x...};
        std::size_t first = 0;
        while (first < sizeof...(X) && !(values[first] == y)) ++first;
        dx = first == k ? dy : T(0);
    }
};

// f(front..., x_0[i], ..., x_{N-1}[i]) for every i < n: the N input arrays become a pack, so one
// pass serves any arity and the backend sees an ordinary elementwise op.
template <std::size_t N, backend_policy B, class T, class F, class... Front>
void map_inputs(std::size_t n, const F& f, const T* const* xs, Front*... front) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
        ops::elementwise<B>(n, f, front..., xs[K]...);
    }(std::make_index_sequence<N>{});
}

// Maximum's and Minimum's backward: the whole gradient goes to the first input that holds the
// chosen value, so ties do not split it (as Keras' chain of pairwise maxima).
template <std::size_t N, backend_policy B, class T>
void route_to_first_equal(std::size_t n, const MergeBackwardArgs<T>& a) {
    for (std::size_t k = 0; k < N; ++k) {
        if (!a.dxs[k]) continue;
        map_inputs<N, B>(n, gradient_if_first_equal<T>{k}, a.xs, a.dxs[k], a.dy, a.y);
    }
}

// Axis (negative counts from the end) as an index into a rank-`rank` sample, or `rank` itself
// when Axis lies outside it.
constexpr std::size_t axis_index(int axis, std::size_t rank) {
    const auto r = static_cast<long long>(rank);
    const long long a = axis < 0 ? axis + r : axis;
    return a >= 0 && a < r ? static_cast<std::size_t>(a) : rank;
}

// Concatenate's shape rule. Each sample of a rank-R input splits into `slices` = the product of
// the dims before the axis, each holding In_k::size / slices contiguous elements; the output
// puts the inputs' slices side by side.
template <int Axis, class... In>
struct concat_rule {
    static constexpr bool accepts = false;
    using output_shape = Shape<1>;
    static constexpr std::size_t slices = 1;
};

template <int Axis, class First, class... Rest>
struct concat_rule<Axis, First, Rest...> {
    static constexpr std::size_t rank = First::rank;
    static constexpr std::size_t axis = axis_index(Axis, rank);

    template <class S>
    static constexpr bool fits_first() {
        if constexpr (S::rank != rank) {
            return false;
        } else {
            for (std::size_t i = 0; i < rank; ++i)
                if (i != axis && S::dims[i] != First::dims[i]) return false;
            return true;
        }
    }
    static constexpr bool accepts = sizeof...(Rest) >= 1 && axis < rank && (fits_first<Rest>() && ...);

    // The first input's dims, grown along the axis by every input of the same rank: the answer
    // when accepted and a plausible guess otherwise.
    static constexpr std::array<std::size_t, rank> dims = [] {
        std::array<std::size_t, rank> d = First::dims;
        if constexpr (axis < rank) ((d[axis] += Rest::rank == rank ? Rest::dims[axis] : 0), ...);
        return d;
    }();
    template <std::size_t... I>
    static Shape<dims[I]...> shape_of(std::index_sequence<I...>);
    using output_shape = decltype(shape_of(std::make_index_sequence<rank>{}));

    static constexpr std::size_t slices = [] {
        std::size_t n = 1;
        // (`!=`, not `<`: nvcc warns about `i < axis` as a pointless comparison when axis is 0)
        constexpr std::size_t leading = axis < rank ? axis : rank;
        for (std::size_t i = 0; i != leading; ++i) n *= First::dims[i];
        return n;
    }();
};

}  // namespace detail

namespace detail {
// What every same-shape merge (Add, Subtract, Multiply, Average, Maximum, Minimum) shares: its
// shape rule and the members spelled from it. Derived may restate flops_per_sample.
template <class Derived, std::size_t MinCount, std::size_t MaxCount>
class same_shape_merge : public MergeLayerBase, public callable_layer<Derived> {
    using rule = same_shape_rule<MinCount, MaxCount>;

public:
    using MergeLayerBase::MergeLayerBase;

    template <class... In>
    static constexpr bool accepts_inputs = rule::template accepts<In...>;
    template <class... In>
    using requirement_for = typename rule::template requirement<In...>;
    template <class... In>
    using output_shape = typename rule::template output_shape<In...>;
    // One operation per element for each input after the first (comparisons for Maximum and
    // Minimum, counted as the pooling layers count them).
    template <class... In>
    static constexpr std::size_t flops_per_sample = rule::template combining_flops<In...>;
};
}  // namespace detail

// Add: the elementwise sum of two or more inputs of one shape.
class Add : public detail::same_shape_merge<Add, 2, detail::any_count> {
public:
    using same_shape_merge::same_shape_merge;
    static constexpr std::string_view type_name = "Add";
    static constexpr std::string_view default_name = "add";

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        detail::map_inputs<sizeof...(In), B>(
            a.batch * output_shape<In...>::size, detail::merge_sum<T>{}, a.xs, a.y);
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        const std::size_t n = a.batch * output_shape<In...>::size;
        for (std::size_t k = 0; k < sizeof...(In); ++k)
            if (a.dxs[k])
                ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& dx, const T& dy) { dx = dy; }, a.dxs[k], a.dy);
    }
};

// Subtract: x0 - x1, exactly two inputs of one shape.
class Subtract : public detail::same_shape_merge<Subtract, 2, 2> {
public:
    using same_shape_merge::same_shape_merge;
    static constexpr std::string_view type_name = "Subtract";
    static constexpr std::string_view default_name = "subtract";

    template <class... In>
    static constexpr std::size_t flops_per_sample = output_shape<In...>::size;

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        ops::elementwise<B>(
            a.batch * output_shape<In...>::size, [] LATENT_HOST_DEVICE(T& y, const T& x0, const T& x1) { y = x0 - x1; },
            a.y, a.xs[0], a.xs[1]);
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        const std::size_t n = a.batch * output_shape<In...>::size;
        if (a.dxs[0]) ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& dx, const T& dy) { dx = dy; }, a.dxs[0], a.dy);
        if (a.dxs[1]) ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& dx, const T& dy) { dx = -dy; }, a.dxs[1], a.dy);
    }
};

// Multiply: the elementwise product of two or more inputs of one shape.
class Multiply : public detail::same_shape_merge<Multiply, 2, detail::any_count> {
public:
    using same_shape_merge::same_shape_merge;
    static constexpr std::string_view type_name = "Multiply";
    static constexpr std::string_view default_name = "multiply";

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        detail::map_inputs<sizeof...(In), B>(
            a.batch * output_shape<In...>::size, detail::merge_product<T>{}, a.xs, a.y);
    }

    // dx_k = dy times the product of the other inputs, formed without dividing by x_k (which
    // may be zero).
    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        const std::size_t n = a.batch * output_shape<In...>::size;
        for (std::size_t k = 0; k < sizeof...(In); ++k) {
            if (!a.dxs[k]) continue;
            detail::map_inputs<sizeof...(In), B>(n, detail::product_of_others<T>{k}, a.xs, a.dxs[k], a.dy);
        }
    }
};

// Average: the elementwise mean of two or more inputs of one shape.
class Average : public detail::same_shape_merge<Average, 2, detail::any_count> {
public:
    using same_shape_merge::same_shape_merge;
    static constexpr std::string_view type_name = "Average";
    static constexpr std::string_view default_name = "average";

    // The sum's additions and one division per element.
    template <class... In>
    static constexpr std::size_t flops_per_sample =
        same_shape_merge::template flops_per_sample<In...> + output_shape<In...>::size;

    // The sum divided by N, as Keras computes it.
    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        const T count = static_cast<T>(sizeof...(In));
        detail::map_inputs<sizeof...(In), B>(
            a.batch * output_shape<In...>::size, detail::merge_mean<T>{count}, a.xs, a.y);
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        const T count = static_cast<T>(sizeof...(In));
        const std::size_t n = a.batch * output_shape<In...>::size;
        for (std::size_t k = 0; k < sizeof...(In); ++k)
            if (a.dxs[k])
                ops::elementwise<B>(
                    n, [count] LATENT_HOST_DEVICE(T& dx, const T& dy) { dx = dy / count; }, a.dxs[k], a.dy);
    }
};

// Maximum: the elementwise maximum of two or more inputs of one shape.
class Maximum : public detail::same_shape_merge<Maximum, 2, detail::any_count> {
public:
    using same_shape_merge::same_shape_merge;
    static constexpr std::string_view type_name = "Maximum";
    static constexpr std::string_view default_name = "maximum";

    // A NaN wins, so that a diverging input shows in the output.
    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        detail::map_inputs<sizeof...(In), B>(
            a.batch * output_shape<In...>::size, detail::merge_max<T>{}, a.xs, a.y);
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        detail::route_to_first_equal<sizeof...(In), B>(a.batch * output_shape<In...>::size, a);
    }
};

// Minimum: the elementwise minimum of two or more inputs of one shape.
class Minimum : public detail::same_shape_merge<Minimum, 2, detail::any_count> {
public:
    using same_shape_merge::same_shape_merge;
    static constexpr std::string_view type_name = "Minimum";
    static constexpr std::string_view default_name = "minimum";

    // A NaN wins, so that a diverging input shows in the output.
    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        detail::map_inputs<sizeof...(In), B>(
            a.batch * output_shape<In...>::size, detail::merge_min<T>{}, a.xs, a.y);
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        detail::route_to_first_equal<sizeof...(In), B>(a.batch * output_shape<In...>::size, a);
    }
};

// Concatenate<Axis = -1>: joins two or more inputs along Axis; every other axis must agree.
// Axis counts the axes of one sample, as every Shape here does (the batch is not one of them):
// negative axes mean what they mean in Keras (-1, the default, is the channels of an image or
// the features of a vector), and Keras' axis = k >= 1 is Axis = k - 1 here, so Keras'
// Concatenate(axis=1) over (batch, features) inputs is Concatenate<0>.
template <int Axis = -1>
class Concatenate : public MergeLayerBase, public callable_layer<Concatenate<Axis>> {
    template <class... In>
    using rule = detail::concat_rule<Axis, In...>;

public:
    using MergeLayerBase::MergeLayerBase;
    static constexpr std::string_view type_name = "Concatenate";
    static constexpr std::string_view default_name = "concatenate";
    static constexpr int axis = Axis;

    template <class... In>
    static constexpr bool accepts_inputs = rule<In...>::accepts;
    template <class... In>
    using requirement_for = std::conditional_t<(sizeof...(In) < 2), at_least_inputs<2>, concatenable_on<Axis>>;
    template <class... In>
    using output_shape = typename rule<In...>::output_shape;
    // Copies only.
    template <class... In>
    static constexpr std::size_t flops_per_sample = 0;

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        constexpr std::size_t slices = rule<In...>::slices;
        constexpr std::array<std::size_t, sizeof...(In)> widths{In::size / slices...};
        constexpr std::size_t out_width = output_shape<In...>::size / slices;
        const std::size_t rows = a.batch * slices;
        std::size_t offset = 0;
        for (std::size_t k = 0; k < sizeof...(In); ++k) {
            // xs[k] (rows, widths[k]) into columns [offset, offset + widths[k]) of y (rows, out_width)
            ops::copy2d<B>(rows, widths[k], a.xs[k], widths[k], a.y + offset, out_width);
            offset += widths[k];
        }
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        constexpr std::size_t slices = rule<In...>::slices;
        constexpr std::array<std::size_t, sizeof...(In)> widths{In::size / slices...};
        constexpr std::size_t out_width = output_shape<In...>::size / slices;
        const std::size_t rows = a.batch * slices;
        std::size_t offset = 0;
        for (std::size_t k = 0; k < sizeof...(In); ++k) {
            // columns [offset, offset + widths[k]) of dy (rows, out_width) into dxs[k] (rows, widths[k])
            if (a.dxs[k]) ops::copy2d<B>(rows, widths[k], a.dy + offset, out_width, a.dxs[k], widths[k]);
            offset += widths[k];
        }
    }
};

namespace detail {
// Dot's and EuclideanDistance's inputs: two vectors of one size.
template <class... In>
inline constexpr bool two_same_size_vectors =
    sizeof...(In) == 2 && ((In::rank == 1) && ...) && all_same_shape<In...>;
template <class... In>
using two_same_size_vectors_requirement =
    std::conditional_t<sizeof...(In) == 2, same_size_vectors, exactly_inputs<2>>;
}  // namespace detail

// Dot<Axes = -1>: the dot product of two vectors (rank-1 samples of one size) along their axis,
// one number per sample (Shape<1>), as Keras' Dot(axes=1); Dot<>(true), Keras' normalize=True,
// L2-normalizes both first (squared norms floored at 1e-12, as Keras), giving their cosine
// similarity: the head of a Siamese network or of a word2vec-style embedding model. Axes counts
// a sample's axes as Concatenate's Axis does, so a vector's only axis is 0 or -1.
template <int Axes = -1>
class Dot : public MergeLayerBase, public callable_layer<Dot<Axes>> {
    // In the constructors rather than the class: an invalid class would add errors of its own
    // wherever it is used, and a wiring mistake gives one error.
    static constexpr void check_axes() {
        static_assert(Axes == 0 || Axes == -1,
                      "latent: Dot<Axes> takes vectors (rank-1 samples): Axes is their only axis, 0 or -1 "
                      "(Keras' axes=1)");
    }

public:
    Dot() { check_axes(); }
    explicit Dot(bool normalize, std::string name = {}) : MergeLayerBase(std::move(name)), normalize_(normalize) {
        check_axes();
    }
    explicit Dot(std::string name) : MergeLayerBase(std::move(name)) { check_axes(); }
    explicit Dot(const char* name) : MergeLayerBase(std::string(name)) { check_axes(); }  // not Dot(bool)

    static constexpr std::string_view type_name = "Dot";
    static constexpr std::string_view default_name = "dot";
    static constexpr int axes = Axes;
    bool normalize() const noexcept { return normalize_; }

    template <class... In>
    static constexpr bool accepts_inputs = detail::two_same_size_vectors<In...>;
    template <class... In>
    using requirement_for = detail::two_same_size_vectors_requirement<In...>;
    template <class... In>
    using output_shape = Shape<1>;
    // A multiply and an add per element (and as much again for the norms when normalizing).
    template <class... In>
    static constexpr std::size_t flops_per_sample = 2 * detail::first_input_t<In...>::size;

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        constexpr std::size_t n = detail::first_input_t<In...>::size;
        ops::row_dot<B>(a.batch, n, a.xs[0], a.xs[1], normalize_, a.y);
    }

    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        constexpr std::size_t n = detail::first_input_t<In...>::size;
        if (!a.dxs[0] && !a.dxs[1]) return;
        ops::row_dot_backward<B>(a.batch, n, a.xs[0], a.xs[1], normalize_, a.dy, T(1), a.dxs[0], a.dxs[1]);
    }

private:
    bool normalize_ = false;
};

// EuclideanDistance: (x0, x1) -> || x0 - x1 ||, two vectors' distance as a Siamese network's
// head: sqrt(max(sum((x0 - x1)^2), 1e-7)), the euclidean_distance of Keras' Siamese example with
// the contrastive loss (keras.io/examples/vision/siamese_contrastive), the floor keeping the
// gradient finite for two equal codes (it is 0 there). What loss::Contrastive takes.
class EuclideanDistance : public MergeLayerBase, public callable_layer<EuclideanDistance> {
public:
    using MergeLayerBase::MergeLayerBase;
    static constexpr std::string_view type_name = "EuclideanDistance";
    static constexpr std::string_view default_name = "euclidean_distance";
    static constexpr double epsilon = 1e-7;  // Keras' backend.epsilon(), on the squared distance

    template <class... In>
    static constexpr bool accepts_inputs = detail::two_same_size_vectors<In...>;
    template <class... In>
    using requirement_for = detail::two_same_size_vectors_requirement<In...>;
    template <class... In>
    using output_shape = Shape<1>;
    // x0 - x1, its squared norm, then backward's scale dy / distance.
    template <class... In>
    static constexpr std::size_t workspace_per_sample = detail::first_input_t<In...>::size + 2;
    template <class... In>
    static constexpr std::size_t flops_per_sample = 3 * detail::first_input_t<In...>::size;

    template <backend_policy B, class T, class... In>
    void forward(const MergeForwardArgs<T>& a) const {
        constexpr std::size_t n = detail::first_input_t<In...>::size;
        T* difference = a.workspace;                 // (batch, n)
        T* squared = difference + a.batch * n;       // (batch)
        ops::elementwise<B>(
            a.batch * n, [] LATENT_HOST_DEVICE(T& d, const T& x0, const T& x1) { d = x0 - x1; }, difference,
            a.xs[0], a.xs[1]);
        ops::row_dot<B>(a.batch, n, static_cast<const T*>(difference), static_cast<const T*>(difference), false,
                        squared);
        const T floor = static_cast<T>(epsilon);
        ops::elementwise<B>(
            a.batch, [floor] LATENT_HOST_DEVICE(T& y, const T& s) { y = std::sqrt(s > floor ? s : floor); }, a.y,
            static_cast<const T*>(squared));
    }

    // d||d|| / dx0 = (x0 - x1) / ||d||, and its negative for x1; nothing where the floor holds.
    template <backend_policy B, class T, class... In>
    void backward(const MergeBackwardArgs<T>& a) const {
        constexpr std::size_t n = detail::first_input_t<In...>::size;
        if (!a.dxs[0] && !a.dxs[1]) return;
        const T* difference = a.workspace;
        const T* squared = difference + a.batch * n;
        T* scale = a.workspace + a.batch * n + a.batch;  // (batch)
        const T floor = static_cast<T>(epsilon);
        ops::elementwise<B>(
            a.batch,
            [floor] LATENT_HOST_DEVICE(T& g, const T& dy, const T& y, const T& s) { g = s > floor ? dy / y : T(0); },
            scale, a.dy, a.y, squared);
        const T* g = scale;
        T* const none = nullptr;
        if (a.dxs[0]) ops::row_dot_backward<B>(a.batch, n, difference, difference, false, g, T(1), a.dxs[0], none);
        if (a.dxs[1]) ops::row_dot_backward<B>(a.batch, n, difference, difference, false, g, T(-1), a.dxs[1], none);
    }
};

}  // namespace latent
