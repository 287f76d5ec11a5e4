//! Rendition presets: the `--renditions` specification parsed once into
//! typed values (`thumb=320x320,upside=1280x720:rotate180,sq=256x256:cover:q90`).
//!
//! Grammar: comma-separated `name=WxH[:option]...`, or `none` for no presets.
//! `name` is `[a-z0-9][a-z0-9-]{0,31}`; `W` and `H` are 1..=8192. Options, in
//! any order, at most one of each kind: `fit` (default) or `cover`;
//! `rotate90`, `rotate180` or `rotate270`; `jpeg` (default) or `png`; `qN`
//! (JPEG quality 1..=100, default 82, refused with `png`).

use std::fmt;
use std::str::FromStr;

/// The largest width or height a preset may ask for.
pub const MAX_SIDE: u32 = 8192;
/// JPEG quality when a preset names none.
pub const DEFAULT_QUALITY: u8 = 82;
const MAX_NAME_LEN: usize = 32;

/// How the image is fitted to the preset's box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// Inside the box, aspect ratio kept, never enlarged.
    #[default]
    Inside,
    /// Fills the box, aspect ratio kept, the centre cropped out (never enlarged:
    /// a smaller image gives a smaller crop of the box's shape).
    Cover,
}

/// A fixed clockwise rotation, applied after the EXIF orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    /// No rotation.
    #[default]
    None,
    /// A quarter turn clockwise.
    R90,
    /// Upside down.
    R180,
    /// Three quarter turns clockwise.
    R270,
}

/// The encoded form of a rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Baseline JPEG at this quality (1..=100); alpha flattened on white.
    Jpeg {
        /// 1..=100.
        quality: u8,
    },
    /// PNG, alpha kept.
    Png,
}

impl Default for Output {
    fn default() -> Self {
        Self::Jpeg { quality: DEFAULT_QUALITY }
    }
}

/// One named rendition: a box, a fit, a rotation and an output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// `[a-z0-9][a-z0-9-]{0,31}`, unique within [`Presets`]; the file's stem.
    pub name: String,
    /// The box's width, 1..=8192, in the output's orientation.
    pub width: u32,
    /// The box's height, 1..=8192, in the output's orientation.
    pub height: u32,
    /// Inside the box or cropped to fill it.
    pub fit: Fit,
    /// Applied after the EXIF orientation.
    pub rotation: Rotation,
    /// JPEG with a quality, or PNG.
    pub format: Output,
}

impl Preset {
    /// The file extension of this preset's output: `jpg` or `png`.
    #[must_use]
    pub fn extension(&self) -> &'static str {
        match self.format {
            Output::Jpeg { .. } => "jpg",
            Output::Png => "png",
        }
    }

    /// The `Content-Type` of this preset's output.
    #[must_use]
    pub fn content_type(&self) -> &'static str {
        match self.format {
            Output::Jpeg { .. } => "image/jpeg",
            Output::Png => "image/png",
        }
    }
}

/// Why a `--renditions` specification was refused; each message names the bad part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    /// The specification, or one of its comma-separated parts, is empty.
    #[error("empty preset in {0:?} (write `none` for no renditions)")]
    Empty(String),
    /// A part has no `=` between name and size.
    #[error("preset {0:?} is not name=WIDTHxHEIGHT[:option...]")]
    Shape(String),
    /// The name breaks `[a-z0-9][a-z0-9-]{0,31}`.
    #[error("preset name {0:?} must be 1 to 32 of a-z, 0-9 and '-', not starting with '-'")]
    Name(String),
    /// The size is not `WxH` with both sides in 1..=8192.
    #[error("preset {name:?}: size {size:?} must be WIDTHxHEIGHT, each 1 to 8192")]
    Size {
        /// The preset's name.
        name: String,
        /// The size as written.
        size: String,
    },
    /// An option nobody knows.
    #[error(
        "preset {name:?}: unknown option {option:?} (fit, cover, rotate90, rotate180, rotate270, jpeg, png, q1..q100)"
    )]
    Option {
        /// The preset's name.
        name: String,
        /// The option as written.
        option: String,
    },
    /// A `qN` outside 1..=100.
    #[error("preset {name:?}: quality {option:?} must be q1 to q100")]
    Quality {
        /// The preset's name.
        name: String,
        /// The option as written.
        option: String,
    },
    /// Two options of one kind (`fit:cover`, `jpeg:png`, `q80:q90`, ...).
    #[error("preset {name:?}: {option:?} conflicts with an earlier {kind} option")]
    Repeated {
        /// The preset's name.
        name: String,
        /// The second option as written.
        option: String,
        /// `fit`, `rotation`, `format` or `quality`.
        kind: &'static str,
    },
    /// A quality given for a PNG.
    #[error("preset {0:?}: a quality (qN) applies to jpeg, not png")]
    QualityWithPng(String),
    /// The same name twice.
    #[error("preset name {0:?} appears twice")]
    Duplicate(String),
}

