// Arrays in a backend's memory, for models: host backends keep them in AlignedBuffer; a device
// backend names its buffer type and its two copies (see device_backend below).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <memory>
#include <type_traits>

#include "../core/buffer.hpp"
#include "backend.hpp"

namespace latent {

// Whether a backend computes on host memory (its arrays are ordinary pointers to the host).
template <class B>
inline constexpr bool host_backend_v = std::is_same_v<typename B::memory_space, host_memory>;

// A backend on its own memory space provides B::buffer<T> (n zeroed elements on construction,
// data(), size(), resize_discard(n)) and the copies B::upload(device, host, n) and
// B::download(host, device, n). upload returns when the host array may be reused (the copy
// itself may still be queued: later work on the backend sees it), download when the host array
// holds the values.
template <class B>
concept device_backend = backend_policy<B> && !host_backend_v<B> && requires(float* d, const float* h, float* o) {
    typename B::template buffer<float>;
    B::upload(d, h, std::size_t{1});
    B::download(o, static_cast<const float*>(d), std::size_t{1});
};

// A device backend may also name a per-model context (its stream and library handles):
// B::context, default-constructible, and B::context_scope, constructed from a context& to make
// it current on this thread until the scope ends. A model then makes one on first use and
// computes inside it, so that every model has a stream of its own.
template <class B>
concept has_backend_context = requires { typename B::context; typename B::context_scope; };

// A device backend may also record a step's work and replay it on later steps (latent::cuda:
// CUDA graphs): B::step_scope, constructed from a key inside the model's context scope,
// brackets one step; steps with one key do the same work on buffers of the same sizes.
template <class B>
concept records_steps = has_backend_context<B> && requires { typename B::step_scope; };

namespace detail {
struct no_backend_context {};

// A device backend may also say how many bytes of its memory are free (B::free_memory()):
// fit then copies a training set over whole only where it takes at most half of them, and
// otherwise one batch per step. Without it, fit tries the copy and falls back if it fails.
template <class B>
std::size_t device_memory_free() {
    if constexpr (requires { { B::free_memory() } -> std::convertible_to<std::size_t>; })
        return B::free_memory();
    else
        return static_cast<std::size_t>(-1);
}

// What a step's key tells apart: the kind of step, its batch size, and (`salt`) which of the
// models sharing one context takes it (a functional graph's models share its stream).
enum class step_kind : std::size_t { train = 0, predict = 1, evaluate = 2 };
struct no_step_scope {};
// Brackets one step of a model whose context is current: recorded and replayed where the
// backend can, nothing elsewhere.
template <class B>
auto step_scope(step_kind kind, std::size_t batch, std::size_t salt = 0) {
    if constexpr (records_steps<B>)
        return typename B::step_scope((batch * 3 + static_cast<std::size_t>(kind)) ^
                                      (salt * static_cast<std::size_t>(0x9E3779B97F4A7C15ull)));
    else
        return no_step_scope{};
}
template <class B, bool = has_backend_context<B>>
struct context_of {
    using type = no_backend_context;
};
template <class B>
struct context_of<B, true> {
    using type = typename B::context;
};

// A model's context, made on first use; a copied model makes its own.
template <class Context>
class lazy_context {
public:
    lazy_context() = default;
    lazy_context(const lazy_context&) noexcept {}
    lazy_context& operator=(const lazy_context&) noexcept { return *this; }
    lazy_context(lazy_context&&) noexcept = default;
    lazy_context& operator=(lazy_context&&) noexcept = default;
    ~lazy_context() = default;
    Context& get() const {
        if (!context_) context_ = std::make_unique<Context>();
        return *context_;
    }
    // The context if made, else null (makes none: for destructors, which must not throw).
    Context* if_made() const noexcept { return context_.get(); }

private:
    mutable std::unique_ptr<Context> context_;
};

template <class B, class T, bool Host = host_backend_v<B>>
struct backend_buffer_of {
    using type = AlignedBuffer<T>;
};
// A device backend without buffer<T> is reported once, by Sequential; AlignedBuffer stands in.
template <class B, class T>
constexpr auto device_buffer_type() {
    if constexpr (requires { typename B::template buffer<T>; })
        return std::type_identity<typename B::template buffer<T>>{};
    else
        return std::type_identity<AlignedBuffer<T>>{};
}
template <class B, class T>
struct backend_buffer_of<B, T, false> {
    using type = typename decltype(device_buffer_type<B, T>())::type;
};
}  // namespace detail

// An owning array of T in backend B's memory.
template <class B, class T>
using backend_buffer = typename detail::backend_buffer_of<B, T>::type;

// n elements from the host into B's memory, and back.
template <class B, class T>
void upload(T* dst, const T* host, std::size_t n) {
    if constexpr (host_backend_v<B>)
        std::copy_n(host, n, dst);
    else
        B::upload(dst, host, n);
}
template <class B, class T>
void download(T* host, const T* src, std::size_t n) {
    if constexpr (host_backend_v<B>)
        std::copy_n(src, n, host);
    else
        B::download(host, src, n);
}

}  // namespace latent
