// The Keras-style summary table shared by every model type: one row per layer with its name,
// type, output shape and parameter count, then Total / Trainable / Non-trainable params.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace latent::detail {

struct summary_row {
    std::string name;
    std::string type;
    std::vector<std::size_t> output_dims;  // per sample; printed after "None" for the batch
    std::size_t params = 0;
};

// 1234567 -> "1,234,567", as Keras prints totals.
inline std::string with_thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

inline std::string batch_shape_string(const std::vector<std::size_t>& dims) {
    std::string s = "(None";
    for (auto d : dims) s += ", " + std::to_string(d);
    return s + ")";
}

inline void print_summary(std::ostream& out, const std::string& model_name, const std::vector<summary_row>& rows,
                          std::size_t total, std::size_t trainable, std::size_t non_trainable) {
    constexpr std::size_t name_width = 29, shape_width = 26, param_width = 10;
    constexpr std::size_t width = name_width + shape_width + param_width;
    auto pad = [](std::string s, std::size_t w) {
        if (s.size() < w) s.append(w - s.size(), ' ');
        else s += ' ';
        return s;
    };
    out << "Model: \"" << model_name << "\"\n";
    out << std::string(width, '_') << '\n';
    out << pad(" Layer (type)", name_width) << pad("Output Shape", shape_width) << pad("Param #", param_width) << '\n';
    out << std::string(width, '=') << '\n';
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        out << pad(" " + r.name + " (" + r.type + ")", name_width) << pad(batch_shape_string(r.output_dims), shape_width)
            << pad(std::to_string(r.params), param_width) << '\n';
        if (i + 1 < rows.size()) out << '\n';
    }
    out << std::string(width, '=') << '\n';
    out << "Total params: " << with_thousands(total) << '\n';
    out << "Trainable params: " << with_thousands(trainable) << '\n';
    out << "Non-trainable params: " << with_thousands(non_trainable) << '\n';
    out << std::string(width, '_') << '\n';
}

}  // namespace latent::detail
