// The backend a model gets when it names none: one alias, so that a faster CPU backend can
// become the default by changing this line alone.
#pragma once

#include "cpu/reference.hpp"

namespace latent {

using default_backend = cpu::reference;

}  // namespace latent
