// An RTNeural-sized model (8-16-16-1, tanh) used for inference only: the compile cost of the
// embedded use case (an audio plugin including latent for one small network).
#include <latent/latent.hpp>
using namespace latent;
using Tiny = Sequential<Input<8>, Dense<16>, Tanh, Dense<16>, Tanh, Dense<1>>;
int main() {
    Tiny net;
    Tensor<Shape<8>> x(1);
    return static_cast<int>(net.predict(x)[0] > 1e9f);
}
