// Keras' standard callbacks for fit(): EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
// LearningRateScheduler, CSVLogger and LambdaCallback, as aggregates with Keras' settings and
// defaults: fit(x, y, {.callbacks = {callbacks::EarlyStopping{.patience = 3}}}).
#pragma once

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/order.hpp"
#include "../io/file.hpp"
#include "callback.hpp"

namespace latent::callbacks {

// The hooks below are templates with nothing to deduce (template <class = void>): only a
// translation unit whose fit uses a callback compiles its hooks (bench/README.md, "Compile
// time"); they are called as plain member functions.

// Whether a monitored quantity improves by falling or by rising; `automatic` decides from its
// name as Keras does: rising for accuracies ("acc" in the name), falling for losses.
enum class MonitorMode { automatic, min, max };

namespace detail {
// A number as Python's str() writes a float (what Keras' messages and CSV files show): the
// shortest digits that read back the same, positional for exponents -4 to 15, else scientific,
// and ".0" on whole numbers ("0.0005", "1e-05", "1.0").
template <class = void>
std::string shortest(double v) {
    char buf[64];
    const auto scientific = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    if (scientific.ec != std::errc{}) return std::to_string(v);
    const std::string sci(buf, scientific.ptr);
    const std::size_t e = sci.find('e');
    if (e == std::string::npos) return sci;  // inf, nan
    int exponent = 0;
    std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+'), sci.data() + sci.size(), exponent);
    if (exponent < -4 || exponent >= 16) return sci;
    std::string text(buf, std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed).ptr);
    if (text.find('.') == std::string::npos) text += ".0";
    return text;
}
template <class = void>
std::string fixed5(double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.5f", v);
    return buf;
}

// True for max, false for min; `who` names the callback in the error.
template <class = void>
bool rises(const std::string& monitor, MonitorMode mode, const char* who) {
    if (mode != MonitorMode::automatic) return mode == MonitorMode::max;
    if (monitor.find("acc") != std::string::npos) return true;
    if (monitor.size() >= 4 && monitor.compare(monitor.size() - 4, 4, "loss") == 0) return false;
    if (monitor == "learning_rate") return false;
    throw value_error("latent.callbacks.mode",
                      latent::detail::concat(who, ": MonitorMode::automatic cannot tell whether \"", monitor,
                                             "\" improves by falling or rising; set .mode to "
                                             "MonitorMode::min or MonitorMode::max"));
}

// The monitored key is one that fit logs every epoch.
template <class = void>
void check_monitor(const TrainingContext& context, const std::string& monitor, const char* who) {
    if (context.logs_have(monitor)) return;
    std::string keys;
    for (const auto& k : context.log_keys()) keys += (keys.empty() ? "" : ", ") + k;
    throw value_error("latent.callbacks.monitor",
                      latent::detail::concat(who, " monitors \"", monitor, "\", which this fit does not log; it logs ",
                                             keys,
                                             monitor.rfind("val_", 0) == 0
                                                 ? " (\"val_\" keys need validation data or validation_split)"
                                                 : ""));
}

// The monitored figure of an epoch's logs; `who` names the callback in the error.
template <class = void>
double monitored(const Logs& logs, const std::string& monitor, const char* who, std::size_t epoch) {
    if (const auto v = logs.get(monitor)) return *v;
    throw value_error("latent.callbacks.monitor",
                      latent::detail::concat(who, ": epoch ", std::to_string(epoch + 1), " logged no \"", monitor,
                                             "\"; it logged ", logs.keys()));
}

// Fills Keras' placeholders in a file path: {epoch} (counted from 1), {epoch:02d}, and any
// logged figure, {val_loss:.4f}; "{{" and "}}" are literal braces. `value` gives a key's
// figure, or nothing for a key that is not logged.
template <class Lookup>
std::string format_path(const std::string& pattern, std::size_t epoch, Lookup value) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char ch = pattern[i];
        if ((ch == '{' || ch == '}') && i + 1 < pattern.size() && pattern[i + 1] == ch) {
            out += ch;
            ++i;
            continue;
        }
        if (ch == '}')
            throw value_error("latent.callbacks.filepath", "ModelCheckpoint: \"" + pattern + "\" has a '}' at " +
                                                                std::to_string(i) + " without its '{' (write }} for one)");
        if (ch != '{') {
            out += ch;
            continue;
        }
        const std::size_t close = pattern.find('}', i);
        if (close == std::string::npos)
            throw value_error("latent.callbacks.filepath",
                              "ModelCheckpoint: \"" + pattern + "\" opens a '{' at " + std::to_string(i) +
                                  " that no '}' closes (write {{ for a brace)");
        const std::string field = pattern.substr(i + 1, close - i - 1);
        const std::size_t colon = field.find(':');
        const std::string key = field.substr(0, colon);
        std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
        char type = 0;
        if (!spec.empty() && std::string_view("dfeg").find(spec.back()) != std::string_view::npos) {
            type = spec.back();
            spec.pop_back();
        }
        // What remains is [0][width][.precision]: nothing else reaches snprintf's format.
        const bool plain = std::all_of(spec.begin(), spec.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                           std::count(spec.begin(), spec.end(), '.') <= 1;
        if (!plain)
            throw value_error("latent.callbacks.filepath", "ModelCheckpoint: \"{" + field + "}\" in \"" + pattern +
                                                                "\": the format after ':' may only be [0][width][.precision]"
                                                                "[d|f|e|g], as {epoch:02d} or {val_loss:.4f}");
        char buf[128];
        if (key == "epoch") {
            if (type == 0 || type == 'd') {
                if (spec.find('.') != std::string::npos)
                    throw value_error("latent.callbacks.filepath",
                                      "ModelCheckpoint: \"{" + field + "}\": an integer has no precision");
                std::snprintf(buf, sizeof buf, ("%" + spec + "llu").c_str(), static_cast<unsigned long long>(epoch));
            } else {
                std::snprintf(buf, sizeof buf, ("%" + spec + type).c_str(), static_cast<double>(epoch));
            }
        } else {
            const std::optional<double> v = value(key);
            if (!v)
                throw value_error("latent.callbacks.filepath",
                                  "ModelCheckpoint: \"" + pattern + "\" names \"" + key +
                                      "\", which is neither epoch nor a figure this fit logs");
            if (type == 'd')
                throw value_error("latent.callbacks.filepath", "ModelCheckpoint: \"{" + field + "}\": \"" + key +
                                                                    "\" is not an integer; use f, e or g");
            if (type == 0 && spec.empty())
                std::snprintf(buf, sizeof buf, "%s", shortest(*v).c_str());
            else
                std::snprintf(buf, sizeof buf, ("%" + spec + (type ? type : 'g')).c_str(), *v);
        }
        out += buf;
        i = close;
    }
    return out;
}
}  // namespace detail

