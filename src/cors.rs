//! CORS for browser pages on other origins, shared by the gateway and the
//! embedded store: the configured origins, the redirectable methods, any
//! request header, and the response headers page scripts may read.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::AllowedOrigins;

/// The layer for `origins` plus `extra_origins`, or `None` when no origin is
/// configured, so no CORS header is ever sent.
#[must_use]
pub fn layer(
    origins: &AllowedOrigins,
    extra_origins: &[HeaderValue],
    exposed: impl IntoIterator<Item = HeaderName>,
) -> Option<CorsLayer> {
    let allow_origin = match origins {
        AllowedOrigins::None => return None,
        AllowedOrigins::Any => AllowOrigin::any(),
        AllowedOrigins::List(list) => AllowOrigin::list(list.iter().chain(extra_origins).cloned()),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::DELETE])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(exposed.into_iter().collect::<Vec<_>>())
            .max_age(Duration::from_secs(600)),
    )
}
