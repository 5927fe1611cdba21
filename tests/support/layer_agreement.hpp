// One layer's forward and backward on a backend under test against cpu::reference, on random
// inputs: output, input gradient, parameter gradients and running state, norm-wise relative
// error. Memory says where the backend's arrays live (host vectors, or device buffers).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <functional>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/core/random.hpp>
#include <latent/layers/layer.hpp>

namespace latent::testing {

// Arrays on the host: what a host-memory backend computes on.
struct host_arrays {
    using buffer = std::vector<float>;
    static buffer upload(const std::vector<float>& v) { return v; }
    static std::vector<float> download(const buffer& b) { return b; }
    static std::vector<std::size_t> upload_indices(const std::vector<std::size_t>& v) { return v; }
};

struct layer_run {
    std::vector<float> y, dx, dparams, state;
};

template <class B, class Memory, class In, class L>
layer_run run_layer(const L& layer, const std::vector<float>& x_host, const std::vector<float>& params_host,
                    const std::vector<float>& dy_host, std::size_t batch, Mode mode) {
    using Out = typename L::template output_shape<In>;
    auto x = Memory::upload(x_host), params = Memory::upload(params_host), dy = Memory::upload(dy_host);
    auto y = Memory::upload(std::vector<float>(batch * Out::size, 0.0f));
    auto dx = Memory::upload(std::vector<float>(x_host.size(), 0.0f));
    auto dparams = Memory::upload(std::vector<float>(params_host.size(), 0.0f));
    auto state = Memory::upload(params_host);
    auto workspace = Memory::upload(std::vector<float>(workspace_size<L, In>(batch) + 1, 0.0f));
    Generator rng(11);
    ForwardArgs<float> a{x.data(), y.data(), params.data(), workspace.data(), batch, mode, &rng};
    a.state = mode == Mode::train ? state.data() : nullptr;
    layer.template forward<In, B, float>(a);
    BackwardArgs<float> b{x.data(), y.data(), dy.data(), dx.data(), params.data(), dparams.data(), workspace.data(),
                          batch};
    layer.template backward<In, B, float>(b);
    return {Memory::download(y), Memory::download(dx), Memory::download(dparams), Memory::download(state)};
}

inline double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
        norm += double(want[i]) * want[i];
    }
    return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

// Random draws differ between backends (the CUDA kernels use a counter-based generator), so
// layers that draw are compared in inference only (`modes` = infer).
enum class agreement_modes { both, inference_only };

template <class B, class Memory, class In, class L>
void check_layer_agreement(const L& layer, double tolerance, std::size_t batch = 5, bool positive_params = false,
                           agreement_modes modes = agreement_modes::both,
                           const std::function<void(std::vector<float>&)>& prepare_inputs = {}) {
    using Out = typename L::template output_shape<In>;
    std::size_t param_size = 0;
    for (const auto& s : L::template params<In>) param_size += s.size();
    Generator g(3);
    std::vector<float> x(batch * In::size), params(param_size), dy(batch * Out::size);
    for (auto& v : x) v = static_cast<float>(g.uniform(-1.0, 1.0));
    if (prepare_inputs) prepare_inputs(x);  // indices for an Embedding
    for (auto& v : params) v = static_cast<float>(positive_params ? g.uniform(0.5, 1.5) : g.normal() * 0.5);
    for (auto& v : dy) v = static_cast<float>(g.uniform(-1.0, 1.0));
    for (Mode mode : {Mode::train, Mode::infer}) {
        if (mode == Mode::train && modes == agreement_modes::inference_only) continue;
        // (A std::string: doctest prints a const char* that is not a literal as a pointer.)
        INFO(L::type_name << " on " << In::to_string() << std::string(mode == Mode::train ? ", training" : ", inference"));
        const layer_run want = run_layer<cpu::reference, host_arrays, In>(layer, x, params, dy, batch, mode);
        const layer_run got = run_layer<B, Memory, In>(layer, x, params, dy, batch, mode);
        CHECK(relative_error(got.y, want.y) < tolerance);
        CHECK(relative_error(got.dx, want.dx) < tolerance);
        CHECK(relative_error(got.dparams, want.dparams) < tolerance);
        CHECK(relative_error(got.state, want.state) < tolerance);
    }
}

}  // namespace latent::testing
