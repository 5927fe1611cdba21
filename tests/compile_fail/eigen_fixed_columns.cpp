// An Eigen matrix type whose fixed column count is not the sample's element count.
// EXPECT: input_batch_mismatch<latent::Sequential<latent::Input<28, 28, 1>, latent::Flatten, latent::Dense<10> ?>, latent::got<latent::interop::eigen_matrix<-1, 28> ?>, latent::expected<latent::Shape<28, 28, 1> ?> ?>
#include <latent/latent.hpp>
#include <latent/interop/eigen.hpp>
using namespace latent;
using Net = Sequential<Input<28, 28, 1>, Flatten, Dense<10>>;
int main() {
    Net net;
#ifdef LATENT_EXPECT_FAIL
    Eigen::Matrix<float, Eigen::Dynamic, 28, Eigen::RowMajor> images(2, 28);
#else
    Eigen::Matrix<float, Eigen::Dynamic, 784, Eigen::RowMajor> images(2, 784);
#endif
    images.setZero();
    return static_cast<int>(net.predict(images).batch() != 2);
}
