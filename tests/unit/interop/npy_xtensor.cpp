// latent/io/npy.hpp against a second implementation of the format, xtensor's xnpy.hpp: files
// each one writes, the other reads with the same dtype, shape and values; xtensor's
// column-major files are refused as Fortran order.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <latent/io/npy.hpp>
#include <string>
#include <type_traits>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "support/files.hpp"

namespace {

template <class T>
xt::xarray<T> numbered(std::vector<std::size_t> shape) {
    xt::xarray<T> x = xt::xarray<T>::from_shape(shape);
    // Negative values only where T holds them: converting -7.0 to uint8 is undefined.
    for (std::size_t i = 0; i < x.size(); ++i)
        x.data()[i] = static_cast<T>(std::is_unsigned_v<T> ? static_cast<double>(i * 3 % 250)
                                                            : static_cast<double>(i) * 1.5 - 7.0);
    return x;
}

}  // namespace

TEST_CASE_TEMPLATE("npy and xtensor read each other's files", T, float, double, std::uint8_t, std::int64_t) {
    const auto dir =
        latent::testing::fresh_dir("npy_xtensor", std::string(latent::io::npy_type_name(latent::io::npy_type_of<T>)));
    for (const std::vector<std::size_t>& shape : {std::vector<std::size_t>{2, 3, 4}, std::vector<std::size_t>{5}}) {
        const xt::xarray<T> x = numbered<T>(shape);
        const std::vector<T> values(x.data(), x.data() + x.size());

        const auto by_xtensor = dir / "xtensor.npy";
        xt::dump_npy(by_xtensor.string(), x);
        const latent::io::NpyArray a = latent::io::load_npy(by_xtensor);
        CHECK(a.type == latent::io::npy_type_of<T>);
        CHECK(a.shape == shape);
        CHECK(a.values<T>() == values);

        const auto by_latent = dir / "latent.npy";
        latent::io::save_npy(by_latent, latent::io::make_npy<T>(shape, values));
        const xt::xarray<T> y = xt::load_npy<T>(by_latent.string());
        CHECK(std::vector<std::size_t>(y.shape().begin(), y.shape().end()) == shape);
        CHECK(y == x);
    }
}

TEST_CASE("npy: xtensor's column-major files are refused as Fortran order") {
    const auto path = latent::testing::fresh_dir("npy_xtensor", "fortran") / "column_major.npy";
    xt::xarray<float, xt::layout_type::column_major> x =
        xt::xarray<float, xt::layout_type::column_major>::from_shape({2, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
    xt::dump_npy(path.string(), x);
    CHECK_THROWS_WITH_AS(latent::io::load_npy(path), doctest::Contains("[latent.io.npy.fortran] column_major.npy: "),
                         latent::io_error);
}
