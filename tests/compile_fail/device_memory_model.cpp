// A model on a backend whose memory is the GPU's: models keep their arenas on the host for now.
// EXPECT: latent: models keep their parameters and activations in host memory
// EXPECT: models on the GPU are not supported yet
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
struct gpu_like {
    using memory_space = device_memory;
    static constexpr std::string_view name = "gpu_like";
};
#else
struct gpu_like : cpu::reference {};
#endif
using Net = Sequential<gpu_like, Input<8>, Dense<4>>;
int main() {
    Net net;
    (void)net;
    return 0;
}
