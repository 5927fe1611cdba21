// Reference for bench/README.md: the MLP example's network (784-256-128-10, ReLU) in dlib,
// trained with dnn_trainer and Adam, then asked to predict.
#include <dlib/dnn.h>

#include <vector>

using namespace dlib;

using net_type = loss_multiclass_log<fc<10, relu<fc<128, relu<fc<256, input<matrix<float>>>>>>>>;

int main() {
    std::vector<matrix<float>> x(4, matrix<float>(784, 1));
    for (auto& m : x) m = 0.01f;
    std::vector<unsigned long> y = {0, 1, 2, 3};
    net_type net;
    dnn_trainer<net_type, adam> trainer(net, adam(0, 0.9, 0.999));
    trainer.set_learning_rate(1e-3);
    trainer.set_mini_batch_size(2);
    trainer.set_max_num_epochs(1);
    trainer.train(x, y);
    const std::vector<unsigned long> predicted = net(x);
    return predicted.size() == 4 ? 0 : 1;
}
