//! Lifetimes and sizes as people write them: `3600`, `90m`, `30d`; `5242880`,
//! `5MiB`, `2GiB`. Written here because `humantime` refuses the bare seconds
//! (`ttl=3`, `SHARE_MAX_TTL=31536000`) that links and settings already use.

use std::time::Duration;

/// A lifetime or size that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a number with an optional unit.
    #[error("`{0}` is not a duration: use seconds, or a number with s, m, h or d (such as 30d)")]
    Duration(String),
    /// Not a number with an optional unit.
    #[error("`{0}` is not a size: use bytes, or a number with KiB, MiB, GiB or TiB (such as 5MiB)")]
    Size(String),
}

/// Parses `3600`, `45s`, `90m`, `12h` or `30d`.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let invalid = || UnitError::Duration(text.to_owned());
    let (number, unit) = split_unit(text);
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    let number: u64 = number.parse().map_err(|_| invalid())?;
    number.checked_mul(scale).map(Duration::from_secs).ok_or_else(invalid)
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
        let cases = [("3600", 3600), ("45s", 45), ("90m", 5400), ("12h", 43_200), ("30d", 2_592_000)];
        for (text, secs) in cases {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for bad in ["", "d", "1w", "-5", "1.5h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
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
