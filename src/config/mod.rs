//! Configuration, validated once at start-up into types the rest of the
//! program trusts, as ripgrep turns its low-level arguments into high-level
//! ones: [`crate::cli`]'s raw arguments in, settings out, never back. Every
//! message names the flag and the variable to fix. (Past 400 lines: one
//! validation per setting, in the order of `serve --help`; the families with
//! rules of their own are in `share.rs`, `values.rs` and `hosts.rs`, the
//! tests in `tests.rs`.)

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderValue;

use crate::auth::{Audience, Authenticator, JwtKeys, JwtVerifier, KeyUrl, RemoteKeys};
use crate::cli::{AuthMode, LogFormat, OidcToken, ServeArgs, ServerArgs, StoreArgs};
use crate::core::Policy;
use crate::core::completion::MAX_COMPLETION_BYTES;
use crate::core::download::InlineTypes;
use crate::core::media::MediaTypes;
use crate::http_server::ServerLimits;
use crate::links::ShareKeys;
use crate::metrics::emf::Namespace;
use crate::signing::MAX_EXPIRES;

mod catalog;
mod error;
mod hosts;
mod notify;
mod share;
mod values;

pub use catalog::CatalogSettings;
pub use error::ConfigError;
pub use hosts::AllowedHosts;
pub use notify::{NotifyConfig, NotifySecret, NotifyUrl};
pub use share::ShareCommand;
use values::{
    allowed_origins, base_url, check_bucket, check_region, check_table, layout, listen_addresses, null_origin,
    tenant_folder, timeout,
};

/// The setting that ages out incomplete uploads of the embedded store.
const UPLOAD_AGE: &str = "--abort-incomplete-uploads-after / ABORT_INCOMPLETE_UPLOADS_AFTER";

/// Where the gateway runs, which decides the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Inside AWS Lambda: configured from the environment, logs in JSON.
    Lambda,
    /// The local HTTP server.
    Local,
}

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    /// Where the gateway listens (local server only): every address its host resolves to.
    pub listen: Vec<SocketAddr>,
    /// Limits of the local servers.
    pub server: ServerLimits,
    /// How long each of the gateway's own calls to storage may take.
    pub storage_timeout: Duration,
    /// Which storage URLs are signed for.
    pub store: StoreConfig,
    /// What the gateway is built from.
    pub gateway: GatewaySettings,
    /// A Secrets Manager secret to read the share keys from at start-up.
    pub share_keys_secret: Option<String>,
    /// Where the metrics and health port listens (local server only; off when `None`).
    pub metrics_listen: Option<SocketAddr>,
    /// The CloudWatch namespace of Lambda's Embedded Metric Format lines.
    pub metrics_namespace: Namespace,
    /// How logs are written.
    pub log: LogConfig,
    /// Renditions, and keeping the upload log in step with storage.
    pub catalog: CatalogSettings,
    /// Where the gateway keeps its own state (the upload log).
    pub state: StateConfig,
}

/// Where the gateway keeps its own state: see [`crate::state`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateConfig {
    /// Nowhere: the catalog is off.
    Off,
    /// A redb file, `state.redb`, in this folder, for one process.
    Local {
        /// The folder.
        dir: PathBuf,
    },
    /// A DynamoDB table, which several gateways may share.
    Dynamo {
        /// The table's name.
        table: String,
        /// A DynamoDB-compatible endpoint; `None` is AWS DynamoDB.
        endpoint: Option<String>,
    },
}

/// The storage the gateway signs URLs for.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The S3-compatible store on local disk, started beside the gateway.
    Embedded(EmbeddedConfig),
    /// AWS S3 or any S3-compatible endpoint.
    External {
        /// The endpoint; `None` is AWS S3.
        endpoint: Option<String>,
        /// The URL clients reach storage at, if not the endpoint.
        public_url: Option<String>,
        /// The bucket.
        bucket: String,
        /// The region, if given; otherwise the AWS config chain's.
        region: Option<String>,
    },
}

