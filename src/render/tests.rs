//! `render` end to end on small images made here with the encoder crates
//! (and one lossy WebP made by libvips, `tests/data/images/lossy.webp`).

use super::*;

const RED: [u8; 3] = [230, 20, 20];
const BLUE: [u8; 3] = [20, 20, 230];
const WHITE: [u8; 3] = [255, 255, 255];

fn presets(spec: &str) -> Presets {
    Presets::parse(spec).unwrap()
}

fn run(bytes: &[u8], spec: &str) -> Result<Vec<Rendered>, RenderError> {
    render(bytes, presets(spec).as_slice(), &ImageLimits::default())
}

fn one(bytes: &[u8], spec: &str) -> Rendered {
    let mut out = run(bytes, spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(out.len(), 1);
    out.remove(0)
}

/// `w` x `h` RGB, the left half red and the right half blue.
fn halves(w: u32, h: u32) -> Vec<u8> {
    (0..h).flat_map(|_| (0..w).flat_map(move |x| if x < w / 2 { RED } else { BLUE })).collect()
}

struct JpegInput<'a> {
    exif: Option<&'a [u8]>,
    icc: Option<&'a [u8]>,
}

fn jpeg(w: u32, h: u32, rgb: &[u8], extra: &JpegInput<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 95);
    if let Some(exif) = extra.exif {
        encoder.add_exif_metadata(exif).unwrap();
    }
    if let Some(icc) = extra.icc {
        encoder.add_icc_profile(icc).unwrap();
    }
    encoder.encode(rgb, w.try_into().unwrap(), h.try_into().unwrap(), jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

fn plain_jpeg(w: u32, h: u32) -> Vec<u8> {
    jpeg(w, h, &halves(w, h), &JpegInput { exif: None, icc: None })
}

fn png_of(w: u32, h: u32, color: png::ColorType, data: &[u8], icc: Option<&[u8]>, exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut info = png::Info::with_size(w, h);
    info.color_type = color;
    info.bit_depth = png::BitDepth::Eight;
    info.icc_profile = icc.map(std::borrow::Cow::Borrowed);
    info.exif_metadata = exif.map(std::borrow::Cow::Borrowed);
    let mut writer = png::Encoder::with_info(&mut out, info).unwrap().write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

/// Big-endian TIFF: IFD0 with Orientation = `orientation` and a GPS IFD holding a latitude.
fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(t.len(), 38);
    t.extend_from_slice(&2u16.to_be_bytes());
    // GPSLatitudeRef "N" and GPSLatitude 59/1 deg 19/1 min 0/1 s (at offset 68).
    t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    t.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(t.len(), 68);
    for (n, d) in [(59u32, 1u32), (19, 1), (0, 1)] {
        t.extend_from_slice(&n.to_be_bytes());
        t.extend_from_slice(&d.to_be_bytes());
    }
    t
}

/// A fake but well-formed-looking ICC profile: decoders carry it without reading it.
fn icc() -> Vec<u8> {
    let mut p = b"\0\0\x01\x00test-profile-for-presign-gateway".to_vec();
    p.resize(256, 7);
    p
}

fn decoded(r: &Rendered) -> Pixels {
    match Format::sniff(&r.bytes) {
        Some(Format::Jpeg) => {
            let mut d = jpeg_decoder::Decoder::new(&r.bytes[..]);
            let data = d.decode().unwrap();
            let info = d.info().unwrap();
            Pixels::new(info.width.into(), info.height.into(), Layout::Rgb, data).unwrap()
        }
        Some(Format::Png) => {
            let mut reader = png::Decoder::new(std::io::Cursor::new(&r.bytes[..])).read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader.next_frame(&mut buf).unwrap();
            let layout = if frame.color_type == png::ColorType::Rgba { Layout::Rgba } else { Layout::Rgb };
            Pixels::new(frame.width, frame.height, layout, buf).unwrap()
        }
        other => panic!("rendered {other:?}"),
    }
}

fn rgb_at(image: &Pixels, x: u32, y: u32) -> [u8; 3] {
    let [red, green, blue, _] = image.pixel(x, y).unwrap();
    [red, green, blue]
}

fn close(actual: [u8; 3], expected: [u8; 3]) -> bool {
    actual.iter().zip(expected).all(|(a, e)| a.abs_diff(e) <= 24)
}

fn assert_colour(p: &Pixels, x: u32, y: u32, expected: [u8; 3]) {
    let actual = rgb_at(p, x, y);
    assert!(close(actual, expected), "pixel ({x}, {y}) is {actual:?}, expected about {expected:?}");
}

/// The JPEG markers before the scan, as (marker, payload).
fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut segments = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        segments.push((marker, &bytes[at + 4..at + 2 + len]));
        if marker == 0xDA {
            break;
        }
        at += 2 + len;
    }
    segments
}

