//! The HTTP face every transport shares: one router whose catch-all handler
//! answers with a 307 to a presigned URL. Lambda and the local server only
//! differ in how requests reach it.

mod access_log;
mod drain;
mod error;
mod handler;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use http::{HeaderName, header};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

pub use error::GatewayError;

use crate::config::{AllowedOrigins, Config};
use crate::core::{Decision, Incoming, Policy, decide};
use crate::signing::{CredentialsCache, EndpointError, PresignedUrl, Presigner, StoreLocation};

/// The header that carries the request id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The object's path as a front door hands it over, when that is not the URI
/// path (API Gateway's `{proxy+}` parameter, which leaves out stages and
/// base-path mappings). Transports insert it as a request extension; without
/// it the URI path is used.
#[derive(Debug, Clone)]
pub enum FrontDoorPath {
    /// Percent-encoded as sent: decoded exactly once.
    Encoded(String),
    /// Already decoded by the front door: taken as it is.
    Decoded(String),
}

/// Everything a request needs, built once at start-up and shared.
#[derive(Debug)]
pub struct Gateway {
    policy: Policy,
    presigner: Presigner,
    credentials: CredentialsCache,
    allowed_origins: AllowedOrigins,
}

impl Gateway {
    /// Puts the pieces together.
    #[must_use]
    pub fn new(
        policy: Policy,
        presigner: Presigner,
        credentials: CredentialsCache,
        allowed_origins: AllowedOrigins,
    ) -> Self {
        Self { policy, presigner, credentials, allowed_origins }
    }

    /// Resolves the bucket's endpoint and assembles the gateway for `config`.
    pub async fn build(
        config: &Config,
        location: &StoreLocation,
        credentials: CredentialsCache,
    ) -> Result<Self, EndpointError> {
        let presigner = Presigner::new(location.resolve().await?);
        Ok(Self::new(config.policy.clone(), presigner, credentials, config.allowed_origins.clone()))
    }

    /// Decides what `incoming` asks for and presigns it.
    pub async fn presign(&self, incoming: &Incoming<'_>) -> Result<(Decision, PresignedUrl), GatewayError> {
        let decision = decide(incoming, &self.policy)?;
        let credentials = self.credentials.get().await?;
        let url = self.presigner.presign(&decision, &credentials, SystemTime::now())?;
        Ok((decision, url))
    }
}

/// The router: the catch-all handler, request ids, the access log and CORS.
pub fn app(gateway: Arc<Gateway>) -> Router {
    let cors = crate::cors::layer(&gateway.allowed_origins, &[], [REQUEST_ID, header::ETAG]);
    let router = Router::new()
        .fallback(handler::handle)
        .with_state(gateway)
        .layer(axum::middleware::from_fn(access_log::log))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, access_log::RequestIds));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
