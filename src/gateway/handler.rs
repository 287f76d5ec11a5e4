//! The catch-all handler: read the completion or drain the body, reply,
//! render.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;

use super::drain::{self, Drained};
use super::{CompletionBody, Gateway, GatewayError};
use crate::core::completion::{BodyFormat, MAX_COMPLETION_BYTES};
use crate::core::query::Query;
use crate::core::{ALLOWED_METHODS, Rejection};

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
    let reply = match &query {
        Ok(query) => {
            let format = body_format(&parts.headers);
            let completion = completion.as_deref().map(|bytes| CompletionBody { bytes, format });
            gateway.reply(&parts, query, completion).await
        }
        Err(rejection) => Err(rejection.clone().into()),
    };
    let mut response = match reply {
        Ok(reply) => reply.render(&parts.headers),
        Err(error) => error.into_response(),
    };
    if drained == Drained::GaveUp {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// JSON when the body says so, else S3's XML.
fn body_format(headers: &HeaderMap) -> BodyFormat {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if json { BodyFormat::Json } else { BodyFormat::Xml }
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