fn png_chunks(bytes: &[u8]) -> Vec<[u8; 4]> {
    let mut chunks = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        chunks.push(bytes[at + 4..at + 8].try_into().unwrap());
        at += 12 + len;
    }
    chunks
}

#[test]
fn exif_orientation_6_comes_out_upright_and_without_exif_or_gps() {
    // Stored 64x32 with red on the left: a camera held turned. Tag 6 turns it
    // a quarter clockwise to show, so upright is 32x64 with red on top.
    let exif = exif_with_gps(6);
    assert_eq!(orient::Orientation::from_exif(&exif), orient::Orientation::from_tag(6));
    let input = jpeg(64, 32, &halves(64, 32), &JpegInput { exif: Some(&exif), icc: None });
    assert!(input.windows(6).any(|w| w == b"Exif\0\0"));

    let out = one(&input, "thumb=320x320");
    assert_eq!((out.width, out.height, out.content_type), (32, 64, "image/jpeg"));
    let p = decoded(&out);
    assert_eq!((p.width(), p.height()), (32, 64));
    assert_colour(&p, 16, 4, RED);
    assert_colour(&p, 16, 60, BLUE);

    assert!(!out.bytes.windows(6).any(|w| w == b"Exif\0\0"), "EXIF left in the rendition");
    assert!(jpeg_segments(&out.bytes).iter().all(|(m, _)| *m != 0xE1), "an APP1 segment left in the rendition");
}

#[test]
fn rotate180_flips_a_known_pixel() {
    // 4x3 white with a red top-left pixel; PNG in and out, so the pixels are exact.
    let mut data = [255u8; 4 * 3 * 3];
    data[..3].copy_from_slice(&RED);
    let input = png_of(4, 3, png::ColorType::Rgb, &data, None, None);
    let out = one(&input, "upside=1280x720:rotate180:png");
    let p = decoded(&out);
    assert_eq!((p.width(), p.height(), out.content_type), (4, 3, "image/png"));
    assert_eq!(rgb_at(&p, 3, 2), RED);
    assert_eq!(rgb_at(&p, 0, 0), WHITE);

    let turned = decoded(&one(&input, "q=100x100:rotate90:png"));
    assert_eq!((turned.width(), turned.height()), (3, 4));
    assert_eq!(rgb_at(&turned, 2, 0), RED);
}

#[test]
fn rotation_applies_after_the_exif_orientation() {
    // Tag 6 then rotate90: half a turn in all, red ends up on the right.
    let exif = exif_with_gps(6);
    let input = jpeg(64, 32, &halves(64, 32), &JpegInput { exif: Some(&exif), icc: None });
    let p = decoded(&one(&input, "t=320x320:rotate90"));
    assert_eq!((p.width(), p.height()), (64, 32));
    assert_colour(&p, 60, 16, RED);
    assert_colour(&p, 4, 16, BLUE);
}

