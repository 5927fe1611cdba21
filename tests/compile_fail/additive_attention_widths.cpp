// Keras' AdditiveAttention adds the query and the key feature by feature: they must be of one
// width (here a 4-feature key for an 8-feature query). (g++ prints AdditiveAttention<>, clang <true>.)
// EXPECT: merge_shape_mismatch<latent::AdditiveAttention<(true)?>, latent::expected<latent::query_key_of_one_width>
// EXPECT: Attention also a query and key of one
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto query = input<3, 8>("query");
    auto value = input<5, 6>("value");
#ifdef LATENT_EXPECT_FAIL
    auto key = input<5, 4>("key");
#else
    auto key = input<5, 8>("key");
#endif
    auto out = AdditiveAttention<>{}(query, value, key);
    Model model(std::tuple{query, value, key}, out);
    return static_cast<int>(model.count_params() != 8);
}
