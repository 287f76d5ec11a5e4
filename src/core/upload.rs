//! What an upload signs into its URL: the declared length (always, so
//! storage refuses another size), `Content-MD5` and an `x-amz-checksum-*`
//! value, and for whole objects its `Content-Type` (which must be an allowed
//! type when the operator lists them), `If-None-Match: *` or `If-Match:
//! ETAG`, the headers it keeps for its downloads ([`super::object_headers`]), and
//! its `x-amz-meta-*` metadata (the SHA-256 among it). Shared by
//! single PUTs, multipart parts and the start of a multipart upload, which
//! keeps the same attributes.

use base64::Engine;

use super::NewObject;
use super::checksum;
use super::limits::{MAX_METADATA_BYTES, MAX_PART_BYTES};
use super::media::MediaTypes;
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
    allowed_types: &MediaTypes,
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
        if let Some(content_type) = content_type(headers, allowed_types)? {
            signed.push(("content-type", content_type));
        }
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
        signed.extend(headers.object_headers.declared()?);
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

/// The type an upload declares: required, and one of `allowed`, when the
/// operator lists types.
pub fn content_type(headers: UploadHeaders<'_>, allowed: &MediaTypes) -> Result<Option<String>, Rejection> {
    let declared = headers.content_type.map(str::trim).filter(|t| !t.is_empty());
    if declared.is_some_and(|t| t.contains('\t')) {
        return Err(Rejection::TabInHeader("Content-Type".to_owned()));
    }
    match declared {
        None if !allowed.is_empty() => Err(Rejection::TypeRequired(allowed.to_string())),
        Some(declared) if !allowed.is_empty() && !allowed.contains(declared) => {
            Err(Rejection::TypeNotAllowed(declared.to_owned(), allowed.to_string()))
        }
        declared => Ok(declared.map(str::to_owned)),
    }
}

/// The `x-amz-meta-*` metadata an upload keeps besides its SHA-256 (names
/// without the prefix): values must be ASCII text, as S3 and browsers need
/// (clients percent-encode others), without tabs, one value a name, and all
/// of it, the SHA-256 included, within S3's 2 KB.
pub fn metadata(headers: UploadHeaders<'_>) -> Result<Vec<(String, String)>, Rejection> {
    let mut metadata = Vec::new();
    let mut size = headers.sha256.map_or(0, |hex| "sha256".len() + hex.trim().len());
    for (name, value) in headers.metadata.entries() {
        let text = value.to_str().map_err(|_| Rejection::MetadataValue(name.to_owned()))?.trim();
        if text.contains('\t') {
            return Err(Rejection::TabInHeader(format!("x-amz-meta-{name}")));
        }
        if metadata.iter().any(|(seen, _)| seen == name) {
            return Err(Rejection::MetadataRepeated(name.to_owned()));
        }
        size += name.len() + text.len();
        metadata.push((name.to_owned(), text.to_owned()));
    }
    if size > MAX_METADATA_BYTES {
        return Err(Rejection::MetadataTooLarge);
    }
    Ok(metadata)
}

