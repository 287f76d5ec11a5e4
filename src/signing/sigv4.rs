//! SigV4 query-string presigning, written for the one shape the gateway
//! signs: an S3 object URL with a few query parameters and a few signed
//! headers, an unsigned payload, the signature in the query.
//!
//! Why not `aws-sigv4`'s `sign`: it parses the URL back into an `http::Uri`,
//! builds a `HeaderMap`, formats the canonical request into a `String`,
//! derives the day's signing key with four HMACs and returns the parameters
//! as owned strings, on every call: 8–16 µs here (BENCHMARKS.md). This file
//! writes the URL once, hashes the canonical request straight from the URL's
//! bytes (no second copy), and signs with a key derived once a day
//! ([`super::day_key`]); a GET allocates only the URL itself.
//! `tests/sigv4_reference.rs` checks, for random keys, operations, overrides,
//! headers, lifetimes, times and tokens, that the URL is byte for byte what
//! `aws-sigv4` makes.

use std::borrow::Cow;
use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::SignError;
use super::day_key::DayKey;
use crate::core::PresignOrder;

/// What stays unencoded in a query value: RFC 3986's unreserved characters,
/// as `aws-smithy-http`'s query encoding (and so `aws-sigv4`) has it.
pub const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The same for the path, which keeps its `/` (a "greedy" label).
pub const PATH: &AsciiSet = &QUERY.remove(b'/');

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// `X-Amz-Date`'s `YYYYMMDD'T'HHMMSS'Z'`, and the day it falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmzDate {
    text: [u8; 16],
    day: u64,
}

impl AmzDate {
    /// The stamp for `secs` seconds after the Unix epoch; years past 9999
    /// have no four-digit form.
    pub fn new(secs: u64) -> Result<Self, SignError> {
        let day = secs / 86_400;
        let (year, month, date) = civil_from_days(day);
        if year > 9999 {
            return Err(SignError::Clock);
        }
        let seconds_of_day = secs % 86_400;
        let mut text = *b"00000000T000000Z";
        put_digits(&mut text[0..4], year);
        put_digits(&mut text[4..6], month);
        put_digits(&mut text[6..8], date);
        put_digits(&mut text[9..11], seconds_of_day / 3600);
        put_digits(&mut text[11..13], seconds_of_day / 60 % 60);
        put_digits(&mut text[13..15], seconds_of_day % 60);
        Ok(Self { text, day })
    }

    /// `YYYYMMDD'T'HHMMSS'Z'`.
    #[must_use]
    pub fn date_time(&self) -> &str {
        // Only ASCII digits and letters were written.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// `YYYYMMDD`, the date of the credential scope.
    #[must_use]
    pub fn date(&self) -> &str {
        &self.date_time()[..8]
    }

    /// Days since the Unix epoch: the signing key changes with it.
    #[must_use]
    pub fn day(&self) -> u64 {
        self.day
    }
}

fn put_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        // A digit, so the cast cannot truncate.
        *slot = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

/// Year, month, day of a count of days since 1970-01-01, in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The bucket's base URL, split as SigV4 needs it.
#[derive(Debug, Clone)]
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

/// One signed header, normalised as SigV4 wants it.
struct Header<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

/// The headers to sign, sorted by name, and `host` unless given.
struct Headers<'a> {
    /// The headers given, sorted by name (stable: repeated names keep their order).
    sorted: Vec<Header<'a>>,
    /// The target's host, when no `host` header was given.
    host: Option<&'a str>,
    /// `content-length;host;...`: each name once, in order.
    names: Cow<'a, str>,
}

impl<'a> Headers<'a> {
    fn new(given: &'a [(&'static str, String)], host: &'a str) -> Result<Self, SignError> {
        let mut sorted = Vec::with_capacity(given.len());
        for (name, value) in given {
            let name = lowercase(name)?;
            // Presigned URLs leave these two out of the signature (as aws-sigv4 does).
            if name == "x-amz-user-agent" || name == "x-amz-checksum-mode" {
                continue;
            }
            sorted.push(Header { name, value: header_value(value)? });
        }
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let host = (!sorted.iter().any(|header| header.name == "host")).then_some(host);
        let mut headers = Self { sorted, host, names: Cow::Borrowed("host") };
        if !headers.sorted.is_empty() {
            let mut names = String::new();
            for (name, _, repeated) in headers.entries() {
                if !repeated {
                    if !names.is_empty() {
                        names.push(';');
                    }
                    names.push_str(name);
                }
            }
            headers.names = names.into();
        }
        Ok(headers)
    }

    /// Every header in order: name, value, and whether the name came just before.
    fn entries(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        let split = self.sorted.partition_point(|header| header.name.as_ref() < "host");
        let (before, after) = self.sorted.split_at(split);
        let all = before.iter().map(pair).chain(self.host.map(|host| ("host", host))).chain(after.iter().map(pair));
        let mut previous: Option<&str> = None;
        all.map(move |(name, value)| {
            let repeated = previous == Some(name);
            previous = Some(name);
            (name, value, repeated)
        })
    }

    /// `name:value\n` per name, repeated names' values joined by `,`.
    fn canonical(&self, hash: &mut Hash) {
        let mut first = true;
        for (name, value, repeated) in self.entries() {
            if repeated {
                hash.put(",");
            } else {
                if !first {
                    hash.put("\n");
                }
                hash.put(name);
                hash.put(":");
            }
            hash.put(value);
            first = false;
        }
        hash.put("\n");
    }
}