// Stops training once the monitored figure has not improved for `patience` epochs (Keras'
// EarlyStopping, with Keras 3's rules: an improvement beats the best by more than min_delta; a
// baseline must be beaten for the wait to restart; with restore_best_weights the model ends
// with the weights of its best epoch, whether or not training stopped early).
struct EarlyStopping {
    static constexpr std::string_view callback_name = "EarlyStopping";

    std::string monitor = "val_loss";
    double min_delta = 0.0;
    std::size_t patience = 0;
    bool verbose = false;
    MonitorMode mode = MonitorMode::automatic;
    std::optional<double> baseline{};
    bool restore_best_weights = false;
    std::size_t start_from_epoch = 0;  // epochs of warm-up before anything counts

    // What it found (Keras' attributes), readable after fit when the callback was passed by name.
    std::size_t wait = 0;
    std::size_t stopped_epoch = 0;  // the epoch it stopped after (from 0); 0 when it did not stop
    std::size_t best_epoch = 0;
    std::optional<double> best{};
    std::vector<float> best_weights{};

    template <class = void>
    void on_train_begin(TrainingContext& context) {
        detail::check_monitor(context, monitor, "EarlyStopping");
        (void)detail::rises(monitor, mode, "EarlyStopping");
        if (!std::isfinite(min_delta))
            throw value_error("latent.callbacks.setting", "EarlyStopping: min_delta must be finite");
        wait = stopped_epoch = best_epoch = 0;
        best.reset();
        best_weights.clear();
    }

