//! What an upload signs into its URL: the declared length (always, so
//! storage refuses another size), `Content-MD5` and an `x-amz-checksum-*`
//! value, and for whole objects `If-None-Match: *` or `If-Match: ETAG` and
//! the SHA-256 metadata. Shared by single PUTs and multipart parts.

use base64::Engine;

use super::checksum;
use super::limits::MAX_PART_BYTES;
use super::rejection::Rejection;
use super::request::{BodySize, Incoming, UploadHeaders};

/// What is being uploaded, which decides the limits and headers that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// A whole object in one PUT.
    Object,
    /// One part of a multipart upload.
    Part,
}

/// The smaller of two optional limits.
#[must_use]
pub fn limit(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The headers to sign into an upload URL, within `max` bytes.
pub fn signed_headers(
    request: &Incoming<'_>,
    max: Option<u64>,
    upload: Upload,
) -> Result<Vec<(&'static str, String)>, Rejection> {
    let headers = request.upload;
    let announced =
        headers.upload_length.map(|v| v.trim().parse::<u64>().map_err(|_| Rejection::UploadLength)).transpose()?;
    let declared = match (request.body, announced) {
        (BodySize::Unknown, _) => return Err(Rejection::LengthRequired),
        (BodySize::Known(length), Some(announced)) if length > 0 && length != announced => {
            return Err(Rejection::UploadLength);
        }
        (_, Some(announced)) => Some(announced),
        (BodySize::Known(length), None) => Some(length),
        (BodySize::Absent, None) => None,
    };
    let mut signed = Vec::new();
    match declared {
        Some(length) if length > MAX_PART_BYTES => {
            return Err(match upload {
                Upload::Part => Rejection::TooLarge(MAX_PART_BYTES),
                Upload::Object => Rejection::UseMultipart,
            });
        }
        Some(length) if max.is_some_and(|max| length > max) => return Err(Rejection::TooLarge(max.unwrap_or(0))),
        Some(length) => signed.push(("content-length", length.to_string())),
        None if max.is_some() => return Err(Rejection::SizeRequired),
        None => {}
    }
    if let Some(md5) = headers.content_md5 {
        let digest = base64::engine::general_purpose::STANDARD.decode(md5.trim()).map_err(|_| Rejection::ContentMd5)?;
        if digest.len() != 16 {
            return Err(Rejection::ContentMd5);
        }
        signed.push(("content-md5", md5.trim().to_owned()));
    }
    if let Some(checksum) = checksum::declared(&headers)? {
        signed.push((checksum.algorithm.header(), checksum.value));
    }
    if upload == Upload::Object {
        match (headers.if_none_match, headers.if_match) {
            (Some(_), Some(_)) => return Err(Rejection::ConflictingConditions),
            (Some(condition), None) if condition.trim() != "*" => return Err(Rejection::IfNoneMatch),
            (Some(_), None) => signed.push(("if-none-match", "*".to_owned())),
            (None, Some(condition)) => {
                if_match(condition)?;
                // Signed as sent: the client resends it to storage unchanged.
                signed.push(("if-match", condition.trim().to_owned()));
            }
            (None, None) => {}
        }
        if let Some(sha256) = sha256(headers)? {
            signed.push(("x-amz-meta-sha256", sha256));
        }
    }
    Ok(signed)
}

/// The ETag an `If-Match` names, without quotes: one strong entity tag.
pub fn if_match(value: &str) -> Result<String, Rejection> {
    let value = value.trim();
    let etag = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    let valid = !etag.is_empty() && etag.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b',');
    if valid && !value.starts_with("W/") { Ok(etag.to_owned()) } else { Err(Rejection::IfMatch) }
}

