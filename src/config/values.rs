//! Checks for single values: URLs, bucket names, regions, origins, lifetimes.

use std::time::Duration;

use http::{HeaderValue, Uri};

use super::{AllowedOrigins, ConfigError};

/// The longest a share link may live: far beyond any use, and short enough
/// that its expiry is a time the system clock can hold.
const LONGEST_SHARE_TTL: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

pub(super) fn check_share_max_ttl(ttl: Duration) -> Result<(), ConfigError> {
    if ttl.is_zero() || ttl > LONGEST_SHARE_TTL {
        return Err(ConfigError::ShareMaxTtl);
    }
    Ok(())
}

/// The age after which the embedded store aborts incomplete uploads: at least a second.
pub(super) fn check_upload_age(age: Duration) -> Result<Duration, ConfigError> {
    if age < Duration::from_secs(1) {
        return Err(ConfigError::UploadAge);
    }
    Ok(age)
}

/// An absolute http(s) URL with no query, returned without a trailing `/`.
pub(super) fn base_url(setting: &'static str, value: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::Url { setting, value: value.to_owned() };
    let uri: Uri = value.parse().map_err(|_| invalid())?;
    let http = matches!(uri.scheme_str(), Some("http" | "https"));
    if !http || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(invalid());
    }
    Ok(value.trim_end_matches('/').to_owned())
}

pub(super) fn check_bucket(bucket: String) -> Result<String, ConfigError> {
    let valid = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid { Ok(bucket) } else { Err(ConfigError::Bucket(bucket)) }
}

pub(super) fn check_region(region: &str) -> Result<(), ConfigError> {
    let valid = !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid { Ok(()) } else { Err(ConfigError::Region(region.to_owned())) }
}

pub(super) fn allowed_origins(entries: &[String]) -> Result<AllowedOrigins, ConfigError> {
    let entries: Vec<&str> = entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).collect();
    if entries.is_empty() {
        return Ok(AllowedOrigins::None);
    }
    if entries == ["*"] {
        return Ok(AllowedOrigins::Any);
    }
    entries
        .into_iter()
        .map(|entry| {
            let invalid = || ConfigError::Origin(entry.to_owned());
            let uri: Uri = entry.parse().map_err(|_| invalid())?;
            let bare = uri.path_and_query().is_none_or(|p| p.as_str() == "/");
            if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() || !bare {
                return Err(invalid());
            }
            HeaderValue::from_str(entry.trim_end_matches('/')).map_err(|_| invalid())
        })
        .collect::<Result<_, _>>()
        .map(AllowedOrigins::List)
}