    template <class = void>
    void on_epoch_end(std::size_t epoch, Logs& logs, TrainingContext& context) {
        const double current = detail::monitored(logs, monitor, "EarlyStopping", epoch);
        if (epoch < start_from_epoch) return;
        if (restore_best_weights && best_weights.empty()) {  // nothing better yet: the weights as they are
            keep_weights(context);
            best_epoch = epoch;
        }
        ++wait;
        if (improves(current, best)) {
            best = current;
            best_epoch = epoch;
            if (restore_best_weights) keep_weights(context);
            if (!baseline || improves(current, baseline)) wait = 0;
            return;
        }
        if (wait >= patience && epoch > 0) {
            stopped_epoch = epoch;
            context.stop_training = true;
        }
    }

    template <class = void>
    void on_train_end(const Logs&, TrainingContext& context) {
        if (stopped_epoch > 0 && verbose) context.print("Epoch " + std::to_string(stopped_epoch + 1) + ": early stopping");
        if (restore_best_weights && !best_weights.empty()) {
            if (verbose)
                context.print("Restoring model weights from the end of the best epoch: " +
                              std::to_string(best_epoch + 1) + ".");
            const auto weights = context.weights();
            if (weights.size() == best_weights.size()) std::copy(best_weights.begin(), best_weights.end(), weights.begin());
        }
    }

    template <class = void>
    void save_state(CallbackState& s) const {
        s.numbers["wait"] = {static_cast<double>(wait)};
        s.numbers["stopped_epoch"] = {static_cast<double>(stopped_epoch)};
        s.numbers["best_epoch"] = {static_cast<double>(best_epoch)};
        if (best) s.numbers["best"] = {*best};
        if (!best_weights.empty()) s.arrays["best_weights"] = best_weights;
    }
    template <class = void>
    void load_state(const CallbackState& s) {
        wait = static_cast<std::size_t>(s.number("wait", 0));
        stopped_epoch = static_cast<std::size_t>(s.number("stopped_epoch", 0));
        best_epoch = static_cast<std::size_t>(s.number("best_epoch", 0));
        best.reset();
        if (s.numbers.count("best")) best = s.number("best", 0);
        const auto it = s.arrays.find("best_weights");
        best_weights = it != s.arrays.end() ? it->second : std::vector<float>{};
    }

private:
    bool improves(double value, const std::optional<double>& reference) const {
        if (!reference) return true;
        const double delta = std::abs(min_delta);
        return detail::rises(monitor, mode, "EarlyStopping") ? value - delta > *reference : value + delta < *reference;
    }
    void keep_weights(TrainingContext& context) {
        const auto weights = context.weights();
        best_weights.assign(weights.begin(), weights.end());
    }
};

// Saves the model's weights (safetensors, crash-safe) at the end of every epoch, or with
// save_best_only when the monitored figure improves on the best so far (Keras'
// ModelCheckpoint; the architecture is the model's type, so weights are all there is to save).
// The path may name the epoch and any logged figure: "ckpt/{epoch:02d}-{val_loss:.4f}.safetensors";
// missing folders are made.
struct ModelCheckpoint {
    static constexpr std::string_view callback_name = "ModelCheckpoint";

    std::string filepath;
    std::string monitor = "val_loss";
    bool verbose = false;
    bool save_best_only = false;
    MonitorMode mode = MonitorMode::automatic;
    std::optional<double> initial_value_threshold{};  // what the first save must beat

    std::optional<double> best{};  // the best monitored figure saved so far