/// The embedded store's settings.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Folder holding the buckets.
    pub data_dir: PathBuf,
    /// Where the store listens: one address beside the gateway, every address
    /// its host resolves to for `store` (the first names it, IPv4 before IPv6).
    pub listen: Vec<SocketAddr>,
    /// The bucket.
    pub bucket: String,
    /// The URL clients reach the store at, if not its listen address.
    pub public_url: Option<String>,
    /// Incomplete multipart uploads older than this are aborted.
    pub abort_uploads_after: Duration,
    /// Where the store's upload events go.
    pub notify: NotifyConfig,
    /// Whether `Origin: null` is let in beside the allowed origins.
    pub allow_null_origin: bool,
    /// Whether presigned requests must sign every `x-amz-*` header they
    /// carry, as strict S3-compatible servers (Garage) want.
    pub strict_signing: bool,
}

/// The validated settings of `presign-gateway store`.
#[derive(Debug, Clone)]
pub struct StoreOnlyConfig {
    /// The store.
    pub store: EmbeddedConfig,
    /// Limits of its HTTP server.
    pub server: ServerLimits,
    /// The one key pair the store accepts signatures from.
    pub credentials: aws_credential_types::Credentials,
    /// Browser origins allowed to reach the store.
    pub allowed_origins: AllowedOrigins,
    /// How logs are written.
    pub log: LogConfig,
}

/// How request bodies the gateway reads must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// The longest one may take.
    pub timeout: Duration,
    /// Bytes that bodies kept in memory (completions' part lists) may take together.
    pub max_memory: u64,
    /// Bytes a second a body must keep arriving at (0: any).
    pub min_rate: u64,
}

impl Default for BodyLimits {
    /// `serve`'s defaults.
    fn default() -> Self {
        Self { timeout: Duration::from_secs(120), max_memory: 64 << 20, min_rate: 8 << 10 }
    }
}

/// The settings a gateway is built from, validated with the configuration.
#[derive(Debug)]
pub struct GatewaySettings {
    /// Rules every decision follows.
    pub policy: Policy,
    /// How request bodies the gateway reads must arrive, and the memory they share.
    pub bodies: BodyLimits,
    /// Browser origins allowed to call the gateway.
    pub allowed_origins: AllowedOrigins,
    /// The `Host` names answered, if any is refused.
    pub allowed_hosts: Option<AllowedHosts>,
    /// How callers are authenticated.
    pub auth: Authenticator,
    /// The OpenID provider the page signs visitors in with, if any.
    pub sign_in: Option<SignIn>,
    /// Share links, if enabled.
    pub links: Option<Links>,
    /// The gateway's public base URL, such as `https://files.example.com`,
    /// that share links and S3's `Location` start with (derived from each
    /// request when not configured).
    pub base_url: Option<String>,
    /// Each tenant's requests a second and burst (`--rate-limit`), on the local server.
    pub rate_limit: Option<RateLimitSettings>,
}

/// `--rate-limit` and `--rate-burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Requests (by cost) a second, for each tenant.
    pub per_second: NonZeroU32,
    /// The most at once.
    pub burst: NonZeroU32,
}

/// The OpenID provider the page signs visitors in with (`?config` tells it).
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The issuer URL, exactly as tokens name it.
    pub issuer: String,
    /// The page's public client; without one, the page asks for a token instead.
    pub client_id: Option<String>,
    /// Which token the page sends.
    pub token: OidcToken,
    /// The provider's discovery document and keys, read in the background:
    /// the verifier's own with `--auth jwt`, its own with `--auth authorizer`
    /// (for the token endpoint's origin, which the page's policy admits).
    pub provider: RemoteKeys,
}

impl GatewaySettings {
    /// Starts the tasks that fetch the sign-in provider's discovery document
    /// and keys and keep them fresh. Needs a Tokio runtime.
    pub fn keep_provider_fresh(&self) {
        self.auth.keep_keys_fresh();
        let verified = match &self.auth {
            Authenticator::Jwt(verifier) => verifier.remote_keys(),
            Authenticator::None | Authenticator::Authorizer { .. } => None,
        };
        if let Some(sign_in) = &self.sign_in
            && !verified.is_some_and(|keys| keys.same_as(&sign_in.provider))
        {
            tokio::spawn(sign_in.provider.clone().keep_fresh());
        }
    }
}

