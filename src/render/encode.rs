//! Encoding: JPEG (`jpeg-encoder`, baseline, 4:2:0 below quality 90 with
//! averaged chroma, alpha flattened on white) or PNG (`png`). The input's
//! ICC profile goes along (JPEG APP2, PNG iCCP) so colours stay right;
//! nothing else does: no EXIF (so no GPS, no camera serial), no XMP, no text.

use std::borrow::Cow;

use super::orient::flatten_on_white;
use super::preset::Output;
use super::{Layout, Pixels};

/// What an encoder reported.
pub type EncodeError = Box<dyn std::error::Error + Send + Sync>;

/// `image` encoded as `format`, carrying `icc` when given.
///
/// # Errors
/// A side over 65535 for JPEG, or an ICC profile too large for JPEG's APP2 segments (16 MB).
pub fn encode(image: Pixels, format: Output, icc: Option<&[u8]>) -> Result<Vec<u8>, EncodeError> {
    match format {
        Output::Jpeg { quality } => jpeg(&flatten_on_white(image), quality, icc),
        Output::Png => png(&image, icc),
    }
}

fn jpeg(image: &Pixels, quality: u8, icc: Option<&[u8]>) -> Result<Vec<u8>, EncodeError> {
    let width = u16::try_from(image.width)?;
    let height = u16::try_from(image.height)?;
    let mut out = Vec::with_capacity(image.data.len() / 8 + 1024);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    if let Some(icc) = icc {
        encoder.add_icc_profile(icc)?;
    }
    encoder.encode(&image.data, width, height, jpeg_encoder::ColorType::Rgb)?;
    Ok(out)
}

fn png(image: &Pixels, icc: Option<&[u8]>) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(image.data.len() / 2 + 1024);
    let mut info = png::Info::with_size(image.width, image.height);
    info.color_type = match image.layout {
        Layout::Rgb => png::ColorType::Rgb,
        Layout::Rgba => png::ColorType::Rgba,
    };
    info.bit_depth = png::BitDepth::Eight;
    info.icc_profile = icc.map(Cow::Borrowed);
    let mut writer = png::Encoder::with_info(&mut out, info)?.write_header()?;
    writer.write_image_data(&image.data)?;
    writer.finish()?;
    Ok(out)
}
