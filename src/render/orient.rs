//! Orientation: the EXIF tag (1 to 8) and a preset's rotation as one
//! transform, a horizontal mirror then clockwise quarter turns, applied to
//! the already resized image where moving pixels is cheap.

use super::preset::Rotation;
use super::{Layout, Pixels};

/// A mirror (first) and clockwise quarter turns (then): the eight ways a
/// picture can lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Orientation {
    mirror: bool,
    turns: u8,
}

impl Orientation {
    /// As stored.
    pub const UPRIGHT: Self = Self { mirror: false, turns: 0 };

    /// What EXIF orientation `tag` asks for to show the picture upright;
    /// unknown values count as upright.
    #[must_use]
    pub fn from_tag(tag: u32) -> Self {
        let (mirror, turns) = match tag {
            2 => (true, 0),
            3 => (false, 2),
            4 => (true, 2),
            5 => (true, 3),
            6 => (false, 1),
            7 => (true, 1),
            8 => (false, 3),
            _ => (false, 0),
        };
        Self { mirror, turns }
    }

    /// The orientation recorded in an EXIF block (TIFF data), upright when
    /// the block is unreadable or has no orientation tag.
    #[must_use]
    pub fn from_exif(tiff: &[u8]) -> Self {
        exif::Reader::new()
            .read_raw(tiff.to_vec())
            .ok()
            .and_then(|e| e.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0)))
            .map_or(Self::UPRIGHT, Self::from_tag)
    }

    /// This orientation followed by a preset's clockwise rotation.
    #[must_use]
    pub fn then(self, rotation: Rotation) -> Self {
        let turns = match rotation {
            Rotation::None => 0,
            Rotation::R90 => 1,
            Rotation::R180 => 2,
            Rotation::R270 => 3,
        };
        Self { mirror: self.mirror, turns: (self.turns + turns) % 4 }
    }

    /// True when width and height trade places.
    #[must_use]
    pub fn swaps_axes(self) -> bool {
        self.turns % 2 == 1
    }
}

/// The image turned to `orientation`.
#[must_use]
pub fn apply(image: Pixels, orientation: Orientation) -> Pixels {
    if orientation == Orientation::UPRIGHT {
        return image;
    }
    let (width, height) = (image.width as usize, image.height as usize);
    let channels = image.layout.channels();
    let (out_w, out_h) = if orientation.swaps_axes() { (height, width) } else { (width, height) };
    let mut out = vec![0u8; image.data.len()];
    for (i, pixel) in image.data.chunks_exact(channels).enumerate() {
        let (mut x, y) = (i % width, i / width);
        if orientation.mirror {
            x = width - 1 - x;
        }
        let (to_x, to_y) = match orientation.turns {
            1 => (height - 1 - y, x),
            2 => (width - 1 - x, height - 1 - y),
            3 => (y, width - 1 - x),
            _ => (x, y),
        };
        let at = (to_y * out_w + to_x) * channels;
        if let Some(to) = out.get_mut(at..at + channels) {
            to.copy_from_slice(pixel);
        }
    }
    #[allow(clippy::cast_possible_truncation)] // the same two sides as the input's
    let (out_w, out_h) = (out_w as u32, out_h as u32);
    Pixels { width: out_w, height: out_h, layout: image.layout, data: out }
}

/// RGBA composited on white, as RGB (for JPEG, which has no alpha).
#[must_use]
pub fn flatten_on_white(image: Pixels) -> Pixels {
    if image.layout == Layout::Rgb {
        return image;
    }
    let data = image
        .data
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u16::from(p[3]);
            #[allow(clippy::cast_possible_truncation)] // at most (255 * 255 + 255 * 255) / 255
            let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
            [over(p[0]), over(p[1]), over(p[2])]
        })
        .collect();
    Pixels { width: image.width, height: image.height, layout: Layout::Rgb, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 image whose pixels are numbered 0..6 in the red channel.
    fn numbered() -> Pixels {
        Pixels::new(3, 2, Layout::Rgb, (0..6).flat_map(|i| [i, 0, 0]).collect()).unwrap()
    }

    fn reds(p: &Pixels) -> Vec<u8> {
        p.data.chunks_exact(3).map(|c| c[0]).collect()
    }

    #[test]
    fn every_exif_orientation_shows_upright() {
        // Stored   Tag 6 (turn 90 cw)  Tag 8 (turn 270 cw)  Tag 3   Tag 2 (mirror)
        // 0 1 2    3 0                 2 5                  5 4 3   2 1 0
        // 3 4 5    4 1                 1 4                  2 1 0   5 4 3
        //          5 2                 0 3
        let cases: &[(u32, (u32, u32), &[u8])] = &[
            (1, (3, 2), &[0, 1, 2, 3, 4, 5]),
            (2, (3, 2), &[2, 1, 0, 5, 4, 3]),
            (3, (3, 2), &[5, 4, 3, 2, 1, 0]),
            (4, (3, 2), &[3, 4, 5, 0, 1, 2]),
            (5, (2, 3), &[0, 3, 1, 4, 2, 5]),
            (6, (2, 3), &[3, 0, 4, 1, 5, 2]),
            (7, (2, 3), &[5, 2, 4, 1, 3, 0]),
            (8, (2, 3), &[2, 5, 1, 4, 0, 3]),
            (0, (3, 2), &[0, 1, 2, 3, 4, 5]),
            (9, (3, 2), &[0, 1, 2, 3, 4, 5]),
        ];
        for &(tag, size, expected) in cases {
            let out = apply(numbered(), Orientation::from_tag(tag));
            assert_eq!((out.width, out.height), size, "tag {tag}");
            assert_eq!(reds(&out), expected, "tag {tag}");
        }
    }

    #[test]
    fn rotation_adds_to_the_exif_turns() {
        let o = Orientation::from_tag(6).then(Rotation::R270);
        assert_eq!(o, Orientation::UPRIGHT);
        let o = Orientation::from_tag(8).then(Rotation::R180);
        assert_eq!(reds(&apply(numbered(), o)), reds(&apply(numbered(), Orientation::from_tag(6))));
        assert!(Orientation::UPRIGHT.then(Rotation::R90).swaps_axes());
    }

    #[test]
    fn unreadable_exif_is_upright() {
        for junk in [&b""[..], b"MM\0*", b"II*\0\x08\0\0\0\xff\xff", &[0xFF; 64]] {
            assert_eq!(Orientation::from_exif(junk), Orientation::UPRIGHT);
        }
    }

    #[test]
    fn alpha_is_flattened_on_white() {
        let rgba = Pixels::new(3, 1, Layout::Rgba, vec![0, 0, 0, 0, 0, 0, 0, 255, 200, 100, 0, 128]).unwrap();
        let rgb = flatten_on_white(rgba);
        assert_eq!(rgb.layout, Layout::Rgb);
        assert_eq!(rgb.data, [255, 255, 255, 0, 0, 0, 227, 177, 127]);
    }
}
