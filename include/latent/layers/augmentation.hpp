// Keras' image augmentation layers: RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
// RandomCrop, RandomContrast and RandomBrightness. In training each draws a new transform for
// every image; in inference each is the identity (RandomCrop resizes), so the augmentation can
// live inside the model.
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "../backend/warp.hpp"
#include "../core/errors.hpp"
#include "../core/spatial.hpp"
#include "layer.hpp"
#include "pool.hpp"      // detail::image_dims, shared by the image layers
#include "resizing.hpp"  // detail::write_scale_transforms, shared with RandomCrop

namespace latent {

// Which way RandomFlip may flip (Keras' `mode`).
enum class FlipMode { horizontal, vertical, horizontal_and_vertical };

// The range a random factor is drawn from, uniformly (Keras' factor arguments): one number f
// means [-f, f], two numbers {lower, upper} that range.
struct FactorRange {
    double lower = std::numeric_limits<double>::quiet_NaN();
    double upper = std::numeric_limits<double>::quiet_NaN();
    constexpr FactorRange() = default;
    constexpr FactorRange(double f) : lower(-f), upper(f) {}  // NOLINT: a number is a range, as in Keras
    constexpr FactorRange(double lower_bound, double upper_bound) : lower(lower_bound), upper(upper_bound) {}
    bool is_set() const noexcept { return !std::isnan(lower) && !std::isnan(upper); }
};

// The range of the images' values (Keras' `value_range`, (0, 255) by default): RandomContrast's
// and RandomBrightness' outputs are clipped to it, and RandomBrightness' factor is a share of it.
struct ValueRange {
    double low = 0.0, high = 255.0;
};

namespace detail {
inline std::string range_text(double lower, double upper) {
    return concat("[", number_text(lower), ", ", number_text(upper), "]");
}
// A factor range that must be finite, ordered and inside [min, max]: returns it, or throws
// value_error `id` naming the layer, the setting and what was given.
inline FactorRange factor_setting(FactorRange r, double min, double max, std::string_view type_name,
                                  const std::string& name, std::string_view setting, const std::string& id) {
    const std::string what = describe_layer(type_name, name) + ": " + std::string(setting);
    if (!std::isfinite(r.lower) || !std::isfinite(r.upper) || r.lower > r.upper)
        throw value_error(id,
                          what + " must be a finite range with lower <= upper, got " + range_text(r.lower, r.upper));
    if (r.lower < min || r.upper > max)
        throw value_error(id, what + " must lie in " + range_text(min, max) + ", got " + range_text(r.lower, r.upper));
    return r;
}
inline void require_set(bool set, std::string_view type_name, const std::string& name, std::string_view setting,
                        std::string_view example, const std::string& id) {
    if (!set)
        throw value_error(id, describe_layer(type_name, name) + ": " + std::string(setting) +
                                  " was never set; give it, e.g. layer<I>()." + std::string(example) +
                                  ", before training");
}
inline ImageSampling sampling_setting(const ImageSampling& s, std::string_view type_name, const std::string& name,
                                      const std::string& id) {
    finite_setting(s.fill_value, type_name, name, "fill_value", id);
    return s;
}
inline ValueRange value_range_setting(ValueRange r, std::string_view type_name, const std::string& name,
                                      const std::string& id) {
    if (!std::isfinite(r.low) || !std::isfinite(r.high) || !(r.low < r.high))
        throw value_error(id, describe_layer(type_name, name) + ": value_range must be finite with low < high, got " +
                                  range_text(r.low, r.high));
    return r;
}

// The transforms of the geometric layers, from two uniform draws in [0, 1) a sample (see
// backend/warp.hpp for the coefficients). Matrices as tf.keras' (Keras 2's) image layers.
template <class T>
struct flip_transform {
    bool horizontal, vertical;
    double width, height;
    LATENT_HOST_DEVICE void operator()(T& a0, T& a1, T& a2, T& b0, T& b1, T& b2, const T& u0, const T& u1) const {
        const bool flip_x = horizontal && u0 < T(0.5), flip_y = vertical && u1 < T(0.5);
        a0 = flip_x ? T(-1) : T(1);
        a1 = T(0);
        a2 = flip_x ? static_cast<T>(width - 1) : T(0);
        b0 = T(0);
        b1 = flip_y ? T(-1) : T(1);
        b2 = flip_y ? static_cast<T>(height - 1) : T(0);
    }
};
// A turn of 2 pi (lower + u0 (upper - lower)) about the image's centre; positive counter-clockwise.
template <class T>
struct rotation_transform {
    double lower, upper, width, height;
    LATENT_HOST_DEVICE void operator()(T& a0, T& a1, T& a2, T& b0, T& b1, T& b2, const T& u0, const T&) const {
        const double angle = 6.283185307179586 * (lower + static_cast<double>(u0) * (upper - lower));
        const double c = std::cos(angle), s = std::sin(angle);
        a0 = static_cast<T>(c);
        a1 = static_cast<T>(-s);
        a2 = static_cast<T>(((width - 1) - (c * (width - 1) - s * (height - 1))) / 2);
        b0 = static_cast<T>(s);
        b1 = static_cast<T>(c);
        b2 = static_cast<T>(((height - 1) - (s * (width - 1) + c * (height - 1))) / 2);
    }
};
// A shift by shares of the height (from u0) and width (from u1); positive moves the image down
// and right.
template <class T>
struct translation_transform {
    double height_lower, height_upper, width_lower, width_upper, width, height;
    LATENT_HOST_DEVICE void operator()(T& a0, T& a1, T& a2, T& b0, T& b1, T& b2, const T& u0, const T& u1) const {
        const double dy = height * (height_lower + static_cast<double>(u0) * (height_upper - height_lower));
        const double dx = width * (width_lower + static_cast<double>(u1) * (width_upper - width_lower));
        a0 = T(1);
        a1 = T(0);
        a2 = static_cast<T>(-dx);
        b0 = T(0);
        b1 = T(1);
        b2 = static_cast<T>(-dy);
    }
};
// Sampling 1 + factor times as far from the centre: a positive factor zooms out. Without a
// width range the width takes the height's zoom, so the aspect ratio stays.
template <class T>
struct zoom_transform {
    double height_lower, height_upper, width_lower, width_upper, width, height;
    bool own_width;
    LATENT_HOST_DEVICE void operator()(T& a0, T& a1, T& a2, T& b0, T& b1, T& b2, const T& u0, const T& u1) const {
        const double zoom_y = 1 + height_lower + static_cast<double>(u0) * (height_upper - height_lower);
        const double zoom_x =
            own_width ? 1 + width_lower + static_cast<double>(u1) * (width_upper - width_lower) : zoom_y;
        a0 = static_cast<T>(zoom_x);
        a1 = T(0);
        a2 = static_cast<T>((width - 1) / 2 * (1 - zoom_x));
        b0 = T(0);
        b1 = static_cast<T>(zoom_y);
        b2 = static_cast<T>((height - 1) / 2 * (1 - zoom_y));
    }
};

// RandomCrop's place in training: the top row and left column drawn uniformly among the `rows`
// and `columns` places the window fits (from u0 and u1), as a whole-pixel shift.
template <class T>
struct crop_transform {
    double rows, columns;
    LATENT_HOST_DEVICE void operator()(T& a0, T& a1, T& a2, T& b0, T& b1, T& b2, const T& u0, const T& u1) const {
        const double top = std::floor(static_cast<double>(u0) * rows);
        const double left = std::floor(static_cast<double>(u1) * columns);
        a0 = b1 = T(1);
        a1 = b0 = T(0);
        a2 = static_cast<T>(left < columns ? left : columns - 1);  // a guard: u < 1 keeps it below
        b2 = static_cast<T>(top < rows ? top : rows - 1);
    }
};

// What every augmentation layer shares: (height, width, channels) images in and out, the
// factors' checks, and errors named latent.layers.<default_name>.<setting>.
template <class Derived>
class augmentation_layer : public Layer<Derived> {
public:
    using Layer<Derived>::Layer;

