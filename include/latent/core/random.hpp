// Generator: the one random source of latent (xoshiro256**, seeded through splitmix64).
// Written here rather than taken from <random> because the standard distributions differ
// between standard libraries, and seeded runs must be bit-identical everywhere.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

namespace latent {

class Generator {
public:
    explicit Generator(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        std::uint64_t z = seed;
        for (auto& s : state_) s = splitmix64(z);
        has_spare_normal_ = false;
    }

    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 24 random bits: exactly representable in float.
    float uniform_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
    // Uniform in [0, 1) with 53 random bits.
    double uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    double uniform(double low, double high) { return low + (high - low) * uniform_double(); }

    // Uniform integer in [0, n) without modulo bias (rejects the incomplete top range).
    std::uint64_t below(std::uint64_t n) {
        if (n <= 1) return 0;
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        std::uint64_t r = next_u64();
        while (r >= limit) r = next_u64();
        return r % n;
    }

    // Standard normal (Box-Muller; the second value is kept for the next call).
    double normal() {
        if (has_spare_normal_) {
            has_spare_normal_ = false;
            return spare_normal_;
        }
        double u1 = 0;
        while (u1 <= 0) u1 = uniform_double();
        const double u2 = uniform_double();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        const double angle = 2.0 * std::numbers::pi * u2;
        spare_normal_ = radius * std::sin(angle);
        has_spare_normal_ = true;
        return radius * std::cos(angle);
    }

    // An independent generator for a sub-task (one per epoch, per layer...), derived from this one.
    Generator split() { return Generator(next_u64()); }

    bool operator==(const Generator&) const = default;

    // The whole state as six words (four of xoshiro, the spare normal's bits and its flag),
    // so that checkpoints can stop and resume a run bit for bit.
    std::array<std::uint64_t, 6> state() const {
        return {state_[0], state_[1], state_[2], state_[3], std::bit_cast<std::uint64_t>(spare_normal_),
                has_spare_normal_ ? 1u : 0u};
    }
    void set_state(const std::array<std::uint64_t, 6>& words) {
        for (int i = 0; i < 4; ++i) state_[i] = words[static_cast<std::size_t>(i)];
        spare_normal_ = std::bit_cast<double>(words[4]);
        has_spare_normal_ = words[5] != 0;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4]{};
    double spare_normal_ = 0;
    bool has_spare_normal_ = false;
};

// Fisher-Yates shuffle of indices with our generator (std::shuffle's order is unspecified).
template <class RandomIt>
void shuffle(RandomIt first, RandomIt last, Generator& gen) {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
        const auto j = gen.below(i);
        std::swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
}

}  // namespace latent
