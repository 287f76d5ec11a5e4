//! The HTTP face every transport shares: one router whose catch-all handler
//! answers with a 307 to a presigned URL. Lambda and the local server only
//! differ in how requests reach it; what a front door knows beyond the HTTP
//! request (the object's path, the public base URL, the authorizer's claims,
//! its request id) arrives as neutral request extensions.
//!
//! A request goes: [`handler`] reads it, [`Gateway::reply`] authenticates
//! and asks [`crate::core::decide`] what to do, then signs, mints a link or
//! runs a multipart step ([`multipart`]); [`reply`] renders the answer and
//! [`error`] maps every failure to its status. [`access_log`] wraps it all:
//! one log line and the request's counts ([`crate::metrics`]) per request;
//! [`ready`] says whether the gateway can serve.

mod access_log;
mod drain;
mod error;
mod handler;
mod multipart;
mod ready;
mod reply;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use http::request::Parts;
use http::{HeaderName, header};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

pub use access_log::{EmfLog, PlatformRequestId};
pub use error::GatewayError;
pub use ready::NotReady;
pub use reply::Reply;

use crate::auth::Authenticator;
use crate::config::{AllowedOrigins, GatewaySettings, Links};
use crate::core::completion::BodyFormat;
use crate::core::query::Query;
use crate::core::{Action, Caller, Incoming, Policy, decide};
use crate::metrics::Metrics;
use crate::signing::{CredentialsCache, EndpointError, Presigner, StoreLocation};
use crate::storage::{Metered, Storage};

/// The header that carries the request id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The gateway's public base URL as the front door knows it (API Gateway's
/// domain and stage), for share links. Transports insert it as a request
/// extension; without it the `Host` header is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBaseUrl(pub String);

/// A completion's part list, read before the request is answered.
#[derive(Debug, Clone, Copy)]
pub struct CompletionBody<'a> {
    /// The bytes as sent.
    pub bytes: &'a [u8],
    /// How to read them.
    pub format: BodyFormat,
}

/// Everything a request needs, built once at start-up and shared.
#[derive(Debug)]
pub struct Gateway {
    policy: Policy,
    presigner: Presigner,
    credentials: CredentialsCache,
    storage: Arc<dyn Storage>,
    allowed_origins: AllowedOrigins,
    auth: Authenticator,
    links: Option<Links>,
    metrics: Arc<Metrics>,
    emf: Option<EmfLog>,
}

impl Gateway {
    /// Puts the pieces together, with no authentication, no share links and
    /// no CORS. Storage calls are counted in the gateway's metrics, and
    /// credentials are refreshed early enough to sign URLs of the policy's
    /// full lifetime.
    #[must_use]
    pub fn new(policy: Policy, presigner: Presigner, credentials: CredentialsCache, storage: Arc<dyn Storage>) -> Self {
        let metrics = Arc::new(Metrics::new());
        Self {
            credentials: credentials.for_urls_of(policy.expires_in),
            policy,
            presigner,
            storage: Arc::new(Metered::new(storage, metrics.clone())),
            allowed_origins: AllowedOrigins::None,
            auth: Authenticator::None,
            links: None,
            metrics,
            emf: None,
        }
    }

    /// Writes each access log line in CloudWatch Embedded Metric Format (Lambda).
    #[must_use]
    pub fn with_emf(self, emf: EmfLog) -> Self {
        Self { emf: Some(emf), ..self }
    }

    /// The gateway's counts.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Authenticates requests with `auth`.
    #[must_use]
    pub fn with_auth(self, auth: Authenticator) -> Self {
        Self { auth, ..self }
    }

    /// Mints and opens share links with `links`.
    #[must_use]
    pub fn with_links(self, links: Option<Links>) -> Self {
        Self { links, ..self }
    }

    /// Answers CORS preflights from `origins`.
    #[must_use]
    pub fn with_allowed_origins(self, allowed_origins: AllowedOrigins) -> Self {
        Self { allowed_origins, ..self }
    }

    /// Resolves the bucket's endpoint and assembles the gateway from validated settings.
    pub async fn build(
        settings: GatewaySettings,
        location: &StoreLocation,
        credentials: CredentialsCache,
        storage: Arc<dyn Storage>,
    ) -> Result<Self, EndpointError> {
        let presigner = Presigner::new(location.resolve().await?);
        Ok(Self::new(settings.policy, presigner, credentials, storage)
            .with_auth(settings.auth)
            .with_links(settings.links)
            .with_allowed_origins(settings.allowed_origins))
    }

    /// Decides what `request` asks for, for whom, and does it. `completion`
    /// is the body of a multipart completion, the only body ever read.
    pub async fn reply(
        &self,
        request: &Parts,
        query: &Query,
        completion: Option<CompletionBody<'_>>,
    ) -> Result<Reply, GatewayError> {
        let now = SystemTime::now();
        let (grant, tenant);
        // A share link stands in for authentication; anything else must authenticate.
        let caller = if let Some(token) = &query.token {
            grant = self.links()?.keys.verify(token, now)?;
            Caller::Link(&grant)
        } else {
            tenant = self.auth.authenticate(request)?;
            Caller::Owner(tenant.as_ref())
        };
        let action = decide(&Incoming::from_parts(request), query, caller, &self.policy)?;
        crate::metrics::note_operation(match &action {
            Action::Presign(order) => order.operation.s3_name(),
            Action::Share(_) => "CreateShareLink",
            Action::Multipart(order) => order.step.s3_name(),
        });
        match action {
            Action::Presign(order) => {
                let credentials = self.credentials.get().await?;
                let url = self.presigner.presign(&order, &credentials, now)?;
                Ok(Reply::Redirect(order, url))
            }
            Action::Share(order) => {
                let links = self.links()?;
                let base =
                    links.base_url.clone().or_else(|| request_base_url(request)).ok_or(GatewayError::NoBaseUrl)?;
                let grant = order.into_grant(now);
                Ok(Reply::Shared { url: links.keys.url(&base, &grant), grant })
            }
            Action::Multipart(order) => {
                let done = multipart::perform(self.storage.as_ref(), &order, completion, &self.policy).await?;
                Ok(Reply::Multipart(order, done))
            }
        }
    }

    fn links(&self) -> Result<&Links, GatewayError> {
        self.links.as_ref().ok_or(GatewayError::LinksDisabled)
    }
}

/// The gateway's own base URL as the client reached it: the front door's,
/// or the `Host` header.
fn request_base_url(request: &Parts) -> Option<String> {
    if let Some(PublicBaseUrl(url)) = request.extensions.get::<PublicBaseUrl>() {
        return Some(url.clone());
    }
    let host = request.headers.get(header::HOST)?.to_str().ok()?;
    let secure = request.headers.get("x-forwarded-proto").is_some_and(|p| p.as_bytes() == b"https");
    Some(format!("{}://{host}", if secure { "https" } else { "http" }))
}

/// The router: the catch-all handler, request ids, the access log and CORS.
pub fn app(gateway: Arc<Gateway>) -> Router {
    let cors = crate::cors::layer(&gateway.allowed_origins, &[], [REQUEST_ID, header::ETAG]);
    let router = Router::new()
        .fallback(handler::handle)
        .with_state(gateway.clone())
        .layer(axum::middleware::from_fn_with_state(gateway, access_log::log))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, access_log::RequestIds));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
