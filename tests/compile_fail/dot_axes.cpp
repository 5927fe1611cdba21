// Dot takes vectors, whose only axis is 0 (or -1): Keras' Dot(axes=1) over (batch, features) is
// Dot<0> here, not Dot<1>, since a sample's axes do not count the batch.
// EXPECT: Dot<Axes> takes vectors \(rank-1 samples\): Axes is their only axis, 0 or -1
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto query = input<16>("query");
    auto key = input<16>("key");
#ifdef LATENT_EXPECT_FAIL
    auto score = Dot<1>{}(query, key);
#else
    auto score = Dot<0>{}(query, key);
#endif
    Model model(std::tuple{query, key}, score);
    return static_cast<int>(model.count_params() != 0);
}
