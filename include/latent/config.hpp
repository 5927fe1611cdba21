// The few LATENT_ macros: marks for functions that a device backend may also compile,
// and the library version. Nothing here changes what a header does.
#pragma once

#define LATENT_VERSION_MAJOR 0
#define LATENT_VERSION_MINOR 1
#define LATENT_VERSION_PATCH 0

#if defined(__CUDACC__)
#define LATENT_HOST_DEVICE __host__ __device__
#else
#define LATENT_HOST_DEVICE
#endif
