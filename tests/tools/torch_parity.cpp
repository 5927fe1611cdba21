// The latent half of the PyTorch parity test (tests/tools/torch_parity.py runs it): loads
// weights exported from PyTorch and fixed inputs, and writes what latent computes from them.
//
//   torch_parity NET DIR     NET: mlp, minivgg, conv_autoencoder, conv_transpose, recurrent or
//                            bidirectional
//
// Reads DIR/weights.safetensors (latent names) and DIR/inputs.safetensors ("x", "y"). Writes
// DIR/latent.safetensors: "output" (predict), "loss" and "grad/<parameter>" (one training step's
// loss and gradients, before the step changes anything), "trained_output" (predict after a few
// SGD steps); and DIR/trained.safetensors (the weights after those steps).
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>

#include <latent/latent.hpp>

#include "models.hpp"

using namespace latent;

namespace {

template <shape_type S>
Tensor<S> read_batch(const io::SafetensorsFile& file, const std::string& name) {
    const auto& t = file.tensors.at(name);
    if (t.dtype != "F32" || t.dims.empty()) throw std::runtime_error("inputs: " + name + " must be F32 with a batch axis");
    Tensor<S> out(t.dims[0]);
    if (t.bytes.size() != out.size() * sizeof(float))
        throw std::runtime_error("inputs: " + name + " does not hold samples of shape " + S::to_string());
    std::memcpy(out.data(), t.bytes.data(), t.bytes.size());  // little-endian machines only
    return out;
}

io::SafetensorsTensor as_tensor(std::vector<std::size_t> dims, const float* values, std::size_t count) {
    io::SafetensorsTensor t{"F32", std::move(dims), std::vector<std::byte>(count * sizeof(float))};
    std::memcpy(t.bytes.data(), values, t.bytes.size());
    return t;
}

template <shape_type S>
io::SafetensorsTensor as_tensor(const Tensor<S>& x) {
    std::vector<std::size_t> dims{x.batch()};
    dims.insert(dims.end(), S::dims.begin(), S::dims.end());
    return as_tensor(std::move(dims), x.data(), x.size());
}

template <class Net, class Loss>
int run(Net& net, Loss loss, const std::filesystem::path& dir) {
    using In = typename Net::input_shape;
    using Out = typename Net::output_shape;
    const auto inputs = io::read_safetensors(dir / "inputs.safetensors");
    const auto x = read_batch<In>(inputs, "x");
    const auto y = read_batch<Out>(inputs, "y");
    net.load_weights(dir / "weights.safetensors");

    io::SafetensorsFile out;
    out.tensors["output"] = as_tensor(net.predict(x));

    // The gradients of the step stay in the arena after it (the step itself does not matter:
    // the trained weights compared later are read back from the file).
    net.compile(optim::SGD{.lr = 1e-3}, loss);
    const double step_loss = net.train_on_batch(x, y);
    const float loss_value = static_cast<float>(step_loss);
    out.tensors["loss"] = as_tensor({}, &loss_value, 1);
    const auto arena = net.named_weights();
    const auto grads = net.gradients();
    for (const auto& slot : arena.slots())
        if (slot.trainable) out.tensors["grad/" + slot.name] = as_tensor(slot.dims, grads.data() + slot.offset, slot.size);

    net.compile(optim::SGD{.lr = 0.05, .momentum = 0.9}, loss);
    net.fit(x, y, {.epochs = 3, .batch_size = 4, .shuffle = false, .verbose = Verbosity::silent});
    out.tensors["trained_output"] = as_tensor(net.predict(x));
    net.save_weights(dir / "trained.safetensors");
    io::write_safetensors(dir / "latent.safetensors", out);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: torch_parity {mlp|minivgg|conv_autoencoder|conv_transpose|recurrent|bidirectional} DIR\n");
        return 2;
    }
    const std::string net_name = argv[1];
    const std::filesystem::path dir = argv[2];
    try {
        if (net_name == "mlp") {
            bench::Mlp<default_backend> net;
            return run(net, loss::CategoricalCrossentropy{}, dir);
        }
        if (net_name == "minivgg") {
            // Dropout off: a training step must be deterministic to compare.
            bench::MiniVGG<default_backend> net;
            net.layer<7>().rate(0.0);
            net.layer<15>().rate(0.0);
            net.layer<20>().rate(0.0);
            return run(net, loss::CategoricalCrossentropy{}, dir);
        }
        if (net_name == "conv_autoencoder") {
            bench::ConvAutoencoder<default_backend> net;
            return run(net, loss::MeanSquaredError{}, dir);
        }
        if (net_name == "conv_transpose") {
            // The layout of Conv2DTranspose kernels (PyTorch's ConvTranspose2d stores (in, out, kh, kw)).
            Sequential<Input<6, 6, 3>, Conv2DTranspose<4, 3, Padding::valid, 2>, ReLU, Flatten, Dense<10>, Softmax> net;
            return run(net, loss::CategoricalCrossentropy{}, dir);
        }
        if (net_name == "recurrent") {
            // Both gate layouts (torch's GRU orders its gates otherwise) and a sequence between them.
            Sequential<Input<7, 3>, LSTM<8, Returns::sequences>, GRU<6>, Dense<10>, Softmax> net;
            return run(net, loss::CategoricalCrossentropy{}, dir);
        }
        if (net_name == "bidirectional") {
            // PyTorch's "_reverse" weights, and the backward direction's steps put back in order.
            Sequential<Input<7, 3>, Bidirectional<LSTM<5, Returns::sequences>>, Bidirectional<GRU<4>>, Dense<10>,
                       Softmax>
                net;
            return run(net, loss::CategoricalCrossentropy{}, dir);
        }
        std::fprintf(stderr, "torch_parity: unknown network %s\n", net_name.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "torch_parity: %s\n", e.what());
        return 1;
    }
}
