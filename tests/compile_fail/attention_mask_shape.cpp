// MultiHeadAttention(query, value, key, attention_mask): the mask is (query steps, key steps),
// here given the other way round: one error naming what the four inputs need.
// EXPECT: merge_shape_mismatch<latent::MultiHeadAttention<2, 4(, 4)?>, latent::expected<latent::query_value_key_and_attention_mask>, latent::got<latent::Shape<3, 8> ?>, latent::got<latent::Shape<5, 8> ?>, latent::got<latent::Shape<5, 8> ?>, latent::got<latent::Shape<5, 3> ?> ?>
// EXPECT: the attention mask, is \(query steps, key steps\)
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto query = input<3, 8>("query");
    auto value = input<5, 8>("value");
#ifdef LATENT_EXPECT_FAIL
    auto mask = input<5, 3>("attention_mask");
#else
    auto mask = input<3, 5>("attention_mask");
#endif
    auto out = MultiHeadAttention<2, 4>{}(query, value, value, mask);
    Model model(std::tuple{query, value, mask}, out);
    return static_cast<int>(model.count_params() == 0);
}