/// Share links: the keys that sign and verify them.
#[derive(Debug)]
pub struct Links {
    /// Signing and verifying keys.
    pub keys: ShareKeys,
}

/// Origins allowed by CORS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// No CORS headers at all: the default.
    None,
    /// `*`.
    Any,
    /// Exactly these.
    List(Vec<HeaderValue>),
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// JSON or text.
    pub format: LogFormat,
    /// The `EnvFilter` directives.
    pub filter: String,
    /// How lines reach standard error.
    pub writer: LogWriter,
}

/// How log lines reach standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogWriter {
    /// Written by the thread that logs (Lambda, the CLI).
    Direct,
    /// Gathered, and written in batches (the local servers).
    Batched,
}

impl Config {
    /// Validates the arguments for `runtime`. Reads a JWT public key file, if one is named.
    pub fn from_args(args: ServeArgs, runtime: Runtime) -> Result<Self, ConfigError> {
        if let Some(region) = &args.region {
            check_region(region)?;
        }
        let metrics_namespace = Namespace::new(&args.metrics_namespace).map_err(ConfigError::MetricsNamespace)?;
        let listen = listen_addresses("--listen / LISTEN_ADDR", &args.listen)?;
        let origins = allowed_origins(&args.allowed_origins)?;
        let store = store(&args, &origins, listen[0], runtime)?;
        let base_url = args.base_url.as_deref().map(|url| base_url("--base-url / BASE_URL", url)).transpose()?;
        let gateway = GatewaySettings {
            policy: policy(&args)?,
            bodies: body_limits(&args)?,
            allowed_origins: origins,
            allowed_hosts: match runtime {
                Runtime::Lambda if args.allowed_hosts.is_empty() => None,
                _ => Some(AllowedHosts::new(&args.allowed_hosts, base_url.as_deref())?),
            },
            auth: authenticator(&args, runtime)?,
            sign_in: None,
            links: match &args.share_keys {
                Some(spec) => Some(Links { keys: ShareKeys::parse(spec).map_err(ConfigError::ShareKeys)? }),
                None => None,
            },
            base_url,
            rate_limit: rate_limit(&args, runtime)?,
        };
        let gateway = GatewaySettings { sign_in: sign_in(&args, &gateway.auth)?, ..gateway };
        let metrics_listen = match (args.metrics_listen, runtime) {
            (Some(_), Runtime::Lambda) => return Err(ConfigError::MetricsListenInLambda),
            (Some(address), Runtime::Local) if listen.contains(&address) && address.port() != 0 => {
                return Err(ConfigError::MetricsListenIsGateway(address));
            }
            (address, _) => address,
        };
        Ok(Self {
            state: state(&args, &store, runtime)?,
            listen,
            server: server_limits(&args.server)?,
            storage_timeout: timeout("--storage-timeout / STORAGE_TIMEOUT", args.storage_timeout)?,
            store,
            gateway,
            share_keys_secret: args.share_keys_secret_arn.clone(),
            metrics_listen,
            metrics_namespace,
            log: LogConfig::new(args.log_level, args.log_format, runtime)?,
            catalog: CatalogSettings::from_args(&args.catalog, runtime)?,
        })
    }
}

fn policy(args: &ServeArgs) -> Result<Policy, ConfigError> {
    if !(1..=MAX_EXPIRES.as_secs()).contains(&args.expires) {
        return Err(ConfigError::Expires(args.expires));
    }
    Ok(Policy {
        expires_in: Duration::from_secs(args.expires),
        max_object_size: args.max_object_size,
        inline_types: InlineTypes::with(MediaTypes::parse(&args.inline_types).map_err(ConfigError::InlineType)?),
        allowed_types: MediaTypes::parse(&args.allowed_types).map_err(ConfigError::AllowedType)?,
        ..layout(&args.key_prefix, &args.tenant_folder, args.share_max_ttl)?
    })
}

