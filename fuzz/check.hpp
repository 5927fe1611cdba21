// What the fuzz targets share: a check that stops the run with a message libFuzzer keeps
// next to the crashing input, and the rule every rejection must follow (a latent::error
// whose message starts with its stable id and then names the file).
#pragma once

#include <latent/core/errors.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// Aborts (a finding) when `cond` is false; libFuzzer saves the input that did it.
#define FUZZ_CHECK(cond)                                                                             \
    do {                                                                                             \
        if (!(cond)) {                                                                               \
            std::fprintf(stderr, "latent fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                            \
        }                                                                                            \
    } while (0)

namespace latent::fuzz {

// A rejection must read "[<id_prefix>...] <label>: ..." so users can act on it.
inline void check_rejection(const latent::error& e, std::string_view id_prefix, std::string_view label) {
    const std::string_view what = e.what();
    const std::string prefix = "[" + e.id() + "] " + std::string(label) + ": ";
    if (e.id().rfind(id_prefix, 0) != 0 || what.rfind(prefix, 0) != 0) {
        std::fprintf(stderr, "latent fuzz: rejection without the expected id or file name: %s\n", e.what());
        std::abort();
    }
}

}  // namespace latent::fuzz
