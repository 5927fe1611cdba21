// The recorded device (recorded_device.hpp) with a convolution library in its executor, as
// latent::cuda has cuDNN: a host stand-in computes the library's three passes from their
// definitions (channels-last images, the kernel in (filters, kernel_h, kernel_w, channels) order,
// padding pad_top / pad_left on both sides), so that cuda/conv_library.hpp's hooks — the
// kernel's reordering, the workspace carved from scratch, the fallback to im2col, the recorded
// kernels launched before a call — are checked on the host.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <latent/backend/cuda/conv_library.hpp>

#include "recorded_device.hpp"

namespace latent::testing {

// What the stand-in offers and what it was asked: tests switch it off, withhold a pass's
// algorithm, and count its calls.
struct fake_library_settings {
    bool on = true;
    bool forward = true, backward_data = true, backward_filter = true;
    std::size_t workspace_bytes = 1000;  // each pass's; a call scribbles over all of it
    std::size_t forward_calls = 0, data_calls = 0, filter_calls = 0;
};
inline fake_library_settings& fake_library() {
    static fake_library_settings settings;
    return settings;
}

struct fake_plan {
    Window2D w;
    std::size_t batch = 0, filters = 0;
    bool has_forward() const { return fake_library().forward; }
    bool has_backward_data() const { return fake_library().backward_data; }
    bool has_backward_filter() const { return fake_library().backward_filter; }
    std::size_t forward_bytes() const { return fake_library().workspace_bytes; }
    std::size_t data_bytes() const { return fake_library().workspace_bytes; }
    std::size_t filter_bytes() const { return fake_library().workspace_bytes; }
};

class library_executor : public recording_executor {
public:
    static constexpr bool has_convolution_library = true;

    template <class T>
    const fake_plan* convolution_plan(const Window2D& w, std::size_t batch, std::size_t filters) const {
        if (!fake_library().on) return nullptr;
        if (!symmetric_padding_suffices(w))
            throw std::logic_error("fake library: asked for a window its symmetric padding does not reproduce");
        thread_local std::vector<std::unique_ptr<fake_plan>> plans;
        for (const auto& p : plans)
            if (p->w == w && p->batch == batch && p->filters == filters) return p.get();
        plans.push_back(std::make_unique<fake_plan>(fake_plan{w, batch, filters}));
        return plans.back().get();
    }

    template <class T>
    void convolve_forward(const fake_plan& p, const T* x, const T* kernel, T* y, void* workspace) const {
        begin_call(p, {x, kernel, y}, workspace);
        ++fake_library().forward_calls;
        device_scope open;
        for_each_tap(p, [&](std::size_t, std::size_t out, std::size_t f, std::size_t in, std::size_t k) {
            y[out * p.filters + f] += x[in] * kernel[f * p.w.patch_size() + k];
        }, [&] { std::fill(y, y + p.batch * p.w.positions() * p.filters, T(0)); });
    }
    template <class T>
    void convolve_backward_data(const fake_plan& p, const T* kernel, const T* dy, T* dx, void* workspace) const {
        begin_call(p, {kernel, dy, dx}, workspace);
        ++fake_library().data_calls;
        device_scope open;
        for_each_tap(p, [&](std::size_t, std::size_t out, std::size_t f, std::size_t in, std::size_t k) {
            dx[in] += dy[out * p.filters + f] * kernel[f * p.w.patch_size() + k];
        }, [&] { std::fill(dx, dx + p.batch * p.w.in_size(), T(0)); });
    }
    template <class T>
    void convolve_backward_filter(const fake_plan& p, const T* x, const T* dy, T* dkernel, void* workspace) const {
        begin_call(p, {x, dy, dkernel}, workspace);
        ++fake_library().filter_calls;
        device_scope open;
        for_each_tap(p, [&](std::size_t, std::size_t out, std::size_t f, std::size_t in, std::size_t k) {
            dkernel[f * p.w.patch_size() + k] += x[in] * dy[out * p.filters + f];
        }, [&] { std::fill(dkernel, dkernel + p.filters * p.w.patch_size(), T(0)); });
    }

private:
    // As cuDNN on the model's stream: in its context, after the kernels held back (launched
    // first), on device memory only; its workspace is scribbled over.
    static void begin_call(const fake_plan&, std::initializer_list<const void*> arrays, void* workspace) {
        require_context("a library call ran");
        current_recording_context().recorder.flush();
        for (const void* a : arrays)
            if (!guarded_regions::get().contains(a))
                throw std::logic_error("fake library: an array outside device memory");
        if (!guarded_regions::get().contains(workspace) ||
            !guarded_regions::get().contains(static_cast<const char*>(workspace) + fake_library().workspace_bytes - 1))
            throw std::logic_error("fake library: a workspace outside device memory");
        device_scope open;
        std::memset(workspace, 0xFF, fake_library().workspace_bytes);  // NaN in every float
    }

    // Every (sample, output position, filter, input element, kernel entry) the convolution
    // multiplies, after `clear` zeroed the pass's output: positions and elements as flat indices
    // (output position over the batch; input element over the batch, channels-last).
    template <class Tap, class Clear>
    static void for_each_tap(const fake_plan& p, Tap tap, Clear clear) {
        clear();
        const Window2D& w = p.w;
        for (std::size_t n = 0; n < p.batch; ++n)
            for (std::size_t oy = 0; oy < w.out_h; ++oy)
                for (std::size_t ox = 0; ox < w.out_w; ++ox)
                    for (std::size_t f = 0; f < p.filters; ++f)
                        for (std::size_t ky = 0; ky < w.kernel_h; ++ky)
                            for (std::size_t kx = 0; kx < w.kernel_w; ++kx) {
                                const std::ptrdiff_t iy =
                                    static_cast<std::ptrdiff_t>(oy * w.stride_h + ky * w.dilation_h) -
                                    static_cast<std::ptrdiff_t>(w.pad_top);
                                const std::ptrdiff_t ix =
                                    static_cast<std::ptrdiff_t>(ox * w.stride_w + kx * w.dilation_w) -
                                    static_cast<std::ptrdiff_t>(w.pad_left);
                                if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(w.in_h) ||
                                    ix >= static_cast<std::ptrdiff_t>(w.in_w))
                                    continue;  // padding: zeros
                                for (std::size_t c = 0; c < w.channels; ++c)
                                    tap(n, (n * w.out_h + oy) * w.out_w + ox, f,
                                        n * w.in_size() +
                                            (static_cast<std::size_t>(iy) * w.in_w + static_cast<std::size_t>(ix)) *
                                                w.channels +
                                            c,
                                        (ky * w.kernel_w + kx) * w.channels + c);
                            }
    }
};

// The recorded device whose executor has the stand-in library.
struct library_device : detail::per_index_backend<library_executor> {
    using memory_space = device_memory;
    static constexpr std::string_view name = "recorded device with a convolution library (host emulation)";
    template <class T>
    using buffer = GuardedBuffer<T>;
    using context = recording_context;
    using context_scope = recording_context_scope;
    using step_scope = recorded_device::step_scope;
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) {
        recorded_device::upload(device, host, n);
    }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) {
        recorded_device::download(host, device, n);
    }
};

// Layer agreement's arrays (layer_agreement.hpp) in guarded device memory.
struct guarded_arrays {
    using buffer = GuardedBuffer<float>;
    static buffer upload(const std::vector<float>& v) {
        buffer b(v.size());
        device_scope open;
        if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
        return b;
    }
    static std::vector<float> download(const buffer& b) {
        std::vector<float> v(b.size());
        device_scope open;
        if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
        return v;
    }
};

}  // namespace latent::testing
