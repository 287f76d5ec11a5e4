//! SigV4 query-string presigning, written for the one shape the gateway
//! signs: an S3 object URL with a few query parameters and a few signed
//! headers, an unsigned payload, the signature in the query.
//!
//! Why not `aws-sigv4`'s `sign`: it parses the URL back into an `http::Uri`,
//! builds a `HeaderMap`, formats the canonical request into a `String`,
//! derives the day's signing key with four HMACs and returns the parameters
//! as owned strings, on every call: 7.5–19 µs here (BENCHMARKS.md). This file
//! writes the URL once, hashes the canonical request straight from the URL's
//! bytes (no second copy), and signs with a key derived once a day
//! ([`super::day_key`]); a GET allocates only the URL itself. The headers'
//! canonical form is in [`super::headers`], the date in [`super::amz_date`],
//! the percent-encoding in [`super::encoding`].
//! `tests/sigv4_reference.rs` checks, for random keys, operations, overrides,
//! headers, lifetimes, times and tokens, that the URL is byte for byte what
//! `aws-sigv4` makes.

use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use percent_encoding::utf8_percent_encode;

use super::SignError;
use super::amz_date::AmzDate;
use super::day_key::DayKey;
use super::encoding::{PATH, QUERY};
use super::headers::Headers;
use crate::core::PresignOrder;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The bucket's base URL, split as SigV4 needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Scheme, authority and the bucket's path (path-style), no trailing `/`.
    pub base: String,
    /// Where the path starts in `base` (its length when virtual-hosted).
    pub path_start: usize,
    /// The `host` header: the authority, without a scheme's default port.
    pub host: String,
}

impl Target {
    /// Splits `url` as `http::Uri` (and so `aws-sigv4`) reads it; `None` if it has no host.
    #[must_use]
    pub fn parse(url: &str) -> Option<Self> {
        let uri: http::Uri = url.parse().ok()?;
        let authority = uri.authority()?;
        let scheme_default =
            matches!((uri.scheme_str(), authority.port_u16()), (Some("http"), Some(80)) | (Some("https"), Some(443)));
        let host = if scheme_default { authority.host() } else { authority.as_str() };
        let after_scheme = url.find("://")? + 3;
        let path_start = url[after_scheme..].find(['/', '?', '#']).map_or(url.len(), |at| at + after_scheme);
        if uri.query().is_some() || url[path_start..].contains('#') {
            return None;
        }
        Some(Self { base: url.trim_end_matches('/').to_owned(), path_start, host: host.to_owned() })
    }
}

/// The canonical request's SHA-256, fed piece by piece.
struct Hash(digest::Context);

impl Hash {
    fn put(&mut self, text: &str) {
        self.0.update(text.as_bytes());
    }
}

/// The query parameters a presigned URL may carry, in SigV4's canonical
/// order (byte order of the names: upper case first).
#[derive(Clone, Copy)]
enum Param {
    Algorithm,
    Credential,
    Date,
    Expires,
    SecurityToken,
    SignedHeaders,
    PartNumber,
    CacheControl,
    ContentDisposition,
    ContentType,
    UploadId,
}

impl Param {
    const CANONICAL: [Self; 11] = [
        Self::Algorithm,
        Self::Credential,
        Self::Date,
        Self::Expires,
        Self::SecurityToken,
        Self::SignedHeaders,
        Self::PartNumber,
        Self::CacheControl,
        Self::ContentDisposition,
        Self::ContentType,
        Self::UploadId,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Algorithm => "X-Amz-Algorithm",
            Self::Credential => "X-Amz-Credential",
            Self::Date => "X-Amz-Date",
            Self::Expires => "X-Amz-Expires",
            Self::SecurityToken => "X-Amz-Security-Token",
            Self::SignedHeaders => "X-Amz-SignedHeaders",
            Self::PartNumber => "partNumber",
            Self::CacheControl => "response-cache-control",
            Self::ContentDisposition => "response-content-disposition",
            Self::ContentType => "response-content-type",
            Self::UploadId => "uploadId",
        }
    }
}

/// The URL being written, and where each `name=value` landed in it.
struct Url {
    text: String,
    at: [Option<(usize, usize)>; 11],
}

impl Url {
    fn param(&mut self, param: Param, value: impl IntoIterator<Item = impl AsRef<str>>) {
        self.text.push(if self.at.iter().any(Option::is_some) { '&' } else { '?' });
        let start = self.text.len();
        self.text.push_str(param.name());
        self.text.push('=');
        for piece in value {
            self.text.push_str(piece.as_ref());
        }
        self.at[param as usize] = Some((start, self.text.len()));
    }

    fn encoded(&mut self, param: Param, value: &str) {
        self.param(param, utf8_percent_encode(value, QUERY));
    }
}

