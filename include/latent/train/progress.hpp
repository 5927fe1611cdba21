// The progress display of fit(): on a terminal a Keras-style bar redrawn in place (epoch,
// step/steps, elapsed, ETA, loss, metrics); elsewhere one plain line per epoch, so logs stay clean.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

#include "options.hpp"

namespace latent::detail {

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.
template <class = void>
std::string format_duration(double seconds) {
    char buf[32];
    if (seconds < 1.0)
        std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000.0);
    else if (seconds < 3600.0)
        std::snprintf(buf, sizeof buf, "%.0fs", seconds);
    else
        std::snprintf(buf, sizeof buf, "%.0fh%02.0fm", std::floor(seconds / 3600.0),
                      std::floor(std::fmod(seconds, 3600.0) / 60.0));
    return buf;
}

template <class = void>
std::string format_metrics(const std::vector<std::pair<std::string, double>>& metrics) {
    std::string s;
    char buf[64];
    // As Keras' progress bar: four decimals, or four significant digits below 1e-3 (a small
    // loss or learning rate would show as 0.0000).
    for (const auto& [name, value] : metrics) {
        std::snprintf(buf, sizeof buf, std::abs(value) > 1e-3 ? " - %s: %.4f" : " - %s: %.4e",
                      name.c_str(), value);
        s += buf;
    }
    return s;
}

class Progress {
public:
    using clock = std::chrono::steady_clock;

    Progress(Verbosity verbose, std::ostream* out) : out_(out ? out : &std::cout) {
        if (verbose == Verbosity::automatic)
            verbose = (out_ == &std::cout && stdout_is_terminal()) ? Verbosity::progress_bar
                                                                       : Verbosity::one_line_per_epoch;
        verbose_ = verbose;
    }

    void begin_epoch(std::size_t epoch, std::size_t epochs, std::size_t steps) {
        epoch_ = epoch;
        epochs_ = epochs;
        steps_ = steps;
        start_ = clock::now();
        last_draw_ = start_ - std::chrono::seconds(1);
        if (verbose_ == Verbosity::progress_bar) *out_ << "Epoch " << epoch + 1 << '/' << epochs << '\n';
    }

    void step(std::size_t done, const std::vector<std::pair<std::string, double>>& metrics) {
        if (verbose_ != Verbosity::progress_bar) return;
        const auto now = clock::now();
        if (done < steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;  // redraw at most 10x/s
        last_draw_ = now;
        const double elapsed = seconds_since_start(now);
        const double eta = done ? elapsed / static_cast<double>(done) * static_cast<double>(steps_ - done) : 0.0;
        *out_ << '\r' << counter(done) << ' ' << bar(done) << " - ETA: " << format_duration(eta)
              << format_metrics(metrics) << "   " << std::flush;
    }

    void end_epoch(const std::vector<std::pair<std::string, double>>& metrics) {
        const double elapsed = seconds_since_start(clock::now());
        const double per_step = steps_ ? elapsed / static_cast<double>(steps_) : 0.0;
        const std::string timing = format_duration(elapsed) + " " + format_duration(per_step) + "/step";
        if (verbose_ == Verbosity::progress_bar)
            *out_ << '\r' << counter(steps_) << ' ' << bar(steps_) << " - " << timing << format_metrics(metrics)
                  << "   \n" << std::flush;
        else if (verbose_ == Verbosity::one_line_per_epoch)
            *out_ << "Epoch " << epoch_ + 1 << '/' << epochs_ << " - " << counter(steps_) << " - " << timing
                  << format_metrics(metrics) << '\n' << std::flush;
    }

private:
    static bool stdout_is_terminal() {
#if defined(_WIN32)
        return ::_isatty(::_fileno(stdout)) != 0;
#else
        return ::isatty(STDOUT_FILENO) != 0;
#endif
    }
    double seconds_since_start(clock::time_point now) const {
        return std::chrono::duration<double>(now - start_).count();
    }
    std::string counter(std::size_t done) const {
        const std::string total = std::to_string(steps_);
        std::string d = std::to_string(done);
        return std::string(total.size() - std::min(total.size(), d.size()), ' ') + d + '/' + total;
    }
    std::string bar(std::size_t done) const {
        constexpr std::size_t width = 30;
        const std::size_t filled = steps_ ? done * width / steps_ : width;
        // (appended, not "[" + std::string(...): GCC 12 at -O3 warns falsely of overlap there)
        std::string b = "[";
        b.append(filled, '=');
        if (filled < width) {
            b += '>';
            b.append(width - filled - 1, '.');
        }
        b += ']';
        return b;
    }

    std::ostream* out_;
    Verbosity verbose_ = Verbosity::one_line_per_epoch;
    std::size_t epoch_ = 0, epochs_ = 0, steps_ = 0;
    clock::time_point start_{}, last_draw_{};
};

}  // namespace latent::detail
