// Shape propagation and validation of a layer list: a flat fold computes every layer's input
// shape and whether it accepts it; is_valid_v<Net> asks without an error, and the diagnostics
// base of Sequential reports each mistake as one named compile error.
#pragma once

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../backend/backend.hpp"
#include "../backend/default.hpp"
#include "../core/diagnostics.hpp"
#include "../core/shape.hpp"
#include "../layers/layer.hpp"

namespace latent {

namespace detail {

template <class... T>
struct type_list {};

template <std::size_t I, class List>
struct type_at;
template <std::size_t I, class... T>
struct type_at<I, type_list<T...>> {
    using type = std::tuple_element_t<I, std::tuple<T...>>;
};
template <std::size_t I, class List>
using type_at_t = typename type_at<I, List>::type;

// Takes the place of an entry that is not a layer, so that the fold goes on quietly after
// the not_a_layer error.
struct stand_in_layer : LayerBase {
    static constexpr std::string_view type_name = "?";
    static constexpr std::string_view default_name = "?";
    using requirement = any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
};
template <class T>
using checked_layer_t = std::conditional_t<layer<T>, T, stand_in_layer>;

// One step of the shape fold: Cur is the current shape, Seen the input shapes so far.
template <class Cur, class Seen>
struct shape_fold {};

template <class Cur, class... Seen, class L>
auto operator+(shape_fold<Cur, type_list<Seen...>>, std::type_identity<L>)
    -> shape_fold<typename L::template output_shape<Cur>, type_list<Seen..., Cur>>;

template <class Fold>
struct fold_result;
template <class Out, class... Ins>
struct fold_result<shape_fold<Out, type_list<Ins...>>> {
    using output = Out;
    using inputs = type_list<Ins...>;
};

// Input shapes of every layer and the final output shape, by one left fold (no recursion).
template <class InputShape, class... Layers>
using propagate = fold_result<decltype((shape_fold<InputShape, type_list<>>{} + ... + std::type_identity<Layers>{}))>;

constexpr bool all_of(const auto& flags) {
    for (bool b : flags)
        if (!b) return false;
    return true;
}

// Splits Sequential's arguments: an optional backend first, then Input<...>, then layers.
template <class... Args>
struct split_backend {
    using policy = default_backend;
    using rest = type_list<Args...>;
};
template <class First, class... Args>
    requires backend_policy<First>
struct split_backend<First, Args...> {
    using policy = First;
    using rest = type_list<Args...>;
};

template <class T, class... Tail>
auto first_input_shape(type_list<T, Tail...>) {
    if constexpr (is_input_v<T>)
        return std::type_identity<typename T::shape>{};
    else
        return first_input_shape(type_list<Tail...>{});
}
inline auto first_input_shape(type_list<>) { return std::type_identity<Shape<1>>{}; }  // a plausible guess

template <class Rest>
struct sequential_parts;
template <class... R>
struct sequential_parts<type_list<R...>> {
    static constexpr std::size_t count = sizeof...(R);
    static constexpr std::size_t input_count = (std::size_t{0} + ... + std::size_t{is_input_v<R>});
    static constexpr std::array<bool, sizeof...(R)> is_input_at{is_input_v<R>...};
    static constexpr bool first_is_input = count > 0 && is_input_at[0];
    using first = std::tuple_element_t<0, std::tuple<R..., void>>;
    // The layers: every entry that is not an Input.
    using layers_tuple =
        decltype(std::tuple_cat(std::declval<std::conditional_t<is_input_v<R>, std::tuple<>, std::tuple<R>>>()...));
    using input_shape = typename decltype(first_input_shape(type_list<R...>{}))::type;
};

template <class InputShape, class Tuple>
struct layer_chain;
template <class InputShape, class... L>
struct layer_chain<InputShape, std::tuple<L...>> {
    using result = propagate<InputShape, checked_layer_t<L>...>;
    using inputs = typename result::inputs;  // type_list: the input shape of each layer
    using output = typename result::output;

