// Whether a forward pass trains or infers: Dropout and (later) BatchNorm behave differently.
#pragma once

namespace latent {

enum class Mode { train, infer };

}  // namespace latent
