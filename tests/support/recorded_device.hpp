// The guarded device (guarded_device.hpp) with the CUDA backend's step recorder in its context:
// steps are recorded and replayed as on a GPU, through a host driver whose "graphs" keep their
// own copies of the launches (as CUDA copies a node's arguments) and run them when launched. A
// replay that skipped a node update, launched a graph early or lost held-back work computes
// something else than the eager run, which the tests compare against.
#pragma once

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <latent/backend/cuda/step_recorder.hpp>

#include "guarded_device.hpp"

namespace latent::testing {

template <class Body>
void run_host_kernel(std::size_t n, const void* body) {
    const Body& b = *static_cast<const Body*>(body);
    for (std::size_t i = 0; i < n; ++i) b(i);
}
using host_kernel = void (*)(std::size_t, const void*);

struct host_graph_counts {
    std::size_t graph_launches = 0, graph_kernels = 0, graph_gemms = 0, eager_kernels = 0, eager_gemms = 0,
                node_updates = 0;
};

class host_graph_driver {
public:
    class graph {
    public:
        graph() = default;
        graph(graph&&) noexcept = default;
        graph& operator=(graph&&) noexcept = default;

    private:
        friend class host_graph_driver;
        std::vector<detail::kernel_launch> kernels;
        std::vector<detail::gemm_call> gemms;
        std::vector<std::pair<bool, std::size_t>> nodes;  // (is a GEMM, index)
        bool instantiated = false;
    };

    graph new_graph() const { return {}; }
    std::size_t add_kernel(graph& g, const detail::kernel_launch& k) const {
        if (g.instantiated) throw std::logic_error("host_graph_driver: a node added to an instantiated graph");
        g.kernels.push_back(k);
        g.nodes.emplace_back(false, g.kernels.size() - 1);
        return g.nodes.size() - 1;
    }
    std::size_t add_gemm(graph& g, const detail::gemm_call& c) const {
        if (g.instantiated) throw std::logic_error("host_graph_driver: a node added to an instantiated graph");
        if (fail_capture) throw std::runtime_error("host_graph_driver: capture fails, as asked");
        g.gemms.push_back(c);
        g.nodes.emplace_back(true, g.gemms.size() - 1);
        return g.nodes.size() - 1;
    }
    void instantiate(graph& g) const {
        if (g.instantiated) throw std::logic_error("host_graph_driver: a graph instantiated twice");
        if (fail_instantiate) throw std::runtime_error("host_graph_driver: instantiation fails, as asked");
        g.instantiated = true;
    }
    void launch(graph& g) {
        if (!g.instantiated) throw std::logic_error("host_graph_driver: a graph launched before instantiation");
        ++counts.graph_launches;
        for (const auto& [is_gemm, i] : g.nodes) {
            if (is_gemm) {
                ++counts.graph_gemms;
                gemm(g.gemms[i]);
            } else {
                ++counts.graph_kernels;
                kernel(g.kernels[i]);
            }
        }
    }
    void update_kernel(graph& g, std::size_t node, const detail::kernel_launch& k) {
        if (!g.instantiated || g.nodes.at(node).first)
            throw std::logic_error("host_graph_driver: update of a node that is not an instantiated kernel");
        if (fail_update) throw std::runtime_error("host_graph_driver: updates fail, as asked");
        ++counts.node_updates;
        g.kernels[g.nodes[node].second] = k;
    }
    void run_kernel(const detail::kernel_launch& k) {
        ++counts.eager_kernels;
        kernel(k);
    }
    void run_gemm(const detail::gemm_call& c) {
        ++counts.eager_gemms;
        gemm(c);
    }

    host_graph_counts counts;
    // What a driver that cannot do graphs would do: throw (the recorder then runs eagerly).
    bool fail_capture = false, fail_instantiate = false, fail_update = false;

private:
    static void kernel(const detail::kernel_launch& k) {
        device_scope open;
        reinterpret_cast<host_kernel>(const_cast<void*>(k.function))(k.n, k.body_data());
    }
    static void gemm(const detail::gemm_call& c) {
        device_scope open;
        if (c.is_double)
            host_executor{}.gemm_batched_col_major(c.count, c.trans_a, c.trans_b, c.m, c.n, c.k, c.alpha,
                                                   static_cast<const double*>(c.A), c.lda, c.stride_a,
                                                   static_cast<const double*>(c.B), c.ldb, c.stride_b, c.beta,
                                                   static_cast<double*>(c.C), c.ldc, c.stride_c);
        else
            host_executor{}.gemm_batched_col_major(c.count, c.trans_a, c.trans_b, c.m, c.n, c.k,
                                                   static_cast<float>(c.alpha), static_cast<const float*>(c.A), c.lda,
                                                   c.stride_a, static_cast<const float*>(c.B), c.ldb, c.stride_b,
                                                   static_cast<float>(c.beta), static_cast<float*>(c.C), c.ldc,
                                                   c.stride_c);
    }
};

// A model's context: its recorder and its scratch memory (which, as on a GPU, outlives the op
// that asked for it: a recorded kernel reads it when its graph is launched).
class recording_context {
public:
    detail::step_recorder<host_graph_driver> recorder;
    void begin_step(std::size_t key) { recorder.begin_step(key); }
    void end_step() { recorder.end_step(); }