#[test]
fn icc_profile_is_kept_in_jpeg_and_png_output() {
    let profile = icc();
    let input = jpeg(40, 30, &halves(40, 30), &JpegInput { exif: Some(&exif_with_gps(1)), icc: Some(&profile) });
    let out = run(&input, "a=20x20,b=20x20:png").unwrap();

    let mut d = jpeg_decoder::Decoder::new(&out[0].bytes[..]);
    d.decode().unwrap();
    assert_eq!(d.icc_profile().as_deref(), Some(&profile[..]));
    assert!(d.exif_data().is_none());

    let reader = png::Decoder::new(std::io::Cursor::new(&out[1].bytes[..])).read_info().unwrap();
    assert_eq!(reader.info().icc_profile.as_deref(), Some(&profile[..]));
    assert!(reader.info().exif_metadata.is_none());
    assert!(png_chunks(&out[1].bytes).iter().all(|c| c != b"eXIf"));

    // A PNG's iCCP reaches a JPEG's APP2.
    let input = png_of(4, 4, png::ColorType::Rgb, &[9; 48], Some(&profile), None);
    let out = one(&input, "a=20x20");
    let mut d = jpeg_decoder::Decoder::new(&out.bytes[..]);
    d.decode().unwrap();
    assert_eq!(d.icc_profile().as_deref(), Some(&profile[..]));
}

#[test]
fn no_icc_in_no_icc_out() {
    let out = one(&plain_jpeg(40, 30), "a=20x20");
    assert!(jpeg_segments(&out.bytes).iter().all(|(m, _)| *m != 0xE2));
}

#[test]
fn png_exif_orientation_is_applied_and_dropped() {
    let exif = exif_with_gps(8);
    let input = png_of(64, 32, png::ColorType::Rgb, &halves(64, 32), None, Some(&exif));
    let out = one(&input, "t=100x100:png");
    let p = decoded(&out);
    // Tag 8 turns three quarters clockwise: the left (red) ends at the bottom.
    assert_eq!((p.width(), p.height()), (32, 64));
    assert_eq!(rgb_at(&p, 16, 60), RED);
    assert_eq!(rgb_at(&p, 16, 4), BLUE);
    assert!(png_chunks(&out.bytes).iter().all(|c| c != b"eXIf"));
}

#[test]
fn dimensions_follow_fit_and_cover() {
    let input = plain_jpeg(400, 300);
    let out = run(&input, "thumb=320x320,large=1280x720,sq=100x100:cover,wide=300x50:cover,tall=50x300:cover").unwrap();
    let sizes: Vec<_> = out.iter().map(|r| (r.name.as_str(), r.width, r.height)).collect();
    assert_eq!(
        sizes,
        [("thumb", 320, 240), ("large", 400, 300), ("sq", 100, 100), ("wide", 300, 50), ("tall", 50, 300)]
    );
    for r in &out {
        let p = decoded(r);
        assert_eq!((p.width(), p.height()), (r.width, r.height), "{}", r.name);
    }
    // Cover keeps the centre: red left, blue right.
    let sq = decoded(&out[2]);
    assert_colour(&sq, 5, 50, RED);
    assert_colour(&sq, 95, 50, BLUE);
}

#[test]
fn a_large_jpeg_is_decoded_scaled_and_resized_exactly() {
    // 2000x1000 asks the DCT for 1/4 (500x250) for a 320-wide thumb.
    let input = plain_jpeg(2000, 1000);
    let out = run(&input, "thumb=320x320,mid=600x600").unwrap();
    assert_eq!((out[0].width, out[0].height), (320, 160));
    assert_eq!((out[1].width, out[1].height), (600, 300));
    let p = decoded(&out[0]);
    assert_colour(&p, 10, 80, RED);
    assert_colour(&p, 310, 80, BLUE);
}

#[test]
fn alpha_is_flattened_on_white_for_jpeg_and_kept_for_png() {
    let mut data = vec![0u8; 8 * 8 * 4];
    for px in data.chunks_exact_mut(4).skip(32) {
        px.copy_from_slice(&[20, 20, 230, 255]);
    }
    let input = png_of(8, 8, png::ColorType::Rgba, &data, None, None);
    let out = run(&input, "j=8x8,p=8x8:png").unwrap();
    let j = decoded(&out[0]);
    assert_colour(&j, 4, 1, WHITE);
    assert_colour(&j, 4, 6, BLUE);
    let p = decoded(&out[1]);
    assert_eq!(p.layout(), Layout::Rgba);
    assert_eq!(p.pixel(4, 1).unwrap()[3], 0);
    assert_eq!(p.pixel(4, 6), Some([20, 20, 230, 255]));
}

