// EuclideanDistance takes two vectors of one size: codes of 8 and 6 numbers have no distance.
// EXPECT: merge_shape_mismatch<latent::EuclideanDistance, latent::expected<latent::same_size_vectors>, latent::got<latent::Shape<8> ?>, latent::got<latent::Shape<6> ?> ?>
// EXPECT: Dot and EuclideanDistance need two vectors of one size
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto left = input<10>("left");
    auto right = input<10>("right");
    Dense<8> encoder;
#ifdef LATENT_EXPECT_FAIL
    auto distance = EuclideanDistance{}(encoder(left), Dense<6>{}(right));
#else
    auto distance = EuclideanDistance{}(encoder(left), encoder(right));
#endif
    Model model(std::tuple{left, right}, distance);
    return static_cast<int>(model.count_params() == 0);
}
