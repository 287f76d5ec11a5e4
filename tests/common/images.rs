//! Small images made in the test, with the crates the gateway renders with.

/// RGB pixels: the left half `left`, the right half `right`.
pub fn halves(w: u32, h: u32, left: [u8; 3], right: [u8; 3]) -> Vec<u8> {
    (0..h).flat_map(|_| (0..w).flat_map(move |x| if x < w / 2 { left } else { right })).collect()
}

/// A JPEG of `rgb`, with `exif` (a TIFF block) when given.
pub fn jpeg(w: u32, h: u32, rgb: &[u8], exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 95);
    if let Some(exif) = exif {
        encoder.add_exif_metadata(exif).unwrap();
    }
    encoder.encode(rgb, w.try_into().unwrap(), h.try_into().unwrap(), jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// Big-endian TIFF: IFD0 with Orientation = `orientation` and a GPS IFD holding a latitude.
pub fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    t.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    for (n, d) in [(59u32, 1u32), (19, 1), (0, 1)] {
        t.extend_from_slice(&n.to_be_bytes());
        t.extend_from_slice(&d.to_be_bytes());
    }
    t
}

/// A PNG whose header claims `w` x `h` pixels, with a few bytes of data: a decompression bomb's header.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (u32::try_from(data.len()).unwrap()).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &[kind, data].concat());
        c.extend_from_slice(&u32::try_from(crc).unwrap().to_be_bytes());
        c
    };
    let mut header = w.to_be_bytes().to_vec();
    header.extend_from_slice(&h.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &header));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

/// Decodes a JPEG to its size and RGB pixels.
pub fn decode_jpeg(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().expect("a JPEG");
    let info = decoder.info().unwrap();
    (u32::from(info.width), u32::from(info.height), pixels)
}

/// The RGB of pixel (`x`, `y`) in an image `w` wide.
pub fn rgb_at(pixels: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
    let at = usize::try_from((y * w + x) * 3).unwrap();
    [pixels[at], pixels[at + 1], pixels[at + 2]]
}

/// Whether `a` is within `tolerance` of `b` on every channel (JPEG is lossy).
pub fn near(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}
