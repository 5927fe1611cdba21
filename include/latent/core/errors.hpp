// The runtime errors latent throws. Each message starts with a stable ID in brackets
// ("[latent.io.safetensors.shape]") so programs and tests can match on it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace latent {

namespace detail {
// Joins message pieces. Messages are built this way rather than with `"text" + std::string(...)`,
// which makes GCC 12 at -O2 warn falsely (-Wrestrict) and inlines a chain of string operations
// into every place that throws. The work is one non-template function; a variadic body would be
// compiled once per combination of piece types, every literal length its own type.
inline std::string concat_views(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (const std::string_view part : parts) size += part.size();
    std::string out;
    out.reserve(size);
    for (const std::string_view part : parts) out.append(part);
    return out;
}

template <class... Parts>
[[gnu::always_inline]] inline std::string concat(const Parts&... parts) {
    return concat_views({std::string_view(parts)...});
}

}  // namespace detail

// Base of every latent exception; `id()` is the stable part of the message.
class error : public std::runtime_error {
public:
    error(std::string id, const std::string& what)
        : std::runtime_error(detail::concat("[", id, "] ", what)), id_(std::move(id)) {}
    const std::string& id() const noexcept { return id_; }

private:
    std::string id_;
};

// A tensor or file has a shape other than the one required.
class shape_error : public error {
public:
    using error::error;
};

// A file cannot be read or written, or its contents are malformed.
class io_error : public error {
public:
    using error::error;
};

// A value is out of range or not finite (a dropout rate of 1.5, a NaN loss, ...).
class value_error : public error {
public:
    using error::error;
};

}  // namespace latent