    template <class = void>
    void on_train_begin(TrainingContext& context) {
        if (filepath.empty())
            throw value_error("latent.callbacks.filepath", "ModelCheckpoint needs a filepath to save to");
        if (save_best_only) {
            detail::check_monitor(context, monitor, "ModelCheckpoint");
            (void)detail::rises(monitor, mode, "ModelCheckpoint");
        }
        // Every placeholder must name something fit logs: found now, not after the first epoch.
        (void)detail::format_path(filepath, 1, [&](const std::string& key) -> std::optional<double> {
            return context.logs_have(key) ? std::optional<double>(0.0) : std::nullopt;
        });
        best = initial_value_threshold;
    }

    template <class = void>
    void on_epoch_end(std::size_t epoch, Logs& logs, TrainingContext& context) {
        const std::string path =
            detail::format_path(filepath, epoch + 1, [&](const std::string& key) { return logs.get(key); });
        const std::string at = "Epoch " + std::to_string(epoch + 1) + ": ";
        if (!save_best_only) {
            save(context, path);
            if (verbose) context.print(at + "saving model to " + path);
            return;
        }
        const double current = detail::monitored(logs, monitor, "ModelCheckpoint", epoch);
        const bool rises = detail::rises(monitor, mode, "ModelCheckpoint");
        const bool better = !best || (rises ? current > *best : current < *best);
        if (better) {
            if (verbose)
                context.print(at + monitor + " improved from " + (best ? detail::fixed5(*best) : rises ? "-inf" : "inf") +
                              " to " + detail::fixed5(current) + ", saving model to " + path);
            best = current;
            save(context, path);
        } else if (verbose) {
            context.print(at + monitor + " did not improve from " + detail::fixed5(*best));
        }
    }

    template <class = void>
    void save_state(CallbackState& s) const {
        if (best) s.numbers["best"] = {*best};
    }
    template <class = void>
    void load_state(const CallbackState& s) {
        best = initial_value_threshold;
        if (s.numbers.count("best")) best = s.number("best", 0);
    }

private:
    static void save(TrainingContext& context, const std::string& path) {
        const std::filesystem::path p(path);
        if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
        context.save_weights(p);
    }
};

// Multiplies the learning rate by `factor` once the monitored figure has not improved (by more
// than min_delta) for `patience` epochs, then waits `cooldown` epochs before counting again;
// never below min_lr (Keras' ReduceLROnPlateau). Adds "learning_rate" to the logs and History.
struct ReduceLROnPlateau {
    static constexpr std::string_view callback_name = "ReduceLROnPlateau";

    std::string monitor = "val_loss";
    double factor = 0.1;
    std::size_t patience = 10;
    bool verbose = false;
    MonitorMode mode = MonitorMode::automatic;
    double min_delta = 1e-4;
    std::size_t cooldown = 0;
    double min_lr = 0.0;

    std::size_t wait = 0;
    std::size_t cooldown_counter = 0;
    std::optional<double> best{};

    template <class = void>
    void on_train_begin(TrainingContext& context) {
        if (!(factor > 0.0 && factor < 1.0))
            throw value_error("latent.callbacks.setting",
                              "ReduceLROnPlateau: factor must be in (0, 1), got " + detail::shortest(factor));
        if (!(min_lr >= 0.0 && std::isfinite(min_lr)) || !std::isfinite(min_delta))
            throw value_error("latent.callbacks.setting",
                              "ReduceLROnPlateau: min_lr must be >= 0 and min_delta finite, got " +
                                  detail::shortest(min_lr) + " and " + detail::shortest(min_delta));
        if (context.learning_rate_scheduled())
            throw value_error("latent.callbacks.schedule",
                              "ReduceLROnPlateau sets the learning rate, but the optimizer's follows a schedule; "
                              "compile with a constant lr");
        detail::check_monitor(context, monitor, "ReduceLROnPlateau");
        (void)detail::rises(monitor, mode, "ReduceLROnPlateau");
        wait = cooldown_counter = 0;
        best.reset();
    }

