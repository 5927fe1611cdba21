// Compile-time benchmark calibration: the standard headers latent.hpp pulls in, and a fixed
// amount of the other work the budgeted TUs spend their time on, instantiating and optimizing
// (-O2) code over the standard containers, strings and algorithms. Its time says how fast this
// machine compiles right now, so the budgets (set where this TU took 2.15 s) scale with a slower
// machine instead of failing on it. (It was the headers alone until 2026-12-07: see
// bench/README.md, "Budgets", for why and how the 2.15 s was carried over.)
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>


namespace calibration {

template <int N>
struct Record {
    std::string name;
    std::vector<double> values;
    std::map<std::string, int> counts;
};

template <int N>
std::string describe(const std::vector<Record<N>>& records) {
    std::ostringstream out;
    for (const auto& r : records) {
        out << r.name << " (" << r.values.size() << " values";
        for (const auto& [key, count] : r.counts) out << ", " << key << "=" << count;
        out << ")\n";
    }
    return out.str();
}

template <int N>
std::vector<Record<N>> build(int n) {
    std::vector<Record<N>> records;
    for (int i = 0; i < n; ++i) {
        Record<N> r;
        r.name = "record " + std::to_string(i * N) + ": " + std::to_string(i * 0.5);
        for (int j = 0; j < i % 7; ++j) r.values.push_back(std::sqrt(static_cast<double>(j + N)));
        r.counts[r.name.substr(0, 3)] += i;
        records.push_back(std::move(r));
    }
    std::sort(records.begin(), records.end(), [](const Record<N>& a, const Record<N>& b) { return a.name < b.name; });
    std::stable_sort(records.begin(), records.end(),
                     [](const Record<N>& a, const Record<N>& b) { return a.values.size() < b.values.size(); });
    if (records.size() > 1000) throw std::runtime_error("record " + records.front().name + " is one too many");
    return records;
}

}  // namespace calibration

int main() { return static_cast<int>((calibration::describe(calibration::build<0>(3)).size() +
                                      calibration::describe(calibration::build<1>(4)).size()) % 2); }
