// A tiny program as a user writes it: include the umbrella header, declare a net, predict.
#include <latent/latent.hpp>

#include <cstdio>

using Net = latent::Sequential<latent::Input<2>, latent::Dense<3>, latent::Softmax>;
static_assert(Net::param_count == 9);

int main() {
    Net net;
    latent::Tensor<latent::Shape<2>> x(1, {0.5f, -0.5f});
    const auto y = net.predict(x);
    std::printf("consumer: %zu outputs, %zu params\n", y.size(), Net::param_count);
}
