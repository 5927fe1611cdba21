// Helpers for tests that check the text of exceptions: what() of the one a call throws.
#pragma once

#include <exception>
#include <string>

namespace latent::testing {

// Runs f and returns what() of the E it throws, or a marker that fails any message check.
template <class E, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("<unexpected exception> ") + e.what();
    }
    return "<no exception>";
}

inline bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace latent::testing

// Checks that `expr` throws an E whose message starts with "[id] " and contains `fragment`.
#define LATENT_CHECK_ERROR(E, expr, id, fragment)                                                            \
    do {                                                                                                     \
        const std::string message_ = ::latent::testing::message_of<E>([&] { (void)(expr); });                \
        CHECK_MESSAGE(::latent::testing::starts_with(message_, std::string("[") + (id) + "] "), message_);   \
        CHECK_MESSAGE(::latent::testing::contains(message_, fragment), message_);                            \
    } while (0)