/// What a whole object is created with: its type, metadata, headers
/// and the checksum its parts will carry, by the rules above.
pub fn new_object(headers: UploadHeaders<'_>, allowed_types: &MediaTypes) -> Result<NewObject, Rejection> {
    let sha256 = sha256(headers)?.map(|hex| ("sha256".to_owned(), hex));
    let metadata = sha256.into_iter().chain(metadata(headers)?).collect();
    let checksum = checksum::multipart_spec(&headers)?;
    let kept = headers.object_headers.declared()?;
    Ok(NewObject { content_type: content_type(headers, allowed_types)?, metadata, headers: kept, checksum })
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
    use crate::core::object_headers::{ObjectHeaderError, ObjectHeaders};
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

    /// What an upload keeps for its downloads is signed, so storage refuses
    /// other values; only for whole objects (parts keep nothing).
    #[test]
    fn uploads_sign_the_headers_the_object_keeps() {
        let sent = [("content-disposition", "attachment; filename=\"a.pdf\""), ("cache-control", " no-cache ")];
        let map: http::HeaderMap =
            sent.iter().map(|(n, v)| (http::HeaderName::from_static(n), http::HeaderValue::from_static(v))).collect();
        let headers = UploadHeaders { object_headers: ObjectHeaders::of(&map), ..UploadHeaders::default() };
        assert_eq!(
            signed(&put(BodySize::Known(1), headers), None),
            Ok(vec![
                ("content-length", "1".to_owned()),
                ("cache-control", "no-cache".to_owned()),
                ("content-disposition", "attachment; filename=\"a.pdf\"".to_owned()),
            ])
        );
        let part = signed_headers(&put(BodySize::Known(1), headers), None, Upload::Part, &MediaTypes::default());
        assert_eq!(part, Ok(vec![("content-length", "1".to_owned())]));
        let created = new_object(headers, &MediaTypes::default()).unwrap();
        assert_eq!(
            created.headers,
            vec![
                ("cache-control", "no-cache".into()),
                ("content-disposition", "attachment; filename=\"a.pdf\"".into())
            ]
        );
        let tabbed: http::HeaderMap =
            [(http::header::CONTENT_DISPOSITION, http::HeaderValue::from_static("a\tb"))].into_iter().collect();
        let headers = UploadHeaders { object_headers: ObjectHeaders::of(&tabbed), ..UploadHeaders::default() };
        let refused = Rejection::ObjectHeader("content-disposition", ObjectHeaderError::ControlCharacter);
        assert_eq!(signed(&put(BodySize::Known(1), headers), None), Err(refused.clone()));
        assert_eq!(new_object(headers, &MediaTypes::default()), Err(refused));
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

    fn typed(declared: Option<&str>, allowed: &[&str]) -> Result<Option<String>, Rejection> {
        let allowed = MediaTypes::parse(&allowed.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
        content_type(UploadHeaders { content_type: declared, ..UploadHeaders::default() }, &allowed)
    }

    #[test]
    fn types_are_declared_and_allowed() {
        assert_eq!(typed(None, &[]), Ok(None));
        assert_eq!(typed(Some("text/html"), &[]), Ok(Some("text/html".into())));
        assert_eq!(typed(Some("image/png"), &["image/*"]), Ok(Some("image/png".into())));
        assert_eq!(typed(None, &["image/*"]), Err(Rejection::TypeRequired("image/*".into())));
        assert_eq!(typed(Some(" "), &["image/*"]), Err(Rejection::TypeRequired("image/*".into())));
        assert_eq!(typed(Some("text/plain;\tcharset=utf-8"), &[]), Err(Rejection::TabInHeader("Content-Type".into())));
        assert_eq!(
            typed(Some("text/plain"), &["image/*", "application/pdf"]),
            Err(Rejection::TypeNotAllowed("text/plain".into(), "image/*, application/pdf".into()))
        );
    }

    #[test]
    fn metadata_is_ascii_and_small() {
        let headers = |pairs: &[(&str, &[u8])]| {
            pairs
                .iter()
                .map(|(n, v)| {
                    (http::HeaderName::from_bytes(n.as_bytes()).unwrap(), http::HeaderValue::from_bytes(v).unwrap())
                })
                .collect::<http::HeaderMap>()
        };
        let of = |map: &http::HeaderMap| {
            metadata(UploadHeaders { metadata: super::super::request::Metadata::of(map), ..UploadHeaders::default() })
        };
        let titled =
            headers(&[("x-amz-meta-title", b"%C3%89t%C3%A9 2024"), ("x-amz-meta-sha256", b"ab"), ("other", b"x")]);
        assert_eq!(of(&titled), Ok(vec![("title".into(), "%C3%89t%C3%A9 2024".into())]));
        let raw = headers(&[("x-amz-meta-title", "Été".as_bytes())]);
        assert_eq!(of(&raw), Err(Rejection::MetadataValue("title".into())));
        let big = "v".repeat(2048);
        let too_big = headers(&[("x-amz-meta-t", big.as_bytes())]);
        assert_eq!(of(&too_big), Err(Rejection::MetadataTooLarge));
        // Storage would keep one of two values, and SigV4 implementations disagree on tabs.
        let twice = headers(&[("x-amz-meta-t", b"a"), ("x-amz-meta-t", b"b")]);
        assert_eq!(of(&twice), Err(Rejection::MetadataRepeated("t".into())));
        let tab = headers(&[("x-amz-meta-u", b"c\td")]);
        assert_eq!(of(&tab), Err(Rejection::TabInHeader("x-amz-meta-u".into())));
    }

    #[test]
    fn the_smaller_limit_wins() {
        assert_eq!(limit(Some(3), Some(5)), Some(3));
        assert_eq!(limit(None, Some(5)), Some(5));
        assert_eq!(limit(None, None), None);
    }
}
