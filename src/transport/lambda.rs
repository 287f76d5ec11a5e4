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
//!
//! This is the only module that knows Lambda: what the router needs from an
//! event beyond the HTTP request goes in as neutral request extensions (the
//! key's path, the public base URL, the authorizer's claims, the request id).
//! Each access log line carries the request's metrics in CloudWatch Embedded
//! Metric Format (namespace `METRICS_NAMESPACE`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;
use tower::ServiceExt;
use tower::util::MapRequest;

use crate::auth::AuthorizerClaims;
use crate::config::Config;
use crate::core::FrontDoorPath;
use crate::gateway::{EmfLog, Gateway, PlatformRequestId, PublicBaseUrl, app};

/// How long start-up waits for the runtime API to listen: locally, `cargo
/// lambda watch` may come up after the function.
const RUNTIME_API_PATIENCE: Duration = Duration::from_secs(10);

/// Runs the Lambda event loop until the runtime stops it.
pub async fn run(config: Config) -> Result<(), lambda_http::Error> {
    wait_for_runtime_api().await?;
    let emf = EmfLog::to_stderr(config.metrics_namespace.clone());
    let started = super::start(config, &[], std::future::pending()).await?;
    lambda_http::run(handler(Arc::new(started.gateway.with_emf(emf)))).await
}

/// Waits until `AWS_LAMBDA_RUNTIME_API` (`host:port`, or a URL as `cargo
/// lambda` gives it) takes connections, so a runtime that is not there yet
/// is waited for, and one that never comes is named, not left as a bare
/// "Connection refused".
async fn wait_for_runtime_api() -> Result<(), String> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    let without_scheme = api.split_once("://").map_or(api.as_str(), |(_, rest)| rest);
    let address = without_scheme.split('/').next().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + RUNTIME_API_PATIENCE;
    loop {
        match tokio::net::TcpStream::connect(address).await {
            Ok(_) => return Ok(()),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "the Lambda runtime API at {address} (AWS_LAMBDA_RUNTIME_API) cannot be reached after {RUNTIME_API_PATIENCE:?}: {error}"
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The service `lambda_http` drives: the shared router, with what the event
/// says beyond the HTTP request.
pub fn handler(gateway: Arc<Gateway>) -> MapRequest<axum::Router, fn(Request) -> Request> {
    app(gateway).map_request(with_front_door as fn(Request) -> Request)
}

fn with_front_door(mut request: Request) -> Request {
    let path = front_door_path(&request);
    let base_url = public_base_url(&request);
    let claims = authorizer_claims(&request);
    let request_id = request.lambda_context_ref().map(|context| context.request_id.clone());
    let extensions = request.extensions_mut();
    if let Some(path) = path {
        extensions.insert(path);
    }
    if let Some(url) = base_url {
        extensions.insert(PublicBaseUrl(url));
    }
    if let Some(claims) = claims {
        extensions.insert(AuthorizerClaims(claims));
    }
    if let Some(id) = request_id {
        extensions.insert(PlatformRequestId(id));
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

/// API Gateway's domain and stage (a named stage of the API's own domain is
/// part of its URLs; `$default` and custom domains are not).
fn public_base_url(request: &Request) -> Option<String> {
    let execute_api = |domain: &str| domain.contains(".execute-api.");
    let (domain, stage) = match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => (context.domain_name.as_deref()?, context.stage.as_deref()),
        RequestContext::ApiGatewayV2(context) => {
            (context.domain_name.as_deref()?, context.stage.as_deref().filter(|stage| *stage != "$default"))
        }
        #[allow(unreachable_patterns)] // Other front doors are compiled out.
        _ => return None,
    };
    match (execute_api(domain), stage) {
        (true, Some(stage)) => Some(format!("https://{domain}/{stage}")),
        _ => Some(format!("https://{domain}")),
    }
}

/// The claims an authorizer vouched for: an HTTP API JWT authorizer
/// (`authorizer.jwt.claims`), a Lambda authorizer's context
/// (`authorizer.lambda` in payload 2.0, the authorizer object itself in 1.0),
/// or a REST API Cognito authorizer (`authorizer.claims`).
fn authorizer_claims(request: &Request) -> Option<HashMap<String, Value>> {
    let claims: HashMap<String, Value> = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => {
            let authorizer = context.authorizer.as_ref()?;
            match &authorizer.jwt {
                Some(jwt) => jwt.claims.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
                None => authorizer.fields.clone(),
            }
        }
        RequestContext::ApiGatewayV1(context) => match context.authorizer.fields.get("claims") {
            Some(Value::Object(cognito)) => cognito.clone().into_iter().collect(),
            _ => context.authorizer.fields.clone(),
        },
        #[allow(unreachable_patterns)] // ALB has no authorizer; other front doors are compiled out.
        _ => return None,
    };
    (!claims.is_empty()).then_some(claims)
}