    using requirement = rank<3>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = In;

protected:
    Derived& self() { return static_cast<Derived&>(*this); }
    static std::string id(std::string_view setting) {
        return "latent.layers." + std::string(Derived::default_name) + "." + std::string(setting);
    }
    FactorRange checked(FactorRange r, double min, double max, std::string_view setting) const {
        return factor_setting(r, min, max, Derived::type_name, this->name(), setting, id(setting));
    }
    void require(bool set, std::string_view setting, std::string_view example) const {
        require_set(set, Derived::type_name, this->name(), setting, example, id(setting));
    }
    void require_generator(const Generator* rng) const {
        if (!rng)
            throw value_error(id("rng"), describe_layer(Derived::type_name, this->name()) +
                                             " in training mode needs a random generator");
    }
};

// What the geometric layers share: in training, two uniform draws a sample, Derived's transform
// from them (Derived::transform<T>(h, w)) and the affine sampling; in inference the identity,
// with identity transforms left for backward.
template <class Derived>
class random_image_transform : public augmentation_layer<Derived> {
public:
    using augmentation_layer<Derived>::augmentation_layer;

    // The transforms' coefficients, then the two draws.
    template <class In>
    static constexpr std::size_t workspace_per_sample = affine_coefficients + 2;
    template <class In>
    static constexpr std::size_t flops_per_sample = 8 * In::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr ImageDims image = image_dims<In>;
        const std::size_t n = a.batch;
        T* t = a.workspace;
        T* draws = t + affine_coefficients * n;
        if (a.mode != Mode::train) {
            ops::copy_elements<B>(n * In::size, a.x, a.y);
            ops::elementwise<B>(
                n,
                [] LATENT_HOST_DEVICE(T& a0, T& a1, T& a2, T& b0, T& b1, T& b2) {
                    a0 = b1 = T(1);
                    a1 = a2 = b0 = b2 = T(0);
                },
                t, t + n, t + 2 * n, t + 3 * n, t + 4 * n, t + 5 * n);
            return;
        }
        const Derived& self = static_cast<const Derived&>(*this);
        self.check_settings();
        this->require_generator(a.rng);
        ops::uniform<B>(2 * n, draws, *a.rng);
        ops::elementwise<B>(n, self.template transform<T>(image.h, image.w), t, t + n, t + 2 * n, t + 3 * n,
                            t + 4 * n, t + 5 * n, static_cast<const T*>(draws), static_cast<const T*>(draws + n));
        ops::affine_warp2d<B>(n, sizes<In>, static_cast<const T*>(t), self.image_sampling(), a.x, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        const Derived& self = static_cast<const Derived&>(*this);
        ops::affine_warp2d_backward<B>(a.batch, sizes<In>, static_cast<const T*>(a.workspace), self.image_sampling(),
                                       a.dy, a.dx);
    }

private:
    template <class In>
    static constexpr WarpSizes sizes{image_dims<In>.h, image_dims<In>.w, image_dims<In>.h, image_dims<In>.w,
                                     image_dims<In>.channels};
};

// The settings of the interpolating transforms (rotation, translation, zoom): Keras'
// `interpolation`, `fill_mode` and `fill_value`, bilinear, reflect and 0 by default.
template <class Derived>
class sampled_image_transform : public random_image_transform<Derived> {
public:
    using random_image_transform<Derived>::random_image_transform;

