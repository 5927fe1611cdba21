// Keras' image resizing layers: Resizing<Height, Width, Interpolation> scales an image to a new
// size (bilinear at half-pixel centres by default, as Keras and PyTorch; optionally cropped or
// padded to the target's aspect ratio first), CenterCrop<Height, Width> keeps its middle; both
// in training and inference, so a network trained at one size takes images of another.
#pragma once

#include <algorithm>
#include <string>

#include "../backend/warp.hpp"
#include "../core/spatial.hpp"
#include "layer.hpp"
#include "padding.hpp"  // Edges2D
#include "pool.hpp"     // detail::image_dims, shared by the image layers

namespace latent {

namespace detail {
// One scaling at half-pixel centres for every sample of the batch, laid out as affine_warp2d
// reads its transforms: output column x reads input column (x + 0.5) scale_x - 0.5 + left, rows
// alike (Resizing's, and RandomCrop's of a window from (top, left)).
template <backend_policy B, class T>
void write_scale_transforms(std::size_t batch, T* t, double scale_x, double scale_y, double left, double top) {
    const auto a0 = static_cast<T>(scale_x), a2 = static_cast<T>(0.5 * scale_x - 0.5 + left);
    const auto b1 = static_cast<T>(scale_y), b2 = static_cast<T>(0.5 * scale_y - 0.5 + top);
    ops::elementwise<B>(
        batch,
        [a0, a2, b1, b2] LATENT_HOST_DEVICE(T& c0, T& c1, T& c2, T& d0, T& d1, T& d2) {
            c0 = a0;
            c1 = d0 = T(0);
            c2 = a2;
            d1 = b1;
            d2 = b2;
        },
        t, t + batch, t + 2 * batch, t + 3 * batch, t + 4 * batch, t + 5 * batch);
}
}  // namespace detail

// Resizing<Height, Width, Interpolation = bilinear>: (h, w, c) -> (Height, Width, c), Keras'
// Resizing without antialiasing: output pixel (y, x) reads the input at ((y + 0.5) h / Height -
// 0.5, (x + 0.5) w / Width - 0.5), held inside the image at the edges, so its values are
// tf.image.resize's and PyTorch's interpolate(align_corners=False)'s. Shrinking samples rather
// than averages, as theirs do without antialias. With crop_to_aspect_ratio(true) (Keras'
// argument, off by default) it first cuts the largest centred window of the target's aspect
// ratio, so nothing is stretched, and scales that, its edges held as the window's own. With
// pad_to_aspect_ratio(true) (Keras' other argument) it first pads the image evenly on both sides
// with fill_value (0 by default) towards the target's aspect ratio, so nothing is cut or
// stretched, and scales the padded image. At most one of the two is on, as Keras requires.
template <std::size_t Height, std::size_t Width, Interpolation Mode = Interpolation::bilinear>
class Resizing : public Layer<Resizing<Height, Width, Mode>> {
public:
    explicit Resizing(std::string name = {}) : Layer<Resizing>(std::move(name)) {
        static_assert(Height > 0 && Width > 0, "latent: Resizing needs a height and a width of at least 1");
    }
    bool crop_to_aspect_ratio() const noexcept { return crop_to_aspect_ratio_; }
    Resizing& crop_to_aspect_ratio(bool crop) {
        if (crop && pad_to_aspect_ratio_) refuse_both();
        crop_to_aspect_ratio_ = crop;
        return *this;
    }
    bool pad_to_aspect_ratio() const noexcept { return pad_to_aspect_ratio_; }
    Resizing& pad_to_aspect_ratio(bool pad) {
        if (pad && crop_to_aspect_ratio_) refuse_both();
        pad_to_aspect_ratio_ = pad;
        return *this;
    }
    // What pad_to_aspect_ratio pads with (Keras' fill_value; its fill_mode is "constant" only).
    double fill_value() const noexcept { return fill_value_; }
    Resizing& fill_value(double value) {
        fill_value_ = detail::finite_setting(value, type_name, this->name(), "fill_value",
                                             "latent.layers.resizing.fill_value");
        return *this;
    }
    static constexpr std::string_view type_name = "Resizing";
    static constexpr std::string_view default_name = "resizing";
    static constexpr std::size_t height = Height, width = Width;
    static constexpr Interpolation interpolation = Mode;

