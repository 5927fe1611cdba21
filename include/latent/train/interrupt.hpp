// Opt-in Ctrl-C handling for fit: while a StopOnInterrupt object lives, SIGINT asks fit to stop
// after the current step (writing a checkpoint when checkpointing is on) instead of killing the
// program. latent installs no signal handler unless such an object is made.
#pragma once

#include <atomic>
#include <csignal>

#include "../core/errors.hpp"

namespace latent {

class StopOnInterrupt {
public:
    StopOnInterrupt() {
        flag().store(false);
        previous_ = std::signal(SIGINT, &on_signal);
        if (previous_ == SIG_ERR) throw value_error("latent.train.signal", "could not install a SIGINT handler");
    }
    ~StopOnInterrupt() { std::signal(SIGINT, previous_); }
    StopOnInterrupt(const StopOnInterrupt&) = delete;
    StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

    // Give this to FitOptions::stop.
    const std::atomic<bool>* requested() const noexcept { return &flag(); }

private:
    // A signal handler can reach only static storage, hence the one flag per program.
    static std::atomic<bool>& flag() noexcept {
        static std::atomic<bool> requested{false};
        return requested;
    }
    static void on_signal(int) { flag().store(true); }

    using handler = void (*)(int);
    handler previous_ = SIG_DFL;
};

}  // namespace latent
