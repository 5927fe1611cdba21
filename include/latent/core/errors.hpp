// The runtime errors latent throws. Each message starts with a stable ID in brackets
// ("[latent.io.safetensors.shape]") so programs and tests can match on it.
#pragma once

#include <stdexcept>
#include <string>

namespace latent {

// Base of every latent exception; `id()` is the stable part of the message.
class error : public std::runtime_error {
public:
    error(std::string id, const std::string& what)
        : std::runtime_error("[" + id + "] " + what), id_(std::move(id)) {}
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