    const ImageSampling& image_sampling() const noexcept { return sampling_; }
    Derived& image_sampling(const ImageSampling& s) {
        sampling_ = sampling_setting(s, Derived::type_name, this->name(), this->id("fill_value"));
        return this->self();
    }
    Interpolation interpolation() const noexcept { return sampling_.interpolation; }
    Derived& interpolation(Interpolation i) {
        sampling_.interpolation = i;
        return this->self();
    }
    FillMode fill_mode() const noexcept { return sampling_.fill_mode; }
    Derived& fill_mode(FillMode m) {
        sampling_.fill_mode = m;
        return this->self();
    }
    double fill_value() const noexcept { return sampling_.fill_value; }
    Derived& fill_value(double v) {
        sampling_.fill_value =
            finite_setting(v, Derived::type_name, this->name(), "fill_value", this->id("fill_value"));
        return this->self();
    }

private:
    ImageSampling sampling_{};
};
// z clipped to [low, high], and in `inside` 1 where the clip let z through, else 0 (its
// derivative). A type of its own, not a nested one: nvcc's device lambdas may not capture a
// protected member type.
template <class T>
struct clip_to {
    T low, high;
    LATENT_HOST_DEVICE T operator()(T z, T& inside) const {
        inside = z >= low && z <= high ? T(1) : T(0);
        return z < low ? low : (z > high ? high : z);
    }
};

// What RandomContrast and RandomBrightness share: the value range their outputs are clipped
// to, and the clip that keeps for backward where it let the value through.
template <class Derived>
class value_range_layer : public augmentation_layer<Derived> {
public:
    using augmentation_layer<Derived>::augmentation_layer;

