//! The HTTP face every transport shares: one router whose catch-all handler
//! answers with a 307 to a presigned URL. Lambda and the local server only
//! differ in how requests reach it.

mod access_log;
mod drain;
mod error;
mod handler;
mod multipart;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use http::{HeaderName, header};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};

pub use error::{ErrorChain, GatewayError};

use http::request::Parts;
use lambda_http::request::RequestContext;

use crate::auth::Authenticator;
use crate::config::AllowedOrigins;
use crate::core::grant::Grant;
use crate::core::query::Query;
use crate::core::{Action, Caller, Decision, Incoming, MultipartOrder, Policy, decide};
use crate::links::ShareKeys;
use crate::signing::{CredentialsCache, EndpointError, PresignedUrl, Presigner, StoreLocation};
use crate::storage::Storage;

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

/// Share links: the keys that sign and verify them, and the base URL minted
/// links start with (derived from the request when not configured).
#[derive(Debug)]
pub struct Links {
    /// Signing and verifying keys.
    pub keys: ShareKeys,
    /// The gateway's public base URL, such as `https://files.example.com`.
    pub base_url: Option<String>,
}

/// Everything a request needs, built once at start-up and shared.
#[derive(Debug)]
pub struct Gateway {
    policy: Policy,
    presigner: Presigner,
    credentials: CredentialsCache,
    allowed_origins: AllowedOrigins,
    auth: Authenticator,
    links: Option<Links>,
    storage: Option<Storage>,
}

/// What the gateway answers with.
#[derive(Debug)]
pub enum Answer {
    /// A 307 to a presigned URL.
    Redirect(Decision, PresignedUrl),
    /// A new share link.
    Shared {
        /// The link.
        url: String,
        /// What it allows.
        grant: Grant,
    },
    /// A multipart step done against storage.
    Multipart(MultipartOrder, multipart::Outcome),
}

impl Gateway {
    /// Puts the pieces together, with no authentication and no share links.
    #[must_use]
    pub fn new(
        policy: Policy,
        presigner: Presigner,
        credentials: CredentialsCache,
        allowed_origins: AllowedOrigins,
    ) -> Self {
        Self { policy, presigner, credentials, allowed_origins, auth: Authenticator::None, links: None, storage: None }
    }

    /// Performs multipart steps against `storage`.
    #[must_use]
    pub fn with_storage(self, storage: Storage) -> Self {
        Self { storage: Some(storage), ..self }
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

    /// Resolves the bucket's endpoint and assembles the gateway.
    pub async fn build(
        settings: GatewaySettings,
        location: &StoreLocation,
        credentials: CredentialsCache,
        storage: Storage,
    ) -> Result<Self, EndpointError> {
        let presigner = Presigner::new(location.resolve().await?);
        Ok(Self::new(settings.policy, presigner, credentials, settings.allowed_origins)
            .with_auth(settings.auth)
            .with_links(settings.links)
            .with_storage(storage))
    }

    /// Decides what `incoming` asks for, for whom, and answers it. `body`
    /// is the request body, read only for a multipart completion, and
    /// whether it is JSON.
    pub async fn answer(
        &self,
        request: &Parts,
        incoming: &Incoming<'_>,
        query: &Query,
        body: Option<(&[u8], bool)>,
    ) -> Result<Answer, GatewayError> {
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
        match decide(incoming, query, caller, &self.policy)? {
            Action::Presign(decision) => {
                let credentials = self.credentials.get().await?;
                let url = self.presigner.presign(&decision, &credentials, now)?;
                Ok(Answer::Redirect(decision, url))
            }
            Action::Share(order) => {
                let links = self.links()?;
                let base =
                    links.base_url.clone().or_else(|| request_base_url(request)).ok_or(GatewayError::NoBaseUrl)?;
                let grant = order.into_grant(now);
                Ok(Answer::Shared { url: links.keys.url(&base, &grant), grant })
            }
            Action::Multipart(order) => {
                let storage = self.storage.as_ref().ok_or(GatewayError::MultipartDisabled)?;
                let outcome = multipart::perform(storage, &order, body, &self.policy).await?;
                Ok(Answer::Multipart(order, outcome))
            }
        }
    }

    fn links(&self) -> Result<&Links, GatewayError> {
        self.links.as_ref().ok_or(GatewayError::LinksDisabled)
    }
}

/// The settings a gateway is built from, validated with the configuration.
#[derive(Debug)]
pub struct GatewaySettings {
    /// Rules every decision follows.
    pub policy: Policy,
    /// Browser origins allowed to call the gateway.
    pub allowed_origins: AllowedOrigins,
    /// How callers are authenticated.
    pub auth: Authenticator,
    /// Share links, if enabled.
    pub links: Option<Links>,
}

/// The gateway's own base URL as the client reached it: API Gateway's domain
/// and stage, or the `Host` header.
fn request_base_url(request: &Parts) -> Option<String> {
    let execute_api = |domain: &str| domain.contains(".execute-api.");
    match request.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(context)) => {
            let domain = context.domain_name.as_deref()?;
            match (execute_api(domain), context.stage.as_deref()) {
                (true, Some(stage)) => Some(format!("https://{domain}/{stage}")),
                _ => Some(format!("https://{domain}")),
            }
        }
        Some(RequestContext::ApiGatewayV2(context)) => {
            let domain = context.domain_name.as_deref()?;
            match (execute_api(domain), context.stage.as_deref()) {
                (true, Some(stage)) if stage != "$default" => Some(format!("https://{domain}/{stage}")),
                _ => Some(format!("https://{domain}")),
            }
        }
        _ => {
            let host = request.headers.get(header::HOST)?.to_str().ok()?;
            let secure = request.headers.get("x-forwarded-proto").is_some_and(|p| p.as_bytes() == b"https");
            Some(format!("{}://{host}", if secure { "https" } else { "http" }))
        }
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
