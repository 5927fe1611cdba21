// A GAN whose discriminator gives two numbers per sample instead of one probability.
// EXPECT: a GAN's discriminator must give one probability per sample \(output shape Shape<1>\)
#include <latent/latent.hpp>
using namespace latent;
using G = Sequential<Input<4>, Dense<8>, Sigmoid>;
#ifdef LATENT_EXPECT_FAIL
using D = Sequential<Input<8>, Dense<2>, Softmax>;
#else
using D = Sequential<Input<8>, Dense<1>, Sigmoid>;
#endif
int main() {
    repr::GAN<G, D> gan;
    return static_cast<int>(gan.combined().count_params() == 0);
}
