//! AWS Lambda: the router behind `lambda_http`, for API Gateway REST and HTTP
//! APIs, ALB and Function URLs.
//!
//! Each front door hands the path over differently, so the key is taken from
//! the field that holds exactly the object's path (live captures of all four,
//! and `tests/lambda_events.rs`, show which):
//! - REST API: the `{proxy+}` parameter, still percent-encoded as sent; the
//!   event's `path` can carry a base-path mapping, and `lambda_http` adds the
//!   stage to the URI.
//! - HTTP API: the `{proxy+}` parameter, which API Gateway has already
//!   decoded (as it decodes `rawPath`, so decoding again would corrupt
//!   `b%2520c.txt`, and a decoded `?` would cut the URI short).
//! - Function URL and ALB: the raw path, percent-encoded as sent. A payload
//!   2.0 event on the `$default` route is taken as a Function URL's; an HTTP
//!   API must route `ANY /{proxy+}` (as `template.yaml` does), because on its
//!   `$default` route only an already-decoded `rawPath` would say the key.

use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use tower::ServiceExt;
use tower::util::MapRequest;

use super::with_secret_links;
use crate::aws;
use crate::config::{Config, StoreConfig};
use crate::gateway::{FrontDoorPath, Gateway, app};

/// Runs the Lambda event loop until the runtime stops it.
pub async fn run(config: Config) -> Result<(), lambda_http::Error> {
    let StoreConfig::External { endpoint, public_url, bucket, region } = &config.store else {
        return Err("the embedded store cannot run inside Lambda: set BUCKET_NAME".into());
    };
    let external = aws::load(endpoint.as_deref(), public_url.as_deref(), bucket, region.as_deref()).await?;
    let settings = with_secret_links(config.gateway, config.share_keys_secret.as_deref(), config.base_url).await?;
    let gateway = Gateway::build(settings, &external.location, external.credentials, external.storage).await?;
    lambda_http::run(handler(Arc::new(gateway))).await
}

/// The service `lambda_http` drives: the shared router, told where the key is.
pub fn handler(gateway: Arc<Gateway>) -> MapRequest<axum::Router, fn(Request) -> Request> {
    app(gateway).map_request(with_front_door_path as fn(Request) -> Request)
}

fn with_front_door_path(mut request: Request) -> Request {
    if let Some(path) = front_door_path(&request) {
        request.extensions_mut().insert(path);
    }
    request
}

fn front_door_path(request: &Request) -> Option<FrontDoorPath> {
    let proxy = request.path_parameters_ref().and_then(|params| params.first("proxy")).map(str::to_owned);
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(_) => Some(FrontDoorPath::Encoded(proxy.unwrap_or_default())),
        RequestContext::ApiGatewayV2(context) => Some(match proxy {
            Some(proxy) => FrontDoorPath::Decoded(proxy),
            // Function URLs route everything to `$default` and keep the path encoded.
            None if context.route_key.as_deref() == Some("$default") => {
                FrontDoorPath::Encoded(request.raw_http_path().to_owned())
            }
            // A route that carries no key, such as `ANY /`.
            None => FrontDoorPath::Encoded(String::new()),
        }),
        RequestContext::Alb(_) => Some(FrontDoorPath::Encoded(request.raw_http_path().to_owned())),
        #[allow(unreachable_patterns)] // Other front doors are compiled out.
        _ => None,
    }
}
