//! The HTTP face every transport shares: one router whose catch-all handler
//! answers with a 307 to a presigned URL. Lambda and the local server only
//! differ in how requests reach it; what a front door knows beyond the HTTP
//! request (the object's path, the public base URL, the authorizer's claims,
//! its request id) arrives as neutral request extensions.
//!
//! A request goes: [`handler`] reads it, [`Gateway::decide`] authenticates
//! from the headers and asks [`crate::core::decide`] what to do, then
//! [`Gateway::perform`] signs, mints a link, lists ([`listing`]) or runs a
//! multipart step ([`multipart`]); [`reply`] renders the answer and
//! [`error`] maps every failure to its status. [`access_log`] wraps it all:
//! one log line and the request's counts ([`crate::metrics`]) per request;
//! [`ready`] says whether the gateway can serve.

mod access_log;
mod body;
mod catalog;
mod drain;
mod error;
mod handler;
mod host;
mod keys;
mod listing;
mod multipart;
mod pace;
mod page;
mod rate;
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
pub use host::check as check_host;
pub use ready::NotReady;
pub use reply::Reply;

use crate::auth::Authenticator;
use crate::catalog::processor::Processor;
use crate::catalog::{Catalog, Uploader};
use crate::config::{AllowedHosts, AllowedOrigins, BodyLimits, GatewaySettings, Links, RateLimitSettings, SignIn};
use crate::core::api_key;
use crate::core::completion::BodyFormat;
use crate::core::grant::Grant;
use crate::core::query::Query;
use crate::core::tenant::TenantId;
use crate::core::{
    Action, Caller, Incoming, LinksOrder, LinksStep, ListOrder, MultipartStep, Operation, Policy, PresignOrder, decide,
};
use crate::keys::ApiKeys;
use crate::links::records::{Checked, LinkRecords};
use crate::links::{LinkError, object_url};
use crate::metrics::Metrics;
use crate::signing::{CredentialsCache, EndpointError, Presigner, StoreLocation};
use crate::storage::{Metered, Storage};
use crate::wire::S3Names;
use body::Bodies;
use rate::RateLimit;

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
    allowed_hosts: Option<AllowedHosts>,
    auth: Authenticator,
    sign_in: Option<SignIn>,
    links: Option<Links>,
    base_url: Option<String>,
    bucket: String,
    bodies: Bodies,
    metrics: Arc<Metrics>,
    emf: Option<EmfLog>,
    catalog: Option<Catalog>,
    presets: Vec<String>,
    renderer: Option<Processor>,
    rate_limit: Option<RateLimit>,
    keys: Option<Arc<ApiKeys>>,
    link_records: Option<LinkRecords>,
}

/// What a request was decided to do, and who asked (for the upload log).
#[derive(Debug)]
pub struct Decided {
    /// What to do.
    pub action: Action,
    /// Who asked.
    pub uploader: Uploader,
    /// The link it came through, when that link has a record to check
    /// (and, when the action spends a use, to count it in).
    pub link: Option<RecordedUse>,
}