fn rate_limit(args: &ServeArgs, runtime: Runtime) -> Result<Option<RateLimitSettings>, ConfigError> {
    let Some(per_second) = args.rate_limit else {
        return if args.rate_burst.is_some() { Err(ConfigError::RateBurstWithoutLimit) } else { Ok(None) };
    };
    if runtime == Runtime::Lambda {
        return Err(ConfigError::RateLimitInLambda);
    }
    let per_second = NonZeroU32::new(per_second).ok_or(ConfigError::RateLimit)?;
    let burst = match args.rate_burst {
        Some(burst) => NonZeroU32::new(burst).ok_or(ConfigError::RateLimit)?,
        None => NonZeroU32::new(per_second.get().saturating_mul(2)).unwrap_or(per_second),
    };
    Ok(Some(RateLimitSettings { per_second, burst }))
}

fn body_limits(args: &ServeArgs) -> Result<BodyLimits, ConfigError> {
    if args.max_body_memory < MAX_COMPLETION_BYTES as u64 {
        return Err(ConfigError::MaxBodyMemory(args.max_body_memory));
    }
    Ok(BodyLimits {
        timeout: timeout("--body-timeout / BODY_TIMEOUT", args.body_timeout)?,
        max_memory: args.max_body_memory,
        min_rate: args.server.min_body_rate,
    })
}

fn server_limits(args: &ServerArgs) -> Result<ServerLimits, ConfigError> {
    let ServerArgs { header_timeout, max_connections, max_connections_per_address, max_header_bytes, min_body_rate } =
        *args;
    if max_connections == 0 {
        return Err(ConfigError::MaxConnections);
    }
    let max_header_bytes = usize::try_from(max_header_bytes)
        .ok()
        .filter(|bytes| (crate::http_server::MIN_HEADER_BYTES..=16 << 20).contains(bytes))
        .ok_or(ConfigError::MaxHeaderBytes(max_header_bytes))?;
    Ok(ServerLimits {
        header_timeout: timeout("--header-timeout / HEADER_TIMEOUT", header_timeout)?,
        max_connections,
        max_connections_per_address,
        max_header_bytes,
        min_rate: min_body_rate,
        grace: crate::http_server::GRACE,
    })
}

fn store(
    args: &ServeArgs,
    origins: &AllowedOrigins,
    gateway: SocketAddr,
    runtime: Runtime,
) -> Result<StoreConfig, ConfigError> {
    let public_url = args.store_url.as_deref().map(|url| base_url("--store-url / STORE_URL", url)).transpose()?;
    if args.endpoint.is_some() || runtime == Runtime::Lambda {
        let elsewhere = if runtime == Runtime::Lambda { notify::IN_LAMBDA } else { notify::WITH_ENDPOINT };
        NotifyConfig::from_args(&args.notify, Some(elsewhere))?;
        if args.allow_null_origin {
            return Err(ConfigError::NullOriginElsewhere(if runtime == Runtime::Lambda {
                "in Lambda, the bucket's CORS rules decide (template.yaml's AllowNullOrigin)"
            } else {
                "with --endpoint / AWS_ENDPOINT_URL_S3, that bucket's own CORS rules decide"
            }));
        }
        if args.strict_signing {
            return Err(ConfigError::StrictSigningElsewhere(match runtime {
                Runtime::Lambda => "in Lambda",
                Runtime::Local => "with --endpoint",
            }));
        }
        let endpoint =
            args.endpoint.as_deref().map(|url| base_url("--endpoint / AWS_ENDPOINT_URL_S3", url)).transpose()?;
        let bucket = args.bucket.clone().ok_or(ConfigError::BucketRequired(match runtime {
            Runtime::Lambda => "in Lambda",
            Runtime::Local => "with --endpoint",
        }))?;
        return Ok(StoreConfig::External {
            endpoint,
            public_url,
            bucket: check_bucket(bucket)?,
            region: args.region.clone(),
        });
    }
    if !cfg!(feature = "embedded-store") {
        return Err(ConfigError::NoEmbeddedStore);
    }
    let listen = args.store_listen.unwrap_or(SocketAddr::new(gateway.ip(), 0));
    if listen.ip().is_unspecified() && public_url.is_none() {
        return Err(ConfigError::StoreUrlRequired(listen));
    }
    Ok(StoreConfig::Embedded(EmbeddedConfig {
        data_dir: args.data_dir.clone(),
        listen: vec![listen],
        bucket: check_bucket(args.bucket.clone().unwrap_or_else(|| crate::cli::DEFAULT_EMBEDDED_BUCKET.to_owned()))?,
        public_url,
        abort_uploads_after: timeout(UPLOAD_AGE, args.abort_incomplete_uploads_after)?,
        notify: NotifyConfig::from_args(&args.notify, None)?
            .with_tenants(tenant_folder(&args.key_prefix, &args.tenant_folder)?),
        allow_null_origin: null_origin(args.allow_null_origin, origins)?,
        strict_signing: args.strict_signing,
    }))
}

