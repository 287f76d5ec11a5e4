//! Checks for single values (URLs, bucket names, regions, origins,
//! lifetimes), and the key layout `serve` and `share` read alike.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use http::{HeaderValue, Uri};

use super::{AllowedOrigins, ConfigError};
use crate::core::Policy;
use crate::core::key::KeyPrefix;

/// The longest a share link may live: far beyond any use, and short enough
/// that its expiry is a time the system clock can hold.
const LONGEST_SHARE_TTL: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

fn check_share_max_ttl(ttl: Duration) -> Result<(), ConfigError> {
    if ttl.is_zero() || ttl > LONGEST_SHARE_TTL {
        return Err(ConfigError::ShareMaxTtl);
    }
    Ok(())
}

/// The policy's key layout and longest share link, which `share` must read
/// exactly as the gateway does; the rest at its defaults.
pub(super) fn layout(key_prefix: &str, tenant_folder: &str, share_max_ttl: Duration) -> Result<Policy, ConfigError> {
    check_share_max_ttl(share_max_ttl)?;
    Ok(Policy {
        prefix: KeyPrefix::new(key_prefix).map_err(ConfigError::KeyPrefix)?,
        tenants: KeyPrefix::new(tenant_folder).map_err(ConfigError::TenantFolder)?,
        max_share_ttl: share_max_ttl,
        ..Policy::new(Duration::from_secs(1))
    })
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

/// DynamoDB's rule for table names: 3 to 255 of `a-z`, `A-Z`, `0-9`, `_`, `-` and `.`.
pub(super) fn check_table(table: &str) -> Result<String, ConfigError> {
    let valid = (3..=255).contains(&table.len())
        && table.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid { Ok(table.to_owned()) } else { Err(ConfigError::StateTable(table.to_owned())) }
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

/// Where the tenants' folders are, `<key prefix><tenant folder>/`, as the
/// embedded store's event spool counts them.
pub(super) fn tenant_folder(key_prefix: &str, tenant_folder: &str) -> Result<String, ConfigError> {
    let prefix = KeyPrefix::new(key_prefix).map_err(ConfigError::KeyPrefix)?;
    let folder = KeyPrefix::new(tenant_folder).map_err(ConfigError::TenantFolder)?;
    Ok(format!("{}{}", prefix.as_str(), folder.as_str()))
}

/// Whether the embedded store lets in `Origin: null`: only when asked, and
/// only beside pages from other origins, the only ones a cross-origin 307
/// makes send it (a same-origin page keeps its origin through the redirect).
pub(super) fn null_origin(asked: bool, origins: &AllowedOrigins) -> Result<bool, ConfigError> {
    if asked && *origins == AllowedOrigins::None {
        return Err(ConfigError::NullOriginAlone);
    }
    Ok(asked)
}

/// The addresses `host:port` names: an address as it is, a host name every
/// address it resolves to (IPv4 first, so the first is what most clients try).
pub(super) fn listen_addresses(setting: &'static str, value: &str) -> Result<Vec<SocketAddr>, ConfigError> {
    if let Ok(address) = value.parse::<SocketAddr>() {
        return Ok(vec![address]);
    }
    let invalid = || ConfigError::Listen { setting, value: value.to_owned() };
    let (host, port) = value.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    let unresolvable = |reason: String| ConfigError::Unresolvable { setting, value: value.to_owned(), reason };
    let mut addresses: Vec<SocketAddr> = value.to_socket_addrs().map_err(|e| unresolvable(e.to_string()))?.collect();
    addresses.sort_by_key(SocketAddr::is_ipv6);
    addresses.dedup();
    if addresses.is_empty() {
        return Err(unresolvable("no addresses".to_owned()));
    }
    Ok(addresses)
}

/// A timeout of at least a second.
pub(super) fn timeout(setting: &'static str, value: Duration) -> Result<Duration, ConfigError> {
    if value < Duration::from_secs(1) { Err(ConfigError::Timeout(setting)) } else { Ok(value) }
}
