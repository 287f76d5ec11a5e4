//! The request side of the core: the parts of an HTTP request a decision
//! depends on, read once from `http::request::Parts` without copying.

use http::request::Parts;
use http::{HeaderMap, Method, header};

use super::object_headers::ObjectHeaders;
use crate::checksum::ChecksumAlgorithm;

/// The object's path as a front door hands it over, when that is not the URI
/// path (API Gateway's `{proxy+}` parameter, which leaves out stages and
/// base-path mappings). Transports insert it as a request extension; without
/// it the URI path is used.
#[derive(Debug, Clone)]
pub enum FrontDoorPath {
    /// Percent-encoded as sent: decoded exactly once.
    Encoded(String),
    /// Already decoded by the front door: taken as it is.
    Decoded(String),
}

/// Where the key comes from: some front doors hand over the path still
/// percent-encoded, others (API Gateway path parameters) already decoded it.
#[derive(Debug, Clone, Copy)]
pub enum KeyPath<'a> {
    /// As sent on the wire; decoded exactly once here.
    Encoded(&'a str),
    /// Decoded by the front door; taken as it is.
    Decoded(&'a str),
}

/// How much body the client declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySize {
    /// Neither `Content-Length` nor `Transfer-Encoding`: no body.
    Absent,
    /// `Content-Length`.
    Known(u64),
    /// `Transfer-Encoding: chunked` with no length: storage cannot take it.
    Unknown,
}

impl BodySize {
    /// What `headers` declare.
    #[must_use]
    pub fn declared(headers: &HeaderMap) -> Self {
        let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
        match length {
            Some(length) => Self::Known(length),
            None if headers.contains_key(header::TRANSFER_ENCODING) => Self::Unknown,
            None => Self::Absent,
        }
    }
}

/// A request's `x-amz-meta-*` headers: the metadata an upload keeps with
/// the object (but `x-amz-meta-sha256`, which has rules of its own).
#[derive(Debug, Clone, Copy, Default)]
pub struct Metadata<'a>(Option<&'a HeaderMap>);

impl<'a> Metadata<'a> {
    /// The metadata among `headers`.
    #[must_use]
    pub fn of(headers: &'a HeaderMap) -> Self {
        Self(Some(headers))
    }

    /// Each entry's name without `x-amz-meta-`, and its value as sent.
    pub fn entries(self) -> impl Iterator<Item = (&'a str, &'a http::HeaderValue)> {
        self.0.into_iter().flat_map(HeaderMap::iter).filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            (name != "sha256").then_some((name, value))
        })
    }
}

/// Request headers that shape an upload, or what storage reports on a
/// download. Those the client sends are signed into the URL, so storage
/// checks them; nothing else is.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadHeaders<'a> {
    /// `Upload-Length`: the size of a body not sent with this request.
    pub upload_length: Option<&'a str>,
    /// `Content-MD5`: storage refuses a body with another digest.
    pub content_md5: Option<&'a str>,
    /// `If-None-Match: *`: storage refuses to overwrite.
    pub if_none_match: Option<&'a str>,
    /// `If-Match: ETAG`: storage replaces only that version.
    pub if_match: Option<&'a str>,
    /// `x-amz-meta-sha256`: the whole file's SHA-256, kept as metadata.
    pub sha256: Option<&'a str>,
    /// Each algorithm's `x-amz-checksum-*` header, in [`ChecksumAlgorithm::ALL`]'s order.
    pub checksums: [Option<&'a str>; 5],
    /// `x-amz-checksum-algorithm` (starting a multipart upload).
    pub checksum_algorithm: Option<&'a str>,
    /// `x-amz-checksum-type` (starting or completing a multipart upload).
    pub checksum_type: Option<&'a str>,
    /// `x-amz-checksum-mode` (downloads).
    pub checksum_mode: Option<&'a str>,
    /// `Content-Type`: the object's type, which storage keeps.
    pub content_type: Option<&'a str>,
    /// Every other `x-amz-meta-*`.
    pub metadata: Metadata<'a>,
    /// `Content-Disposition`, `Cache-Control` and the others the object keeps.
    pub object_headers: ObjectHeaders<'a>,
}

impl<'a> UploadHeaders<'a> {
    /// The upload headers among `headers` (values that are not text count as absent).
    #[must_use]
    pub fn from_headers(headers: &'a HeaderMap) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Self {
            upload_length: header("upload-length"),
            content_md5: header("content-md5"),
            if_none_match: header("if-none-match"),
            if_match: header("if-match"),
            sha256: header("x-amz-meta-sha256"),
            checksums: ChecksumAlgorithm::ALL.map(|algorithm| header(algorithm.header())),
            checksum_algorithm: header("x-amz-checksum-algorithm"),
            checksum_type: header("x-amz-checksum-type"),
            checksum_mode: header("x-amz-checksum-mode"),
            content_type: header("content-type"),
            metadata: Metadata::of(headers),
            object_headers: ObjectHeaders::of(headers),
        }
    }
}

/// The parts of a request the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The object's path, without any stage or mount prefix.
    pub path: KeyPath<'a>,
    /// The declared body size.
    pub body: BodySize,
    /// Headers that shape an upload.
    pub upload: UploadHeaders<'a>,
}

impl<'a> Incoming<'a> {
    /// Reads a request: the path from the front door's [`FrontDoorPath`]
    /// extension when a transport inserted one, else from the URI.
    #[must_use]
    pub fn from_parts(parts: &'a Parts) -> Self {
        let path = match parts.extensions.get::<FrontDoorPath>() {
            Some(FrontDoorPath::Encoded(path)) => KeyPath::Encoded(path),
            Some(FrontDoorPath::Decoded(path)) => KeyPath::Decoded(path),
            None => KeyPath::Encoded(parts.uri.path()),
        };
        Self {
            method: &parts.method,
            path,
            body: BodySize::declared(&parts.headers),
            upload: UploadHeaders::from_headers(&parts.headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_door_path_wins_over_the_uri() {
        let (mut parts, ()) =
            http::Request::put("/stage/a%20b").header("content-length", "5").body(()).unwrap().into_parts();
        let incoming = Incoming::from_parts(&parts);
        assert!(matches!(incoming.path, KeyPath::Encoded("/stage/a%20b")));
        assert_eq!(incoming.body, BodySize::Known(5));
        parts.extensions.insert(FrontDoorPath::Decoded("a b".into()));
        assert!(matches!(Incoming::from_parts(&parts).path, KeyPath::Decoded("a b")));
    }

    #[test]
    fn declared_sizes() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            pairs
                .iter()
                .map(|(n, v)| (http::HeaderName::from_static(n), http::HeaderValue::from_static(v)))
                .collect::<HeaderMap>()
        };
        assert_eq!(BodySize::declared(&headers(&[])), BodySize::Absent);
        assert_eq!(BodySize::declared(&headers(&[("content-length", "7")])), BodySize::Known(7));
        assert_eq!(BodySize::declared(&headers(&[("transfer-encoding", "chunked")])), BodySize::Unknown);
    }
}
