//! The catch-all handler: drain what must be drained, decide, presign, redirect.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::access_log::Logged;
use super::drain::{self, Drained};
use super::{FrontDoorPath, Gateway};
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
    let incoming =
        Incoming { method: &parts.method, path, query: parts.uri.query(), body: declared_size(&parts.headers) };
    let mut response = match gateway.presign(&incoming).await {
        Ok((decision, url)) => {
            let mut response = (
                StatusCode::TEMPORARY_REDIRECT,
                [
                    (header::LOCATION, url.header_value().clone()),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
            )
                .into_response();
            response.extensions_mut().insert(Logged { operation: decision.operation, key: decision.key });
            response
        }
        Err(error) => error.into_response(),
    };
    if drained == Drained::GaveUp {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn declared_size(headers: &HeaderMap) -> BodySize {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    match length {
        Some(length) => BodySize::Known(length),
        None if headers.contains_key(header::TRANSFER_ENCODING) => BodySize::Unknown,
        None => BodySize::Known(0),
    }
}