#[test]
fn grey_and_palette_pngs_decode() {
    let grey = png_of(4, 2, png::ColorType::Grayscale, &[0, 50, 100, 150, 200, 250, 255, 1], None, None);
    assert_eq!(rgb_at(&decoded(&one(&grey, "a=10x10:png")), 1, 0), [50, 50, 50]);

    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 2, 1);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_palette(vec![230, 20, 20, 20, 20, 230]);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[1, 0]).unwrap();
    writer.finish().unwrap();
    let p = decoded(&one(&out, "a=10x10:png"));
    assert_eq!((rgb_at(&p, 0, 0), rgb_at(&p, 1, 0)), (BLUE, RED));
}

#[test]
fn gif_renders_its_first_frame() {
    let mut bytes = Vec::new();
    {
        let palette = [230, 20, 20, 20, 20, 230];
        let mut encoder = gif::Encoder::new(&mut bytes, 6, 4, &palette).unwrap();
        for index in [0u8, 1] {
            let frame = gif::Frame { width: 6, height: 4, buffer: vec![index; 24].into(), ..gif::Frame::default() };
            encoder.write_frame(&frame).unwrap();
        }
    }
    assert_eq!(Format::sniff(&bytes), Some(Format::Gif));
    let p = decoded(&one(&bytes, "a=100x100:png"));
    assert_eq!((p.width(), p.height()), (6, 4));
    assert_eq!(rgb_at(&p, 3, 2), RED);
}

#[test]
fn a_tiny_gif_frame_on_a_huge_screen_costs_a_tiny_frame() {
    let mut bytes = Vec::new();
    {
        let palette = [230, 20, 20, 20, 20, 230];
        let mut encoder = gif::Encoder::new(&mut bytes, 7000, 7000, &palette).unwrap();
        let frame = gif::Frame { width: 2, height: 1, buffer: vec![0, 1].into(), ..gif::Frame::default() };
        encoder.write_frame(&frame).unwrap();
    }
    // The frame alone is decoded: 2x1, not a 7000x7000 canvas with it in a corner.
    let out = one(&bytes, "a=100x100:png");
    assert_eq!((out.width, out.height), (2, 1));
}

#[test]
fn webp_lossless_with_exif_decodes_upright() {
    let mut bytes = Vec::new();
    let mut encoder = image_webp::WebPEncoder::new(&mut bytes);
    encoder.set_exif_metadata(exif_with_gps(6));
    encoder.encode(&halves(16, 8), 16, 8, image_webp::ColorType::Rgb8).unwrap();
    assert_eq!(Format::sniff(&bytes), Some(Format::WebP));
    let p = decoded(&one(&bytes, "a=100x100:png"));
    assert_eq!((p.width(), p.height()), (8, 16));
    assert_eq!(rgb_at(&p, 4, 1), RED);
    assert_eq!(rgb_at(&p, 4, 14), BLUE);
}

#[test]
fn webp_lossy_decodes() {
    // libvips: a 32x24 red|blue image, `vips copy in.v lossy.webp[Q=90,strip]`.
    let bytes = include_bytes!("../../tests/data/images/lossy.webp");
    let p = decoded(&one(bytes, "a=16x16"));
    assert_eq!((p.width(), p.height()), (16, 12));
    assert_colour(&p, 2, 6, RED);
    assert_colour(&p, 13, 6, BLUE);
}

#[test]
fn a_bomb_png_fails_fast_from_its_header() {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 100_000, 100_000);
    encoder.set_color(png::ColorType::Rgba);
    drop(encoder.write_header().unwrap());
    // A little (wrong) image data, as a real bomb would carry a lot.
    bytes.extend_from_slice(&[0, 0, 0, 4, b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x03, 0x00, 0, 0, 0, 0]);
    // Refused from the header (no timing here: tests/renditions.rs bounds the memory of the real binary).
    let err = run(&bytes, "thumb=320x320").unwrap_err();
    assert_eq!(err.to_string(), "image is 100000x100000 (10000 megapixels), more than the 50 megapixel limit");
}

