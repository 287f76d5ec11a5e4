//! The catch-all handler: drain what must be drained, decide, then redirect
//! or hand out a share link.

use std::sync::Arc;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

use super::access_log::Logged;
use super::drain::{self, Drained};
use super::{Answer, FrontDoorPath, Gateway, GatewayError, multipart};
use crate::core::grant::Grant;
use crate::core::multipart::MAX_COMPLETION_BYTES;
use crate::core::query::Query;
use crate::core::{ALLOWED_METHODS, BodySize, Incoming, KeyPath, Rejection, UploadHeaders};

pub(super) async fn handle(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, [(header::ALLOW, ALLOWED_METHODS)]).into_response();
    }
    let query = Query::parse(parts.uri.query());
    let completing = parts.method == Method::POST && query.as_ref().is_ok_and(|q| q.upload_id.is_some());
    // A completion's part list is read; any other body is drained before
    // signing, so the URL's lifetime starts when it is handed out.
    let (completion, drained) = if completing {
        match read_completion(body).await {
            Ok(bytes) => (Some(bytes), Drained::Complete),
            Err(response) => return response,
        }
    } else {
        (None, drain::unless_continue_expected(&parts.headers, body).await)
    };

    let path = match parts.extensions.get::<FrontDoorPath>() {
        Some(FrontDoorPath::Encoded(path)) => KeyPath::Encoded(path),
        Some(FrontDoorPath::Decoded(path)) => KeyPath::Decoded(path),
        None => KeyPath::Encoded(parts.uri.path()),
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let upload = UploadHeaders {
        upload_length: header("upload-length"),
        content_md5: header("content-md5"),
        if_none_match: header("if-none-match"),
        sha256: header("x-amz-meta-sha256"),
    };
    let incoming = Incoming { method: &parts.method, path, body: declared_size(&parts.headers), upload };
    let json_body = header("content-type").is_some_and(|t| t.starts_with("application/json"));
    let answer = match &query {
        Ok(query) => gateway.answer(&parts, &incoming, query, completion.as_deref().map(|b| (b, json_body))).await,
        Err(rejection) => Err(rejection.clone().into()),
    };
    let mut response = match answer {
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
        Ok(Answer::Multipart(order, outcome)) => {
            let logged = Logged { action: order.step.s3_name(), key: order.key.as_str().to_owned() };
            let mut response = multipart::respond(&parts.headers, &order, outcome);
            response.extensions_mut().insert(logged);
            response
        }
        Err(error) => error.into_response(),
    };
    if drained == Drained::GaveUp {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads a completion's part list, which is small: 10,000 parts fit in 2 MiB.
async fn read_completion(body: Body) -> Result<Bytes, Response> {
    match http_body_util::Limited::new(body, MAX_COMPLETION_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => {
            Err(GatewayError::from(Rejection::Completion("the part list is too long or was cut off")).into_response())
        }
    }
}

/// The link as a line of text, or as JSON when the client asks for it.
fn share_link(headers: &HeaderMap, url: &str, grant: &Grant) -> Response {
    let cache = (header::CACHE_CONTROL, "no-store");
    if !wants_json(headers) {
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
        None => BodySize::Absent,
    }
}

/// Whether the client asked for JSON (`Accept: application/json`) rather than the default.
pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}
