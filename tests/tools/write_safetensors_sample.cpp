// Writes a small safetensors file with known contents, for tests/tools/read_safetensors.py
// to check independently: an arena saved with save_safetensors, plus one tensor of each
// other common dtype (a scalar and an empty tensor too) added through write_safetensors.
#include <latent/io/safetensors.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

namespace {

latent::io::SafetensorsTensor raw(const char* dtype, std::vector<std::size_t> dims, std::vector<unsigned char> bytes) {
    latent::io::SafetensorsTensor t;
    t.dtype = dtype;
    t.dims = std::move(dims);
    for (const unsigned char b : bytes) t.bytes.push_back(static_cast<std::byte>(b));
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT.safetensors\n", argv[0]);
        return 2;
    }
    try {
        // Sums the Python check expects: dense/kernel 5.0, dense/bias -0.25.
        latent::ParameterArena<float> arena({latent::ParamSlot{"dense/kernel", {3, 2}, 0, 6, true, 0},
                                             latent::ParamSlot{"dense/bias", {2}, 0, 2, true, 0}});
        const float values[] = {0.5f, -1.25f, 2.0f, 3.5f, -0.75f, 1.0f, 0.25f, -0.5f};
        std::memcpy(arena.data(), values, sizeof values);
        latent::io::save_safetensors(argv[1], arena, {{"source", "write_safetensors_sample"}});

        // The same file with more dtypes, written through the generic writer.
        latent::io::SafetensorsFile file = latent::io::read_safetensors(argv[1]);
        // I64 {1, -2, 3000000000}: sum 2999999999.
        file.tensors["ints/i64"] = raw("I64", {3}, {1,    0,    0,    0,    0,    0,    0,    0,     //
                                                    0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  //
                                                    0x00, 0x5E, 0xD0, 0xB2, 0,    0,    0,    0});
        file.tensors["ints/u8"] = raw("U8", {1, 3}, {1, 2, 255});  // 258
        file.tensors["floats/f64"] = raw("F64", {2},
                                         {0, 0, 0, 0, 0, 0, 0xF8, 0x3F,                      // 1.5
                                          0, 0, 0, 0, 0, 0, 0x04, 0xC0});                    // -2.5
        file.tensors["floats/f16"] = raw("F16", {3}, {0x00, 0x3C, 0x00, 0xC1, 0x00, 0x38});  // 1, -2.5, 0.5
        file.tensors["floats/bf16"] = raw("BF16", {2}, {0x80, 0x3F, 0x40, 0x40});            // 1, 3
        file.tensors["scalar"] = raw("F32", {}, {0x00, 0x00, 0xE0, 0x40});                   // 7
        file.tensors["empty"] = raw("F32", {0, 3}, {});                                      // 0
        latent::io::write_safetensors(argv[1], file);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