    const ValueRange& value_range() const noexcept { return range_; }
    Derived& value_range(ValueRange r) {
        range_ = value_range_setting(r, Derived::type_name, this->name(), this->id("value_range"));
        return this->self();
    }

protected:
    template <class T>
    clip_to<T> clip_to_range() const {
        return {static_cast<T>(range_.low), static_cast<T>(range_.high)};
    }

private:
    ValueRange range_{};
};
}  // namespace detail

// RandomFlip<Mode>: flips each image left-right, top-bottom or each way, each with probability
// one half (Keras' RandomFlip, "horizontal_and_vertical" by default). Flips move whole pixels.
template <FlipMode Mode = FlipMode::horizontal_and_vertical>
class RandomFlip : public detail::random_image_transform<RandomFlip<Mode>> {
public:
    using detail::random_image_transform<RandomFlip<Mode>>::random_image_transform;
    static constexpr std::string_view type_name = "RandomFlip";
    static constexpr std::string_view default_name = "random_flip";
    static constexpr FlipMode mode = Mode;

    void check_settings() const noexcept {}
    static constexpr ImageSampling image_sampling() noexcept {
        return {Interpolation::nearest, FillMode::constant, 0.0};
    }
    template <class T>
    detail::flip_transform<T> transform(std::size_t h, std::size_t w) const {
        return {Mode != FlipMode::vertical, Mode != FlipMode::horizontal, static_cast<double>(w),
                static_cast<double>(h)};
    }
};

// RandomRotation: turns each image about its centre by a random share of a full turn drawn from
// `factor` (Keras' RandomRotation: 0.1 means up to 36 degrees either way; positive is
// counter-clockwise).
class RandomRotation : public detail::sampled_image_transform<RandomRotation> {
public:
    RandomRotation() = default;  // Keras requires the factor: training refuses to run without it
    explicit RandomRotation(FactorRange factor, const ImageSampling& sampling = {}, std::string name = {})
        : sampled_image_transform(std::move(name)) {
        this->factor(factor);
        image_sampling(sampling);
    }
    static constexpr std::string_view type_name = "RandomRotation";
    static constexpr std::string_view default_name = "random_rotation";

    const FactorRange& factor() const noexcept { return factor_; }
    RandomRotation& factor(FactorRange r) {
        factor_ = checked(r, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), "factor");
        return *this;
    }

    void check_settings() const { require(factor_.is_set(), "factor", "factor(0.1)"); }
    template <class T>
    detail::rotation_transform<T> transform(std::size_t h, std::size_t w) const {
        return {factor_.lower, factor_.upper, static_cast<double>(w), static_cast<double>(h)};
    }

private:
    FactorRange factor_{};
};

// RandomTranslation: shifts each image by random shares of its height and width, each in
// [-1, 1] (Keras' RandomTranslation; positive moves it down and right).
class RandomTranslation : public detail::sampled_image_transform<RandomTranslation> {
public:
    RandomTranslation() = default;  // Keras requires both factors
    RandomTranslation(FactorRange height_factor, FactorRange width_factor, const ImageSampling& sampling = {},
                      std::string name = {})
        : sampled_image_transform(std::move(name)) {
        this->height_factor(height_factor);
        this->width_factor(width_factor);
        image_sampling(sampling);
    }
    static constexpr std::string_view type_name = "RandomTranslation";
    static constexpr std::string_view default_name = "random_translation";

    const FactorRange& height_factor() const noexcept { return height_; }
    RandomTranslation& height_factor(FactorRange r) {
        height_ = checked(r, -1.0, 1.0, "height_factor");
        return *this;
    }
    const FactorRange& width_factor() const noexcept { return width_; }
    RandomTranslation& width_factor(FactorRange r) {
        width_ = checked(r, -1.0, 1.0, "width_factor");
        return *this;
    }

    void check_settings() const {
        require(height_.is_set(), "height_factor", "height_factor(0.1)");
        require(width_.is_set(), "width_factor", "width_factor(0.1)");
    }
    template <class T>
    detail::translation_transform<T> transform(std::size_t h, std::size_t w) const {
        return {height_.lower, height_.upper, width_.lower, width_.upper, static_cast<double>(w),
                static_cast<double>(h)};
    }

private:
    FactorRange height_{}, width_{};
};

