// Permute's Dims must be a permutation of 1..N (Keras' numbering, from 1): Permute<0, 1> uses
// the 0-based numbering by mistake.
// EXPECT: input_shape_mismatch<latent::Permute<0, 1>, latent::at_layer<0>, latent::got<latent::Shape<10, 4> ?>, latent::expected<latent::permutation_of_axes_1_to<2> ?> ?>
// EXPECT: permutation_of_axes_1_to<N>: Permute's Dims, which must reorder the axes 1..N
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<10, 4>, Permute<0, 1>, Flatten, Dense<2>>;
#else
using Net = Sequential<Input<10, 4>, Permute<2, 1>, Flatten, Dense<2>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
