//! S3's rule for presigned URLs: every `x-amz-*` header a request carries
//! must be one its URL signed. Without it, anyone holding a presigned PUT
//! could add metadata the gateway never checked (its size, its encoding,
//! the `sha256` the CLI trusts) and storage would keep it. s3s checks the
//! signature of the headers that are signed, not that the others are absent,
//! so the store refuses them here, before s3s, as S3 does:
//! `403 AccessDenied` naming them in `HeadersNotSigned`.
//!
//! A write is held to the same rule for the headers the object keeps for
//! its downloads ([`OBJECT_HEADERS`]), which S3 itself takes unsigned.
//! With `--strict-signing` the store also refuses the `x-amz-*` headers S3
//! lets through unsigned, as Garage does (`400 InvalidRequest: Header
//! x-amz-checksum-mode should be signed`), so the clients are tested
//! against servers that sign strictly.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};

use crate::core::object_headers::OBJECT_HEADERS;

/// What S3 accepts unsigned on a presigned request: what `aws-sigv4` leaves
/// out of presigned signatures, and the payload hash, which a presigned URL
/// fixes as `UNSIGNED-PAYLOAD` anyway.
const UNSIGNED_ON_S3: [&str; 3] = ["x-amz-user-agent", "x-amz-checksum-mode", "x-amz-content-sha256"];

/// How strictly presigned requests are held to their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// As S3 does, besides the headers an object keeps.
    AsS3,
    /// Every `x-amz-*` header signed, as Garage wants.
    Strict,
}

/// Why a presigned request was refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// `403 AccessDenied`, as S3: these headers, `;`-separated.
    NotSigned(String),
    /// `400 InvalidRequest`, as Garage: the first such header.
    ShouldBeSigned(String),
}

/// Refuses a presigned request that carries a header its URL should have signed.
pub async fn refuse(State(signing): State<Signing>, request: Request, next: Next) -> Response {
    match unsigned(signing, request.method(), request.uri().query(), request.headers()) {
        Some(refusal) => refusal.into_response(),
        None => next.run(request).await,
    }
}

/// The refusal a presigned request (`query` has `X-Amz-SignedHeaders`) gets
/// for headers it carries unsigned; `None` when there are none, or the
/// request is not presigned (header authentication signs what it lists itself).
fn unsigned(signing: Signing, method: &Method, query: Option<&str>, headers: &HeaderMap) -> Option<Refusal> {
    let signed = form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "X-Amz-SignedHeaders")
        .map(|(_, value)| value.into_owned())?;
    let is_signed = |name: &str| signed.split(';').any(|signed| signed.eq_ignore_ascii_case(name));
    let names: Vec<&str> = headers.keys().map(http::HeaderName::as_str).filter(|name| !is_signed(name)).collect();
    if signing == Signing::Strict
        && let Some(name) = names.iter().find(|name| name.starts_with("x-amz-"))
    {
        return Some(Refusal::ShouldBeSigned((*name).to_owned()));
    }
    let writes = *method == Method::PUT || *method == Method::POST;
    let names: Vec<&str> = names
        .into_iter()
        .filter(|name| {
            (name.starts_with("x-amz-") && !UNSIGNED_ON_S3.contains(name)) || (writes && OBJECT_HEADERS.contains(name))
        })
        .collect();
    (!names.is_empty()).then(|| Refusal::NotSigned(names.join(";")))
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::NotSigned(names) => (
                StatusCode::FORBIDDEN,
                format!(
                    "<Code>AccessDenied</Code><Message>There were headers present in the request which were not signed: {names}</Message><HeadersNotSigned>{names}</HeadersNotSigned>",
                    names = quick_xml::escape::escape(names)
                ),
            ),
            Self::ShouldBeSigned(name) => (
                StatusCode::BAD_REQUEST,
                format!(
                    "<Code>InvalidRequest</Code><Message>Header {} should be signed</Message>",
                    quick_xml::escape::escape(name)
                ),
            ),
        };
        let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>{body}</Error>");
        (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&'static str]) -> HeaderMap {
        names.iter().map(|name| (http::HeaderName::from_static(name), http::HeaderValue::from_static("v"))).collect()
    }

    const QUERY: Option<&str> =
        Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-meta-title");

    #[allow(clippy::unnecessary_wraps)] // Compared with what `unsigned` returns.
    fn not_signed(names: &str) -> Option<Refusal> {
        Some(Refusal::NotSigned(names.to_owned()))
    }

    #[test]
    fn presigned_requests_carry_only_signed_amz_headers() {
        let put = &Method::PUT;
        let signed = headers(&["x-amz-meta-title", "content-length", "content-type", "x-amz-checksum-mode"]);
        assert_eq!(unsigned(Signing::AsS3, put, QUERY, &signed), None);
        let extra = headers(&["x-amz-meta-title", "x-amz-meta-sha256", "x-amz-meta-big"]);
        assert_eq!(unsigned(Signing::AsS3, put, QUERY, &extra), not_signed("x-amz-meta-sha256;x-amz-meta-big"));
        // Header authentication (no presigned query) is s3s's to check.
        assert_eq!(unsigned(Signing::AsS3, put, Some("uploads"), &extra), None);
        assert_eq!(unsigned(Signing::AsS3, put, None, &extra), None);
    }

    #[test]
    fn writes_carry_only_signed_object_headers() {
        for method in [Method::PUT, Method::POST] {
            let sent = headers(&["content-length", "content-disposition", "cache-control", "expires"]);
            let refusal = unsigned(Signing::AsS3, &method, QUERY, &sent);
            assert_eq!(refusal, not_signed("content-disposition;cache-control;expires"), "{method}");
        }
        let signed = Some("X-Amz-SignedHeaders=content-disposition%3Bcontent-length%3Bhost");
        let sent = headers(&["content-length", "content-disposition"]);
        assert_eq!(unsigned(Signing::AsS3, &Method::PUT, signed, &sent), None);
        // A browser's reload sends `Cache-Control` on a GET, which stores nothing.
        let reload = headers(&["cache-control"]);
        assert_eq!(unsigned(Signing::AsS3, &Method::GET, QUERY, &reload), None);
        assert_eq!(unsigned(Signing::Strict, &Method::GET, QUERY, &reload), None);
    }

    #[test]
    fn strict_signing_wants_every_amz_header_signed() {
        let get = &Method::GET;
        let mode = headers(&["x-amz-checksum-mode"]);
        assert_eq!(unsigned(Signing::AsS3, get, QUERY, &mode), None);
        let should = Some(Refusal::ShouldBeSigned("x-amz-checksum-mode".into()));
        assert_eq!(unsigned(Signing::Strict, get, QUERY, &mode), should);
        let signed = Some("X-Amz-SignedHeaders=host%3Bx-amz-checksum-mode");
        assert_eq!(unsigned(Signing::Strict, get, signed, &mode), None);
        let agent = headers(&["x-amz-user-agent", "x-amz-meta-title"]);
        let should = Some(Refusal::ShouldBeSigned("x-amz-user-agent".into()));
        assert_eq!(unsigned(Signing::Strict, get, QUERY, &agent), should);
        assert_eq!(unsigned(Signing::Strict, get, None, &agent), None);
    }
}