    template <class = void>
    void on_epoch_end(std::size_t epoch, Logs& logs, TrainingContext& context) {
        logs.set("learning_rate", context.learning_rate());
        const double current = detail::monitored(logs, monitor, "ReduceLROnPlateau", epoch);
        if (cooldown_counter > 0) {
            --cooldown_counter;
            wait = 0;
        }
        const double delta = std::abs(min_delta);
        const bool rises = detail::rises(monitor, mode, "ReduceLROnPlateau");
        if (!best || (rises ? current > *best + delta : current < *best - delta)) {
            best = current;
            wait = 0;
        } else if (cooldown_counter == 0) {
            if (++wait >= patience) {
                const double old_lr = context.learning_rate();
                if (old_lr > static_cast<double>(static_cast<float>(min_lr))) {
                    const double new_lr = std::max(old_lr * factor, min_lr);
                    context.set_learning_rate(new_lr);
                    if (verbose)
                        context.print("Epoch " + std::to_string(epoch + 1) +
                                      ": ReduceLROnPlateau reducing learning rate to " + detail::shortest(new_lr) + ".");
                    cooldown_counter = cooldown;
                    wait = 0;
                }
            }
        }
    }

    template <class = void>
    void save_state(CallbackState& s) const {
        s.numbers["wait"] = {static_cast<double>(wait)};
        s.numbers["cooldown_counter"] = {static_cast<double>(cooldown_counter)};
        if (best) s.numbers["best"] = {*best};
    }
    template <class = void>
    void load_state(const CallbackState& s) {
        wait = static_cast<std::size_t>(s.number("wait", 0));
        cooldown_counter = static_cast<std::size_t>(s.number("cooldown_counter", 0));
        best.reset();
        if (s.numbers.count("best")) best = s.number("best", 0);
    }
};

// Sets the learning rate at the start of every epoch to schedule(epoch, current learning rate)
// (Keras' LearningRateScheduler; epochs count from 0). Adds "learning_rate" to the logs.
struct LearningRateScheduler {
    static constexpr std::string_view callback_name = "LearningRateScheduler";

    latent::detail::shared_function<double(std::size_t epoch, double learning_rate)> schedule{};
    bool verbose = false;

    template <class = void>
    void on_train_begin(TrainingContext& context) const {
        if (!schedule) throw value_error("latent.callbacks.schedule", "LearningRateScheduler needs a schedule");
        if (context.learning_rate_scheduled())
            throw value_error("latent.callbacks.schedule",
                              "LearningRateScheduler sets the learning rate, but the optimizer's follows a schedule; "
                              "compile with a constant lr");
    }
    template <class = void>
    void on_epoch_begin(std::size_t epoch, TrainingContext& context) const {
        const double lr = schedule(epoch, context.learning_rate());
        if (!(lr > 0.0 && std::isfinite(lr)))
            throw value_error("latent.callbacks.schedule",
                              "LearningRateScheduler: the schedule gave " + detail::shortest(lr) + " for epoch " +
                                  std::to_string(epoch + 1) + "; a learning rate must be positive and finite");
        context.set_learning_rate(lr);
        if (verbose)
            context.print("Epoch " + std::to_string(epoch + 1) + ": LearningRateScheduler setting learning rate to " +
                          detail::shortest(lr) + ".");
    }
    template <class = void>
    void on_epoch_end(std::size_t, Logs& logs, TrainingContext& context) const {
        logs.set("learning_rate", context.learning_rate());
    }
};

// Writes each epoch's figures to a CSV file as a row: "epoch" (from 0) and the logged keys in
// sorted order, as Keras' CSVLogger. Each row is written and closed at once, so the file is
// complete up to the last finished epoch. With `append`, or when fit resumes from a checkpoint,
// rows already there are kept (on resume only those of the epochs before the one it resumes at).
struct CSVLogger {
    static constexpr std::string_view callback_name = "CSVLogger";

    std::string filename;
    char separator = ',';
    bool append = false;

    // Bookkeeping of the run: the header's columns, and whether the file was prepared.
    std::vector<std::string> columns{};
    bool opened = false;