    using requirement = rank<3>;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    // A zero size is the constructor's error alone: the shape stays a valid one meanwhile.
    template <class In>
    using output_shape = Shape<(Height > 0 ? Height : 1), (Width > 0 ? Width : 1), detail::image_dims<In>.channels>;
    // The window crop_to_aspect_ratio cuts from an image of In's size (Keras' smart resize):
    // rows, columns, top, left.
    template <class In>
    static constexpr detail::CropWindow aspect_window =
        detail::smart_resize_window(detail::image_dims<In>.h, detail::image_dims<In>.w, Height, Width);
    template <class In>
    using window_shape = Shape<aspect_window<In>.rows, aspect_window<In>.columns, detail::image_dims<In>.channels>;
    // Whether crop_to_aspect_ratio cuts anything from an image of In's size.
    template <class In>
    static constexpr bool cuts =
        aspect_window<In>.rows != detail::image_dims<In>.h || aspect_window<In>.columns != detail::image_dims<In>.w;
    // The padding pad_to_aspect_ratio adds, as Keras computes it: towards rows = max(h, int(w *
    // Height / Width)) and columns likewise, (rows - h) / 2 (rounded down) above and as many below,
    // columns alike, so an odd difference ends one short of the aspect ratio (Keras' result).
    template <class In>
    static constexpr std::size_t pad_rows = [] {
        constexpr std::size_t h = detail::image_dims<In>.h, w = detail::image_dims<In>.w;
        constexpr std::size_t rows = w * Height / (Width > 0 ? Width : 1);
        return rows > h ? (rows - h) / 2 : 0;
    }();
    template <class In>
    static constexpr std::size_t pad_columns = [] {
        constexpr std::size_t h = detail::image_dims<In>.h, w = detail::image_dims<In>.w;
        constexpr std::size_t columns = h * Width / (Height > 0 ? Height : 1);
        return columns > w ? (columns - w) / 2 : 0;
    }();
    template <class In>
    using padded_shape = Shape<detail::image_dims<In>.h + 2 * pad_rows<In>,
                               detail::image_dims<In>.w + 2 * pad_columns<In>, detail::image_dims<In>.channels>;
    // Whether pad_to_aspect_ratio pads anything around an image of In's size.
    template <class In>
    static constexpr bool pads = pad_rows<In> > 0 || pad_columns<In> > 0;
    // The (same) transform of every sample, laid out as affine_warp2d reads them; then room for
    // the window crop_to_aspect_ratio cuts out, or for the padded image and the image less the
    // fill value, where those change anything.
    template <class In>
    static constexpr std::size_t workspace_per_sample =
        detail::affine_coefficients + std::max<std::size_t>(cuts<In> ? window_shape<In>::size : 0,
                                                            pads<In> ? padded_shape<In>::size + In::size : 0);
    template <class In>
    static constexpr std::size_t flops_per_sample = 8 * output_shape<In>::size;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        if constexpr (cuts<In>) {
            if (crop_to_aspect_ratio_) {
                constexpr detail::CropWindow window = aspect_window<In>;
                constexpr detail::ImageDims image = detail::image_dims<In>;
                T* cut = a.workspace + detail::affine_coefficients * a.batch;
                ops::crop2d<B>(a.batch, image.h, image.w, image.channels, window.top,
                               image.h - window.rows - window.top, window.left,
                               image.w - window.columns - window.left, a.x, cut);
                write_transforms<window_shape<In>, B>(a.batch, a.workspace);
                ops::affine_warp2d<B>(a.batch, sizes<window_shape<In>>, static_cast<const T*>(a.workspace), sampling,
                                      static_cast<const T*>(cut), a.y);
                return;
            }
        }
        if constexpr (pads<In>) {
            if (pad_to_aspect_ratio_) {
                // resize(pad(x, fill)) = resize(pad(x - fill, 0)) + fill: the taps' weights sum to 1.
                constexpr detail::ImageDims image = detail::image_dims<In>;
                T* padded = a.workspace + detail::affine_coefficients * a.batch;
                T* shifted = padded + a.batch * padded_shape<In>::size;
                const auto fill = static_cast<T>(fill_value_);
                const T* source = a.x;
                if (fill != T(0)) {
                    ops::elementwise<B>(
                        a.batch * In::size, [fill] LATENT_HOST_DEVICE(T& s, const T& x) { s = x - fill; }, shifted,
                        a.x);
                    source = shifted;
                }
                ops::pad2d<B>(a.batch, image.h, image.w, image.channels, pad_rows<In>, pad_rows<In>, pad_columns<In>,
                              pad_columns<In>, source, padded);
                write_transforms<padded_shape<In>, B>(a.batch, a.workspace);
                ops::affine_warp2d<B>(a.batch, sizes<padded_shape<In>>, static_cast<const T*>(a.workspace), sampling,
                                      static_cast<const T*>(padded), a.y);
                if (fill != T(0))
                    ops::elementwise<B>(
                        a.batch * output_shape<In>::size, [fill] LATENT_HOST_DEVICE(T& y) { y += fill; }, a.y);
                return;
            }
        }
        write_transforms<In, B>(a.batch, a.workspace);
        ops::affine_warp2d<B>(a.batch, sizes<In>, static_cast<const T*>(a.workspace), sampling, a.x, a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        if (!a.dx) return;
        if constexpr (cuts<In>) {
            if (crop_to_aspect_ratio_) {  // the window's gradient, then zeros where the crop cut
                constexpr detail::CropWindow window = aspect_window<In>;
                constexpr detail::ImageDims image = detail::image_dims<In>;
                T* cut = a.workspace + detail::affine_coefficients * a.batch;
                ops::affine_warp2d_backward<B>(a.batch, sizes<window_shape<In>>, static_cast<const T*>(a.workspace),
                                               sampling, a.dy, cut);
                ops::pad2d<B>(a.batch, window.rows, window.columns, image.channels, window.top,
                              image.h - window.rows - window.top, window.left, image.w - window.columns - window.left,
                              static_cast<const T*>(cut), a.dx);
                return;
            }
        }
        if constexpr (pads<In>) {
            if (pad_to_aspect_ratio_) {  // the padded image's gradient, less the padding
                constexpr detail::ImageDims image = detail::image_dims<In>;
                T* padded = a.workspace + detail::affine_coefficients * a.batch;
                ops::affine_warp2d_backward<B>(a.batch, sizes<padded_shape<In>>, static_cast<const T*>(a.workspace),
                                               sampling, a.dy, padded);
                ops::crop2d<B>(a.batch, padded_shape<In>::dims[0], padded_shape<In>::dims[1], image.channels,
                               pad_rows<In>, pad_rows<In>, pad_columns<In>, pad_columns<In>,
                               static_cast<const T*>(padded), a.dx);
                return;
            }
        }
        ops::affine_warp2d_backward<B>(a.batch, sizes<In>, static_cast<const T*>(a.workspace), sampling, a.dy, a.dx);
    }

