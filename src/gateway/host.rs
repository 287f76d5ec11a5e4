//! The `Host` check against DNS rebinding ([`crate::config::AllowedHosts`]),
//! a layer before every route of the gateway's port and the metrics port.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header;

use super::error::ErrorForm;
use super::{Gateway, GatewayError};

/// Answers `421` to a request whose `Host` the gateway does not answer to.
pub async fn check(State(gateway): State<Arc<Gateway>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).map(http::HeaderValue::as_bytes);
    match &gateway.allowed_hosts {
        Some(allowed) if !allowed.admits(host) => GatewayError::MisdirectedHost.render(&ErrorForm::Text),
        _ => next.run(request).await,
    }
}
