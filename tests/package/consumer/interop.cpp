// A user's program through latent::xtensor and latent::eigen: predict on both kinds of array.
#include <latent/latent.hpp>
#include <latent/interop/eigen.hpp>
#include <latent/interop/xtensor.hpp>
#include <xtensor/xfixed.hpp>

#include <cstdio>

using Net = latent::Sequential<latent::Input<2>, latent::Dense<3>, latent::Softmax>;

int main() {
    Net net;
    const xt::xtensor_fixed<float, xt::xshape<2>> sample = {0.5f, -0.5f};
    Eigen::Matrix<float, Eigen::Dynamic, 2, Eigen::RowMajor> rows(1, 2);
    rows << 0.5f, -0.5f;
    const auto a = net.predict(sample);
    const auto b = net.predict(rows);
    std::printf("consumer_interop: %s\n", a[0] == b[0] && a[2] == b[2] ? "agree" : "differ");
    return a[0] == b[0] && a[2] == b[2] ? 0 : 1;
}