/// Signs `order` for `expires` with the day's `key`: the presigned URL.
pub fn presign(
    target: &Target,
    key: &DayKey,
    order: &PresignOrder,
    date: &AmzDate,
    expires: Duration,
) -> Result<String, SignError> {
    let headers = Headers::new(&order.signed_headers, &order.metadata, &target.host)?;
    let token = key.token();
    let response = &order.response;
    let overrides = [&response.cache_control, &response.content_disposition, &response.content_type]
        .into_iter()
        .map(|value| value.as_ref().map_or(0, |value| value.len() * 3 + 32))
        .sum::<usize>();
    let capacity = target.base.len() + order.key.as_str().len() * 3 + 320 + overrides + token.map_or(0, str::len);
    let mut url = Url { text: String::with_capacity(capacity), at: [None; 11] };
    url.text.push_str(&target.base);
    url.text.push('/');
    url.text.extend(utf8_percent_encode(order.key.as_str(), PATH));
    let path_end = url.text.len();

    if let Some(part) = &order.part {
        let mut digits = [0u8; 5];
        url.param(Param::PartNumber, [decimal(u64::from(part.number), &mut digits)]);
        url.encoded(Param::UploadId, part.upload.as_str());
    }
    if let Some(cache_control) = &order.response.cache_control {
        url.encoded(Param::CacheControl, cache_control);
    }
    if let Some(disposition) = &order.response.content_disposition {
        url.encoded(Param::ContentDisposition, disposition);
    }
    if let Some(content_type) = &order.response.content_type {
        url.encoded(Param::ContentType, content_type);
    }
    url.param(Param::Algorithm, [ALGORITHM]);
    url.param(Param::Credential, [key.credential()]);
    url.param(Param::Date, [date.date_time()]);
    let mut digits = [0u8; 20];
    url.param(Param::Expires, [decimal(expires.as_secs(), &mut digits)]);
    url.encoded(Param::SignedHeaders, headers.names());

    let mut hash = Hash(digest::Context::new(&digest::SHA256));
    hash.put(order.operation.method());
    hash.put("\n");
    hash.put(&url.text[target.path_start..path_end]);
    hash.put("\n");
    let mut first = true;
    for param in Param::CANONICAL {
        let pair = match (param, url.at[param as usize]) {
            (_, Some((start, end))) => &url.text[start..end],
            (Param::SecurityToken, None) => match token {
                Some(token) => token,
                None => continue,
            },
            (_, None) => continue,
        };
        if !first {
            hash.put("&");
        }
        hash.put(pair);
        first = false;
    }
    hash.put("\n");
    headers.canonical(|piece| hash.put(piece));
    hash.put("\n");
    hash.put(headers.names());
    hash.put("\n");
    hash.put(UNSIGNED_PAYLOAD);
    let canonical_hash = hash.0.finish();

    let mut to_sign = hmac::Context::with_key(key.signing_key());
    for piece in [ALGORITHM, "\n", date.date_time(), "\n", key.scope(), "\n"] {
        to_sign.update(piece.as_bytes());
    }
    let mut hex = [0u8; 64];
    to_sign.update(hex_lower(canonical_hash.as_ref(), &mut hex).as_bytes());
    let signature = to_sign.sign();

    url.text.push_str("&X-Amz-Signature=");
    url.text.push_str(hex_lower(signature.as_ref(), &mut hex));
    if let Some(token) = token {
        url.text.push('&');
        url.text.push_str(token);
    }
    Ok(url.text)
}

/// `value` in decimal, written into `out` (20 bytes hold any `u64`).
fn decimal(mut value: u64, out: &mut [u8]) -> &str {
    let mut start = out.len();
    loop {
        start -= 1;
        out[start] = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
        if value == 0 {
            break;
        }
    }
    std::str::from_utf8(&out[start..]).unwrap_or_default()
}

/// Lower-case hex of `bytes` (at most 32), written into `out`.
pub fn hex_lower<'a>(bytes: &[u8], out: &'a mut [u8; 64]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in bytes.iter().take(32).enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 15)];
    }
    std::str::from_utf8(&out[..2 * bytes.len().min(32)]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_is_byte_order() {
        let names: Vec<_> = Param::CANONICAL.iter().map(|p| p.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for (i, param) in Param::CANONICAL.iter().enumerate() {
            assert_eq!(*param as usize, i);
        }
    }

    #[test]
    fn targets_split_as_sigv4_reads_them() {
        let cases = [
            ("https://files.s3.eu-west-1.amazonaws.com", "files.s3.eu-west-1.amazonaws.com", ""),
            ("http://127.0.0.1:9000/bucket", "127.0.0.1:9000", "/bucket"),
            ("http://minio:80/b", "minio", "/b"),
            ("https://h:443", "h", ""),
            ("https://h:8443/b/", "h:8443", "/b"),
        ];
        for (url, host, path) in cases {
            let target = Target::parse(url).unwrap();
            assert_eq!(target.host, host, "{url}");
            assert_eq!(&target.base[target.path_start..], path, "{url}");
        }
        assert!(Target::parse("no-scheme").is_none());
        assert!(Target::parse("http://h/b?x=1").is_none());
    }
}
