// What a replayed step compares, as nvcc builds it, checked on the host (no GPU needed: nothing
// here calls CUDA). In the code nvcc hands the host compiler, a __host__ __device__ lambda holds
// a heap copy of itself, allocated anew by every copy, so two launches with equal arguments have
// unequal bytes; launch_key (step_recorder.hpp) must see them as equal, or every replay updates
// every kernel node. The kernels themselves run on the host here, through an executor that keeps
// each launch's key.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

#include <latent/backend/cuda/step_recorder.hpp>
#include <latent/latent.hpp>

#include "support/per_index_emulation.hpp"

using namespace latent;

namespace {

std::vector<unsigned char> key_of(const auto& body) {
    std::vector<unsigned char> key(sizeof(body));
    detail::launch_key(body, key.data());
    return key;
}

// A kernel body as kernels.hpp writes them, and two copies of it alive together (so their heap
// copies are in different places).
struct copies {
    bool bytes_differ = false, keys_equal = false;
    std::vector<unsigned char> key;
};
copies scale_body(float* x, float scale) {
    const auto body = [=] LATENT_HOST_DEVICE(std::size_t i) { x[i] *= scale; };
    const auto a = body;
    const auto b = body;
    return {std::memcmp(static_cast<const void*>(&a), static_cast<const void*>(&b), sizeof a) != 0,
            key_of(a) == key_of(b), key_of(body)};
}

// Each launch's key, in order; scratch memory that stays put, as the GPU context's does.
struct launch_log {
    std::vector<std::vector<unsigned char>> keys;
    std::vector<double> scratch = std::vector<double>(1 << 16);
};
launch_log* current_log = nullptr;

struct keyed_executor : testing::host_executor {
    template <class Body>
    void for_each(std::size_t n, const Body& body) const {
        current_log->keys.push_back(key_of(body));
        testing::host_executor::for_each(n, body);
    }
    template <class T>
    T* scratch(std::size_t n) const {
        REQUIRE(n * sizeof(T) <= current_log->scratch.size() * sizeof(double));
        return reinterpret_cast<T*>(current_log->scratch.data());
    }
};

}  // namespace

// (Outside the anonymous namespace: nvcc warns of its unused members there, and a backend needs
// a name.)
struct keyed_kernels : detail::per_index_backend<keyed_executor> {
    using memory_space = host_memory;
    static constexpr std::string_view name = "cuda kernels on the host, keys kept";
};
using Net = Sequential<keyed_kernels, Input<6>, Dense<8>, ReLU, BatchNorm, Dense<3>, Softmax>;

TEST_CASE("launch keys under nvcc: copies of a __host__ __device__ lambda differ in bytes, not in key") {
    std::vector<float> x(4, 1.0f), other(4, 1.0f);
    const copies c = scale_body(x.data(), 2.0f);
    CHECK(c.bytes_differ);
    CHECK(c.keys_equal);
    CHECK(scale_body(x.data(), 2.0f).key == c.key);
    // Arguments that differ still show.
    CHECK(scale_body(x.data(), 3.0f).key != c.key);
    CHECK(scale_body(other.data(), 2.0f).key != c.key);
}

// A captured float shares its 8-byte word with padding (the lambda's heap pointer follows it).
// The padding holds whatever was in the storage, and launch_key tells it apart only if the fills
// it writes before copying survive: GCC drops them as dead stores at -O2 and above (the bytes of
// an object being constructed count as indeterminate, -flifetime-dse), and then the garbage
// differed between the two copies, the whole word was zeroed, and the captured value with it, so
// that a replay missed a changed argument. Each key here is computed over a stack dirtied anew.
[[gnu::noinline]] void dirty_stack(unsigned char value) {
    volatile unsigned char junk[4096];
    for (auto& b : junk) b = value;
}
[[gnu::noinline]] std::vector<unsigned char> key_over_dirty_stack(float* x, float scale, unsigned char dirt) {
    dirty_stack(dirt);
    const auto body = [=] LATENT_HOST_DEVICE(std::size_t i) { x[i] *= scale; };
    return key_of(body);
}
TEST_CASE("launch keys under nvcc: a captured value sharing a word with padding always counts") {
    std::vector<float> x(4, 1.0f);
    const auto two = key_over_dirty_stack(x.data(), 2.0f, 0);
    for (unsigned dirt = 1; dirt < 256; dirt += 7) {
        INFO("stack bytes " << dirt);
        CHECK(key_over_dirty_stack(x.data(), 2.0f, static_cast<unsigned char>(dirt)) == two);
        CHECK(key_over_dirty_stack(x.data(), 3.0f, static_cast<unsigned char>(dirt)) != two);
    }
}

TEST_CASE("launch keys under nvcc: a training step's launches repeat exactly in the next step") {
    launch_log log;
    current_log = &log;
    Net net(3);
    net.compile(optim::SGD{.lr = 0.05, .momentum = 0.9}, loss::SparseCategoricalCrossentropy{});
    Tensor<Shape<6>> x(10);
    Tensor<Shape<1>> y(10);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f - 0.5f;
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(i % 3);

    net.train_on_batch(x, y);  // the first step allocates what the next ones reuse
    log.keys.clear();
    net.train_on_batch(x, y);
    const auto second = log.keys;
    log.keys.clear();
    net.train_on_batch(x, y);
    REQUIRE(second.size() > 10);
    CHECK(log.keys == second);

    // A prediction into a kept tensor, twice: the same launches; another input: not.
    Tensor<Shape<3>> out(10);
    log.keys.clear();
    net.predict(x, out);
    const auto first_predict = log.keys;
    log.keys.clear();
    net.predict(x, out);
    CHECK(log.keys == first_predict);
    current_log = nullptr;
}
