// The Keras-style summary table shared by every model type: one row per layer with its name,
// type, output shape and parameter count, then Total / Trainable / Non-trainable params.
#pragma once

#include <algorithm>
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
    bool input_layer = false;  // Keras prints an InputLayer's shape as a list: [(None, 28, 28, 1)]
};

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.

// 1234567 -> "1,234,567", as Keras prints totals.
template <class = void>
std::string with_thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

template <class = void>
std::string batch_shape_string(const std::vector<std::size_t>& dims) {
    std::string s = "(None";
    for (auto d : dims) s += ", " + std::to_string(d);
    return s + ")";
}

// One table row as Keras' print_row lays it out: columns end at 29, 55 and 65; text too long
// for its column continues on the next line (breaking after "),"-like endings when it can).
template <class = void>
void print_summary_row(std::ostream& out, std::vector<std::string> fields) {
    constexpr std::size_t positions[3] = {29, 55, 65};
    const auto pending = [&] {
        for (const auto& f : fields)
            if (!f.empty()) return true;
        return false;
    };
    do {
        std::string line;
        for (std::size_t col = 0; col < 3; ++col) {
            const std::size_t start = col ? positions[col - 1] : 0;
            const std::size_t space = col != 2 ? 2 : 0;
            std::size_t cutoff = positions[col] - start - space;
            std::string fit = fields[col].substr(0, cutoff);
            std::size_t shortest = std::string::npos;
            for (const char* ending : {"),", "},", "],", "',"}) {
                const auto at = fit.find(ending);
                if (at != std::string::npos) shortest = std::min(shortest, at + 2);
            }
            if (shortest != std::string::npos) fit.resize(cutoff = shortest);
            if (col == 0) line += ' ';
            line += fit;
            line.append(space, ' ');
            fields[col] = fields[col].size() > cutoff ? fields[col].substr(cutoff) : std::string();
            if (line.size() < positions[col]) line.append(positions[col] - line.size(), ' ');
        }
        out << line << '\n';
    } while (pending());
}

template <class = void>
[[gnu::cold]]
void print_summary(std::ostream& out, const std::string& model_name, const std::vector<summary_row>& rows,
                   std::size_t total, std::size_t trainable, std::size_t non_trainable) {
    constexpr std::size_t width = 65;
    out << "Model: \"" << model_name << "\"\n";
    out << std::string(width, '_') << '\n';
    print_summary_row(out, {"Layer (type)", "Output Shape", "Param #"});
    out << std::string(width, '=') << '\n';
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const std::string shape = batch_shape_string(r.output_dims);
        print_summary_row(out, {r.name + " (" + r.type + ")", r.input_layer ? "[" + shape + "]" : shape,
                                std::to_string(r.params)});
        if (i + 1 < rows.size()) out << '\n';
    }
    out << std::string(width, '=') << '\n';
    out << "Total params: " << with_thousands(total) << '\n';
    out << "Trainable params: " << with_thousands(trainable) << '\n';
    out << "Non-trainable params: " << with_thousands(non_trainable) << '\n';
    out << std::string(width, '_') << '\n';
}

}  // namespace latent::detail
