// Training a model whose backend computes in device memory: latent predicts there but does not
// train yet.
// EXPECT: latent: this model's backend computes in device memory
// EXPECT: train a copy of the network on cpu::simd, save_weights, and load_weights into this one
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
using Net = Sequential<gpu_like, Input<4>, Dense<2>>;
#else
using Net = Sequential<cpu::reference, Input<4>, Dense<2>>;
#endif
int main() {
    Net net;
    Tensor<Shape<4>> x(3);
    Tensor<Shape<2>> y(3);
    net.fit(x, y);
    return static_cast<int>(Sequential<gpu_like, Input<4>, Dense<2>>{}.predict(x).batch());
}
