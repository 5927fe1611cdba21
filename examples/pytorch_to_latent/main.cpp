// A network trained in PyTorch, run in latent: load the weights that train_torch.py exported
// (scripts/lib/latent_torch.py), score the real Fashion-MNIST test set with both, show that the
// two agree, then predict on an xtensor batch read from a .npy file.
#include <latent/latent.hpp>
#include <latent/interop/xtensor.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>

using namespace latent;

// The PyTorch model nn.Sequential(Linear(784, 256), ReLU, Linear(256, 128), ReLU,
// Linear(128, 10), Softmax) as a latent type; latent_torch gives its Linears Keras' names.
using Mlp = Sequential<Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>, Softmax>;

namespace {
std::size_t argmax(std::span<const float> v) {
    return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}
}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: pytorch_to_latent DIR   (DIR written by train_torch.py)\n");
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const auto data = data::load_fashion_mnist();  // $LATENT_DATA/fashion-mnist (scripts/fetch-data)
    const auto x_test = as_shape<Shape<784>>(data.test_images);

    Mlp net;
    const auto report = net.load_weights(dir / "mlp_from_pytorch.safetensors");
    std::printf("loaded");
    for (const auto& name : report.loaded) std::printf(" %s", name.c_str());
    std::printf(" from %s\n", (dir / "mlp_from_pytorch.safetensors").c_str());
    const auto probs = net.predict(x_test, 256);

    // PyTorch's outputs for the same images (written by train_torch.py with numpy).
    const xt::xarray<float> torch_probs = xt::load_npy<float>((dir / "torch_test_probs.npy").string());
    const auto torch_view = interop::as_tensor_view<Shape<10>>(torch_probs);
    if (torch_view.batch() != probs.batch()) throw shape_error("example", "torch_test_probs.npy has another size");
    std::size_t latent_right = 0, torch_right = 0, same_class = 0;
    double largest = 0.0;
    for (std::size_t i = 0; i < probs.batch(); ++i) {
        const std::size_t label = static_cast<std::size_t>(data.test_labels[i]);
        const std::size_t ours = argmax(probs.sample(i)), theirs = argmax(torch_view.sample(i));
        latent_right += ours == label;
        torch_right += theirs == label;
        same_class += ours == theirs;
        for (std::size_t k = 0; k < 10; ++k)
            largest = std::max(largest, std::abs(double(probs.sample(i)[k]) - double(torch_view.sample(i)[k])));
    }
    const double n = static_cast<double>(probs.batch());
    std::printf("test accuracy: PyTorch %.4f, latent %.4f (%s); same class for %zu of %zu images\n",
                torch_right / n, latent_right / n, latent_right == torch_right ? "identical" : "DIFFERENT",
                same_class, probs.batch());
    std::printf("largest difference between the two models' outputs: %.3g\n", largest);

    // The user's data as xtensor: a batch read from .npy, predicted without copying it.
    const xt::xarray<float> images = xt::load_npy<float>((dir / "test_images.npy").string());
    const auto from_npy = interop::as_xtensor(net.predict(images, 256));
    const bool equal = std::equal(from_npy.begin(), from_npy.end(), probs.data());
    std::printf("predict on the xtensor batch from test_images.npy, shape (%zu, %zu): %s the latent tensor's\n",
                from_npy.shape()[0], from_npy.shape()[1], equal ? "identical to" : "DIFFERENT from");
    return latent_right == torch_right && equal ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "pytorch_to_latent: %s\n", e.what());
    return 1;
}