#[test]
fn oversized_headers_of_every_format_are_refused_before_decoding() {
    let limits = ImageLimits { max_bytes: 1 << 20, max_pixels: 1_500_000 };
    let thumb = presets("t=32x32");
    // JPEG: the SOF0's height and width patched to 65500x65500.
    let mut jpeg = plain_jpeg(16, 16);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xDC, 0xFF, 0xDC]);
    // GIF: the logical screen patched to 2000x1000.
    let mut gif = Vec::new();
    gif::Encoder::new(&mut gif, 1, 1, &[0, 0, 0, 255, 255, 255])
        .unwrap()
        .write_frame(&gif::Frame { width: 1, height: 1, buffer: vec![1].into(), ..Default::default() })
        .unwrap();
    gif[6..10].copy_from_slice(&[0xD0, 0x07, 0xE8, 0x03]);
    let cases = [
        (jpeg, "image is 65500x65500 (4290.2 megapixels), more than the 1.5 megapixel limit"),
        (gif, "image is 2000x1000 (2 megapixels), more than the 1.5 megapixel limit"),
    ];
    for (bytes, expected) in cases {
        let err = render(&bytes, thumb.as_slice(), &limits).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }
    let big = vec![0u8; (1 << 20) + 1];
    let err = render(&big, thumb.as_slice(), &limits).unwrap_err();
    assert_eq!(err.to_string(), "image is 1048577 bytes, more than the 1 MiB limit");
}

#[test]
fn anything_else_is_not_a_supported_image() {
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    for bytes in [&b"hello, I am a text file named photo.jpg\n"[..], b"", b"\xFF\xD8", &heic, b"<svg/>", b"BM\0\0"] {
        let err = run(bytes, "thumb=320x320").unwrap_err();
        assert_eq!(err.to_string(), "not a supported image", "{bytes:?}");
        assert!(matches!(err, RenderError::Unsupported));
    }
}

#[test]
fn no_presets_still_checks_the_image() {
    assert!(run(&plain_jpeg(8, 8), "none").unwrap().is_empty());
    assert!(run(b"text", "none").is_err());
}

/// Truncated and garbled inputs of every format give a one-line reason, never a panic.
#[test]
fn broken_inputs_fail_with_one_line() {
    let exif = exif_with_gps(6);
    let mut webp = Vec::new();
    image_webp::WebPEncoder::new(&mut webp).encode(&halves(16, 8), 16, 8, image_webp::ColorType::Rgb8).unwrap();
    let mut gif = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut gif, 6, 4, &[1, 2, 3, 4, 5, 6]).unwrap();
        encoder
            .write_frame(&gif::Frame { width: 6, height: 4, buffer: vec![1; 24].into(), ..Default::default() })
            .unwrap();
    }
    let inputs = [
        jpeg(48, 32, &halves(48, 32), &JpegInput { exif: Some(&exif), icc: Some(&icc()) }),
        png_of(48, 32, png::ColorType::Rgb, &halves(48, 32), Some(&icc()), Some(&exif)),
        webp,
        include_bytes!("../../tests/data/images/lossy.webp").to_vec(),
        gif,
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let specs = presets("a=16x16,b=8x8:cover:rotate90:png");
    for input in &inputs {
        let mut broken: Vec<Vec<u8>> = (0..input.len()).step_by(7).map(|n| input[..n].to_vec()).collect();
        for _ in 0..60 {
            let mut garbled = input.clone();
            for _ in 0..=next() % 8 {
                let at = 8 + usize::try_from(next()).unwrap() % (garbled.len() - 8);
                garbled[at] = u8::try_from(next() & 0xFF).unwrap();
            }
            broken.push(garbled);
        }
        for bytes in broken {
            if let Err(err) = render(&bytes, specs.as_slice(), &ImageLimits::default()) {
                let line = err.to_string();
                assert!(!line.is_empty() && !line.contains('\n') && line.len() < 300, "{line:?}");
            }
        }
    }
}