// RandomZoom: zooms each image about its centre by 1 + a factor drawn from `height_factor`,
// each bound in [-1, 1] (Keras' RandomZoom: positive zooms out, negative in); the width takes
// its own draw from `width_factor` if given, else the height's zoom.
class RandomZoom : public detail::sampled_image_transform<RandomZoom> {
public:
    RandomZoom() = default;  // Keras requires height_factor
    explicit RandomZoom(FactorRange height_factor, std::optional<FactorRange> width_factor = std::nullopt,
                        const ImageSampling& sampling = {}, std::string name = {})
        : sampled_image_transform(std::move(name)) {
        this->height_factor(height_factor);
        if (width_factor) this->width_factor(*width_factor);
        image_sampling(sampling);
    }
    static constexpr std::string_view type_name = "RandomZoom";
    static constexpr std::string_view default_name = "random_zoom";

    const FactorRange& height_factor() const noexcept { return height_; }
    RandomZoom& height_factor(FactorRange r) {
        height_ = checked(r, -1.0, 1.0, "height_factor");
        return *this;
    }
    const std::optional<FactorRange>& width_factor() const noexcept { return width_; }
    RandomZoom& width_factor(FactorRange r) {
        width_ = checked(r, -1.0, 1.0, "width_factor");
        return *this;
    }

    void check_settings() const { require(height_.is_set(), "height_factor", "height_factor(0.1)"); }
    template <class T>
    detail::zoom_transform<T> transform(std::size_t h, std::size_t w) const {
        const FactorRange width = width_.value_or(height_);
        return {height_.lower, height_.upper, width.lower, width.upper, static_cast<double>(w), static_cast<double>(h),
                width_.has_value()};
    }

private:
    FactorRange height_{};
    std::optional<FactorRange> width_{};
};

// RandomCrop<Height, Width>: (h, w, c) -> (Height, Width, c), Keras' RandomCrop. In training a
// window of the target size at a random whole-pixel place, each place equally likely; in
// inference Keras' smart resize: the largest centred window of the target's aspect ratio, scaled
// to the target bilinearly at half-pixel centres (tf.image.resize's values). Each image draws its
// own place (Keras crops a whole batch at one place). An image smaller than the target is a
// compile error, as for CenterCrop (Keras would resize it; put a Resizing before the crop).
template <std::size_t Height, std::size_t Width>
class RandomCrop : public detail::augmentation_layer<RandomCrop<Height, Width>> {
public:
    explicit RandomCrop(std::string name = {}) : detail::augmentation_layer<RandomCrop>(std::move(name)) {
        static_assert(Height > 0 && Width > 0, "latent: RandomCrop needs a height and a width of at least 1");
    }
    static constexpr std::string_view type_name = "RandomCrop";
    static constexpr std::string_view default_name = "random_crop";
    static constexpr std::size_t height = Height, width = Width;

    using requirement = image_at_least<Height, Width>;
    template <class In>
    static constexpr bool accepts =
        In::rank == 3 && detail::image_dims<In>.h >= Height && detail::image_dims<In>.w >= Width;
    template <class In>
    using output_shape = Shape<(Height > 0 ? Height : 1), (Width > 0 ? Width : 1), detail::image_dims<In>.channels>;
    // The transforms' coefficients, then the two draws.
    template <class In>
    static constexpr std::size_t workspace_per_sample = detail::affine_coefficients + 2;
    template <class In>
    static constexpr std::size_t flops_per_sample = 8 * output_shape<In>::size;

    // Both modes sample through one affine warp, so backward needs no mode: a crop's transform
    // is a whole-pixel shift, whose bilinear taps other than the pixel itself weigh 0.
    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        const std::size_t n = a.batch;
        T* t = a.workspace;
        if (a.mode == Mode::train) {
            this->require_generator(a.rng);
            T* draws = t + detail::affine_coefficients * n;
            ops::uniform<B>(2 * n, draws, *a.rng);
            ops::elementwise<B>(n, detail::crop_transform<T>{double(image.h - Height + 1), double(image.w - Width + 1)},
                                t, t + n, t + 2 * n, t + 3 * n, t + 4 * n, t + 5 * n, static_cast<const T*>(draws),
                                static_cast<const T*>(draws + n));
        } else {
            write_inference_transforms<In, B>(n, t);
        }
        ops::affine_warp2d<B>(n, sizes<In>, static_cast<const T*>(t), sampling, a.x, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (a.dx)
            ops::affine_warp2d_backward<B>(a.batch, sizes<In>, static_cast<const T*>(a.workspace), sampling, a.dy,
                                           a.dx);
    }

