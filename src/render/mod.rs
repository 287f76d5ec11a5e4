//! Renditions: an image's bytes and the presets in, one encoded image per
//! preset out. Pure and synchronous: no I/O, no runtime, nothing about HTTP,
//! S3 or Lambda, so the processor calls it the same way locally and on AWS
//! (from a blocking task).
//!
//! The steps, one module each: [`decode`] sniffs the format by its magic
//! bytes, reads the header, refuses what is over the [`ImageLimits`] before
//! allocating any pixels, then decodes once, a JPEG already shrunk by its DCT
//! to the smallest scale that still serves the largest preset; [`resize`]
//! fits or cover-crops with `fast_image_resize`'s SIMD convolution;
//! [`orient`] applies the EXIF orientation and then the preset's rotation
//! (on the small image, where it is cheap); [`encode`] writes JPEG or PNG
//! with the input's ICC profile and nothing else: no EXIF, so no GPS.
//!
//! Every codec is pure Rust (the arm64 Lambda build links no C library).
//! The numbers behind these choices are in BENCHMARKS.md ("Renditions
//! against libvips").

pub mod decode;
pub mod encode;
pub mod orient;
pub mod preset;
pub mod resize;

use std::fmt;

pub use decode::Format;
pub use preset::{Fit, Output, Preset, PresetError, Presets, Rotation};

/// What an input may weigh before it is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// The largest encoded input, in bytes (`--max-image-bytes`).
    pub max_bytes: u64,
    /// The most pixels (width times height) its header may claim (`--max-image-pixels`).
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    /// 64 MiB and 50 megapixels, the contract's defaults.
    fn default() -> Self {
        Self { max_bytes: 64 << 20, max_pixels: 50_000_000 }
    }
}

/// One preset's output.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The preset's name.
    pub name: String,
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// Why an image could not be rendered. Each displays as one line: it
/// becomes the catalog's `reason`.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Not JPEG, PNG, WebP or GIF by its first bytes (HEIC, text, ...).
    #[error("not a supported image")]
    Unsupported,
    /// The input is larger than [`ImageLimits::max_bytes`].
    #[error("image is {} bytes, more than the {} limit", bytes, Size(*limit))]
    TooManyBytes {
        /// The input's length.
        bytes: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// The header claims more than [`ImageLimits::max_pixels`].
    #[error(
        "image is {width}x{height} ({} megapixels), more than the {} megapixel limit",
        Megapixels(u64::from(*width) * u64::from(*height)),
        Megapixels(*limit)
    )]
    TooManyPixels {
        /// The width the header claims.
        width: u32,
        /// The height the header claims.
        height: u32,
        /// The limit it broke, in pixels.
        limit: u64,
    },
    /// The header or the data is broken, truncated, or uses a feature the decoder lacks.
    #[error("corrupt {format} image: {}", one_line(source))]
    Corrupt {
        /// What the magic bytes said.
        format: Format,
        /// The decoder's complaint.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The resizer or the encoder refused (not expected within a preset's box).
    #[error("could not render {preset}: {}", one_line(source))]
    Encode {
        /// The preset's name.
        preset: String,
        /// The encoder's complaint.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Renders every preset from one decode of `bytes`, in the presets' order.
///
/// # Errors
/// [`RenderError::Unsupported`] unless the bytes start like a JPEG, PNG,
/// WebP or GIF; [`RenderError::TooManyBytes`] and
/// [`RenderError::TooManyPixels`] before any pixel is decoded;
/// [`RenderError::Corrupt`] when the decoder fails (or panics: it is caught).
pub fn render(bytes: &[u8], presets: &[Preset], limits: &ImageLimits) -> Result<Vec<Rendered>, RenderError> {
    let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if length > limits.max_bytes {
        return Err(RenderError::TooManyBytes { bytes: length, limit: limits.max_bytes });
    }
    let mut source = decode::Source::open(bytes, limits)?;
    let (width, height) = source.dimensions();
    let plans: Vec<resize::Plan> =
        presets.iter().map(|p| resize::Plan::new(width, height, p, source.orientation())).collect();
    let need = plans.iter().fold((1, 1), |(w, h), plan| (w.max(plan.needs.0), h.max(plan.needs.1)));
    let image = source.decode(need)?;
    let orientation = source.orientation();
    let icc = source.icc_profile();

    let mut resizer = resize::Resizer::new();
    presets
        .iter()
        .zip(&plans)
        .map(|(preset, plan)| {
            let failed = |source: Box<dyn std::error::Error + Send + Sync>| RenderError::Encode {
                preset: preset.name.clone(),
                source,
            };
            let sized = resizer.resize(&image, plan).map_err(failed)?;
            let turned = orient::apply(sized, orientation.then(preset.rotation));
            let (width, height) = (turned.width(), turned.height());
            let bytes = encode::encode(turned, preset.format, icc).map_err(failed)?;
            Ok(Rendered { name: preset.name.clone(), bytes, width, height, content_type: preset.content_type() })
        })
        .collect()
}

/// Decoded pixels, 8 bits a channel, rows top to bottom, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Pixels {
    width: u32,
    height: u32,
    layout: Layout,
    data: Vec<u8>,
}

/// The channels of [`Pixels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, straight (not premultiplied) alpha.
    Rgba,
}

impl Layout {
    /// Bytes per pixel.
    #[must_use]
    pub fn channels(self) -> usize {
        match self {
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }
}

impl Pixels {
    /// Wraps a buffer; `None` unless it holds exactly `width * height` pixels.
    #[must_use]
    pub fn new(width: u32, height: u32, layout: Layout, data: Vec<u8>) -> Option<Self> {
        let expected =
            usize::try_from(width).ok()?.checked_mul(usize::try_from(height).ok()?)?.checked_mul(layout.channels())?;
        (width > 0 && height > 0 && data.len() == expected).then_some(Self { width, height, layout, data })
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The channels.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The samples, `width * height * channels` bytes.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel at (x, y), as RGBA (alpha 255 for RGB); `None` outside.
    #[must_use]
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let channels = self.layout.channels();
        let at = (y as usize * self.width as usize + x as usize) * channels;
        Some(match *self.data.get(at..at + channels)? {
            [red, green, blue] => [red, green, blue, 255],
            [red, green, blue, alpha] => [red, green, blue, alpha],
            _ => return None,
        })
    }
}

impl fmt::Debug for Pixels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pixels({}x{} {:?})", self.width, self.height, self.layout)
    }
}

/// Bytes as MiB when large, for the size limit's message.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        if self.0 >= MIB && self.0.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.0 / MIB)
        } else {
            write!(f, "{} byte", self.0)
        }
    }
}

/// Pixels as megapixels, to a tenth (rounded down).
struct Megapixels(u64);

impl fmt::Display for Megapixels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 1_000_000;
        match self.0 % 1_000_000 / 100_000 {
            0 => write!(f, "{whole}"),
            tenths => write!(f, "{whole}.{tenths}"),
        }
    }
}

/// A decoder's message on one line, at most 200 characters.
fn one_line(error: &dyn fmt::Display) -> String {
    let text = error.to_string();
    let mut line: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).take(200).collect();
    if line.is_empty() {
        line.push_str("unreadable");
    }
    line
}

#[cfg(test)]
mod tests;