/// The DynamoDB state table `table` at `endpoint` (AWS's when `None`), checked.
///
/// # Errors
/// A table name DynamoDB refuses, or an endpoint that is no base URL.
pub fn state_table(table: &str, endpoint: Option<&str>) -> Result<StateConfig, ConfigError> {
    const ENDPOINT: &str = "--state-endpoint / AWS_ENDPOINT_URL_DYNAMODB";
    Ok(StateConfig::Dynamo {
        table: check_table(table)?,
        endpoint: endpoint.map(|url| base_url(ENDPOINT, url)).transpose()?,
    })
}

/// A table when one is named; else a folder when one is named (never in
/// Lambda, whose disk does not last); else the embedded store's folder, or off.
fn state(args: &ServeArgs, store: &StoreConfig, runtime: Runtime) -> Result<StateConfig, ConfigError> {
    match (&args.state_table, &args.state_dir) {
        (Some(table), _) => state_table(table, args.state_endpoint.as_deref()),
        (None, _) if args.state_endpoint.is_some() => Err(ConfigError::StateEndpointWithoutTable),
        (None, Some(_)) if runtime == Runtime::Lambda => Err(ConfigError::StateDirInLambda),
        (None, Some(_)) if !cfg!(feature = "embedded-store") => Err(ConfigError::NoLocalState),
        (None, Some(dir)) => Ok(StateConfig::Local { dir: dir.clone() }),
        (None, None) => Ok(match store {
            StoreConfig::Embedded(embedded) => StateConfig::Local { dir: embedded.data_dir.clone() },
            StoreConfig::External { .. } => StateConfig::Off,
        }),
    }
}

fn authenticator(args: &ServeArgs, runtime: Runtime) -> Result<Authenticator, ConfigError> {
    let claim = args.tenant_claim.trim();
    if claim.is_empty() {
        return Err(ConfigError::TenantClaim);
    }
    if args.auth != AuthMode::Jwt
        && let Some(setting) = jwt_setting(args)
    {
        let mode = if args.auth == AuthMode::None { "none" } else { "authorizer" };
        return Err(ConfigError::JwtSettingWithoutJwt(setting, mode));
    }
    Ok(match args.auth {
        AuthMode::None => Authenticator::None,
        AuthMode::Authorizer if runtime == Runtime::Local => return Err(ConfigError::AuthorizerOutsideLambda),
        AuthMode::Authorizer => Authenticator::Authorizer { claim: claim.to_owned() },
        AuthMode::Jwt => {
            let remote = match (&args.jwks_url, &args.oidc_issuer) {
                (Some(url), _) => Some(KeyUrl::jwks(url)?),
                (None, Some(issuer)) => Some(KeyUrl::issuer(issuer)?),
                (None, None) => None,
            };
            let keys = JwtKeys {
                secret: args.jwt_secret.as_deref(),
                public_key_path: args.jwt_public_key.as_deref(),
                remote,
                algorithms: &args.jwt_algorithms,
            };
            let audience = match (&args.oidc_client_id, &args.jwt_audience) {
                (Some(client), _) => Audience::Client(client.clone()),
                (None, Some(audience)) => Audience::Aud(audience.clone()),
                (None, None) => Audience::Any,
            };
            let issuer = args.oidc_issuer.clone().or_else(|| args.jwt_issuer.clone());
            Authenticator::Jwt(JwtVerifier::new(keys, issuer, audience, claim.to_owned())?)
        }
    })
}

