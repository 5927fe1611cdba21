// Training checkpoints: everything fit needs to carry on bit for bit where it stopped (weights,
// optimizer state, epoch and step, random generator states, history), in one safetensors file
// written atomically, so a crash never destroys the previous checkpoint.
#pragma once

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../io/safetensors.hpp"
#include "../optim/optimizer.hpp"
#include "callback.hpp"
#include "history.hpp"

namespace latent::detail {

// Where a run stands: the next epoch and step to run, the shuffling generator as it was when
// that epoch's order was drawn, and the dropout generator as it is now.
struct RunPosition {
    std::size_t epoch = 0;
    std::size_t step = 0;
    Generator epoch_shuffle;
    Generator dropout;
    // The learning rate to go on with: within an epoch, the one it started with (before the
    // callbacks' on_epoch_begin, which resuming runs again); 0 in a position given to
    // save_checkpoint means the optimizer's.
    double learning_rate = 0.0;
};

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.
template <class = void>
std::vector<std::byte> bytes_of(const void* data, std::size_t n) {
    std::vector<std::byte> out(n);
    if (n) std::memcpy(out.data(), data, n);
    return out;
}

template <class = void>
io::SafetensorsTensor f32_tensor(const float* data, std::vector<std::size_t> dims, std::size_t n) {
    return {"F32", std::move(dims), bytes_of(data, n * sizeof(float))};
}

// The learning rate as text that reads back to the same double.
template <class = void>
std::string exact_text(double v) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, ec == std::errc{} ? end : buf);
}

// The checkpoint's tensors for callback `index`: "__callback__/<index>/<key>".
inline std::string callback_prefix(std::size_t index) { return "__callback__/" + std::to_string(index) + "/"; }

template <class = void>
void save_checkpoint(const std::filesystem::path& path, const ParameterArena<float>& params,
                     optim::Optimizer& optimizer, const RunPosition& at, const History& history,
                     const std::vector<Callback>& callbacks = {}) {
    static_assert(std::endian::native == std::endian::little, "latent: checkpoints assume a little-endian host");
    io::SafetensorsFile file;
    for (const auto& slot : params.slots())
        file.tensors[slot.name] = f32_tensor(params.data() + slot.offset, slot.dims, slot.size);
    for (auto& [name, buffer] : optimizer.state_buffers(params.size()))
        file.tensors["__optimizer__/" + name] = f32_tensor(buffer->data(), {buffer->size()}, buffer->size());
    const auto shuffle = at.epoch_shuffle.state(), dropout = at.dropout.state();
    file.tensors["__rng__/shuffle"] = {"U64", {shuffle.size()}, bytes_of(shuffle.data(), sizeof shuffle)};
    file.tensors["__rng__/dropout"] = {"U64", {dropout.size()}, bytes_of(dropout.data(), sizeof dropout)};
    for (const auto& [key, values] : history.history)
        file.tensors["__history__/" + key] = {"F64", {values.size()}, bytes_of(values.data(), values.size() * 8)};
    // Callbacks' state, matched on resume by position and name (names joined by ',').
    std::string names;
    for (std::size_t i = 0; i < callbacks.size(); ++i) {
        names += (i ? "," : "") + std::string(callbacks[i].name());
        CallbackState state;
        callbacks[i].save_state(state);
        for (const auto& [key, values] : state.numbers)
            file.tensors[callback_prefix(i) + key] = {"F64", {values.size()},
                                                       bytes_of(values.data(), values.size() * sizeof(double))};
        for (const auto& [key, values] : state.arrays)
            file.tensors[callback_prefix(i) + key] = f32_tensor(values.data(), {values.size()}, values.size());
    }
    file.metadata = {{"format", "latent-checkpoint"},
                     {"epoch", std::to_string(at.epoch)},
                     {"step", std::to_string(at.step)},
                     {"optimizer", std::string(optimizer.name())},
                     {"iterations", std::to_string(optimizer.iterations())},
                     {"learning_rate", exact_text(at.learning_rate > 0.0 ? at.learning_rate : optimizer.learning_rate())},
                     {"callbacks", names}};
    io::write_safetensors(path, file);
}

template <class = void>
std::size_t metadata_number(const io::SafetensorsFile& file, const std::string& key,
                            const std::string& label) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end() || it->second.empty() ||
        it->second.find_first_not_of("0123456789") != std::string::npos || it->second.size() > 19)
        throw io_error("latent.train.checkpoint", label + ": metadata \"" + key + "\" is missing or not a count");
    return static_cast<std::size_t>(std::stoull(it->second));
}

