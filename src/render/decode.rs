//! Decoding: the format from its magic bytes, the header read and checked
//! against the limits before any pixel buffer exists, then one decode to
//! 8-bit RGB or RGBA. A JPEG is decoded straight to the smallest DCT scale
//! (1/8, 1/4, 1/2 or 1) that still covers what the presets need, which is
//! most of what makes a thumbnail of a 12-megapixel photo fast.
//!
//! The decoders are pure Rust crates fed with untrusted bytes; a panic in
//! one of them is caught here and reported as a corrupt image.

use std::fmt;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::orient::Orientation;
use super::{ImageLimits, Layout, Pixels, RenderError};

/// An input format, known by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `FF D8 FF`.
    Jpeg,
    /// `89 50 4E 47 0D 0A 1A 0A`.
    Png,
    /// `RIFF....WEBP`.
    WebP,
    /// `GIF87a` or `GIF89a`; the first frame is rendered.
    Gif,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::WebP => "WebP",
            Self::Gif => "GIF",
        })
    }
}

impl Format {
    /// The format these bytes start with, whatever the file is called.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Self::Png),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Self::WebP),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Self::Gif),
            _ => None,
        }
    }
}

/// An input whose header has been read and found within the limits.
pub(super) struct Source<'a> {
    format: Format,
    width: u32,
    height: u32,
    orientation: Orientation,
    icc: Option<Vec<u8>>,
    decoder: Decoder<'a>,
}

enum Decoder<'a> {
    Jpeg(Box<jpeg_decoder::Decoder<&'a [u8]>>),
    Png(Box<png::Reader<Cursor<&'a [u8]>>>),
    WebP(Box<image_webp::WebPDecoder<Cursor<&'a [u8]>>>),
    Gif(Box<gif::Decoder<&'a [u8]>>),
}

impl<'a> Source<'a> {
    /// Sniffs the format and reads the header: dimensions (checked against
    /// `limits.max_pixels`), EXIF orientation and ICC profile.
    pub(super) fn open(bytes: &'a [u8], limits: &ImageLimits) -> Result<Self, RenderError> {
        let format = Format::sniff(bytes).ok_or(RenderError::Unsupported)?;
        guarded(format, || match format {
            Format::Jpeg => open_jpeg(bytes, limits),
            Format::Png => open_png(bytes, limits),
            Format::WebP => open_webp(bytes, limits),
            Format::Gif => open_gif(bytes, limits),
        })
    }

    /// Width and height as stored (before the EXIF orientation).
    pub(super) fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The EXIF orientation (upright when there is none or it is unreadable).
    pub(super) fn orientation(&self) -> Orientation {
        self.orientation
    }

    /// The embedded ICC profile, if any.
    pub(super) fn icc_profile(&self) -> Option<&[u8]> {
        self.icc.as_deref()
    }

    /// Decodes the pixels, as small as the format allows while at least
    /// `need` (width, height, as stored); only JPEG decodes smaller than stored.
    pub(super) fn decode(&mut self, need: (u32, u32)) -> Result<Pixels, RenderError> {
        let format = self.format;
        let decoder = &mut self.decoder;
        guarded(format, || match decoder {
            Decoder::Jpeg(d) => decode_jpeg(d, need),
            Decoder::Png(r) => decode_png(r),
            Decoder::WebP(d) => decode_webp(d),
            Decoder::Gif(d) => decode_gif(d),
        })
        .and_then(|p| p.ok_or_else(|| corrupt(format, "pixel data does not match the header")))
    }
}

/// Runs a decoder step, turning a panic inside a codec crate into [`RenderError::Corrupt`].
fn guarded<T>(format: Format, step: impl FnOnce() -> Result<T, RenderError>) -> Result<T, RenderError> {
    catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|_| Err(corrupt(format, "the decoder failed")))
}

fn corrupt(format: Format, reason: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> RenderError {
    RenderError::Corrupt { format, source: reason.into() }
}

fn check_pixels(format: Format, width: u32, height: u32, limits: &ImageLimits) -> Result<(), RenderError> {
    if width == 0 || height == 0 {
        return Err(corrupt(format, format!("the header says {width}x{height}")));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(RenderError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    Ok(())
}

/// Bytes a decoder may allocate: the largest allowed image as RGBA, plus slack for its tables.
fn memory_budget(limits: &ImageLimits) -> usize {
    usize::try_from(limits.max_pixels.saturating_mul(4).saturating_add(16 << 20)).unwrap_or(usize::MAX)
}

/// EXIF blocks are TIFF data; some writers keep JPEG's `Exif\0\0` prefix in PNG and WebP too.
fn orientation_from(exif: Option<&[u8]>) -> Orientation {
    exif.map(|e| e.strip_prefix(b"Exif\0\0").unwrap_or(e)).map_or(Orientation::UPRIGHT, Orientation::from_exif)
}

fn open_jpeg<'a>(bytes: &'a [u8], limits: &ImageLimits) -> Result<Source<'a>, RenderError> {
    let format = Format::Jpeg;
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().map_err(|e| corrupt(format, e))?;
    let info = d.info().ok_or_else(|| corrupt(format, "no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_pixels(format, width, height, limits)?;
    d.set_max_decoding_buffer_size(memory_budget(limits));
    // APP1 (EXIF) and APP2 (ICC) precede the frame header that `read_info` stops at.
    let orientation = orientation_from(d.exif_data());
    let icc = d.icc_profile();
    Ok(Source { format, width, height, orientation, icc, decoder: Decoder::Jpeg(Box::new(d)) })
}

fn decode_jpeg(d: &mut jpeg_decoder::Decoder<&[u8]>, need: (u32, u32)) -> Result<Option<Pixels>, RenderError> {
    let format = Format::Jpeg;
    let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX).max(1);
    let (width, height) = d.scale(clamp(need.0), clamp(need.1)).map_err(|e| corrupt(format, e))?;
    let data = d.decode().map_err(|e| corrupt(format, e))?;
    let info = d.info().ok_or_else(|| corrupt(format, "no frame header"))?;
    let (width, height) = (u32::from(width), u32::from(height));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data,
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => data.chunks_exact(2).flat_map(|l| [l[0]; 3]).collect(),
        // jpeg-decoder has already undone Adobe's inversion: plain CMYK here.
        jpeg_decoder::PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u16::from(p[3]);
                #[allow(clippy::cast_possible_truncation)] // (255 * 255) / 255 fits a u8
                let ink = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
                [ink(p[0]), ink(p[1]), ink(p[2])]
            })
            .collect(),
    };
    Ok(Pixels::new(width, height, Layout::Rgb, rgb))
}

fn open_png<'a>(bytes: &'a [u8], limits: &ImageLimits) -> Result<Source<'a>, RenderError> {
    let format = Format::Png;
    let mut d = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: memory_budget(limits) });
    d.set_transformations(png::Transformations::normalize_to_color8());
    let header = d.read_header_info().map_err(|e| corrupt(format, e))?;
    let (width, height) = (header.width, header.height);
    check_pixels(format, width, height, limits)?;
    let reader = d.read_info().map_err(|e| corrupt(format, e))?;
    let info = reader.info();
    let orientation = orientation_from(info.exif_metadata.as_deref());
    let icc = info.icc_profile.as_deref().map(<[u8]>::to_vec);
    Ok(Source { format, width, height, orientation, icc, decoder: Decoder::Png(Box::new(reader)) })
}