/// The whole file's SHA-256 the client declared, lowercase hex.
pub fn sha256(headers: UploadHeaders<'_>) -> Result<Option<String>, Rejection> {
    headers
        .sha256
        .map(|hex| {
            let hex = hex.trim().to_ascii_lowercase();
            let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
            if valid { Ok(hex) } else { Err(Rejection::Sha256) }
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::super::testing::{request, with_max};
    use super::super::{Action, Caller, decide};
    use super::*;
    use crate::core::query::Query;

    fn put(body: BodySize, upload: UploadHeaders<'_>) -> Incoming<'_> {
        Incoming { body, upload, ..request(&Method::PUT, "/big.iso") }
    }

    fn signed(incoming: &Incoming<'_>, max: Option<u64>) -> Result<Vec<(&'static str, String)>, Rejection> {
        match decide(incoming, &Query::default(), Caller::Owner(None), &with_max(max))? {
            Action::Presign(order) => Ok(order.signed_headers),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn uploads_sign_what_the_client_declares() {
        let none = UploadHeaders::default();
        let length = |n: &str| vec![("content-length", n.to_owned())];
        assert_eq!(signed(&put(BodySize::Known(10), none), None), Ok(length("10")));
        assert_eq!(signed(&put(BodySize::Absent, none), None), Ok(vec![]));
        let announced = UploadHeaders { upload_length: Some("4096"), ..none };
        assert_eq!(signed(&put(BodySize::Absent, announced), Some(4096)), Ok(length("4096")));
        assert_eq!(signed(&put(BodySize::Known(4096), announced), None), Ok(length("4096")));
        let md5 = UploadHeaders { content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg=="), ..none };
        assert_eq!(
            signed(&put(BodySize::Known(0), md5), None),
            Ok(vec![("content-length", "0".to_owned()), ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==".to_owned())])
        );
        let guarded = UploadHeaders { if_none_match: Some("*"), ..none };
        assert_eq!(signed(&put(BodySize::Known(1), guarded), None).unwrap()[1], ("if-none-match", "*".to_owned()));
        let swap = UploadHeaders { if_match: Some("\"e1\""), ..none };
        assert_eq!(signed(&put(BodySize::Known(1), swap), None).unwrap()[1], ("if-match", "\"e1\"".to_owned()));
        let mut crc = none;
        crc.checksums[2] = Some("AAAAAAAAAAA=");
        assert_eq!(
            signed(&put(BodySize::Known(1), crc), None).unwrap()[1],
            ("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=".to_owned())
        );
        let hashed = UploadHeaders { sha256: Some(&"AB".repeat(32)), ..none };
        assert_eq!(signed(&put(BodySize::Known(1), hashed), None).unwrap()[1], ("x-amz-meta-sha256", "ab".repeat(32)));
    }

    #[test]
    fn uploads_within_the_limits() {
        let none = UploadHeaders::default();
        let cases = [
            (put(BodySize::Known(101), none), Some(100), Rejection::TooLarge(100)),
            (put(BodySize::Absent, none), Some(100), Rejection::SizeRequired),
            (put(BodySize::Unknown, none), None, Rejection::LengthRequired),
            (put(BodySize::Known(6 << 30), none), None, Rejection::UseMultipart),
            (
                put(BodySize::Absent, UploadHeaders { upload_length: Some("lots"), ..none }),
                None,
                Rejection::UploadLength,
            ),
            (
                put(BodySize::Known(5), UploadHeaders { upload_length: Some("6"), ..none }),
                None,
                Rejection::UploadLength,
            ),
            (put(BodySize::Known(5), UploadHeaders { content_md5: Some("abc"), ..none }), None, Rejection::ContentMd5),
            (
                put(BodySize::Known(5), UploadHeaders { if_none_match: Some("\"e1\""), ..none }),
                None,
                Rejection::IfNoneMatch,
            ),
            (put(BodySize::Known(5), UploadHeaders { sha256: Some("xyz"), ..none }), None, Rejection::Sha256),
            (put(BodySize::Known(5), UploadHeaders { if_match: Some("W/\"e1\""), ..none }), None, Rejection::IfMatch),
            (
                put(BodySize::Known(5), UploadHeaders { if_match: Some("e1"), if_none_match: Some("*"), ..none }),
                None,
                Rejection::ConflictingConditions,
            ),
        ];
        for (incoming, max, rejection) in cases {
            assert_eq!(signed(&incoming, max), Err(rejection.clone()), "{rejection:?}");
        }
    }

    #[test]
    fn the_smaller_limit_wins() {
        assert_eq!(limit(Some(3), Some(5)), Some(3));
        assert_eq!(limit(None, Some(5)), Some(5));
        assert_eq!(limit(None, None), None);
    }
}