    // Keras' smart resize of an image of In's size: the window (rows, columns, top, left).
    template <class In>
    static constexpr detail::CropWindow inference_window =
        detail::smart_resize_window(detail::image_dims<In>.h, detail::image_dims<In>.w, Height, Width);

private:
    // The window scaled to the target at half-pixel centres. It is never smaller than the target,
    // so every tap lies inside it, as tf.image.resize's on the cut-out window.
    template <class In, backend_policy B, class T>
    static void write_inference_transforms(std::size_t batch, T* t) {
        constexpr detail::CropWindow window = inference_window<In>;
        detail::write_scale_transforms<B>(batch, t, static_cast<double>(window.columns) / Width,
                                          static_cast<double>(window.rows) / Height, static_cast<double>(window.left),
                                          static_cast<double>(window.top));
    }

    static constexpr ImageSampling sampling{Interpolation::bilinear, FillMode::nearest, 0.0};
    template <class In>
    static constexpr detail::WarpSizes sizes{detail::image_dims<In>.h, detail::image_dims<In>.w, Height, Width,
                                             detail::image_dims<In>.channels};
};

// RandomContrast: scales each image's distance from its channels' means by a random factor in
// [1 - lower, 1 + upper] (Keras' RandomContrast: one number f means [1 - f, 1 + f]; lower in
// [0, 1], upper >= 0), the result clipped to value_range.
class RandomContrast : public detail::value_range_layer<RandomContrast> {
public:
    RandomContrast() = default;  // Keras requires the factor
    explicit RandomContrast(double factor, ValueRange value_range = {}, std::string name = {})
        : RandomContrast(factor, factor, value_range, std::move(name)) {}
    RandomContrast(double lower, double upper, ValueRange value_range = {}, std::string name = {})
        : value_range_layer(std::move(name)) {
        factor(lower, upper);
        this->value_range(value_range);
    }
    static constexpr std::string_view type_name = "RandomContrast";
    static constexpr std::string_view default_name = "random_contrast";

    // The draw, the channels' means, then three images' worth: the factor, the clip's mask and
    // backward's mean gradient.
    template <class In>
    static constexpr std::size_t workspace_per_sample = 1 + detail::image_dims<In>.channels + 3 * In::size;
    template <class In>
    static constexpr std::size_t flops_per_sample = 6 * In::size;

    // The range of contrast factors, [1 - lower, 1 + upper] (NaN until set).
    FactorRange factor() const noexcept { return {1.0 - lower_, 1.0 + upper_}; }
    RandomContrast& factor(double f) { return factor(f, f); }
    RandomContrast& factor(double lower, double upper) {
        checked({lower, upper}, 0.0, std::numeric_limits<double>::max(), "factor");
        if (lower > 1.0)
            throw value_error(id("factor"), detail::describe_layer(type_name, name()) +
                                                ": factor's lower bound must be at most 1 (a contrast factor of "
                                                "1 - lower), got " +
                                                detail::number_text(lower));
        lower_ = lower;
        upper_ = upper;
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        const std::size_t n = a.batch * In::size;
        T* draws = a.workspace;                         // (batch)
        T* means = draws + a.batch;                     // (batch, c)
        T* factors = means + a.batch * image.channels;  // (batch, In)
        T* inside = factors + n;                        // (batch, In)
        if (a.mode != Mode::train) {
            ops::copy_elements<B>(n, a.x, a.y);
            ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& f, T& m) { f = m = T(1); }, factors, inside);
            return;
        }
        require(!std::isnan(lower_), "factor", "factor(0.2)");
        require_generator(a.rng);
        ops::uniform<B>(a.batch, draws, *a.rng);
        const T low = static_cast<T>(1.0 - lower_), span = static_cast<T>(lower_ + upper_);
        ops::elementwise<B>(a.batch, [low, span] LATENT_HOST_DEVICE(T& u) { u = low + u * span; }, draws);
        ops::upsample_nearest2d<B>(a.batch, 1, 1, 1, 1, In::size, static_cast<const T*>(draws), factors);
        ops::average_pool2d<B>(whole_image<In>, a.batch, a.x, means);
        ops::upsample_nearest2d<B>(a.batch, 1, 1, image.channels, image.h, image.w, static_cast<const T*>(means),
                                   inside);
        const detail::clip_to<T> clip = clip_to_range<T>();
        ops::elementwise<B>(
            n,
            [clip] LATENT_HOST_DEVICE(T& y, T& mean_then_inside, const T& x, const T& f) {
                y = clip((x - mean_then_inside) * f + mean_then_inside, mean_then_inside);
            },
            a.y, inside, a.x, static_cast<const T*>(factors));
    }

    // y = clip(f x + (1 - f) mean(x)): dx = f g + (1 - f) mean(g) over each channel, g = dy where
    // the clip let z through.
    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        if (!a.dx) return;
        const std::size_t n = a.batch * In::size;
        T* means = a.workspace + a.batch;
        const T* factors = means + a.batch * image.channels;
        const T* inside = factors + n;
        T* mean_gradient = a.workspace + a.batch + a.batch * image.channels + 2 * n;
        ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& m) { dx = dy * m; }, a.dx, a.dy,
                            inside);
        ops::average_pool2d<B>(whole_image<In>, a.batch, static_cast<const T*>(a.dx), means);
        ops::upsample_nearest2d<B>(a.batch, 1, 1, image.channels, image.h, image.w, static_cast<const T*>(means),
                                   mean_gradient);
        ops::elementwise<B>(
            n, [] LATENT_HOST_DEVICE(T& dx, const T& f, const T& g) { dx = f * dx + (T(1) - f) * g; }, a.dx, factors,
            static_cast<const T*>(mean_gradient));
    }

