// Loading weights layer by layer, matched by layer name, as Keras' load_weights(by_name=True,
// skip_mismatch=...): what transfer learning uses to take the layers two networks share.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../core/arena.hpp"
#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "safetensors.hpp"

namespace latent::io {

struct LoadOptions {
    bool by_name = false;        // load the layers whose names match; leave the others as they are
    bool skip_mismatch = false;  // with by_name: skip a layer whose weights do not fit, instead of failing
};

// What a load did, layer by layer: "conv2d" loaded; "dense_2: not in the file",
// "dense_1: kernel is (3136, 512) here, (3136, 10) in the file" skipped; file tensors no layer took.
struct LoadReport {
    std::vector<std::string> loaded;
    std::vector<std::string> skipped;
    std::vector<std::string> unused;
};

namespace detail {

// A tensor offered for loading: its shape and float32 values.
struct NamedValues {
    std::vector<std::size_t> dims;
    std::vector<float> values;
};

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.
template <class = void>
std::pair<std::string, std::string> split_slot_name(const std::string& name) {
    const auto slash = name.rfind('/');
    if (slash == std::string::npos) return {name, {}};
    return {name.substr(0, slash), name.substr(slash + 1)};
}

// Assigns, layer by layer, the source tensors whose names match the arena's slots. All or
// nothing: every check runs before the first value is written.
template <class = void>
LoadReport assign_by_layer(const std::map<std::string, NamedValues>& source, ParameterArena<float>& arena,
                           bool skip_mismatch, const std::string& label) {
    LoadReport report;
    std::vector<std::pair<const ParamSlot*, const NamedValues*>> writes;
    std::map<std::string, bool> used;
    for (const auto& [name, _] : source) used[name] = false;
    const auto& slots = arena.slots();
    for (std::size_t first = 0; first < slots.size();) {
        const std::string layer = split_slot_name(slots[first].name).first;
        std::size_t last = first;
        while (last < slots.size() && split_slot_name(slots[last].name).first == layer) ++last;
        bool any = false;
        for (const auto& [name, _] : source)
            if (split_slot_name(name).first == layer) any = true;
        if (!any) {
            report.skipped.push_back(layer + ": not in " + label);
            first = last;
            continue;
        }
        std::string problem;
        for (std::size_t s = first; s < last && problem.empty(); ++s) {
            const auto it = source.find(slots[s].name);
            if (it == source.end())
                problem = split_slot_name(slots[s].name).second + " is not in " + label;
            else if (it->second.dims != slots[s].dims)
                problem = split_slot_name(slots[s].name).second + " is " + format_shape(slots[s].dims) + " here, " +
                          format_shape(it->second.dims) + " in " + label;
        }
        for (const auto& [name, _] : source)
            if (split_slot_name(name).first == layer && !arena.find(name) && problem.empty())
                problem = "the file has " + name + ", which this layer does not";
        if (!problem.empty()) {
            if (!skip_mismatch)
                throw shape_error("latent.io.by_name.mismatch",
                                  "layer \"" + layer + "\": " + problem +
                                      " (pass skip_mismatch = true to leave such layers as they are)");
            report.skipped.push_back(layer + ": " + problem);
            first = last;
            continue;
        }
        for (std::size_t s = first; s < last; ++s) {
            const auto it = source.find(slots[s].name);
            writes.emplace_back(&slots[s], &it->second);
            used[it->first] = true;
        }
        report.loaded.push_back(layer);
        first = last;
    }
    for (const auto& [name, was_used] : used)
        if (!was_used) report.unused.push_back(name);
    for (const auto& [slot, values] : writes)
        std::copy(values->values.begin(), values->values.end(), arena.data() + slot->offset);
    return report;
}

// load_safetensors (every tensor there, nothing more), reporting every layer as loaded: what
// load_weights does without options, which so never compiles the by-name machinery above.
template <class = void>
LoadReport load_every_slot(const std::filesystem::path& path, ParameterArena<float>& arena) {
    load_safetensors(path, arena);
    LoadReport report;
    for (const auto& slot : arena.slots()) {
        const std::string layer = split_slot_name(slot.name).first;
        if (report.loaded.empty() || report.loaded.back() != layer) report.loaded.push_back(layer);
    }
    return report;
}

}  // namespace detail

// Loads `path` into `arena`. Without by_name it is load_safetensors (every tensor must be
// there, nothing more); with it, layer by layer as assign_by_layer says.
template <class = void>
LoadReport load_safetensors(const std::filesystem::path& path, ParameterArena<float>& arena,
                            const LoadOptions& options) {
    if (!options.by_name) {
        if (options.skip_mismatch)
            throw value_error("latent.io.by_name.options",
                              "skip_mismatch only applies when loading by name (set by_name = true), as in Keras");
        return detail::load_every_slot(path, arena);
    }
    const std::string label = latent::io::detail::file_label(path);
    const SafetensorsFile file = read_safetensors(path);
    std::map<std::string, detail::NamedValues> source;
    for (const auto& [name, tensor] : file.tensors) {
        if (tensor.dtype != "F32") continue;  // only float32 weights can go into a float arena
        detail::NamedValues v;
        v.dims = tensor.dims;
        v.values.resize(tensor.bytes.size() / sizeof(float));
        latent::io::detail::f32_from_le(tensor.bytes.data(), v.values.data(), v.values.size());
        source.emplace(name, std::move(v));
    }
    return detail::assign_by_layer(source, arena, options.skip_mismatch, label);
}

}  // namespace latent::io