    template <std::size_t... I>
    static constexpr std::array<bool, sizeof...(L)> accepted_at(std::index_sequence<I...>) {
        return {checked_layer_t<L>::template accepts<type_at_t<I, inputs>>...};
    }
    static constexpr std::array<bool, sizeof...(L)> is_layer{layer<L>...};
    static constexpr std::array<bool, sizeof...(L)> accepted = accepted_at(std::index_sequence_for<L...>{});
    static constexpr bool valid = all_of(is_layer) && all_of(accepted);
};

// Everything a Sequential<Args...> knows at compile time, computed without any hard error.
template <class... Args>
struct sequential_traits {
    using policy = typename split_backend<Args...>::policy;
    using parts = sequential_parts<typename split_backend<Args...>::rest>;
    using layers_tuple = typename parts::layers_tuple;
    using input_shape = typename parts::input_shape;
    using chain = layer_chain<input_shape, layers_tuple>;
    using output_shape = typename chain::output;
    static constexpr std::size_t layer_count = std::tuple_size_v<layers_tuple>;
    static constexpr bool structure_ok = parts::input_count == 1 && parts::first_is_input && layer_count > 0;
    static constexpr bool valid = structure_ok && chain::valid;
};

template <std::size_t I>
struct no_error_at {};

// The report for layer I: nothing, or the one diagnostic that names its mistake.
template <class Chain, class Layers, std::size_t I>
using layer_report = std::conditional_t<
    !Chain::is_layer[I], not_a_layer<std::tuple_element_t<I, Layers>, at_layer<I>>,
    std::conditional_t<!Chain::accepted[I],
                       input_shape_mismatch<std::tuple_element_t<I, Layers>, at_layer<I>,
                                            got<type_at_t<I, typename Chain::inputs>>,
                                            expected<typename checked_layer_t<std::tuple_element_t<I, Layers>>::requirement>>,
                       no_error_at<I>>>;

template <class Traits, class Seq = std::make_index_sequence<Traits::layer_count>>
struct layer_reports;
template <class Traits, std::size_t... I>
struct layer_reports<Traits, std::index_sequence<I...>>
    : layer_report<typename Traits::chain, typename Traits::layers_tuple, I>... {};

struct no_structure_error {};

template <class Traits, class Net>
using structure_report = std::conditional_t<
    Traits::parts::count == 0 || (Traits::layer_count == 0 && Traits::parts::input_count > 0), empty_sequential<Net>,
    std::conditional_t<Traits::parts::input_count == 0,
                       missing_input<typename Traits::parts::first, at_layer<0>>,
                       std::conditional_t<(!Traits::parts::first_is_input || Traits::parts::input_count > 1),
                                          layer_before_input<typename Traits::parts::first, at_layer<0>>,
                                          no_structure_error>>>;

// Base class of Sequential: instantiating it reports each mistake once. Layer mistakes are
// reported only when the structure is right, so that one mistake gives one error.
template <class Net, class... Args>
struct sequential_diagnostics
    : structure_report<sequential_traits<Args...>, Net>,
      std::conditional_t<sequential_traits<Args...>::structure_ok, layer_reports<sequential_traits<Args...>>,
                         no_error_at<~std::size_t{0}>> {};

}  // namespace detail

template <class... Args>
class Sequential;

// Whether a network is wired correctly, asked without a compile error. Give it the
// Sequential<...> type itself (an alias works); a struct deriving from a miswired Sequential
// is already an error where it is defined.
template <class Net>
struct is_valid : std::bool_constant<Net::is_valid> {};
template <class... Args>
struct is_valid<Sequential<Args...>> : std::bool_constant<detail::sequential_traits<Args...>::valid> {};
template <class Net>
inline constexpr bool is_valid_v = is_valid<Net>::value;

}  // namespace latent
