// Records the kernels and GEMMs of a training step (or of a predict call) into graphs and
// replays them on the next steps with the same shapes, so that a small model's step costs a few
// graph launches instead of dozens of kernel launches. Plain C++ over a driver (CUDA graphs in
// cuda/context.hpp; a host emulation in the tests), so the bookkeeping is tested on any machine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace latent::detail {

// Storage for a functor's bytes, aligned for any functor a kernel takes (std::max_align_t
// would do, but nvcc's front end fails on a vector of it).
struct alignas(16) body_word {
    unsigned char bytes[16];
};

#if defined(__has_builtin)
#if __has_builtin(__builtin_clear_padding)
#define LATENT_DETAIL_CLEAR_PADDING 1
#endif
#endif
// Whether launch_key also zeroes the padding of a functor copied whole, padding and all (GCC 11
// and later have the builtin; clang 14 has not, and then such padding may count).
#ifdef LATENT_DETAIL_CLEAR_PADDING
inline constexpr bool launch_key_clears_padding = true;
#else
inline constexpr bool launch_key_clears_padding = false;
#endif

// Tells the compiler that the memory at `p` may be read and written here, so that stores before
// this point are kept and loads after it read memory. launch_key's fills need it: GCC drops the
// stores to an object's storage made before its constructor runs, as dead (-flifetime-dse: the
// bytes of an object being constructed count as indeterminate), and its padding then holds
// whatever the stack held.
inline void opaque_memory(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    asm volatile("" : : "r"(p) : "memory");
#else
    static_cast<void>(p);
#endif
}

// The bytes of a kernel's functor that decide what it computes, to tell whether a launch
// repeats the recorded one: the functor's bytes with its padding zeroed, and with every pointer
// that differs between two copies of the functor zeroed too. Both would otherwise differ from
// one launch to the next with equal arguments, and every replay would update every node:
// padding holds whatever the stack held, and in the code nvcc hands the host compiler a
// __host__ __device__ lambda holds a heap copy of itself, allocated anew by every copy, which
// device code never reads (CUDA Programming Guide, "Extended Lambdas").
template <class Body>
void launch_key(const Body& body, unsigned char* key) {
    constexpr std::size_t size = sizeof(Body);
    // Two copies, in storage filled with 0x00 and with 0xFF: a member-by-member copy leaves the
    // padding as the fill was, so it shows as bytes 0x00 in one copy and 0xFF in the other.
    alignas(Body) unsigned char low[size];
    alignas(Body) unsigned char high[size];
    std::memset(low, 0x00, size);
    std::memset(high, 0xFF, size);
    opaque_memory(low);
    opaque_memory(high);
    Body* a = ::new (static_cast<void*>(low)) Body(body);
    Body* b = nullptr;
    try {
        b = ::new (static_cast<void*>(high)) Body(body);  // nvcc's host lambdas allocate here
    } catch (...) {
        a->~Body();
        throw;
    }
    opaque_memory(low);
    opaque_memory(high);
#ifdef LATENT_DETAIL_CLEAR_PADDING
    // A trivially copyable functor may be copied whole, padding included: clear it.
    if constexpr (std::is_trivially_copyable_v<Body>) {
        __builtin_clear_padding(a);
        __builtin_clear_padding(b);
    }
#endif
    std::memcpy(key, low, size);
    constexpr std::size_t word = sizeof(void*);
    for (std::size_t i = 0; i < size; ++i) {
        if (low[i] == high[i]) continue;
        if (low[i] == 0x00 && high[i] == 0xFF) {  // padding
            key[i] = 0;
        } else {  // a pointer allocated per copy: its whole (aligned) word
            const std::size_t first = i / word * word;
            std::memset(key + first, 0, std::min(word, size - first));
        }
    }
    a->~Body();
    b->~Body();
}
#undef LATENT_DETAIL_CLEAR_PADDING

// One kernel launch: `function` run over n indices with the functor whose bytes are `body`;
// `key` is launch_key of that functor (what a replay compares).
struct kernel_launch {
    const void* function = nullptr;
    unsigned blocks = 0, threads = 0;
    std::size_t n = 0;
    std::vector<body_word> body;  // the functor's bytes
    std::vector<body_word> key;   // its launch_key
    std::size_t body_bytes = 0;

    const void* body_data() const noexcept { return body.data(); }
    const void* key_data() const noexcept { return key.data(); }
    void assign_body(const void* bytes, const void* key_bytes, std::size_t count) {
        const std::size_t words = (count + sizeof(body_word) - 1) / sizeof(body_word);
        body.resize(words);
        key.resize(words);
        std::memcpy(body.data(), bytes, count);
        std::memcpy(key.data(), key_bytes, count);
        body_bytes = count;
    }
};

