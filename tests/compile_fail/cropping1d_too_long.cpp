// Cropping1D must leave at least one step: cutting 3 + 2 steps off a 5-step sequence leaves none.
// EXPECT: input_shape_mismatch<latent::Cropping1D<3, 2>, latent::at_layer<0>, latent::got<latent::Shape<5, 4> ?>, latent::expected<latent::sequence_at_least<6> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<5, 4>, Cropping1D<3, 2>, Flatten, Dense<2>>;
#else
using Net = Sequential<Input<6, 4>, Cropping1D<3, 2>, Flatten, Dense<2>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
