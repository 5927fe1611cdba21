// MultiHeadAttention(query, value, key): the key gives the value's steps their scores, so it has
// as many steps as the value.
// EXPECT: merge_shape_mismatch<latent::MultiHeadAttention<2, 4(, 4)?>, latent::expected<latent::query_value_key_sequences>, latent::got<latent::Shape<3, 8> ?>, latent::got<latent::Shape<5, 8> ?>, latent::got<latent::Shape<4, 8> ?> ?>
// EXPECT: the key of as many steps as the value
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto query = input<3, 8>("query");
    auto value = input<5, 8>("value");
#ifdef LATENT_EXPECT_FAIL
    auto key = input<4, 8>("key");
#else
    auto key = input<5, 8>("key");
#endif
    auto out = MultiHeadAttention<2, 4>{}(query, value, key);
    Model model(std::tuple{query, value, key}, out);
    return static_cast<int>(model.count_params() == 0);
}
