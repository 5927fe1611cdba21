// The Keras "MLP on Fashion-MNIST" exercise in latent, on the default backend (cpu::simd); the
// program itself is mlp.hpp, which main_cuda.cu runs on the GPU.
#include "mlp.hpp"

int main(int argc, char** argv) { return mlp_example::run<latent::default_backend>(argc, argv, "mlp_fashion_mnist"); }
