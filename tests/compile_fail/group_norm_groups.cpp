// GroupNormalization splits the channels into equal groups: 3 groups cannot split 16 channels.
// EXPECT: input_shape_mismatch<latent::GroupNormalization<3>, latent::at_layer<1>, latent::got<latent::Shape<14, 14, 16> ?>, latent::expected<latent::channels_divisible_by<3> ?> ?>
// EXPECT: channels_divisible_by<G>: a last axis \(channels\) that G divides
#include <latent/latent.hpp>
using namespace latent;
#ifdef LATENT_EXPECT_FAIL
using Net =
    Sequential<Input<28, 28, 1>, Conv2D<16, 3, Padding::same, 2>, GroupNormalization<3>, ReLU, Flatten, Dense<10>>;
#else
using Net =
    Sequential<Input<28, 28, 1>, Conv2D<16, 3, Padding::same, 2>, GroupNormalization<4>, ReLU, Flatten, Dense<10>>;
#endif
int main() { return static_cast<int>(Net::param_count == 0); }
