//! CORS for browser pages on other origins, shared by the gateway and the
//! embedded store: the configured origins, the methods the gateway answers
//! (POST for links and multipart steps), any request header (the module
//! sends `Authorization`, `Upload-Length`, `Content-Type`, `Content-MD5`,
//! `x-amz-meta-*` and checksums), and the response headers page scripts may
//! read.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::AllowedOrigins;

/// The layer for `origins` plus `extra_origins`, or `None` when there are
/// none at all, so no CORS header is ever sent.
#[must_use]
pub fn layer(
    origins: &AllowedOrigins,
    extra_origins: &[HeaderValue],
    exposed: impl IntoIterator<Item = HeaderName>,
) -> Option<CorsLayer> {
    let allow_origin = match origins {
        AllowedOrigins::None if extra_origins.is_empty() => return None,
        AllowedOrigins::None => AllowOrigin::list(extra_origins.iter().cloned()),
        AllowedOrigins::Any => AllowOrigin::any(),
        AllowedOrigins::List(list) => AllowOrigin::list(list.iter().chain(extra_origins).cloned()),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::POST, Method::DELETE])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(exposed.into_iter().collect::<Vec<_>>())
            .max_age(Duration::from_secs(600)),
    )
}
