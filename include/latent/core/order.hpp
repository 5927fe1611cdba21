// Sorting for latent's own bookkeeping (names, file entries): one std::sort instantiation that
// every such sort shares, instead of a fresh introsort, heap sort and insertion sort per element
// type and comparator, which a program that saves and loads weights compiled five times over.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace latent::detail {

// Orders indices by a comparator seen through a plain function pointer, so every sort below is
// the same instantiation of std::sort whatever it compares.
struct IndexLess {
    const void* context;
    bool (*less)(const void* context, std::size_t a, std::size_t b);
    bool operator()(std::size_t a, std::size_t b) const { return less(context, a, b); }
};

// Out of line and opaque to interprocedural constant propagation, so that the compiler does not
// clone the sort once more for each comparator it could see through.
#if defined(__GNUC__) && !defined(__clang__)
[[gnu::noipa]]
#else
[[gnu::noinline]]
#endif
inline void sort_indices(std::vector<std::size_t>& order, IndexLess less) {
    std::sort(order.begin(), order.end(), less);
}

// The indices 0 .. n - 1 in the order `less(a, b)` (a strict weak order on indices) gives, equal
// ones in index order: a stable sort's permutation.
template <class Less>
std::vector<std::size_t> sorted_order(std::size_t n, const Less& less) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    sort_indices(order, IndexLess{&less, [](const void* context, std::size_t a, std::size_t b) {
                                      const Less& l = *static_cast<const Less*>(context);
                                      if (l(a, b)) return true;
                                      if (l(b, a)) return false;
                                      return a < b;
                                  }});
    return order;
}

// `items` rearranged into `order` (a permutation of its indices, as sorted_order gives).
template <class T>
void apply_order(std::vector<T>& items, const std::vector<std::size_t>& order) {
    std::vector<T> sorted;
    sorted.reserve(items.size());
    for (const std::size_t i : order) sorted.push_back(std::move(items[i]));
    items = std::move(sorted);
}

}  // namespace latent::detail
