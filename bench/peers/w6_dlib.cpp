// Compile-time peer (row W6): a small, realistic dlib program that defines Keras' MiniVGG
// network and trains it for one step with dnn_trainer. It exists only to time
// `g++ -std=c++17 -O2 -c bench/peers/w6_dlib.cpp` against latent's bench/compile_time/minivgg.cpp.

#include <dlib/dnn.h>

#include <iostream>
#include <random>
#include <vector>

using namespace dlib;

// Keras order conv -> ReLU -> BN, so in dlib (read from the output back) bn_con<relu<con<>>>.
// con<N,3,3,1,1> pads by 1 by default: 'same'.
template <long N, typename SUBNET>
using conv_relu_bn = bn_con<relu<con<N, 3, 3, 1, 1, SUBNET>>>;

// MiniVGG: 2 x conv 32, pool, dropout, 2 x conv 64, pool, dropout, dense 512, BN, dropout,
// dense 10 with softmax cross-entropy. dlib's dropout layer has rate 0.5 by default.
using net_type = loss_multiclass_log<
    fc<10,
    dropout<
    bn_fc<relu<fc<512,
    dropout<
    max_pool<2, 2, 2, 2,
    conv_relu_bn<64, conv_relu_bn<64,
    dropout<
    max_pool<2, 2, 2, 2,
    conv_relu_bn<32, conv_relu_bn<32,
    input<matrix<float>>>>>>>>>>>>>>>>;

int main() {
  // A few random 28x28 images with random labels.
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<unsigned long> label(0, 9);
  std::vector<matrix<float>> images(8);
  std::vector<unsigned long> labels(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    images[i].set_size(28, 28);
    for (long r = 0; r < 28; ++r)
      for (long c = 0; c < 28; ++c) images[i](r, c) = pixel(rng);
    labels[i] = label(rng);
  }

  net_type net;
  dnn_trainer<net_type> trainer(net, sgd(0, 0.9));
  trainer.set_learning_rate(0.01);
  trainer.set_mini_batch_size(64);
  trainer.train_one_step(images, labels);
  trainer.get_net();  // waits for the trainer thread to finish the step

  std::cout << net << "\nparameters: " << count_parameters(net)
            << "\naverage loss: " << trainer.get_average_loss() << '\n';
  return 0;
}
