// PositionEmbedding<N> has N positions: a longer sequence has steps without one.
// EXPECT: input_shape_mismatch<latent::PositionEmbedding<16>, latent::at_layer<0>, latent::got<latent::Shape<20, 8> ?>, latent::expected<latent::sequence_at_most<16> ?> ?>
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net = Sequential<Input<20, 8>, PositionEmbedding<16>, Flatten, Dense<2>>;
#else
using Net = Sequential<Input<16, 8>, PositionEmbedding<16>, Flatten, Dense<2>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
