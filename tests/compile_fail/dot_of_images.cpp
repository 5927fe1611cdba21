// Dot takes two vectors of one size; two feature maps must be flattened (or pooled) first.
// EXPECT: merge_shape_mismatch<latent::Dot<(-1)?>, latent::expected<latent::same_size_vectors>, latent::got<latent::Shape<4, 4, 2> ?>, latent::got<latent::Shape<4, 4, 2> ?> ?>
// EXPECT: Dot and EuclideanDistance need two vectors of one size
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto left = input<8, 8, 1>("left");
    auto right = input<8, 8, 1>("right");
    auto a = MaxPool2D<2>{}(Conv2D<2, 3, Padding::same>{}(left));
    auto b = MaxPool2D<2>{}(Conv2D<2, 3, Padding::same>{}(right));
#ifdef LATENT_EXPECT_FAIL
    auto similarity = Dot<>{true}(a, b);
#else
    auto similarity = Dot<>{true}(Flatten{}(a), Flatten{}(b));
#endif
    Model model(std::tuple{left, right}, similarity);
    return static_cast<int>(model.count_params() == 0);
}