/// The validated list of presets, names unique, in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Presets(Vec<Preset>);

impl Presets {
    /// Parses a `--renditions` specification; `none` gives no presets.
    pub fn parse(spec: &str) -> Result<Self, PresetError> {
        let spec = spec.trim();
        if spec == "none" {
            return Ok(Self::default());
        }
        let mut presets: Vec<Preset> = Vec::new();
        for part in spec.split(',') {
            let preset = parse_one(part.trim(), spec)?;
            if presets.iter().any(|p| p.name == preset.name) {
                return Err(PresetError::Duplicate(preset.name));
            }
            presets.push(preset);
        }
        Ok(Self(presets))
    }

    /// The presets, in the order written.
    #[must_use]
    pub fn as_slice(&self) -> &[Preset] {
        &self.0
    }

    /// The preset with this name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Preset> {
        self.0.iter().find(|p| p.name == name)
    }

    /// True for `none`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many presets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The presets, in the order written.
    pub fn iter(&self) -> std::slice::Iter<'_, Preset> {
        self.0.iter()
    }
}

impl FromStr for Presets {
    type Err = PresetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'a> IntoIterator for &'a Presets {
    type Item = &'a Preset;
    type IntoIter = std::slice::Iter<'a, Preset>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Preset {
    /// The preset in the `--renditions` syntax, options spelled out only when not the default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}x{}", self.name, self.width, self.height)?;
        if self.fit == Fit::Cover {
            f.write_str(":cover")?;
        }
        match self.rotation {
            Rotation::None => {}
            Rotation::R90 => f.write_str(":rotate90")?,
            Rotation::R180 => f.write_str(":rotate180")?,
            Rotation::R270 => f.write_str(":rotate270")?,
        }
        match self.format {
            Output::Jpeg { quality: DEFAULT_QUALITY } => Ok(()),
            Output::Jpeg { quality } => write!(f, ":q{quality}"),
            Output::Png => f.write_str(":png"),
        }
    }
}

impl fmt::Display for Presets {
    /// The list in the `--renditions` syntax (`none` when empty).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, preset) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{preset}")?;
        }
        Ok(())
    }
}

