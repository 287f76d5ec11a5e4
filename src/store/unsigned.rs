//! S3's rule for presigned URLs: every `x-amz-*` header a request carries
//! must be one its URL signed. Without it, anyone holding a presigned PUT
//! could add metadata the gateway never checked (its size, its encoding,
//! the `sha256` the CLI trusts) and storage would keep it. s3s checks the
//! signature of the headers that are signed, not that the others are absent,
//! so the store refuses them here, before s3s, as S3 does:
//! `403 AccessDenied` naming them in `HeadersNotSigned`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};

use crate::signing::LEFT_UNSIGNED;

/// Besides [`LEFT_UNSIGNED`], the payload hash, which a presigned URL fixes
/// as `UNSIGNED-PAYLOAD` anyway.
const PAYLOAD_HASH: &str = "x-amz-content-sha256";

/// Refuses a presigned request that carries an `x-amz-*` header its URL did not sign.
pub async fn refuse(request: Request, next: Next) -> Response {
    match unsigned(request.uri().query(), request.headers()) {
        Some(names) => refusal(&names),
        None => next.run(request).await,
    }
}

/// The `x-amz-*` headers a presigned request (`query` has `X-Amz-SignedHeaders`)
/// carries unsigned, `;`-separated; `None` when there are none, or the request
/// is not presigned (header authentication signs what it lists itself).
fn unsigned(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let signed = form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "X-Amz-SignedHeaders")
        .map(|(_, value)| value.into_owned())?;
    let names: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-amz-") && *name != PAYLOAD_HASH && !LEFT_UNSIGNED.contains(name))
        .filter(|name| !signed.split(';').any(|signed| signed.eq_ignore_ascii_case(name)))
        .collect();
    (!names.is_empty()).then(|| names.join(";"))
}

fn refusal(names: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message><HeadersNotSigned>{}</HeadersNotSigned></Error>",
        quick_xml::escape::escape(names)
    );
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&'static str]) -> HeaderMap {
        names.iter().map(|name| (http::HeaderName::from_static(name), http::HeaderValue::from_static("v"))).collect()
    }

    #[test]
    fn presigned_requests_carry_only_signed_amz_headers() {
        let query =
            Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-meta-title");
        let signed = headers(&["x-amz-meta-title", "content-length", "content-type", "x-amz-checksum-mode"]);
        assert_eq!(unsigned(query, &signed), None);
        let extra = headers(&["x-amz-meta-title", "x-amz-meta-sha256", "x-amz-meta-big"]);
        assert_eq!(unsigned(query, &extra).as_deref(), Some("x-amz-meta-sha256;x-amz-meta-big"));
        // Header authentication (no presigned query) is s3s's to check.
        assert_eq!(unsigned(Some("uploads"), &extra), None);
        assert_eq!(unsigned(None, &extra), None);
    }
}
