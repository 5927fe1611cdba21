// An Embedding given a sample of rank 2: it takes one index per position of a rank-1 sample.
// EXPECT: input_shape_mismatch<latent::Embedding<100, 8>, latent::at_layer<0>, latent::got<latent::Shape<4, 5> ?>, latent::expected<latent::rank<1> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<4, 5>, Embedding<100, 8>, Flatten, Dense<2>>;
#else
using Net = Sequential<Input<20>, Embedding<100, 8>, Flatten, Dense<2>>;
#endif
int main() {
    Net net;
    return static_cast<int>(net.param_count == 0);
}