/// A use of a link with a record.
#[derive(Debug)]
pub struct RecordedUse {
    /// What the link's token grants (its id included).
    pub grant: Grant,
    /// Whether this use counts, or continues an upload ([`crate::core::share::link_use`]).
    pub asked: crate::core::share::LinkUse,
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
            allowed_hosts: None,
            auth: Authenticator::None,
            sign_in: None,
            links: None,
            base_url: None,
            bucket: String::new(),
            bodies: Bodies::new(BodyLimits::default()),
            metrics,
            emf: None,
            catalog: None,
            presets: Vec::new(),
            renderer: None,
            rate_limit: None,
            keys: None,
            link_records: None,
        }
    }

    /// Keeps API keys in `keys` (with `--auth jwt` only: see [`Gateway::keys`]).
    #[must_use]
    pub fn with_api_keys(self, keys: Option<Arc<ApiKeys>>) -> Self {
        Self { keys, ..self }
    }

    /// Gives every new share link a record in `records` (which counts its
    /// uses and lets its owner list and revoke it), and checks the record of
    /// every link that has one; `None` keeps new links stateless.
    #[must_use]
    pub fn with_link_records(mut self, records: Option<LinkRecords>) -> Self {
        self.policy.link_records = records.is_some();
        Self { link_records: records, ..self }
    }

    /// Keeps the upload log in `catalog` (intents before uploads, records
    /// for listings), and answers `?rendition=` for the `presets` named,
    /// making one added since an object was rendered with `renderer`, when
    /// this gateway renders (the local server; in Lambda, the processor
    /// function does).
    #[must_use]
    pub fn with_catalog(mut self, catalog: Option<Catalog>, presets: Vec<String>, renderer: Option<Processor>) -> Self {
        self.policy.catalog = catalog.is_some();
        Self { catalog, presets, renderer, ..self }
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

    /// Lets the page sign visitors in with `sign_in`'s provider.
    #[must_use]
    pub fn with_sign_in(self, sign_in: Option<SignIn>) -> Self {
        Self { sign_in, ..self }
    }

    /// Mints and opens share links with `links`.
    #[must_use]
    pub fn with_links(self, links: Option<Links>) -> Self {
        Self { links, ..self }
    }

    /// Names the gateway `base_url` in share links and S3's `Location`,
    /// instead of each request's front door or `Host`.
    #[must_use]
    pub fn with_base_url(self, base_url: Option<String>) -> Self {
        Self { base_url, ..self }
    }

    /// Names `bucket` where S3's XML names the bucket.
    #[must_use]
    pub fn with_bucket(self, bucket: String) -> Self {
        Self { bucket, ..self }
    }

    /// Answers CORS preflights from `origins`.
    #[must_use]
    pub fn with_allowed_origins(self, allowed_origins: AllowedOrigins) -> Self {
        Self { allowed_origins, ..self }
    }

    /// Answers only requests whose `Host` `allowed` admits (any, with `None`).
    #[must_use]
    pub fn with_allowed_hosts(self, allowed: Option<AllowedHosts>) -> Self {
        Self { allowed_hosts: allowed, ..self }
    }

    /// Reads request bodies (a completion's part list, or one the gateway
    /// drains) within `limits`.
    #[must_use]
    pub fn with_body_limits(self, limits: BodyLimits) -> Self {
        Self { bodies: Bodies::new(limits), ..self }
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
            .with_sign_in(settings.sign_in)
            .with_links(settings.links)
            .with_base_url(settings.base_url)
            .with_bucket(location.bucket.clone())
            .with_allowed_origins(settings.allowed_origins)
            .with_allowed_hosts(settings.allowed_hosts)
            .with_body_limits(settings.bodies)
            .with_rate_limit(settings.rate_limit))
    }

    /// Paces each tenant to `settings` (`--rate-limit`).
    #[must_use]
    pub fn with_rate_limit(self, settings: Option<RateLimitSettings>) -> Self {
        let rate_limit = settings.map(|settings| RateLimit::new(settings.per_second, settings.burst));
        Self { rate_limit, ..self }
    }

    /// Who is asking and what for, from the request's headers alone: a
    /// share link or API key is verified, or the caller authenticated,
    /// before anything else, and no body has been read.
    pub async fn decide(&self, request: &Parts, query: &Query, now: SystemTime) -> Result<Decided, GatewayError> {
        let (grant, identity, key);
        let mut confined = None;
        // A share link stands in for authentication; anything else must authenticate.
        let (caller, uploader) = if let Some(token) = &query.token {
            grant = self.links()?.keys.verify(token, now)?;
            if grant.tenant.is_none() && self.auth.has_tenants() {
                return Err(LinkError::NoTenant.into());
            }
            (Caller::Link(&grant), Uploader::link(token))
        } else if let Some(secret) = self.auth.api_key(request) {
            key = self.keys()?.verify(secret).await?;
            confined = Some(&key);
            (Caller::Owner(Some(&key.tenant)), Uploader::Key(key.id.as_str().to_owned()))
        } else {
            identity = self.auth.identify(request)?;
            let uploader = identity.subject.clone().map_or(Uploader::Anonymous, Uploader::Subject);
            (Caller::Owner(identity.tenant.as_ref()), uploader)
        };
        let tenant = match caller {
            Caller::Owner(tenant) => tenant,
            Caller::Link(grant) => grant.tenant.as_ref(),
        };
        let action = decide(&Incoming::from_parts(request), query, caller, &self.policy)?;
        if let Some(key) = confined {
            api_key::confine(&action, &key.scope, &key.tenant, &self.policy)?;
        }
        if let Some(limit) = &self.rate_limit {
            limit.take(tenant.map_or("", TenantId::as_str), action.cost()).map_err(GatewayError::RateLimited)?;
        }
        crate::metrics::note_operation(action.s3_name());
        if matches!(action, Action::Share(_)) {
            // Refused now, before any body, if the link could not say where it leads.
            self.link_base(request)?;
        }
        let link = match caller {
            Caller::Link(grant) if grant.id.is_some() => {
                Some(RecordedUse { grant: grant.clone(), asked: crate::core::share::link_use(&action) })
            }
            _ => None,
        };
        Ok(Decided { action, uploader, link })
    }

    /// Checks the record of the link a request came through, and counts the
    /// use if it spends one: fails closed (`503`) when the record cannot be
    /// read, `410` when it says the link is revoked or used up.
    async fn check_link(&self, link: &RecordedUse) -> Result<(), GatewayError> {
        let Some(id) = &link.grant.id else { return Ok(()) };
        let records = self.link_records.as_ref().ok_or(GatewayError::NoLinkRecords)?;
        match records.use_link(&link.grant, id, link.asked, crate::state::now_seconds()).await? {
            Checked::Open => Ok(()),
            Checked::Gone(gone) => Err(gone.into()),
            Checked::Mismatch => Err(LinkError::Invalid.into()),
        }
    }

    /// Does what `action` says. `completion` is the body of a multipart
    /// completion or of a new API key's terms, the only bodies ever read.
    pub async fn perform(
        &self,
        request: &Parts,
        decided: Decided,
        completion: Option<CompletionBody<'_>>,
    ) -> Result<Reply, GatewayError> {
        let Decided { action, uploader, link } = decided;
        if let Some(link) = &link {
            self.check_link(link).await?;
        }
        match action {
            Action::Keys(order) => keys::perform(self.keys()?, order, completion.map_or(&[], |body| body.bytes)).await,
            Action::Presign(order) => {
                if let (Some(catalog), Operation::Put) = (&self.catalog, order.operation) {
                    // Nothing is signed without its record: no record, no upload.
                    let size = order.signed_headers.iter().find(|(name, _)| *name == "content-length");
                    let size = size.and_then(|(_, value)| value.parse().ok());
                    catalog::intend(catalog, &order.key, &uploader, size, order.expires_in).await?;
                }
                self.sign(order, SystemTime::now()).await
            }
            Action::Rendition(order, name) => {
                let renderer = self.renderer.as_ref();
                let order = catalog::rendition(self.catalog()?, &self.presets, renderer, order, &name).await?;
                self.sign(order, catalog::rendition_signing_time(SystemTime::now())).await
            }
            Action::Status(order) => Ok(Reply::Status(catalog::status(self.catalog()?, &order).await?)),
            Action::Log(order) => Ok(Reply::Log(catalog::log(self.catalog()?, &order).await?)),
            Action::Share(order) => {
                let base = self.link_base(request)?;
                let now = SystemTime::now();
                let seconds = crate::state::now_seconds();
                let id = self.link_records.as_ref().map(|_| LinkRecords::new_id(seconds));
                let grant = order.grant(now, id);
                if let Some(records) = &self.link_records {
                    // No link is handed out without its record.
                    records.create(&grant, uploader.text(), seconds, order.max_uses).await?;
                }
                Ok(Reply::Shared { url: self.links()?.keys.url(&base, &grant), grant, max_uses: order.max_uses })
            }
            Action::Links(order) => self.links_step(order).await,
            Action::Multipart(order) => {
                if let (Some(catalog), MultipartStep::Complete { .. }) = (&self.catalog, &order.step) {
                    // Attributed at completion, where the caller is known: any size goes.
                    let lifetime = std::time::Duration::from_secs(3600);
                    catalog::intend(catalog, &order.key, &uploader, None, lifetime).await?;
                }
                let done = multipart::perform(self.storage.as_ref(), &order, completion).await?;
                // Without a base URL, front door or valid `Host`, a path: S3 clients read the key beside it.
                let base = self.public_base(request).unwrap_or_default();
                let location = object_url(&base, order.object.as_str());
                let names = S3Names { bucket: self.bucket.clone(), location };
                Ok(Reply::Multipart(order, done, names))
            }
            Action::List(order) => {
                if let Some(unknown) =
                    order.renditions.iter().find(|name| !self.presets.iter().any(|p| p == name.as_str()))
                {
                    return Err(GatewayError::UnknownRendition(unknown.as_str().to_owned()));
                }
                let page = listing::list(self.storage.as_ref(), self.catalog.as_ref(), &order).await?;
                let page = self.with_rendition_urls(page, &order).await?;
                Ok(Reply::Listing(order, page))
            }
        }
    }

    /// Lists the caller's links, or revokes one.
    async fn links_step(&self, order: LinksOrder) -> Result<Reply, GatewayError> {
        let records = self.link_records.as_ref().ok_or(crate::core::Rejection::LinkRecordsOff)?;
        match order.step {
            LinksStep::List => Ok(Reply::Links(records.list(order.tenant.as_ref()).await?)),
            LinksStep::Revoke(id) => {
                if records.revoke(order.tenant.as_ref(), &id).await? {
                    Ok(Reply::Revoked)
                } else {
                    Err(GatewayError::NoSuchLink)
                }
            }
        }
    }

    /// `order` signed as of `now`, as a redirect or JSON.
    async fn sign(&self, order: PresignOrder, now: SystemTime) -> Result<Reply, GatewayError> {
        let credentials = self.credentials.get().await?;
        let url = self.presigner.presign(&order, &credentials, now)?;
        Ok(Reply::Redirect(order, url))
    }

    /// The API keys, or why there are none: they need `--auth jwt` (the
    /// gateway verifying bearer tokens itself; behind API Gateway's JWT
    /// authorizer a key would never reach it) and a state store.
    fn keys(&self) -> Result<&ApiKeys, GatewayError> {
        match (&self.keys, &self.auth) {
            (Some(keys), _) => Ok(keys),
            (None, Authenticator::Jwt(_)) => Err(GatewayError::KeysOff(
                "they are kept in the state store: run with --state-table, or serve's local state file (--state-dir)",
            )),
            (None, _) => {
                Err(GatewayError::KeysOff("they need --auth jwt (the gateway verifying bearer tokens itself)"))
            }
        }
    }

    fn catalog(&self) -> Result<&Catalog, GatewayError> {
        self.catalog.as_ref().ok_or(GatewayError::CatalogOff)
    }

    /// The listing with a signed URL for each rendition asked for that is made.
    async fn with_rendition_urls(
        &self,
        mut page: listing::Listed,
        order: &ListOrder,
    ) -> Result<crate::wire::FolderPage, GatewayError> {
        if order.renditions.is_empty() || page.made.is_empty() {
            return Ok(page.page);
        }
        let credentials = self.credentials.get().await?;
        let now = catalog::rendition_signing_time(SystemTime::now());
        let base = self.presign_order_for_listing();
        for object in &mut page.page.objects {
            let Some(made) = page.made.remove(&object.key) else { continue };
            let mut links = std::collections::BTreeMap::new();
            for name in &order.renditions {
                let Some(rendition) = made.get(name.as_str()) else { continue };
                let order = catalog::turned_to(base.clone(), &rendition.key);
                let url = self.presigner.presign(&order, &credentials, now)?;
                let link = crate::wire::RenditionLink {
                    url: url.as_str().to_owned(),
                    width: rendition.width,
                    height: rendition.height,
                };
                links.insert(name.as_str().to_owned(), link);
            }
            object.renditions = Some(links);
        }
        Ok(page.page)
    }

    /// A `GET` order of the policy's lifetime, for renditions in listings.
    fn presign_order_for_listing(&self) -> PresignOrder {
        PresignOrder {
            operation: Operation::Get,
            key: crate::core::tenant::StorageKey::rendition(String::new()),
            expires_in: self.policy.expires_in,
            valid_until: None,
            response: crate::core::ResponseOverrides::default(),
            signed_headers: Vec::new(),
            metadata: Vec::new(),
            delivery: crate::core::Delivery::Redirect,
            part: None,
        }
    }

    /// The origins of other pages let in by CORS.
    #[must_use]
    pub fn allowed_origins(&self) -> &AllowedOrigins {
        &self.allowed_origins
    }

    /// How callers are authenticated.
    #[must_use]
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// The OpenID provider the page signs visitors in with, if any.
    #[must_use]
    pub fn sign_in(&self) -> Option<&SignIn> {
        self.sign_in.as_ref()
    }

    /// Where minted share links lead: `None` without share links, `Some(None)`
    /// when each request's `Host` decides.
    #[must_use]
    pub fn links_base(&self) -> Option<Option<&str>> {
        self.links.as_ref().map(|_| self.base_url.as_deref())
    }

    /// Whether links are named by the request's `Host` header: share links
    /// are on, with no `--base-url`. Front doors that know their own URL
    /// (API Gateway) override it per request.
    #[must_use]
    pub fn links_from_host(&self) -> bool {
        self.links_base() == Some(None)
    }

    /// Where presigned URLs lead, `scheme://host[:port]`.
    #[must_use]
    pub fn storage_origin(&self) -> &str {
        self.presigner.endpoint().origin()
    }

    /// The limits request bodies are read within, and the memory they share.
    fn bodies(&self) -> &Bodies {
        &self.bodies
    }

    fn links(&self) -> Result<&Links, GatewayError> {
        self.links.as_ref().ok_or(GatewayError::LinksDisabled)
    }

    /// Where minted links lead.
    fn link_base(&self, request: &Parts) -> Result<String, GatewayError> {
        self.links()?;
        self.public_base(request)
    }

    /// The gateway's URL as its clients know it: the configured base URL,
    /// else the front door's, else the request's `Host`.
    fn public_base(&self, request: &Parts) -> Result<String, GatewayError> {
        if let Some(url) = &self.base_url {
            return Ok(url.clone());
        }
        if let Some(PublicBaseUrl(url)) = request.extensions.get::<PublicBaseUrl>() {
            return Ok(url.clone());
        }
        let host = request.headers.get(header::HOST).ok_or(GatewayError::NoHost)?;
        let host = host.to_str().ok().filter(|host| is_authority(host)).ok_or(GatewayError::BadHost)?;
        let secure = request.headers.get("x-forwarded-proto").is_some_and(|p| p.as_bytes() == b"https");
        Ok(format!("{}://{host}", if secure { "https" } else { "http" }))
    }
}

