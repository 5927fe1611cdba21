// The backend a model gets when it names none: cpu::simd, the fast CPU backend (one alias, so
// that changing the default is this line alone). Name cpu::reference to get the plain loops.
#pragma once

#include "cpu/simd.hpp"

namespace latent {

using default_backend = cpu::simd;

}  // namespace latent
