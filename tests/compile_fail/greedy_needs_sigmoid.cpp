// Greedy pretraining of a Dense layer that is not followed by Sigmoid (a contractive
// autoencoder's encoder is Dense + sigmoid).
// EXPECT: greedy_pretrain pretrains Dense \+ Sigmoid pairs .*each pretrained Dense layer must be followed by Sigmoid
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<6>, Dense<4>, Sigmoid, Dense<3>, ReLU, Dense<2>, Softmax>;
#else
using Net = Sequential<Input<6>, Dense<4>, Sigmoid, Dense<3>, Sigmoid, Dense<2>, Softmax>;
#endif
int main() {
    Net net;
    Tensor<Shape<6>> x(4);
    return static_cast<int>(repr::greedy_pretrain<2>(net, x, {.verbose = Verbosity::silent}).size());
}
