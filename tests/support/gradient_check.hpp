// Finite-difference gradient checks in double precision for any layer: the analytic input and
// parameter gradients of the scalar sum(r * y) must match central differences.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <functional>
#include <vector>

#include <latent/backend/cpu/reference.hpp>
#include <latent/core/random.hpp>
#include <latent/layers/layer.hpp>
#include <latent/layers/merge.hpp>

namespace latent::testing {

struct GradientCheck {
    std::size_t batch = 3;
    std::uint64_t seed = 7;
    Mode mode = Mode::train;
    double step = 1e-6;
    double tolerance = 1e-6;  // on |analytic - numeric| / max(1, |analytic|, |numeric|)
    double input_low = -1.0, input_high = 1.0;
    bool trainable = true;  // false: check the layer as a frozen layer runs (BatchNorm in inference)
    // Sets the parameters before the check (default: normal * 0.5), for layers whose
    // parameters need a valid range (BatchNorm's moving variance must be positive).
    std::function<void(std::vector<double>&)> prepare_params{};
    // Sets the inputs (default: uniform in [input_low, input_high]), for layers that read them
    // as indices (Embedding); such a layer's input gradient is not compared (differentiate_inputs).
    std::function<void(std::vector<double>&)> prepare_inputs{};
    bool differentiate_inputs = true;
    // For a merge check: sets input k (default: uniform in [input_low, input_high]), e.g. an
    // attention mask of zeros and ones.
    std::function<void(std::size_t, std::vector<double>&)> prepare_merge_input{};
};

inline void check_close(double analytic, double numeric, double tolerance, const char* what, std::size_t index) {
    const double scale = std::max({1.0, std::abs(analytic), std::abs(numeric)});
    INFO(what << "[" << index << "]: analytic " << analytic << ", numeric " << numeric);
    CHECK(std::abs(analytic - numeric) / scale < tolerance);
}

// d objective / d v[i] by central differences (v[i] restored after).
template <class Objective>
double central_difference(Objective& objective, std::vector<double>& v, std::size_t i, double step) {
    const double keep = v[i];
    v[i] = keep + step;
    const double up = objective();
    v[i] = keep - step;
    const double down = objective();
    v[i] = keep;
    return (up - down) / (2 * step);
}

// The analytic gradients of the trainable parameters (specs' order) against central
// differences; the others (BatchNormalization's moving statistics, Normalization's mean and
// variance) are never given a gradient. Returns how many values were compared.
template <class Specs, class Objective>
std::size_t check_parameter_gradients(const Specs& specs, std::vector<double>& params,
                                      const std::vector<double>& dparams, Objective& objective,
                                      const GradientCheck& opt) {
    std::size_t compared = 0, first = 0;
    for (const auto& s : specs) {
        if (s.trainable)
            for (std::size_t i = first; i < first + s.size(); ++i)
                check_close(dparams[i], central_difference(objective, params, i, opt.step), opt.tolerance,
                            "dparams", i);
        compared += s.trainable ? s.size() : 0;
        first += s.size();
    }
    return compared;
}

// Returns how many gradient values were compared, so callers can assert the check ran.
template <class In, class L>
std::size_t check_layer_gradients(const L& layer, const GradientCheck& opt = {}) {
    using B = cpu::reference;
    using Out = typename L::template output_shape<In>;
    constexpr auto specs = L::template params<In>;
    std::size_t param_size = 0;
    for (const auto& s : specs) param_size += s.size();

    Generator gen(opt.seed);
    std::vector<double> x(opt.batch * In::size), params(param_size), r(opt.batch * Out::size);
    for (auto& v : x) v = gen.uniform(opt.input_low, opt.input_high);
    if (opt.prepare_inputs) opt.prepare_inputs(x);
    for (auto& v : params) v = gen.normal() * 0.5;
    if (opt.prepare_params) opt.prepare_params(params);
    for (auto& v : r) v = gen.uniform(-1.0, 1.0);
    std::vector<double> y(r.size()), workspace(workspace_size<L, In>(opt.batch) + 1);

    // The same generator state for every forward pass, so Dropout draws the same mask.
    auto objective = [&]() {
        Generator rng(opt.seed + 1);
        ForwardArgs<double> a{x.data(), y.data(), params.data(), workspace.data(), opt.batch, opt.mode, &rng};
        a.trainable = opt.trainable;
        // Running statistics may change (they do not enter the training-mode output), but on a
        // copy, so every evaluation starts from the same parameters.
        std::vector<double> state = params;
        a.state = (opt.mode == Mode::train && opt.trainable) ? state.data() : nullptr;
        layer.template forward<In, B, double>(a);
        double total = 0;
        for (std::size_t i = 0; i < y.size(); ++i) total += r[i] * y[i];
        // A layer's own loss term (an activity penalty) is part of what its backward differentiates.
        if constexpr (requires { layer.template loss_term<In, B, double>(x.data(), workspace.data(), opt.batch); })
            total += layer.template loss_term<In, B, double>(x.data(), workspace.data(), opt.batch);
        return total;
    };

    objective();
    std::vector<double> dx(x.size(), 0.0), dparams(param_size, 0.0);
    BackwardArgs<double> b{x.data(), y.data(), r.data(), dx.data(), params.data(), dparams.data(),
                           workspace.data(), opt.batch};
    layer.template backward<In, B, double>(b);

    if (opt.differentiate_inputs)
        for (std::size_t i = 0; i < x.size(); ++i)
            check_close(dx[i], central_difference(objective, x, i, opt.step), opt.tolerance, "dx", i);
    return (opt.differentiate_inputs ? x.size() : 0) + check_parameter_gradients(specs, params, dparams, objective, opt);
}

// The same check for a merge layer (latent/layers/merge.hpp), or a layer called on several
// inputs, with inputs of shapes In...: the analytic gradient of every input, and of every
// trainable parameter (random, normal * 0.5), against central differences. The batch, seed,
// step, tolerance, mode and input range of the options apply. Returns how many gradient values
// were compared.
template <class... In, class L>
std::size_t check_merge_gradients(const L& layer, const GradientCheck& opt = {}) {
    using B = cpu::reference;
    using Out = typename L::template output_shape<In...>;
    constexpr std::size_t count = sizeof...(In);
    constexpr std::array<std::size_t, count> sizes{In::size...};
    constexpr auto specs = L::template params<In...>;
    std::size_t param_size = 0;
    for (const auto& s : specs) param_size += s.size();

    Generator gen(opt.seed);
    std::array<std::vector<double>, count> xs, dxs;
    std::array<const double*, count> x_ptrs{};
    std::array<double*, count> dx_ptrs{};
    for (std::size_t k = 0; k < count; ++k) {
        xs[k].resize(opt.batch * sizes[k]);
        for (auto& v : xs[k]) v = gen.uniform(opt.input_low, opt.input_high);
        if (opt.prepare_merge_input) opt.prepare_merge_input(k, xs[k]);
        dxs[k].assign(xs[k].size(), 0.0);
        x_ptrs[k] = xs[k].data();
        dx_ptrs[k] = dxs[k].data();
    }
    std::vector<double> params(param_size), dparams(param_size, 0.0);
    for (auto& v : params) v = gen.normal() * 0.5;
    std::vector<double> r(opt.batch * Out::size), y(r.size());
    for (auto& v : r) v = gen.uniform(-1.0, 1.0);
    std::vector<double> workspace(opt.batch * L::template workspace_per_sample<In...> +
                                  L::template workspace_fixed<In...> + 1);

    auto objective = [&]() {
        Generator rng(opt.seed + 1);  // the same draws every evaluation
        layer.template forward<B, double, In...>(MergeForwardArgs<double>{
            x_ptrs.data(), count, y.data(), opt.batch, params.data(), workspace.data(), opt.mode, &rng});
        double total = 0;
        for (std::size_t i = 0; i < y.size(); ++i) total += r[i] * y[i];
        return total;
    };

    objective();
    layer.template backward<B, double, In...>(MergeBackwardArgs<double>{x_ptrs.data(), count, y.data(), r.data(),
                                                                        dx_ptrs.data(), opt.batch, params.data(),
                                                                        dparams.data(), workspace.data()});

    std::size_t compared = 0;
    for (std::size_t k = 0; k < count; ++k) {
        INFO("input " << k);
        for (std::size_t i = 0; i < xs[k].size(); ++i) {
            check_close(dxs[k][i], central_difference(objective, xs[k], i, opt.step), opt.tolerance, "dx", i);
            ++compared;
        }
    }
    return compared + check_parameter_gradients(specs, params, dparams, objective, opt);
}

}  // namespace latent::testing