    // Half-pixel centres: x_in = (x_out + 0.5) * scale - 0.5, scale = in / out. For nearest,
    // shifted by 1e-4 of a pixel: whenever the scale is a simple fraction some outputs fall
    // exactly between two pixels, and TensorFlow and PyTorch (floor((x_out + 0.5) * scale)) take
    // the later one, which rounding the coefficients in float could otherwise turn either way.
    template <class In, backend_policy B, class T>
    static void write_transforms(std::size_t batch, T* t) {
        constexpr double scale_x = static_cast<double>(detail::image_dims<In>.w) / Width;
        constexpr double scale_y = static_cast<double>(detail::image_dims<In>.h) / Height;
        constexpr double tie_break = Mode == Interpolation::nearest ? 1e-4 : 0.0;
        detail::write_scale_transforms<B>(batch, t, scale_x, scale_y, tie_break, tie_break);
    }

private:
    // The edge held: each tap beyond the image reads the pixel at its edge.
    static constexpr ImageSampling sampling{Mode, FillMode::nearest, 0.0};
    template <class In>
    static constexpr detail::WarpSizes sizes{detail::image_dims<In>.h, detail::image_dims<In>.w, Height, Width,
                                             detail::image_dims<In>.channels};

    [[noreturn]] void refuse_both() const {
        throw value_error("latent.layers.resizing.aspect_ratio",
                          detail::describe_layer(type_name, this->name()) +
                              ": only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be on, as in Keras");
    }

    bool crop_to_aspect_ratio_ = false;
    bool pad_to_aspect_ratio_ = false;
    double fill_value_ = 0.0;
};

// CenterCrop<Height, Width>: (h, w, c) -> (Height, Width, c), the middle of the image, as Keras'
// CenterCrop: (h - Height) / 2 rows cut above (rounded down) and the rest below, columns alike.
// An image smaller than the crop is a compile error (Keras would resize it first; put a
// Resizing before the crop for that).
template <std::size_t Height, std::size_t Width>
class CenterCrop : public Layer<CenterCrop<Height, Width>> {
public:
    explicit CenterCrop(std::string name = {}) : Layer<CenterCrop>(std::move(name)) {
        static_assert(Height > 0 && Width > 0, "latent: CenterCrop needs a height and a width of at least 1");
    }
    static constexpr std::string_view type_name = "CenterCrop";
    static constexpr std::string_view default_name = "center_crop";
    static constexpr std::size_t height = Height, width = Width;

    using requirement = image_at_least<Height, Width>;
    template <class In>
    static constexpr bool accepts =
        In::rank == 3 && detail::image_dims<In>.h >= Height && detail::image_dims<In>.w >= Width;
    template <class In>
    using output_shape = Shape<(Height > 0 ? Height : 1), (Width > 0 ? Width : 1), detail::image_dims<In>.channels>;

    template <class In, backend_policy B, class T>
    void forward(const ForwardArgs<T>& a) const {
        constexpr Edges2D cut = cuts<In>;
        constexpr detail::ImageDims image = detail::image_dims<In>;
        ops::crop2d<B>(a.batch, image.h, image.w, image.channels, cut.top, cut.bottom, cut.left, cut.right, a.x,
                       a.y);
    }

    template <class In, backend_policy B, class T>
    void backward(const BackwardArgs<T>& a) const {
        constexpr Edges2D cut = cuts<In>;
        if (a.dx)  // dy where the crop kept pixels, zeros where it cut them
            ops::pad2d<B>(a.batch, Height, Width, detail::image_dims<In>.channels, cut.top, cut.bottom, cut.left,
                          cut.right, a.dy, a.dx);
    }

private:
    template <class In>
    static constexpr Edges2D cuts = [] {
        constexpr detail::ImageDims image = detail::image_dims<In>;
        constexpr std::size_t rows = image.h - Height, columns = image.w - Width;
        return Edges2D{rows / 2, rows - rows / 2, columns / 2, columns - columns / 2};
    }();
};

}  // namespace latent