    template <class = void>
    void on_train_begin(TrainingContext&) {
        if (filename.empty()) throw value_error("latent.callbacks.filename", "CSVLogger needs a filename");
        columns.clear();
        opened = false;
    }

    template <class = void>
    void on_epoch_begin(std::size_t, TrainingContext& context) {
        if (opened) return;
        opened = true;
        const bool keep = append || context.initial_epoch() > 0;
        std::vector<std::string> lines;
        if (keep)
            if (io::detail::FileHandle in{io::detail::open_file(filename, "rb")}) {
                std::string text, line;
                char chunk[4096];
                for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, in.get())) > 0;) text.append(chunk, n);
                for (const char ch : text + '\n') {
                    if (ch != '\n') {
                        line += ch;
                    } else if (!line.empty()) {
                        lines.push_back(std::move(line));
                        line.clear();
                    }
                }
            }
        if (!lines.empty()) {
            // The header's columns: this run's rows go under them.
            std::string field;
            for (const char ch : lines[0] + separator) {
                if (ch == separator) {
                    columns.push_back(field);
                    field.clear();
                } else {
                    field += ch;
                }
            }
            if (context.initial_epoch() > 0) {  // drop rows the resumed run writes again
                std::vector<std::string> kept{lines[0]};
                for (std::size_t i = 1; i < lines.size(); ++i) {
                    const std::string first = lines[i].substr(0, lines[i].find(separator));
                    std::size_t epoch = 0;
                    const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), epoch);
                    if (ec == std::errc{} && end == first.data() + first.size() && epoch < context.initial_epoch())
                        kept.push_back(lines[i]);
                }
                lines = std::move(kept);
            }
        }
        // Rewritten whole, crash-safely: a failure here leaves the rows that were there.
        io::detail::AtomicFile out(filename, "latent.callbacks.csv", filename + ": CSVLogger");
        for (const auto& line : lines) {
            out.write(line.data(), line.size());
            out.write("\n", 1);
        }
        out.commit();
    }

    template <class = void>
    void on_epoch_end(std::size_t epoch, Logs& logs, TrainingContext&) {
        std::string text;
        if (columns.empty()) {
            columns.push_back("epoch");
            const auto& entries = logs.entries;
            for (const std::size_t k : latent::detail::sorted_order(
                     entries.size(), [&](std::size_t a, std::size_t b) { return entries[a].first < entries[b].first; }))
                columns.push_back(entries[k].first);
            for (std::size_t i = 0; i < columns.size(); ++i) text += (i ? std::string(1, separator) : "") + columns[i];
            text += '\n';
        }
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i) text += separator;
            if (columns[i] == "epoch")
                text += std::to_string(epoch);
            else if (const auto v = logs.get(columns[i]))
                text += detail::shortest(*v);
            else
                text += "NA";
        }
        text += '\n';
        io::detail::FileHandle out{io::detail::open_file(filename, "ab")};
        if (!out || std::fwrite(text.data(), 1, text.size(), out.get()) != text.size() || std::fflush(out.get()) != 0)
            throw io_error("latent.callbacks.csv",
                           latent::detail::concat(filename, ": CSVLogger cannot write epoch ", std::to_string(epoch),
                                                  "'s row (", io::detail::errno_text(errno), ")"));
    }
};

// A callback made of functions (Keras' LambdaCallback), with Keras' arguments:
// LambdaCallback{.on_epoch_end = [](std::size_t epoch, Logs& logs) { ... }}.
struct LambdaCallback {
    static constexpr std::string_view callback_name = "LambdaCallback";

    latent::detail::shared_function<void()> on_train_begin{};
    latent::detail::shared_function<void(std::size_t)> on_epoch_begin{};
    latent::detail::shared_function<void(std::size_t)> on_train_batch_begin{};
    latent::detail::shared_function<void(std::size_t, const Logs&)> on_train_batch_end{};
    latent::detail::shared_function<void(std::size_t, Logs&)> on_epoch_end{};
    latent::detail::shared_function<void(const Logs&)> on_train_end{};
};

}  // namespace latent::callbacks
