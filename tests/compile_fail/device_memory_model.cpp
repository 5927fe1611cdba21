// A model on a backend whose memory is not the host's, but which does not say how to hold
// arrays there and copy them (buffer<T>, upload, download).
// EXPECT: latent: a backend whose memory is not the host's must name its buffer type
#include <latent/latent.hpp>
using namespace latent;
struct gpu_like : cpu::reference {
    using memory_space = device_memory;
#ifndef LATENT_EXPECT_FAIL
    template <class T>
    using buffer = AlignedBuffer<T>;
    template <class T>
    static void upload(T* device, const T* host, std::size_t n) { std::copy_n(host, n, device); }
    template <class T>
    static void download(T* host, const T* device, std::size_t n) { std::copy_n(device, n, host); }
#endif
};
using Net = Sequential<gpu_like, Input<8>, Dense<4>>;
int main() {
    Net net;
    (void)net;
    return 0;
}
