// SpectralNormalization normalizes a layer's kernel (or an Embedding's table); a layer without
// one (here a Flatten) is one error saying what it wraps, as Keras' ValueError does.
// EXPECT: latent: SpectralNormalization wraps a layer with a kernel or embeddings parameter
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<4, 4, 1>, SpectralNormalization<Flatten>, Dense<10>>;
#else
using Net = Sequential<Input<4, 4, 1>, Flatten, SpectralNormalization<Dense<10>>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