// Restores parameters, optimizer state and learning rate, position, history and the state of
// `callbacks`; all-or-nothing: everything is checked before anything changes, the position too
// (its step within the `steps_per_epoch` of the run that resumes). A callback gets the state
// saved for the callback at its position when that one had its name; otherwise it starts afresh.
template <class = void>
void load_checkpoint(const std::filesystem::path& path, ParameterArena<float>& params,
                     optim::Optimizer& optimizer, RunPosition& at, History& history,
                     std::size_t steps_per_epoch = static_cast<std::size_t>(-1),
                     const std::vector<Callback>& callbacks = {}) {
    const std::string label = path.filename().string();
    const auto file = io::read_safetensors(path);
    auto fail = [&](const std::string& what) { throw io_error("latent.train.checkpoint", label + ": " + what); };
    if (file.metadata.count("format") == 0 || file.metadata.at("format") != "latent-checkpoint")
        fail("not a latent checkpoint (metadata \"format\" is not \"latent-checkpoint\")");
    if (file.metadata.count("optimizer") == 0 || file.metadata.at("optimizer") != optimizer.name())
        fail("written by another optimizer than " + std::string(optimizer.name()));
    auto tensor = [&](const std::string& name, const char* dtype, std::size_t elements) -> const io::SafetensorsTensor& {
        const auto it = file.tensors.find(name);
        if (it == file.tensors.end()) fail("tensor \"" + name + "\" is missing");
        if (it->second.dtype != dtype) fail("tensor \"" + name + "\" has dtype " + it->second.dtype + ", expected " + dtype);
        const std::size_t width = std::string_view(dtype) == "F32" ? 4 : 8;
        if (it->second.bytes.size() != elements * width)
            throw shape_error("latent.train.checkpoint.shape",
                              label + ": tensor \"" + name + "\" has " + std::to_string(it->second.bytes.size() / width) +
                                  " elements, expected " + std::to_string(elements));
        return it->second;
    };
    for (const auto& slot : params.slots()) {
        const auto& t = tensor(slot.name, "F32", slot.size);
        if (t.dims != slot.dims)
            throw shape_error("latent.train.checkpoint.shape", label + ": tensor \"" + slot.name + "\" expected " +
                                                                   format_shape(slot.dims) + ", file has " +
                                                                   format_shape(t.dims));
    }
    auto buffers = optimizer.state_buffers(params.size());
    for (auto& [name, buffer] : buffers) tensor("__optimizer__/" + name, "F32", buffer->size());
    const auto& shuffle = tensor("__rng__/shuffle", "U64", 6);
    const auto& dropout = tensor("__rng__/dropout", "U64", 6);
    const std::size_t epoch = metadata_number(file, "epoch", label);
    const std::size_t step = metadata_number(file, "step", label);
    const std::size_t iterations = metadata_number(file, "iterations", label);
    if (step > steps_per_epoch)
        throw value_error("latent.train.checkpoint", label + ": step " + std::to_string(step) + " is past the " +
                                                         std::to_string(steps_per_epoch) +
                                                         " steps of an epoch (was the batch size changed?)");
    // Written before callbacks and learning-rate changes were saved: the learning rate as compiled.
    std::optional<double> learning_rate;
    if (const auto it = file.metadata.find("learning_rate"); it != file.metadata.end()) {
        double lr = 0;
        const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), lr);
        if (ec != std::errc{} || end != it->second.data() + it->second.size() || !(lr > 0.0) || !std::isfinite(lr))
            fail("metadata \"learning_rate\" is \"" + it->second + "\", not a positive number");
        learning_rate = lr;
    }
    std::vector<std::string> saved_names;
    if (const auto it = file.metadata.find("callbacks"); it != file.metadata.end() && !it->second.empty()) {
        std::size_t from = 0;
        for (std::size_t comma; (comma = it->second.find(',', from)) != std::string::npos; from = comma + 1)
            saved_names.push_back(it->second.substr(from, comma - from));
        saved_names.push_back(it->second.substr(from));
    }
    std::vector<std::optional<CallbackState>> states(callbacks.size());
    for (std::size_t i = 0; i < callbacks.size() && i < saved_names.size(); ++i) {
        if (saved_names[i] != callbacks[i].name()) continue;
        CallbackState& state = states[i].emplace();
        const std::string prefix = callback_prefix(i);
        for (auto it = file.tensors.lower_bound(prefix); it != file.tensors.end() && it->first.rfind(prefix, 0) == 0;
             ++it) {
            const std::string key = it->first.substr(prefix.size());
            const auto& t = it->second;
            if (t.dtype == "F64" && t.bytes.size() % 8 == 0) {
                std::vector<double> values(t.bytes.size() / 8);
                std::memcpy(values.data(), t.bytes.data(), t.bytes.size());
                state.numbers[key] = std::move(values);
            } else if (t.dtype == "F32" && t.bytes.size() % 4 == 0) {
                std::vector<float> values(t.bytes.size() / 4);
                std::memcpy(values.data(), t.bytes.data(), t.bytes.size());
                state.arrays[key] = std::move(values);
            } else {
                fail("tensor \"" + it->first + "\" is neither F64 nor F32");
            }
        }
    }
    History restored;
    for (const auto& [name, t] : file.tensors) {
        if (name.rfind("__history__/", 0) != 0) continue;
        if (t.dtype != "F64" || t.bytes.size() % 8 != 0) fail("tensor \"" + name + "\" is not F64");
        std::vector<double> values(t.bytes.size() / 8);
        std::memcpy(values.data(), t.bytes.data(), t.bytes.size());
        restored.history[name.substr(12)] = std::move(values);
    }

    // Everything is valid: apply.
    for (const auto& slot : params.slots())
        std::memcpy(params.data() + slot.offset, file.tensors.at(slot.name).bytes.data(), slot.size * sizeof(float));
    for (auto& [name, buffer] : buffers)
        std::memcpy(buffer->data(), file.tensors.at("__optimizer__/" + name).bytes.data(), buffer->size() * sizeof(float));
    optimizer.set_iterations(iterations);
    // A scheduled rate follows the restored iterations instead.
    if (learning_rate && !optimizer.learning_rate_scheduled()) optimizer.set_learning_rate(*learning_rate);
    at.learning_rate = optimizer.learning_rate();
    for (std::size_t i = 0; i < callbacks.size(); ++i)
        if (states[i]) callbacks[i].load_state(*states[i]);
    std::array<std::uint64_t, 6> words{};
    std::memcpy(words.data(), shuffle.bytes.data(), sizeof words);
    at.epoch_shuffle.set_state(words);
    std::memcpy(words.data(), dropout.bytes.data(), sizeof words);
    at.dropout.set_state(words);
    at.epoch = epoch;
    at.step = step;
    restored.epochs = epoch;
    history = std::move(restored);
}

}  // namespace latent::detail

