//! The catch-all handler: drain what must be drained, decide, then redirect
//! or hand out a share link.

use std::sync::Arc;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::access_log::Logged;
use super::drain::{self, Drained};
use super::{Answer, FrontDoorPath, Gateway};
use crate::core::grant::Grant;
use crate::core::{ALLOWED_METHODS, BodySize, Incoming, KeyPath};

pub(super) async fn handle(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, [(header::ALLOW, ALLOWED_METHODS)]).into_response();
    }
    // Drain before signing, so the URL's lifetime starts when it is handed out.
    let drained = drain::unless_continue_expected(&parts.headers, body).await;

    let path = match parts.extensions.get::<FrontDoorPath>() {
        Some(FrontDoorPath::Encoded(path)) => KeyPath::Encoded(path),
        Some(FrontDoorPath::Decoded(path)) => KeyPath::Decoded(path),
        None => KeyPath::Encoded(parts.uri.path()),
    };
    let incoming = Incoming { method: &parts.method, path, body: declared_size(&parts.headers) };
    let mut response = match gateway.answer(&parts, &incoming).await {
        Ok(Answer::Redirect(decision, url)) => {
            let headers = [
                (header::LOCATION, url.header_value().clone()),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ];
            let mut response = (StatusCode::TEMPORARY_REDIRECT, headers).into_response();
            response
                .extensions_mut()
                .insert(Logged { action: decision.operation.s3_name(), key: decision.key.as_str().to_owned() });
            response
        }
        Ok(Answer::Shared { url, grant }) => {
            let mut response = share_link(&parts.headers, &url, &grant);
            response.extensions_mut().insert(Logged { action: "CreateShareLink", key: grant.key.as_str().to_owned() });
            response
        }
        Err(error) => error.into_response(),
    };
    if drained == Drained::GaveUp {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The link as a line of text, or as JSON when the client asks for it.
fn share_link(headers: &HeaderMap, url: &str, grant: &Grant) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let cache = (header::CACHE_CONTROL, "no-store");
    if !wants_json {
        return (StatusCode::CREATED, [cache], format!("{url}\n")).into_response();
    }
    let expires_at = DateTime::from(grant.expires_at).fmt(Format::DateTime).unwrap_or_default();
    let body = serde_json::json!({
        "url": url,
        "key": grant.key.as_str(),
        "methods": grant.methods.to_string(),
        "expires_at": expires_at,
        "max_size": grant.max_size,
    });
    (StatusCode::CREATED, [cache], axum::Json(body)).into_response()
}

fn declared_size(headers: &HeaderMap) -> BodySize {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    match length {
        Some(length) => BodySize::Known(length),
        None if headers.contains_key(header::TRANSFER_ENCODING) => BodySize::Unknown,
        None => BodySize::Known(0),
    }
}
