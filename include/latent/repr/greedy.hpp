// Greedy layer-wise pretraining (Bengio et al. 2007; stacked contractive autoencoders, Rifai et
// al. 2011): the Dense + Sigmoid layers at the bottom of a network are trained one at a time,
// each as the encoder of a one-layer autoencoder on the codes of the (already trained, frozen)
// layers below; the network itself is the stack, ready for supervised fine-tuning.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/errors.hpp"
#include "../core/tensor.hpp"
#include "../graph/sequential.hpp"
#include "../layers/activation.hpp"
#include "../layers/contractive.hpp"
#include "../layers/dense.hpp"
#include "../loss/binary_crossentropy.hpp"
#include "../optim/adam.hpp"
#include "../train/fit.hpp"
#include "../train/options.hpp"

namespace latent::repr {

struct GreedyOptions {
    std::size_t epochs = 10;      // per layer
    std::size_t batch_size = 64;
    double lr = 1e-3;             // Adam's
    // The weight of each encoder's Jacobian penalty (ContractiveDense); 0: plain autoencoders.
    double contraction = 0.0;
    std::uint64_t seed = 0;
    Verbosity verbose = Verbosity::one_line_per_epoch;
    std::ostream* out = nullptr;  // std::cout when null
};

namespace detail {
template <class L>
inline constexpr bool is_dense = false;
template <std::size_t U>
inline constexpr bool is_dense<Dense<U>> = true;

// The index of the k-th Dense layer of Net (layer_count when there are fewer).
template <class Net>
constexpr std::size_t dense_index(std::size_t k) {
    constexpr auto dense = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<bool, Net::layer_count>{is_dense<typename Net::template layer_type<I>>...};
    }(std::make_index_sequence<Net::layer_count>{});
    for (std::size_t i = 0; i < Net::layer_count; ++i)
        if (dense[i] && k-- == 0) return i;
    return Net::layer_count;
}

template <class Net, std::size_t I>
constexpr bool pretrainable_pair() {
    if constexpr (I + 1 >= Net::layer_count)
        return false;
    else
        return std::is_same_v<typename Net::template layer_type<I + 1>, Sigmoid>;
}

// Stage K: the one-layer autoencoder for the K-th Dense layer, trained on the codes from below;
// its encoder's weights go into the network. Returns its final training loss.
template <std::size_t K, class Net, class X>
double pretrain_stage(Net& net, const X& x, const GreedyOptions& options, std::ostream& out) {
    constexpr std::size_t index = dense_index<Net>(K);
    static_assert(pretrainable_pair<Net, index>(),
                  "latent: greedy_pretrain pretrains Dense + Sigmoid pairs (a contractive autoencoder's "
                  "encoder): each pretrained Dense layer must be followed by Sigmoid");
    using layer = typename Net::template layer_type<index>;
    constexpr std::size_t in = Net::template layer_input_shape<index>::size;
    using Stage = Sequential<typename Net::policy, Input<in>, ContractiveDense<layer::units>, Dense<in>, Sigmoid>;

    // The codes of the layers below, which stay as they are from here on.
    Tensor<Shape<in>> codes(x.batch());
    constexpr std::size_t chunk = 512;
    for (std::size_t b = 0; b < x.batch(); b += chunk) {
        const std::size_t n = std::min(chunk, x.batch() - b);
        net.forward(x.data() + b * Net::input_shape::size, n, Mode::infer);
        const float* below = net.layer_input(index);
        download<typename Net::policy>(codes.data() + b * in, below, n * in);
    }

    Stage stage(options.seed + K);
    stage.template layer<0>().contraction(options.contraction);
    stage.compile(optim::Adam{.lr = options.lr}, loss::BinaryCrossentropy{});
    if (options.verbose != Verbosity::silent)
        out << "greedy pretraining, stage " << K + 1 << ": layer " << index << " \"" << net.layer_name(index)
            << "\" (Dense<" << layer::units << ">) on " << in << " inputs from below" << std::endl;
    FitOptions fit;
    fit.epochs = options.epochs;
    fit.batch_size = options.batch_size;
    fit.seed = options.seed + K;
    fit.verbose = options.verbose;
    fit.out = &out;
    const auto history = stage.fit(codes, codes, fit);

    const auto from = stage.layer(0).weights();
    const auto to = net.layer(index).weights();
    for (std::size_t w = 0; w < to.size(); ++w)
        std::copy(from[w].second.begin(), from[w].second.end(), to[w].second.begin());
    return history.epochs ? history.last("loss") : 0.0;
}
}  // namespace detail

// Pretrains the first Stages Dense layers of net (each must be followed by Sigmoid) on the
// unlabelled x, whose values must lie in [0, 1] (each stage reconstructs its input through a
// sigmoid, with binary cross-entropy). Stage k trains ContractiveDense<units_k> -> Dense<in_k>
// -> Sigmoid on the outputs of layers 0 .. (k-th Dense) - 1 of net, then copies the encoder's
// kernel and bias into net's k-th Dense. Returns each stage's final training loss (the
// reconstruction plus the contraction penalty). Layers between the pairs (Flatten, say) are
// used as they are; the layers above the pretrained ones (the classifier head) are untouched.
template <std::size_t Stages, class Net, float_batch X>
std::vector<double> greedy_pretrain(Net& net, const X& x, const GreedyOptions& options = {}) {
    static_assert(Stages >= 1, "latent: greedy_pretrain needs at least one stage");
    constexpr bool enough = detail::dense_index<Net>(Stages - 1) < Net::layer_count;
    static_assert(enough, "latent: greedy_pretrain<Stages>: the network has fewer Dense layers than Stages");
    if (x.batch() == 0) throw value_error("latent.repr.greedy.empty", "greedy_pretrain got no samples");
    const auto [lo, hi] = std::minmax_element(x.data(), x.data() + x.size());
    if (!(*lo >= 0.0f && *hi <= 1.0f))
        throw value_error("latent.repr.greedy.range",
                          "greedy_pretrain reconstructs its inputs through a sigmoid, so they must lie in [0, 1]; "
                          "the data spans [" + std::to_string(*lo) + ", " + std::to_string(*hi) +
                              "] (scale it first)");
    std::ostream& out = options.out ? *options.out : std::cout;
    std::vector<double> losses;
    if constexpr (enough)
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (losses.push_back(detail::pretrain_stage<K>(net, x, options, out)), ...);
        }(std::make_index_sequence<Stages>{});
    return losses;
}

}  // namespace latent::repr