fn decode_png(reader: &mut png::Reader<Cursor<&[u8]>>) -> Result<Option<Pixels>, RenderError> {
    let format = Format::Png;
    let size = reader.output_buffer_size().ok_or_else(|| corrupt(format, "too large"))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| corrupt(format, e))?;
    buf.truncate(frame.buffer_size());
    let (layout, data) = match frame.color_type {
        png::ColorType::Rgb => (Layout::Rgb, buf),
        png::ColorType::Rgba => (Layout::Rgba, buf),
        png::ColorType::Grayscale => (Layout::Rgb, buf.iter().flat_map(|&l| [l, l, l]).collect()),
        png::ColorType::GrayscaleAlpha => {
            (Layout::Rgba, buf.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect())
        }
        png::ColorType::Indexed => return Err(corrupt(format, "palette left unexpanded")),
    };
    Ok(Pixels::new(frame.width, frame.height, layout, data))
}

fn open_webp<'a>(bytes: &'a [u8], limits: &ImageLimits) -> Result<Source<'a>, RenderError> {
    let format = Format::WebP;
    let mut d = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| corrupt(format, e))?;
    let (width, height) = d.dimensions();
    check_pixels(format, width, height, limits)?;
    d.set_memory_limit(memory_budget(limits));
    // Unreadable metadata is no reason to refuse the picture.
    let orientation = orientation_from(d.exif_metadata().ok().flatten().as_deref());
    let icc = d.icc_profile().ok().flatten();
    Ok(Source { format, width, height, orientation, icc, decoder: Decoder::WebP(Box::new(d)) })
}

fn decode_webp(d: &mut image_webp::WebPDecoder<Cursor<&[u8]>>) -> Result<Option<Pixels>, RenderError> {
    let format = Format::WebP;
    let size = d.output_buffer_size().ok_or_else(|| corrupt(format, "too large"))?;
    let mut buf = vec![0; size];
    d.read_image(&mut buf).map_err(|e| corrupt(format, e))?;
    let (width, height) = d.dimensions();
    let layout = if d.has_alpha() { Layout::Rgba } else { Layout::Rgb };
    Ok(Pixels::new(width, height, layout, buf))
}

fn open_gif<'a>(bytes: &'a [u8], limits: &ImageLimits) -> Result<Source<'a>, RenderError> {
    let format = Format::Gif;
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let budget = u64::try_from(memory_budget(limits)).unwrap_or(u64::MAX);
    if let Some(budget) = std::num::NonZeroU64::new(budget) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(budget));
    }
    let mut d = options.read_info(bytes).map_err(|e| corrupt(format, e))?;
    check_pixels(format, u32::from(d.width()), u32::from(d.height()), limits)?;
    // The first frame alone is rendered, at its own size: a tiny frame on a
    // huge logical screen costs a tiny frame's work, not the screen's.
    let frame = d.next_frame_info().map_err(|e| corrupt(format, e))?.ok_or_else(|| corrupt(format, "no frame"))?;
    let (width, height) = (u32::from(frame.width), u32::from(frame.height));
    check_pixels(format, width, height, limits)?;
    let icc = d.icc_profile().map(<[u8]>::to_vec);
    Ok(Source { format, width, height, orientation: Orientation::UPRIGHT, icc, decoder: Decoder::Gif(Box::new(d)) })
}

/// The first frame (whose header [`open_gif`] read), at its own size.
fn decode_gif(d: &mut gif::Decoder<&[u8]>) -> Result<Option<Pixels>, RenderError> {
    let format = Format::Gif;
    let (width, height) =
        d.current_frame_info().map(|f| (f.width, f.height)).ok_or_else(|| corrupt(format, "no frame"))?;
    let mut pixels = vec![0u8; d.buffer_size()];
    d.read_into_buffer(&mut pixels).map_err(|e| corrupt(format, e))?;
    Ok(Pixels::new(u32::from(width), u32::from(height), Layout::Rgba, pixels))
}
