//! Lifetimes and sizes as people write them: `3600`, `90m`, `30d`, `2w`;
//! `5242880`, `5MiB`, `2GiB`. A lifetime remembers its unit ([`Ttl`]) so a
//! limit is stated in the unit its reader used ([`DurationIn`]). Written here because `humantime` refuses the bare seconds
//! (`ttl=3`, `SHARE_MAX_TTL=31536000`) that links and settings already use.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A lifetime or size that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a number with an optional unit.
    #[error("`{0}` is not a duration: use seconds, or a number with s, m, h, d or w (such as 30d)")]
    Duration(String),
    /// Not a number with an optional unit.
    #[error("`{0}` is not a size: use bytes, or a number with KiB, MiB, GiB or TiB (such as 5MiB)")]
    Size(String),
}

/// A unit a lifetime is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// `3600` or `3600s`.
    Second,
    /// `90m`.
    Minute,
    /// `12h`.
    Hour,
    /// `30d`.
    Day,
    /// `2w`.
    Week,
}

impl TimeUnit {
    /// From the largest to the smallest.
    const ALL: [Self; 5] = [Self::Week, Self::Day, Self::Hour, Self::Minute, Self::Second];

    /// The unit's length in seconds.
    #[must_use]
    pub fn seconds(self) -> u64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
            Self::Week => 604_800,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Second => "s",
            Self::Minute => "m",
            Self::Hour => "h",
            Self::Day => "d",
            Self::Week => "w",
        }
    }
}

/// A lifetime as it was written: `ttl=30d` is 30 days, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl {
    duration: Duration,
    unit: TimeUnit,
}

impl Ttl {
    /// Parses `3600`, `45s`, `90m`, `12h`, `30d` or `2w`.
    ///
    /// # Errors
    ///
    /// [`UnitError::Duration`] for anything else, or more seconds than a `u64` holds.
    pub fn parse(text: &str) -> Result<Self, UnitError> {
        let invalid = || UnitError::Duration(text.to_owned());
        let (number, unit) = split_unit(text);
        let unit = match unit {
            "" | "s" => TimeUnit::Second,
            "m" => TimeUnit::Minute,
            "h" => TimeUnit::Hour,
            "d" => TimeUnit::Day,
            "w" => TimeUnit::Week,
            _ => return Err(invalid()),
        };
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let seconds = number.checked_mul(unit.seconds()).ok_or_else(invalid)?;
        Ok(Self { duration: Duration::from_secs(seconds), unit })
    }

    /// How long.
    #[must_use]
    pub fn duration(self) -> Duration {
        self.duration
    }

    /// `limit` written in this lifetime's unit, for a refusal.
    #[must_use]
    pub fn limit(self, limit: Duration) -> DurationIn {
        DurationIn { duration: limit, unit: self.unit }
    }
}

impl FromStr for Ttl {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        Self::parse(text)
    }
}

/// A duration to show someone who writes `unit`: in that unit when it is a
/// whole number of them (`365d`), else in the largest smaller unit that is
/// (`365d` to someone who wrote weeks), seconds at worst (`3600 seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationIn {
    /// The duration shown.
    pub duration: Duration,
    /// The unit its reader wrote.
    pub unit: TimeUnit,
}

impl fmt::Display for DurationIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.duration.as_secs();
        let unit = TimeUnit::ALL
            .into_iter()
            .skip_while(|unit| *unit != self.unit)
            .find(|unit| seconds.is_multiple_of(unit.seconds()))
            .unwrap_or(TimeUnit::Second);
        match unit {
            TimeUnit::Second if seconds == 1 => f.write_str("1 second"),
            TimeUnit::Second => write!(f, "{seconds} seconds"),
            unit => write!(f, "{}{}", seconds / unit.seconds(), unit.suffix()),
        }
    }
}

/// Parses `3600`, `45s`, `90m`, `12h`, `30d` or `2w`.
///
/// # Errors
///
/// As [`Ttl::parse`].
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    Ttl::parse(text).map(Ttl::duration)
}

/// Parses `1048576`, `512KiB`, `5MiB`, `2GiB` or `1TiB` (also `K`/`M`/`G`/`T` and `KB`/`MB`/`GB`/`TB`, all powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let invalid = || UnitError::Size(text.to_owned());
    let (number, unit) = split_unit(text);
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(invalid()),
    };
    let number: u64 = number.parse().map_err(|_| invalid())?;
    number.checked_mul(scale).ok_or_else(invalid)
}

fn split_unit(text: &str) -> (&str, &str) {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    (&text[..digits], text[digits..].trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases =
            [("3600", 3600), ("45s", 45), ("90m", 5400), ("12h", 43_200), ("30d", 2_592_000), ("2w", 1_209_600)];
        for (text, secs) in cases {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for bad in ["", "d", "w", "1W", "1y", "-5", "1.5h", "99999999999999999999d", "30600000000000w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    /// A limit is told in the unit the lifetime was written in, when it is
    /// a whole number of them; else in the largest smaller unit that is.
    #[test]
    fn limits_are_told_in_the_unit_asked() {
        let year = Duration::from_secs(365 * 86_400);
        let hour = Duration::from_secs(3_600);
        let cases = [
            ("400d", year, "365d"),
            ("0d", year, "365d"),
            ("60w", year, "365d"),
            ("60w", Duration::from_secs(2 * 604_800), "2w"),
            ("9000h", year, "8760h"),
            ("31536001", year, "31536000 seconds"),
            ("31536001s", year, "31536000 seconds"),
            ("2d", hour, "1h"),
            ("2d", Duration::from_secs(90), "90 seconds"),
            ("61m", hour, "60m"),
            ("2", Duration::from_secs(1), "1 second"),
        ];
        for (asked, limit, told) in cases {
            assert_eq!(Ttl::parse(asked).unwrap().limit(limit).to_string(), told, "{asked} over {limit:?}");
        }
    }

    #[test]
    fn sizes() {
        let cases = [("10", 10), ("512KiB", 512 << 10), ("5MiB", 5 << 20), ("2GiB", 2 << 30), ("3 mb", 3 << 20)];
        for (text, bytes) in cases {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for bad in ["", "MiB", "5XB", "-1", "1.5GiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