fn parse_one(part: &str, spec: &str) -> Result<Preset, PresetError> {
    if part.is_empty() {
        return Err(PresetError::Empty(spec.to_owned()));
    }
    let (name, rest) = part.split_once('=').ok_or_else(|| PresetError::Shape(part.to_owned()))?;
    if !valid_name(name) {
        return Err(PresetError::Name(name.to_owned()));
    }
    let mut fields = rest.split(':');
    let size = fields.next().unwrap_or_default();
    let (width, height) =
        parse_size(size).ok_or_else(|| PresetError::Size { name: name.to_owned(), size: size.to_owned() })?;

    let mut fit = None;
    let mut rotation = None;
    let mut png = None;
    let mut quality = None;
    for option in fields {
        let repeated = |kind| PresetError::Repeated { name: name.to_owned(), option: option.to_owned(), kind };
        match option {
            "fit" | "cover" => {
                let value = if option == "fit" { Fit::Inside } else { Fit::Cover };
                set_once(&mut fit, value).map_err(|()| repeated("fit"))?;
            }
            "rotate90" | "rotate180" | "rotate270" => {
                let value = match option {
                    "rotate90" => Rotation::R90,
                    "rotate180" => Rotation::R180,
                    _ => Rotation::R270,
                };
                set_once(&mut rotation, value).map_err(|()| repeated("rotation"))?;
            }
            "jpeg" | "png" => set_once(&mut png, option == "png").map_err(|()| repeated("format"))?,
            _ if option.starts_with('q') && option.len() > 1 && option[1..].bytes().all(|b| b.is_ascii_digit()) => {
                let value = option[1..]
                    .parse::<u8>()
                    .ok()
                    .filter(|q| (1..=100).contains(q))
                    .ok_or_else(|| PresetError::Quality { name: name.to_owned(), option: option.to_owned() })?;
                set_once(&mut quality, value).map_err(|()| repeated("quality"))?;
            }
            _ => return Err(PresetError::Option { name: name.to_owned(), option: option.to_owned() }),
        }
    }
    let format = match (png.unwrap_or(false), quality) {
        (true, Some(_)) => return Err(PresetError::QualityWithPng(name.to_owned())),
        (true, None) => Output::Png,
        (false, quality) => Output::Jpeg { quality: quality.unwrap_or(DEFAULT_QUALITY) },
    };
    Ok(Preset {
        name: name.to_owned(),
        width,
        height,
        fit: fit.unwrap_or_default(),
        rotation: rotation.unwrap_or_default(),
        format,
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), ()> {
    if slot.is_some() {
        return Err(());
    }
    *slot = Some(value);
    Ok(())
}

fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    matches!(bytes.first(), Some(b) if allowed(b))
        && bytes.len() <= MAX_NAME_LEN
        && bytes.iter().all(|b| allowed(b) || *b == b'-')
}

fn parse_size(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once('x')?;
    let length = |digits: &str| {
        // `u32::from_str` takes a leading `+`; the grammar does not.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u32>().ok().filter(|n| (1..=MAX_SIDE).contains(n))
    };
    Some((length(w)?, length(h)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> Preset {
        let presets = Presets::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(presets.len(), 1);
        presets.as_slice()[0].clone()
    }

    #[test]
    fn none_is_empty() {
        assert!(Presets::parse("none").unwrap().is_empty());
        assert_eq!(Presets::parse("none").unwrap().to_string(), "none");
    }

    #[test]
    fn defaults_are_fit_no_rotation_jpeg_82() {
        let p = one("thumb=320x320");
        assert_eq!(
            p,
            Preset {
                name: "thumb".into(),
                width: 320,
                height: 320,
                fit: Fit::Inside,
                rotation: Rotation::None,
                format: Output::Jpeg { quality: 82 },
            }
        );
        assert_eq!(p.extension(), "jpg");
        assert_eq!(p.content_type(), "image/jpeg");
    }

    #[test]
    fn the_contract_example_parses_and_round_trips() {
        let spec = "thumb=320x320,large=1280x720,upside=1280x720:rotate180,square=256x256:cover:q90";
        let presets: Presets = spec.parse().unwrap();
        let names: Vec<_> = presets.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["thumb", "large", "upside", "square"]);
        assert_eq!(presets.get("upside").unwrap().rotation, Rotation::R180);
        let square = presets.get("square").unwrap();
        assert_eq!((square.fit, square.format), (Fit::Cover, Output::Jpeg { quality: 90 }));
        assert_eq!(presets.to_string(), spec);
    }

    #[test]
    fn options_in_any_order() {
        let p = one("a-1=8192x1:png:rotate270:cover");
        assert_eq!(
            (p.width, p.height, p.fit, p.rotation, p.format),
            (8192, 1, Fit::Cover, Rotation::R270, Output::Png)
        );
        assert_eq!((p.extension(), p.content_type()), ("png", "image/png"));
        let p = one("b=10x10:q1:rotate90:fit:jpeg");
        assert_eq!((p.fit, p.rotation, p.format), (Fit::Inside, Rotation::R90, Output::Jpeg { quality: 1 }));
        assert_eq!(one("c=1x1:q100").format, Output::Jpeg { quality: 100 });
        assert_eq!(one(&format!("{}=1x1", "z".repeat(32))).name.len(), 32);
    }

    #[test]
    fn refusals_name_the_bad_part() {
        let cases: &[(&str, &str)] = &[
            ("", "empty preset"),
            ("thumb=1x1,", "empty preset"),
            ("thumb", "\"thumb\" is not name=WIDTHxHEIGHT"),
            ("Thumb=1x1", "preset name \"Thumb\""),
            ("-a=1x1", "preset name \"-a\""),
            ("=1x1", "preset name \"\""),
            ("a_b=1x1", "preset name \"a_b\""),
            (&format!("{}=1x1", "z".repeat(33)), "preset name \"zzzz"),
            ("a=0x10", "size \"0x10\""),
            ("a=8193x10", "size \"8193x10\""),
            ("a=10", "size \"10\""),
            ("a=10x", "size \"10x\""),
            ("a=+10x10", "size \"+10x10\""),
            ("a=10X10", "size \"10X10\""),
            ("a=10x10:blur", "unknown option \"blur\""),
            ("a=10x10:", "unknown option \"\""),
            ("a=10x10:rotate45", "unknown option \"rotate45\""),
            ("a=10x10:q0", "quality \"q0\""),
            ("a=10x10:q101", "quality \"q101\""),
            ("a=10x10:q999999", "quality \"q999999\""),
            ("a=10x10:fit:cover", "\"cover\" conflicts with an earlier fit option"),
            ("a=10x10:rotate90:rotate90", "\"rotate90\" conflicts with an earlier rotation option"),
            ("a=10x10:jpeg:png", "\"png\" conflicts with an earlier format option"),
            ("a=10x10:q80:q90", "\"q90\" conflicts with an earlier quality option"),
            ("a=10x10:png:q90", "preset \"a\": a quality (qN) applies to jpeg, not png"),
            ("a=1x1,b=2x2,a=3x3", "preset name \"a\" appears twice"),
        ];
        for (spec, expected) in cases {
            let err = Presets::parse(spec).expect_err(spec).to_string();
            assert!(err.contains(expected), "{spec:?}: {err:?} lacks {expected:?}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn whitespace_around_parts_is_allowed() {
        let presets = Presets::parse(" thumb=320x320 , large=1280x720 ").unwrap();
        assert_eq!(presets.len(), 2);
    }
}
