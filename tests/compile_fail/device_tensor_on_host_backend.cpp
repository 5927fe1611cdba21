// A DeviceTensor keeps samples in a device backend's memory; a CPU backend has none (a Tensor
// is already where its models compute).
// EXPECT: latent: DeviceTensor<B, S> holds samples in a device backend's memory
#include <latent/latent.hpp>
using namespace latent;
struct gpu_like : cpu::reference {
    using memory_space = device_memory;
    template <class T>
    using buffer = AlignedBuffer<T>;
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) { std::copy_n(host, n, device); }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) { std::copy_n(device, n, host); }
};
#ifdef LATENT_EXPECT_FAIL
using Backend = cpu::reference;
#else
using Backend = gpu_like;
#endif
int main() {
    const Tensor<Shape<4>> x(2);
    const DeviceTensor<Backend, Shape<4>> there(x);
    return static_cast<int>(there.batch()) - 2;
}
