// VariationalAutoencoder<Encoder, Decoder>: an Autoencoder whose encoder ends in a Sampling layer
// (its KL term is part of the loss), with generate(n) from the prior N(0, 1) and interpolation
// between two inputs through the code space.
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "../core/errors.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "../layers/sampling.hpp"
#include "autoencoder.hpp"

namespace latent::repr {

template <class Encoder, class Decoder>
class VariationalAutoencoder : public Autoencoder<Encoder, Decoder> {
    using Base = Autoencoder<Encoder, Decoder>;
    static_assert(std::is_same_v<typename Encoder::template layer_type<Encoder::layer_count - 1>, Sampling>,
                  "latent: a VariationalAutoencoder's encoder must end in Sampling (after a Dense<2 * code size> "
                  "giving the means and log-variances)");

public:
    using typename Base::code_shape;
    using typename Base::output_shape;

    explicit VariationalAutoencoder(Encoder encoder = Encoder{}, Decoder decoder = Decoder{},
                                    std::string name = "variational_autoencoder")
        : Base(std::move(encoder), std::move(decoder), std::move(name)) {}

    // n new samples: codes drawn from the prior N(0, 1), decoded.
    Tensor<output_shape> generate(std::size_t n, Generator& rng) {
        Tensor<code_shape> z(n);
        for (auto& v : z.values()) v = static_cast<float>(rng.normal());
        return this->decode(z);
    }

    // `steps` outputs along the straight line between the codes (the means) of sample a of x_a
    // and sample b of x_b, both ends included.
    template <float_batch X>
    Tensor<output_shape> interpolate(const X& x_a, std::size_t a, const X& x_b, std::size_t b, std::size_t steps) {
        if (steps < 2) throw value_error("latent.repr.interpolate", "an interpolation needs at least 2 steps, got " +
                                                                        std::to_string(steps));
        const auto za = this->encode(x_a.slice(a, 1)), zb = this->encode(x_b.slice(b, 1));
        Tensor<code_shape> z(steps);
        for (std::size_t s = 0; s < steps; ++s) {
            const float t = static_cast<float>(s) / static_cast<float>(steps - 1);
            for (std::size_t j = 0; j < code_shape::size; ++j) z.sample(s)[j] = (1 - t) * za[j] + t * zb[j];
        }
        return this->decode(z);
    }
};

}  // namespace latent::repr