/// Whether `host` is a `Host` header's authority and nothing more: a host
/// name or address and an optional port, no user, path or query.
fn is_authority(host: &str) -> bool {
    let Ok(authority) = host.parse::<http::uri::Authority>() else { return false };
    let valid_host = !authority.host().is_empty()
        && authority.host().bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    let valid_port = match host.strip_prefix(authority.host()) {
        Some("") => true,
        Some(port) => port.strip_prefix(':').is_some_and(|port| port.parse::<u16>().is_ok()),
        None => false,
    };
    valid_host && valid_port && authority.as_str() == host && !host.contains('@')
}

/// The router: the catch-all handler, request ids, the access log and CORS.
pub fn app(gateway: Arc<Gateway>) -> Router {
    let exposed = [REQUEST_ID, header::ETAG, header::RETRY_AFTER, header::WWW_AUTHENTICATE];
    let origins = gateway.allowed_origins.clone();
    let router = Router::new()
        .fallback(handler::handle)
        .with_state(gateway.clone())
        .layer(axum::middleware::from_fn_with_state(gateway.clone(), host::check))
        .layer(axum::middleware::from_fn_with_state(gateway, access_log::log))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, access_log::RequestIds));
    crate::cors::apply(router, "the gateway", &origins, &[], exposed)
}

#[cfg(test)]
mod tests {
    use super::is_authority;

    #[test]
    fn hosts_are_authorities_only() {
        for good in ["files.example", "files.example:8443", "127.0.0.1:3000", "[::1]:3000", "localhost"] {
            assert!(is_authority(good), "{good}");
        }
        for bad in ["evil.example/steal?", "a@evil.example", "evil.example:99999", "exa mple", "", ":80", "x:"] {
            assert!(!is_authority(bad), "{bad}");
        }
    }
}