/// The first setting given that only `--auth jwt` reads.
fn jwt_setting(args: &ServeArgs) -> Option<&'static str> {
    [
        (args.jwt_secret.is_some(), "--jwt-secret / JWT_SECRET"),
        (args.jwt_public_key.is_some(), "--jwt-public-key / JWT_PUBLIC_KEY"),
        (args.jwks_url.is_some(), "--jwks-url / JWKS_URL"),
        (args.jwt_issuer.is_some(), "--jwt-issuer / JWT_ISSUER"),
        (args.jwt_audience.is_some(), "--jwt-audience / JWT_AUDIENCE"),
        (!args.jwt_algorithms.is_empty(), "--jwt-algorithms / JWT_ALGORITHMS"),
    ]
    .into_iter()
    .find_map(|(given, name)| given.then_some(name))
}

/// The OpenID provider the page signs in with: with `--auth jwt` the one
/// whose tokens are verified; with `--auth authorizer` the one API
/// Gateway's authorizer trusts.
fn sign_in(args: &ServeArgs, auth: &Authenticator) -> Result<Option<SignIn>, ConfigError> {
    let Some(issuer) = &args.oidc_issuer else { return Ok(None) };
    let provider = match auth {
        Authenticator::None => return Err(ConfigError::SignInWithoutAuth),
        Authenticator::Jwt(verifier) => verifier.remote_keys().cloned(),
        Authenticator::Authorizer { .. } => None,
    };
    let provider = match provider {
        Some(provider) => provider,
        None => RemoteKeys::new(KeyUrl::issuer(issuer)?, None)?,
    };
    let client_id = args.oidc_client_id.as_deref().map(str::trim);
    if client_id.is_some_and(|id| id.is_empty() || id.chars().any(char::is_control)) {
        return Err(ConfigError::ClientId);
    }
    Ok(Some(SignIn {
        issuer: issuer.clone(),
        client_id: client_id.map(str::to_owned),
        token: args.oidc_token,
        provider,
    }))
}

impl StoreOnlyConfig {
    /// Validates the arguments of `presign-gateway store`.
    pub fn from_args(args: StoreArgs) -> Result<Self, ConfigError> {
        let origins = allowed_origins(&args.allowed_origins)?;
        Ok(Self {
            store: EmbeddedConfig {
                data_dir: args.data_dir,
                listen: listen_addresses("--listen / STORE_LISTEN_ADDR", &args.listen)?,
                bucket: check_bucket(args.bucket)?,
                public_url: None,
                abort_uploads_after: timeout(UPLOAD_AGE, args.abort_incomplete_uploads_after)?,
                notify: NotifyConfig::from_args(&args.notify, None)?
                    .with_tenants(tenant_folder(&args.key_prefix, &args.tenant_folder)?),
                allow_null_origin: null_origin(args.allow_null_origin, &origins)?,
                strict_signing: args.strict_signing,
            },
            credentials: aws_credential_types::Credentials::new(
                args.access_key_id,
                args.secret_access_key,
                None,
                None,
                "store-arguments",
            ),
            allowed_origins: origins,
            server: server_limits(&args.server)?,
            log: LogConfig::new(args.log_level, None, Runtime::Local)?,
        })
    }
}

impl LogConfig {
    fn new(filter: String, format: Option<LogFormat>, runtime: Runtime) -> Result<Self, ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&filter).map_err(|_| ConfigError::LogLevel(filter.clone()))?;
        let default = match runtime {
            Runtime::Lambda => LogFormat::Json,
            Runtime::Local => LogFormat::Text,
        };
        let writer = match runtime {
            Runtime::Lambda => LogWriter::Direct,
            Runtime::Local => LogWriter::Batched,
        };
        Ok(Self { format: format.unwrap_or(default), filter, writer })
    }
}

#[cfg(test)]
mod tests;
