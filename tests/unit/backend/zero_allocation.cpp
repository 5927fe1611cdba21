// The embedded use case: once a Sequential has predicted one sample, predicting more samples
// into a tensor the caller keeps allocates nothing (counted by replacing the global allocator
// of this test program).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <latent/backend/cpu/simd.hpp>
#include <latent/latent.hpp>

namespace {
std::atomic<long> allocations{0};

void* counted(std::size_t size, std::size_t alignment) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (size == 0) size = 1;
    void* p = alignment <= alignof(std::max_align_t) ? std::malloc(size)
                                                     : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t size) { return counted(size, alignof(std::max_align_t)); }
void* operator new[](std::size_t size) { return counted(size, alignof(std::max_align_t)); }
void* operator new(std::size_t size, std::align_val_t a) { return counted(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted(size, static_cast<std::size_t>(a)); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them), so that every delete
// frees what this allocator made.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted(size, alignof(std::max_align_t));
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted(size, alignof(std::max_align_t));
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return counted(size, static_cast<std::size_t>(a));
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return counted(size, static_cast<std::size_t>(a));
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace latent;

namespace {
template <class Net>
long allocations_of_later_predictions(Net& net) {
    Tensor<typename Net::input_shape> x(1);
    Tensor<typename Net::output_shape> y(1);
    Generator g(1);
    for (auto& v : x.values()) v = static_cast<float>(g.uniform(0.0, 1.0));
    net.predict(x, y);  // plans the buffers
    const auto first = y;
    const long before = allocations.load();
    for (int i = 0; i < 20; ++i) {
        x[0] = static_cast<float>(i) * 0.01f;
        net.predict(x, y);
    }
    const long after = allocations.load();
    CHECK(y.values()[0] == y.values()[0]);  // keeps the result observable
    return after - before;
}
}  // namespace

TEST_CASE("the allocation counter sees allocations") {
    const long before = allocations.load();
    auto* p = new Tensor<Shape<3>>(2);
    delete p;
    CHECK(allocations.load() - before >= 2);
}

TEST_CASE("batch-1 predict allocates nothing after the first call") {
    auto mlp = std::make_unique<Sequential<cpu::simd, Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>, Softmax>>(1);
    CHECK(allocations_of_later_predictions(*mlp) == 0);
    Sequential<cpu::simd, Input<8>, Dense<16>, Tanh, Dense<16>, Tanh, Dense<1>> tiny(2);
    CHECK(allocations_of_later_predictions(tiny) == 0);
    Sequential<cpu::reference, Input<8>, Dense<16>, Tanh, Dense<16>, Tanh, Dense<1>> tiny_reference(2);
    CHECK(allocations_of_later_predictions(tiny_reference) == 0);
    auto cnn = std::make_unique<Sequential<cpu::simd, Input<28, 28, 1>, Conv2D<32, 3, Padding::same>, ReLU, BatchNorm,
                                           MaxPool2D<2>, Conv2D<64, 3, Padding::same>, ReLU, MaxPool2D<2>, Flatten,
                                           Dense<128>, ReLU, Dropout, Dense<10>, Softmax>>(3);
    CHECK(allocations_of_later_predictions(*cnn) == 0);
}
