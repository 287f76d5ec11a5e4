//! AWS Lambda: the router behind `lambda_http`, for API Gateway REST and HTTP
//! APIs, ALB and Function URLs.

use std::sync::Arc;

use lambda_http::RequestExt;
use tower::ServiceBuilder;

use crate::aws;
use crate::config::{Config, StoreConfig};
use crate::gateway::{DecodedKeyPath, Gateway, app};

/// Runs the Lambda event loop until the runtime stops it.
pub async fn run(config: Config) -> Result<(), lambda_http::Error> {
    let StoreConfig::External {
        endpoint,
        public_url,
        bucket,
        region,
    } = &config.store
    else {
        return Err("the embedded store cannot run inside Lambda: set BUCKET_NAME".into());
    };
    let external = aws::load(
        endpoint.as_deref(),
        public_url.as_deref(),
        bucket,
        region.as_deref(),
    )
    .await?;
    let gateway = Gateway::build(&config, &external.location, external.credentials).await?;
    let service = ServiceBuilder::new()
        .map_request(key_from_proxy_parameter)
        .service(app(Arc::new(gateway)));
    lambda_http::run(service).await
}

/// API Gateway's `{proxy+}` parameter is the key without any stage or
/// base-path mapping, already decoded.
fn key_from_proxy_parameter(mut request: lambda_http::Request) -> lambda_http::Request {
    let proxy = request
        .path_parameters_ref()
        .and_then(|params| params.first("proxy"))
        .map(str::to_owned);
    if let Some(path) = proxy {
        request.extensions_mut().insert(DecodedKeyPath(path));
    }
    request
}