fn pair<'h>(header: &'h Header<'_>) -> (&'h str, &'h str) {
    (header.name.as_ref(), header.value.as_ref())
}

/// A header name in lower case, if it is one (a token: letters, digits, ``!#$%&'*+-.^_`|~``).
fn lowercase(name: &str) -> Result<Cow<'_, str>, SignError> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(SignError::HeaderName);
    }
    Ok(if name.bytes().any(|b| b.is_ascii_uppercase()) { name.to_ascii_lowercase().into() } else { name.into() })
}

/// A header value with its outer spaces trimmed and runs of spaces made one
/// (spaces only: S3 leaves tabs alone), if a header can carry it.
fn header_value(value: &str) -> Result<Cow<'_, str>, SignError> {
    if !value.bytes().all(|b| (b >= 32 && b != 127) || b == b'\t') {
        return Err(SignError::HeaderValue);
    }
    let trimmed = value.trim_matches(' ');
    if !trimmed.contains("  ") {
        return Ok(trimmed.into());
    }
    let mut collapsed = String::with_capacity(trimmed.len());
    let mut previous_space = false;
    for c in trimmed.chars() {
        let space = c == ' ';
        if !(space && previous_space) {
            collapsed.push(c);
        }
        previous_space = space;
    }
    Ok(collapsed.into())
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
    ContentDisposition,
    ContentType,
    UploadId,
}

impl Param {
    const CANONICAL: [Self; 10] = [
        Self::Algorithm,
        Self::Credential,
        Self::Date,
        Self::Expires,
        Self::SecurityToken,
        Self::SignedHeaders,
        Self::PartNumber,
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
            Self::ContentDisposition => "response-content-disposition",
            Self::ContentType => "response-content-type",
            Self::UploadId => "uploadId",
        }
    }
}

/// The URL being written, and where each `name=value` landed in it.
struct Url {
    text: String,
    at: [Option<(usize, usize)>; 10],
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
    let headers = Headers::new(&order.signed_headers, &target.host)?;
    let token = key.token();
    let capacity = target.base.len() + order.key.as_str().len() * 3 + 320 + token.map_or(0, str::len);
    let mut url = Url { text: String::with_capacity(capacity), at: [None; 10] };
    url.text.push_str(&target.base);
    url.text.push('/');
    url.text.extend(utf8_percent_encode(order.key.as_str(), PATH));
    let path_end = url.text.len();

    if let Some(part) = &order.part {
        let mut digits = [0u8; 5];
        url.param(Param::PartNumber, [decimal(u64::from(part.number), &mut digits)]);
        url.encoded(Param::UploadId, part.upload.as_str());
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
    url.encoded(Param::SignedHeaders, &headers.names);

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
    headers.canonical(&mut hash);
    hash.put("\n");
    hash.put(&headers.names);
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
    fn the_encodings_are_aws_smithy_https() {
        let mut every_ascii: String = (0u8..128).map(char::from).collect();
        every_ascii.push_str("é✓\u{10348}");
        assert_eq!(
            utf8_percent_encode(&every_ascii, QUERY).to_string(),
            aws_smithy_http::query::fmt_string(&every_ascii)
        );
        let greedy = aws_smithy_http::label::fmt_string(&every_ascii, aws_smithy_http::label::EncodingStrategy::Greedy);
        assert_eq!(utf8_percent_encode(&every_ascii, PATH).to_string(), greedy);
    }

    #[test]
    fn dates_follow_the_calendar() {
        let cases = [
            (0, "19700101T000000Z"),
            (951_782_400, "20000229T000000Z"),
            (1_700_000_000, "20231114T221320Z"),
            (1_709_251_199, "20240229T235959Z"),
            (4_102_444_800, "21000101T000000Z"),
            (253_402_300_799, "99991231T235959Z"),
        ];
        for (secs, text) in cases {
            let date = AmzDate::new(secs).unwrap();
            assert_eq!(date.date_time(), text);
            assert_eq!(date.date(), &text[..8]);
            assert_eq!(date.day(), secs / 86_400);
        }
        assert!(matches!(AmzDate::new(253_402_300_800), Err(SignError::Clock)));
    }

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

    #[test]
    fn header_values_are_normalised_like_sigv4() {
        assert_eq!(header_value("  a   b  c ").unwrap(), "a b c");
        assert_eq!(header_value("\ta\t").unwrap(), "\ta\t");
        assert!(header_value("a\nb").is_err());
        assert!(lowercase("Content-MD5").is_ok_and(|n| n == "content-md5"));
        assert!(lowercase("bad name").is_err());
    }
}