// One column-major GEMM call, as the executor hands it to BLAS: `count` products, the i-th at
// A + i * stride_a, B + i * stride_b, C + i * stride_c (elements).
struct gemm_call {
    bool trans_a = false, trans_b = false, is_double = false;
    std::size_t m = 0, n = 0, k = 0;
    double alpha = 0, beta = 0;
    const void* A = nullptr;
    std::size_t lda = 0;
    const void* B = nullptr;
    std::size_t ldb = 0;
    void* C = nullptr;
    std::size_t ldc = 0;
    std::size_t count = 1, stride_a = 0, stride_b = 0, stride_c = 0;
    bool operator==(const gemm_call&) const = default;
};

template <class T>
gemm_call make_gemm_call(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* A,
                         std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    gemm_call call;
    call.trans_a = trans_a;
    call.trans_b = trans_b;
    call.is_double = std::is_same_v<T, double>;
    call.m = m;
    call.n = n;
    call.k = k;
    call.alpha = alpha;
    call.beta = beta;
    call.A = A;
    call.lda = lda;
    call.B = B;
    call.ldb = ldb;
    call.C = C;
    call.ldc = ldc;
    return call;
}

template <class T>
gemm_call make_batched_gemm_call(std::size_t count, bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                                 std::size_t k, T alpha, const T* A, std::size_t lda, std::size_t stride_a, const T* B,
                                 std::size_t ldb, std::size_t stride_b, T beta, T* C, std::size_t ldc,
                                 std::size_t stride_c) {
    gemm_call call = make_gemm_call(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    call.count = count;
    call.stride_a = stride_a;
    call.stride_b = stride_b;
    call.stride_c = stride_c;
    return call;
}

// One step of a context's recorder (Context: begin_step(key), end_step()), for a backend's
// step_scope. After an exception the step still ends (what ran before it stays done), but an
// error from ending it does not hide the step's own.
template <class Context>
class step_bracket {
public:
    step_bracket(Context& context, std::size_t key) : context_(context) { context_.begin_step(key); }
    step_bracket(const step_bracket&) = delete;
    step_bracket& operator=(const step_bracket&) = delete;
    ~step_bracket() noexcept(false) {
        if (std::uncaught_exceptions() > exceptions_) {
            try {
                context_.end_step();
            } catch (...) {
            }
        } else {
            context_.end_step();
        }
    }

private:
    Context& context_;
    int exceptions_ = std::uncaught_exceptions();
};

/* How a step is run, per key (the kind of step and its batch size):
     1. the first step runs eagerly: it allocates buffers and scratch, and sizes everything;
     2. the second is recorded: its work is put into graphs, one per stretch between two points
        where the host waits for the device (a loss read, a copy), each launched at its end;
     3. later steps replay: every launch the host code makes is checked against the recording.
        A kernel with other arguments (a dropout key, the optimizer's step count) updates its
        node in place; a launch of another kernel or shape, another GEMM, or a stretch of another
        length is a divergence: the stretch's launches so far run eagerly, the rest of the step
        too, and the next step records anew. Each stretch's graph is launched only once all of
        its launches matched, so a replayed step does exactly what the eager step would.
   After three divergences in a row without a good replay between, the key stays eager; so it
   does at once if the driver fails (the work it held runs eagerly, so training goes on).

   Driver: graph (movable; one stretch's graph, built, then instantiated), new_graph(),
   add_kernel(graph&, const kernel_launch&) -> node index, add_gemm(graph&, const gemm_call&)
   -> node index, instantiate(graph&), launch(graph&), update_kernel(graph&, node, const
   kernel_launch&), run_kernel(const kernel_launch&), run_gemm(const gemm_call&). */
template <class Driver>
class step_recorder {
public:
    // Steps by how they ran, over this recorder's life, and the kernel nodes replays updated
    // (a launch whose arguments changed since the recording: a moved buffer, a step count).
    struct statistics {
        std::size_t eager = 0, recorded = 0, replayed = 0, diverged = 0, node_updates = 0;
        statistics& operator+=(const statistics& o) noexcept {
            eager += o.eager;
            recorded += o.recorded;
            replayed += o.replayed;
            diverged += o.diverged;
            node_updates += o.node_updates;
            return *this;
        }
    };

    explicit step_recorder(Driver driver = Driver{}) : driver_(std::move(driver)) {}
    step_recorder(const step_recorder&) = delete;
    step_recorder& operator=(const step_recorder&) = delete;

    // Turns recording on or off for later steps (on by default).
    void enable(bool on) { enabled_ = on; }
    bool enabled() const noexcept { return enabled_; }

    // Whether launches go through kernel()/gemm() now (else the executor launches them itself).
    bool active() const noexcept { return active_ != nullptr && active_->mode != run_mode::eager; }
    // Whether a step is open (recorded, replayed or eager).
    bool in_step() const noexcept { return active_ != nullptr; }

    void begin_step(std::size_t key) {
        if (active_) end_step();
        if (recordings_.size() >= max_keys && !recordings_.count(key)) forget_least_recent();
        recording& r = recordings_[key];
        r.last_used = ++steps_;
        active_ = &r;
        if (!enabled_ || r.failures >= max_failures)
            r.mode = run_mode::eager;
        else if (r.complete)
            start(r, run_mode::replaying);
        else if (r.warm)
            start(r, run_mode::recording);
        else
            r.mode = run_mode::eager;
    }

    // Ends the step: the work still held is launched (or run), and the recording is kept if the
    // step matched it throughout. Also right after an exception: what ran before it stays done.
    void end_step() {
        recording* r = std::exchange(active_, nullptr);
        if (!r) return;
        try {
            finish(*r);
        } catch (...) {
            drop(*r);
            r->mode = run_mode::eager;
            throw;
        }
    }

    // Before the host waits for the device or queues work of its own (copies, allocations).
    void flush() {
        if (active_) flush(*active_);
    }

    // A launch of `function` over n indices with the functor `body` (while active()).
    template <class Body>
    void kernel(const void* function, unsigned blocks, unsigned threads, std::size_t n, const Body& body) {
        body_word key[(sizeof(Body) + sizeof(body_word) - 1) / sizeof(body_word)];
        launch_key(body, reinterpret_cast<unsigned char*>(key));
        kernel_bytes(function, blocks, threads, n, &body, key, sizeof(Body));
    }

private:
    void kernel_bytes(const void* function, unsigned blocks, unsigned threads, std::size_t n, const void* body,
                      const void* key, std::size_t body_bytes) {
        recording& r = *active_;
        if (r.mode == run_mode::recording) {
            entry e;
            e.launch.function = function;
            e.launch.blocks = blocks;
            e.launch.threads = threads;
            e.launch.n = n;
            e.launch.assign_body(body, key, body_bytes);
            if (record(r, e, [this](graph_type& g, const entry& x) { return driver_.add_kernel(g, x.launch); }))
                return;  // else the driver failed: this launch runs below
        }
        if (r.mode == run_mode::replaying && r.at < r.segments.size()) {
            segment& s = r.segments[r.at];
            if (r.position < s.entries.size()) {
                entry& e = s.entries[r.position];
                kernel_launch& k = e.launch;
                if (!e.is_gemm && k.function == function && k.blocks == blocks && k.threads == threads &&
                    k.body_bytes == body_bytes) {
                    bool updated = true;
                    if (k.n != n || std::memcmp(k.key_data(), key, body_bytes) != 0) {
                        k.n = n;
                        k.assign_body(body, key, body_bytes);
                        try {
                            driver_.update_kernel(s.graph, e.node, k);
                            ++r.stats.node_updates;
                        } catch (const std::exception&) {
                            updated = false;
                        }
                    }
                    if (updated) {
                        ++r.position;
                        return;
                    }
                    give_up(r, s, r.position);  // then this launch runs below
                }
            }
        }
        if (r.mode == run_mode::replaying) diverge(r);
        kernel_launch k;
        k.function = function;
        k.blocks = blocks;
        k.threads = threads;
        k.n = n;
        k.assign_body(body, key, body_bytes);
        driver_.run_kernel(k);
    }

public:
    void gemm(const gemm_call& call) {
        recording& r = *active_;
        if (r.mode == run_mode::recording) {
            entry e;
            e.is_gemm = true;
            e.call = call;
            if (record(r, e, [this](graph_type& g, const entry& x) { return driver_.add_gemm(g, x.call); }))
                return;  // else the driver failed: this call runs below
        }
        if (r.mode == run_mode::replaying && r.at < r.segments.size()) {
            segment& s = r.segments[r.at];
            if (r.position < s.entries.size() && s.entries[r.position].is_gemm && s.entries[r.position].call == call) {
                ++r.position;
                return;
            }
        }
        if (r.mode == run_mode::replaying) diverge(r);
        driver_.run_gemm(call);
    }

    statistics stats() const {
        statistics total = retired_;
        for (const auto& entry : recordings_) total += entry.second.stats;
        return total;
    }

    // Forgets every recording between steps, keeping their counts: later steps record anew
    // (after a change that recorded work would not see, such as cuBLAS's math mode).
    void forget_recordings() {
        if (active_) throw std::logic_error("latent: step_recorder::forget_recordings inside a step");
        for (const auto& entry : recordings_) retired_ += entry.second.stats;
        recordings_.clear();
    }

    // Forgets every recording (their graphs reference buffers about to go away).
    void clear() noexcept {
        active_ = nullptr;
        recordings_.clear();
    }

    Driver& driver() noexcept { return driver_; }

private:
    static constexpr std::size_t max_failures = 3;
    // Recordings kept at once (each holds its graphs): a model fed many batch sizes keeps the
    // ones it used last.
    static constexpr std::size_t max_keys = 16;
    enum class run_mode { eager, recording, replaying };
    using graph_type = typename Driver::graph;
    struct entry {
        bool is_gemm = false;
        kernel_launch launch;
        gemm_call call;
        std::size_t node = 0;
    };
    struct segment {
        graph_type graph;
        std::vector<entry> entries;
    };
    struct recording {
        std::vector<segment> segments;
        run_mode mode = run_mode::eager;
        bool warm = false, complete = false, open = false, diverged = false;
        std::size_t at = 0, position = 0, failures = 0;  // at: the stretch being replayed
        std::size_t last_used = 0;
        statistics stats;
    };

    void forget_least_recent() {
        auto oldest = recordings_.begin();
        for (auto it = recordings_.begin(); it != recordings_.end(); ++it)
            if (it->second.last_used < oldest->second.last_used) oldest = it;
        retired_ += oldest->second.stats;
        recordings_.erase(oldest);
    }

    void start(recording& r, run_mode m) {
        r.mode = m;
        r.at = 0;
        r.position = 0;
        r.open = false;
        r.diverged = false;
        if (m == run_mode::recording) {
            r.segments.clear();
            r.complete = false;
        }
    }

    // Adds e to the stretch being recorded through `add` (the driver's add_kernel or add_gemm);
    // false when the driver failed, and the key has given up.
    template <class Add>
    bool record(recording& r, entry& e, Add add) {
        segment& s = open_segment(r);
        try {
            e.node = add(s.graph, e);
            s.entries.push_back(std::move(e));
            return true;
        } catch (const std::exception&) {
            give_up(r, s, s.entries.size());
            return false;
        }
    }

    segment& open_segment(recording& r) {
        if (!r.open) {
            r.segments.push_back(segment{driver_.new_graph(), {}});
            r.open = true;
        }
        return r.segments.back();
    }

    // The graph machinery failed (a driver that cannot capture, instantiate or update): the
    // first `count` launches of the stretch run eagerly, and this key stays eager from now on.
    // An error of the work itself then surfaces from the eager launches, as without graphs.
    void give_up(recording& r, const segment& s, std::size_t count) {
        r.failures = max_failures;
        leave(r, &s, count);
    }

    // The replay left the recording: run what this stretch matched so far, then go on eagerly.
    void diverge(recording& r) { leave(r, r.at < r.segments.size() ? &r.segments[r.at] : nullptr, r.position); }

    // The rest of the step runs eagerly, after the first `count` launches held in `s`.
    void leave(recording& r, const segment* s, std::size_t count) {
        r.mode = run_mode::eager;
        r.diverged = true;
        for (std::size_t i = 0; s && i < count; ++i) {
            const entry& e = s->entries[i];
            if (e.is_gemm)
                driver_.run_gemm(e.call);
            else
                driver_.run_kernel(e.launch);
        }
        drop(r);
    }

    void flush(recording& r) {
        if (r.mode == run_mode::recording) {
            if (!r.open) return;
            r.open = false;
            segment& s = r.segments.back();
            try {
                driver_.instantiate(s.graph);
                driver_.launch(s.graph);
            } catch (const std::exception&) {
                give_up(r, s, s.entries.size());
            }
        } else if (r.mode == run_mode::replaying) {
            if (r.position == 0) return;
            segment& s = r.segments[r.at];
            if (r.position != s.entries.size()) return diverge(r);
            try {
                driver_.launch(s.graph);
            } catch (const std::exception&) {
                return give_up(r, s, s.entries.size());
            }
            ++r.at;
            r.position = 0;
        }
    }

    void drop(recording& r) noexcept {
        r.segments.clear();
        r.complete = false;
        r.open = false;
        r.position = 0;
        r.at = 0;
    }

    void finish(recording& r) {
        flush(r);
        switch (r.mode) {
            case run_mode::eager:
                if (r.diverged) {
                    ++r.stats.diverged;
                    ++r.failures;
                } else {
                    ++r.stats.eager;
                }
                r.warm = true;
                break;
            case run_mode::recording:
                ++r.stats.recorded;
                r.complete = true;
                break;
            case run_mode::replaying:
                if (r.at == r.segments.size()) {
                    ++r.stats.replayed;
                    r.failures = 0;
                } else {  // fewer stretches than recorded: all that ran was whole, but drop it
                    ++r.stats.diverged;
                    ++r.failures;
                    drop(r);
                }
                break;
        }
        r.mode = run_mode::eager;
        r.diverged = false;
    }

    Driver driver_;
    std::map<std::size_t, recording> recordings_;
    recording* active_ = nullptr;
    statistics retired_;  // of the recordings forgotten
    std::size_t steps_ = 0;
    bool enabled_ = true;
};

}  // namespace latent::detail
