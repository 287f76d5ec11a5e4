//! Sizes: what each preset's output measures (fit inside, or cover and
//! crop the centre; never enlarged), what the decoder must deliver for it,
//! and the resampling itself (`fast_image_resize`, Lanczos3, SIMD; alpha
//! premultiplied while filtering so edges do not darken).

use fast_image_resize as fir;

use super::orient::Orientation;
use super::preset::{Fit, Preset};
use super::{Layout, Pixels};

/// One preset's sizes, in the image's stored orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The output's width and height before orientation.
    pub out: (u32, u32),
    /// Crop the centre to the output's aspect ratio.
    pub cover: bool,
    /// The smallest decoded size (of the whole image) that serves this output without enlarging.
    pub needs: (u32, u32),
}

impl Plan {
    /// Plans `preset` for an image stored as `width` x `height` that shows with `orientation`.
    #[must_use]
    pub fn new(width: u32, height: u32, preset: &Preset, orientation: Orientation) -> Self {
        let (w, h) = (u64::from(width.max(1)), u64::from(height.max(1)));
        // The box is in the output's orientation; turn it back to the stored one.
        let (bw, bh) = if orientation.then(preset.rotation).swaps_axes() {
            (u64::from(preset.height), u64::from(preset.width))
        } else {
            (u64::from(preset.width), u64::from(preset.height))
        };
        match preset.fit {
            Fit::Inside => {
                let out = if w <= bw && h <= bh {
                    (w, h)
                } else if bw * h <= bh * w {
                    (bw, div_round(h * bw, w).clamp(1, bh))
                } else {
                    (div_round(w * bh, h).clamp(1, bw), bh)
                };
                Self { out: narrow(out), cover: false, needs: narrow(out) }
            }
            Fit::Cover => {
                // The largest centred region of the box's shape.
                let (cw, ch) = if w * bh >= h * bw {
                    (div_round(h * bw, bh).clamp(1, w), h)
                } else {
                    (w, div_round(w * bh, bw).clamp(1, h))
                };
                let out = if cw >= bw && ch >= bh { (bw, bh) } else { (cw.min(bw), ch.min(bh)) };
                let needs = (w * out.0).div_ceil(cw).min(w).max(out.0);
                let needs = (needs, (h * out.1).div_ceil(ch).min(h).max(out.1));
                Self { out: narrow(out), cover: true, needs: narrow(needs) }
            }
        }
    }
}

fn div_round(n: u64, d: u64) -> u64 {
    (n + d / 2) / d.max(1)
}

/// Sides that came from `u32`s and only shrank.
fn narrow((w, h): (u64, u64)) -> (u32, u32) {
    (u32::try_from(w).unwrap_or(u32::MAX), u32::try_from(h).unwrap_or(u32::MAX))
}

/// Keeps `fast_image_resize`'s buffers between the presets of one image.
#[derive(Debug, Default)]
pub struct Resizer(fir::Resizer);

impl Resizer {
    /// A resizer with empty buffers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `image` resampled (and, for cover, centre-cropped) to `plan.out`.
    ///
    /// # Errors
    /// Only if `fast_image_resize` refuses its arguments, which [`Pixels`]' invariant rules out.
    pub fn resize(&mut self, image: &Pixels, plan: &Plan) -> Result<Pixels, Box<dyn std::error::Error + Send + Sync>> {
        let (width, height) = plan.out;
        if (image.width, image.height) == plan.out {
            return Ok(image.clone());
        }
        let pixel_type = match image.layout {
            Layout::Rgb => fir::PixelType::U8x3,
            Layout::Rgba => fir::PixelType::U8x4,
        };
        let source = fir::images::ImageRef::new(image.width, image.height, &image.data, pixel_type)?;
        let mut target = fir::images::Image::new(width, height, pixel_type);
        let mut options = fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
        if plan.cover {
            options = options.fit_into_destination(Some((0.5, 0.5)));
        }
        self.0.resize(&source, &mut target, &options)?;
        Ok(Pixels { width, height, layout: image.layout, data: target.into_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::preset::Presets;

    fn plan(spec: &str, w: u32, h: u32, exif: u32) -> Plan {
        let presets = Presets::parse(spec).unwrap();
        Plan::new(w, h, &presets.as_slice()[0], Orientation::from_tag(exif))
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn fit_inside_keeps_the_aspect_and_never_enlarges() {
        let cases: &[(&str, (u32, u32, u32), (u32, u32))] = &[
            ("t=320x320", (4000, 3000, 1), (320, 240)),
            ("t=320x320", (3000, 4000, 1), (240, 320)),
            ("t=320x320", (200, 100, 1), (200, 100)),
            ("t=320x320", (10000, 1, 1), (320, 1)),
            ("t=1280x720", (4000, 3000, 1), (960, 720)),
            // Stored 4000x3000 but shown turned: the box turns back (720x1280),
            // the output is 720x540 as stored, so 540x720 as shown.
            ("t=320x320", (4000, 3000, 6), (320, 240)),
            ("t=1280x720", (4000, 3000, 6), (720, 540)),
            ("t=1280x720:rotate90", (4000, 3000, 1), (720, 540)),
            ("t=1280x720:rotate90", (4000, 3000, 8), (960, 720)),
        ];
        for &(spec, (w, h, exif), out) in cases {
            let p = plan(spec, w, h, exif);
            assert_eq!((p.out, p.needs, p.cover), (out, out, false), "{spec} on {w}x{h} tag {exif}");
        }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn cover_fills_the_box_and_crops() {
        let cases: &[(&str, (u32, u32), (u32, u32), (u32, u32))] = &[
            ("s=256x256:cover", (4000, 3000), (256, 256), (342, 256)),
            ("s=256x256:cover", (3000, 4000), (256, 256), (256, 342)),
            ("s=1280x720:cover", (4000, 3000), (1280, 720), (1280, 960)),
            // Smaller than the box: the box's shape, not enlarged.
            ("s=256x256:cover", (200, 100), (100, 100), (200, 100)),
            ("s=256x256:cover", (300, 200), (200, 200), (300, 200)),
        ];
        for &(spec, (w, h), out, needs) in cases {
            let p = plan(spec, w, h, 1);
            assert_eq!((p.out, p.needs, p.cover), (out, needs, true), "{spec} on {w}x{h}");
        }
    }

    #[test]
    fn resize_and_crop_give_the_planned_size() {
        let image = Pixels::new(40, 30, Layout::Rgba, vec![200; 40 * 30 * 4]).unwrap();
        let mut resizer = Resizer::new();
        for spec in ["t=16x16", "t=16x16:cover", "t=50x50", "t=7x3:cover"] {
            let p = plan(spec, 40, 30, 1);
            let out = resizer.resize(&image, &p).unwrap();
            assert_eq!((out.width, out.height), p.out, "{spec}");
            assert_eq!(out.pixel(0, 0), Some([200; 4]), "{spec}");
        }
    }
}