    template <class T>
    T* scratch(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        if (bytes > scratch_.size()) {
            recorder.flush();
            scratch_.resize_discard(bytes);
        }
        return reinterpret_cast<T*>(scratch_.data());
    }
    ~recording_context() { recorder.clear(); }

private:
    GuardedBuffer<unsigned char> scratch_;
};

inline recording_context*& current_recording_context_slot() {
    thread_local recording_context* current = nullptr;
    return current;
}
inline recording_context& current_recording_context() {
    recording_context* c = current_recording_context_slot();
    if (!c) throw std::logic_error("recorded_device: work outside a model's context");
    return *c;
}

class recording_context_scope {
public:
    explicit recording_context_scope(recording_context& c) noexcept
        : previous_(std::exchange(current_recording_context_slot(), &c)) {}
    recording_context_scope(const recording_context_scope&) = delete;
    recording_context_scope& operator=(const recording_context_scope&) = delete;
    ~recording_context_scope() { current_recording_context_slot() = previous_; }

private:
    recording_context* previous_;
    guarded_context guarded_;
    guarded_context_scope guarded_scope_{guarded_};
};

class recording_executor : public guarded_executor {
public:
    recording_executor() : context_(&current_recording_context()) {}

    template <class Body>
    void for_each(std::size_t n, const Body& body) const {
        if (n == 0) return;
        if (context_->recorder.active()) {
            check_device_arrays(n, body);
            context_->recorder.kernel(reinterpret_cast<const void*>(&run_host_kernel<Body>), 1, 256, n, body);
            return;
        }
        guarded_executor::for_each(n, body);
    }
    template <class T>
    T* scratch(std::size_t n) const {
        return context_->scratch<T>(n);
    }
    template <class T>
    T read(const T* p) const {
        context_->recorder.flush();
        return guarded_executor::read(p);
    }
    template <class T>
    void gemm_col_major(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* A,
                        std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) const {
        if (!context_->recorder.active())
            return guarded_executor::gemm_col_major(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        context_->recorder.gemm(detail::make_gemm_call(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc));
    }
    template <class T>
    void gemm_batched_col_major(std::size_t count, bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                                std::size_t k, T alpha, const T* A, std::size_t lda, std::size_t stride_a, const T* B,
                                std::size_t ldb, std::size_t stride_b, T beta, T* C, std::size_t ldc,
                                std::size_t stride_c) const {
        if (!context_->recorder.active())
            return guarded_executor::gemm_batched_col_major(count, trans_a, trans_b, m, n, k, alpha, A, lda, stride_a,
                                                            B, ldb, stride_b, beta, C, ldc, stride_c);
        context_->recorder.gemm(detail::make_batched_gemm_call(count, trans_a, trans_b, m, n, k, alpha, A, lda,
                                                               stride_a, B, ldb, stride_b, beta, C, ldc, stride_c));
    }

private:
    recording_context* context_;
};

// The CUDA backend's kernels and step recorder over guarded "device" memory.
struct recorded_device : detail::per_index_backend<recording_executor> {
    using memory_space = device_memory;
    static constexpr std::string_view name = "recorded device (host emulation)";
    template <class T>
    using buffer = GuardedBuffer<T>;
    using context = recording_context;
    using context_scope = recording_context_scope;
    class step_scope : public detail::step_bracket<recording_context> {
    public:
        explicit step_scope(std::size_t key) : step_bracket(current_recording_context(), key) {}
    };
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) {
        current_recording_context().recorder.flush();
        guarded_device::upload(device, host, n);
    }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) {
        current_recording_context().recorder.flush();
        guarded_device::download(host, device, n);
    }
};

// The step recorder's counts on a model's context (a functional graph's, for its models).
template <class M>
detail::step_recorder<host_graph_driver>::statistics recorder_stats(const M& model) {
    [[maybe_unused]] const auto scope = model.context_scope();
    return current_recording_context().recorder.stats();
}

}  // namespace latent::testing
