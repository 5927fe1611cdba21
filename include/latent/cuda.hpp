// The CUDA backend: `latent::cuda` as a model's backend policy, CudaBuffer for device arrays,
// CudaContext for streams. Include it only from translation units that nvcc compiles.
#pragma once

#if !defined(__CUDACC__)
#error "latent/cuda.hpp is the CUDA backend: compile this translation unit with nvcc (a .cu file, or LANGUAGE CUDA in CMake)"
#endif

#include "backend/cuda/context.hpp"
#include "backend/cuda/conv_library.hpp"
#include "backend/cuda/error.hpp"
#include "backend/cuda/executor.hpp"
#include "backend/cuda/kernels.hpp"
#include "backend/cuda/memory.hpp"
