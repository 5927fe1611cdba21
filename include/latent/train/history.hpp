// History: per-epoch metrics of a fit() run, keyed as Keras keys them ("loss", "accuracy",
// "val_loss", "val_accuracy").
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "../core/errors.hpp"

namespace latent {

struct History {
    std::map<std::string, std::vector<double>> history;
    std::size_t epochs = 0;

    const std::vector<double>& operator[](const std::string& key) const { return at(key); }
    const std::vector<double>& at(const std::string& key) const {
        const auto it = history.find(key);
        if (it == history.end()) {
            std::string keys;
            for (const auto& [k, v] : history) keys += (keys.empty() ? "" : ", ") + k;
            throw value_error("latent.train.history", "History has no \"" + key + "\"; it has: " + keys);
        }
        return it->second;
    }
    bool contains(const std::string& key) const { return history.count(key) != 0; }
    double last(const std::string& key) const { return at(key).back(); }
};

}  // namespace latent