namespace latent {

// FitOptions::checkpoint: the file fit checkpoints to, or none. Given as a path
// (`.checkpoint = "run.ckpt"`), and converting from one is what compiles the checkpoint writer
// and reader into a program: fit calls them through the pointers taken there, so a program that
// never checkpoints does not compile them (bench/README.md, "Compile time").
class CheckpointFile {
public:
    CheckpointFile() = default;
    template <class P>
        requires std::is_constructible_v<std::filesystem::path, const P&>
    CheckpointFile(const P& path)  // NOLINT(google-explicit-constructor): `.checkpoint = "run.ckpt"`
        : path_(path), save_(&detail::save_checkpoint<>), load_(&detail::load_checkpoint<>) {}

    const std::filesystem::path& path() const noexcept { return path_; }
    bool empty() const noexcept { return path_.empty(); }

    // detail::save_checkpoint and detail::load_checkpoint on this file.
    void save(const ParameterArena<float>& params, optim::Optimizer& optimizer, const detail::RunPosition& at,
              const History& history, const std::vector<Callback>& callbacks) const {
        save_(path_, params, optimizer, at, history, callbacks);
    }
    void load(ParameterArena<float>& params, optim::Optimizer& optimizer, detail::RunPosition& at, History& history,
              std::size_t steps_per_epoch, const std::vector<Callback>& callbacks) const {
        load_(path_, params, optimizer, at, history, steps_per_epoch, callbacks);
    }

private:
    std::filesystem::path path_;
    void (*save_)(const std::filesystem::path&, const ParameterArena<float>&, optim::Optimizer&,
                  const detail::RunPosition&, const History&, const std::vector<Callback>&) = nullptr;
    void (*load_)(const std::filesystem::path&, ParameterArena<float>&, optim::Optimizer&, detail::RunPosition&,
                  History&, std::size_t, const std::vector<Callback>&) = nullptr;
};

}  // namespace latent