private:
    template <class In>
    static constexpr Window2D whole_image = [] {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        constexpr Extent2 whole{image.h, image.w};
        return make_window(image.h, image.w, image.channels, whole, whole, Padding::valid);
    }();

    double lower_ = std::numeric_limits<double>::quiet_NaN(), upper_ = std::numeric_limits<double>::quiet_NaN();
};

// RandomBrightness: adds to each image a random share of value_range's width drawn from
// `factor`, each bound in [-1, 1] (Keras' RandomBrightness: 0.2 means up to a fifth of the
// range either way), the result clipped to value_range.
class RandomBrightness : public detail::value_range_layer<RandomBrightness> {
public:
    RandomBrightness() = default;  // Keras requires the factor
    explicit RandomBrightness(FactorRange factor, ValueRange value_range = {}, std::string name = {})
        : value_range_layer(std::move(name)) {
        this->factor(factor);
        this->value_range(value_range);
    }
    static constexpr std::string_view type_name = "RandomBrightness";
    static constexpr std::string_view default_name = "random_brightness";

    // The draw, then the shift over the image, which forward turns into the clip's mask.
    template <class In>
    static constexpr std::size_t workspace_per_sample = 1 + In::size;
    template <class In>
    static constexpr std::size_t flops_per_sample = 3 * In::size;

    const FactorRange& factor() const noexcept { return factor_; }
    RandomBrightness& factor(FactorRange r) {
        factor_ = checked(r, -1.0, 1.0, "factor");
        return *this;
    }

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        const std::size_t n = a.batch * In::size;
        T* draws = a.workspace;       // (batch)
        T* inside = draws + a.batch;  // (batch, In)
        if (a.mode != Mode::train) {
            ops::copy_elements<B>(n, a.x, a.y);
            ops::elementwise<B>(n, [] LATENT_HOST_DEVICE(T& m) { m = T(1); }, inside);
            return;
        }
        require(factor_.is_set(), "factor", "factor(0.2)");
        require_generator(a.rng);
        ops::uniform<B>(a.batch, draws, *a.rng);
        const double width = value_range().high - value_range().low;
        const T low = static_cast<T>(factor_.lower * width);
        const T span = static_cast<T>((factor_.upper - factor_.lower) * width);
        ops::elementwise<B>(a.batch, [low, span] LATENT_HOST_DEVICE(T& u) { u = low + u * span; }, draws);
        ops::upsample_nearest2d<B>(a.batch, 1, 1, 1, 1, In::size, static_cast<const T*>(draws), inside);
        const detail::clip_to<T> clip = clip_to_range<T>();
        ops::elementwise<B>(
            n,
            [clip] LATENT_HOST_DEVICE(T& y, T& shift_then_inside, const T& x) {
                y = clip(x + shift_then_inside, shift_then_inside);
            },
            a.y, inside, a.x);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        const T* inside = a.workspace + a.batch;
        ops::elementwise<B>(
            a.batch * In::size, [] LATENT_HOST_DEVICE(T& dx, const T& dy, const T& m) { dx = dy * m; }, a.dx, a.dy,
            inside);
    }

private:
    FactorRange factor_{};
};

}  // namespace latent
