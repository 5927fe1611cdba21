// Keras' Attention scores each value step by the dot product of the query and the key: they must
// be of one width (here the value, of 6 features, is also the key of an 8-feature query).
// EXPECT: merge_shape_mismatch<latent::Attention, latent::expected<latent::query_key_of_one_width>, latent::got<latent::Shape<3, 8> ?>, latent::got<latent::Shape<5, 6> ?> ?>
// EXPECT: Attention also a query and key of one
#include <latent/latent.hpp>
using namespace latent;
int main() {
    auto query = input<3, 8>("query");
#ifdef LATENT_EXPECT_FAIL
    auto value = input<5, 6>("value");
#else
    auto value = input<5, 8>("value");
#endif
    auto out = Attention{}(query, value);
    Model model(std::tuple{query, value}, out);
    return static_cast<int>(model.count_params() != 0);
}
