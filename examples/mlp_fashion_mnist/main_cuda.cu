// The MLP example (mlp.hpp) on the GPU: the same network type with latent::cuda as its backend.
// Built wherever nvcc is; scripts/gpu-check runs it on the real Fashion-MNIST.
#include <latent/cuda.hpp>

#include "mlp.hpp"

int main(int argc, char** argv) { return mlp_example::run<latent::cuda>(argc, argv, "mlp_fashion_mnist_cuda"); }
