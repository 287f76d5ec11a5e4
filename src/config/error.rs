//! Every setting that can be wrong, with what to do about it.

use std::net::SocketAddr;

use crate::auth::JwtKeyError;
use crate::core::Rejection;
use crate::core::key::KeyError;
use crate::core::tenant::TenantError;
use crate::core::units::DurationIn;
use crate::links::ShareKeysError;
use crate::metrics::emf::BadNamespace;
use crate::signing::MAX_EXPIRES;

/// A setting that cannot be used, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The lifetime is out of SigV4's range.
    #[error("--expires / EXPIRES_SECONDS must be between 1 and {max} seconds (7 days), not {0}", max = MAX_EXPIRES.as_secs())]
    Expires(u64),
    /// The key prefix breaks the key rules.
    #[error("--key-prefix / KEY_PREFIX is not a usable folder: {0}")]
    KeyPrefix(KeyError),
    /// External storage needs a bucket.
    #[error("--bucket / BUCKET_NAME is required {0}")]
    BucketRequired(&'static str),
    /// Not an S3 bucket name.
    #[error("--bucket / BUCKET_NAME `{0}` is not a bucket name: use 3 to 63 lowercase letters, digits, `-` and `.`")]
    Bucket(String),
    /// A URL setting that is not an absolute http(s) URL.
    #[error("{setting} `{value}` is not an absolute http:// or https:// URL without a query")]
    Url {
        /// The flag and its variable.
        setting: &'static str,
        /// What was given.
        value: String,
    },
    /// Not an origin.
    #[error("--allowed-origins / ALLOWED_ORIGINS entry `{0}` is not an origin such as https://app.example.com, or `*`")]
    Origin(String),
    /// Not a region.
    #[error("--region / AWS_REGION `{0}` is not a region name such as eu-west-1")]
    Region(String),
    /// Settings only the embedded store reads, given for a build without it.
    #[error("this build has no embedded store: pass --endpoint / AWS_ENDPOINT_URL_S3 and --bucket / BUCKET_NAME")]
    NoEmbeddedStore,
    /// Not a DynamoDB table name.
    #[error(
        "--state-table / STATE_TABLE `{0}` is not a DynamoDB table name: use 3 to 255 letters, digits, `_`, `-` and `.`"
    )]
    StateTable(String),
    /// An endpoint for a table nobody named.
    #[error("--state-endpoint / AWS_ENDPOINT_URL_DYNAMODB needs --state-table / STATE_TABLE, the table to use there")]
    StateEndpointWithoutTable,
    /// A state file where no disk lasts.
    #[error(
        "--state-dir / STATE_DIR does not run in Lambda, whose disk does not last: set STATE_TABLE to a DynamoDB table"
    )]
    StateDirInLambda,
    /// A state file in a build without redb.
    #[error("this build has no local state store: use --state-table / STATE_TABLE")]
    NoLocalState,
    /// A store on a wildcard address has no URL clients can use.
    #[error(
        "the embedded store listens on {0}, which clients cannot connect to: set --store-url / STORE_URL to the address they reach it at"
    )]
    StoreUrlRequired(SocketAddr),
    /// The tenant folder breaks the key rules.
    #[error("--tenant-folder / TENANT_FOLDER is not a usable folder: {0}")]
    TenantFolder(KeyError),
    /// An empty claim name.
    #[error("--tenant-claim / TENANT_CLAIM must name a claim, such as sub")]
    TenantClaim,
    /// A zero maximum.
    #[error("--share-max-ttl / SHARE_MAX_TTL must be between one second and 100 years")]
    ShareMaxTtl,
    /// The authorizer's claims only exist behind API Gateway.
    #[error(
        "--auth authorizer / AUTH_MODE=authorizer reads API Gateway's authorizer claims, which only exist in Lambda: use --auth jwt locally"
    )]
    AuthorizerOutsideLambda,
    /// A sign-in provider where nobody signs in.
    #[error(
        "--oidc-issuer / OIDC_ISSUER needs --auth jwt (the gateway checks the tokens) or --auth authorizer (API Gateway does)"
    )]
    SignInWithoutAuth,
    /// Token settings for a mode that reads no token: the operator meant `--auth jwt`.
    #[error(
        "{0} applies to --auth jwt only, and this gateway runs with --auth {1}: add --auth jwt / AUTH_MODE=jwt, or drop it (with --auth none every request is let in)"
    )]
    JwtSettingWithoutJwt(&'static str, &'static str),
    /// A client id that cannot be one.
    #[error("--oidc-client-id / OIDC_CLIENT_ID must be the app client's id, not empty")]
    ClientId,
    /// JWT keys that cannot be used.
    #[error(transparent)]
    JwtKey(#[from] JwtKeyError),
    /// Share keys that cannot be used.
    #[error("--share-keys / SHARE_KEYS: {0}")]
    ShareKeys(ShareKeysError),
    /// `share` with no keys to sign with. (`main` names the program before
    /// every message, so messages never start with it.)
    #[error("share needs the gateway's share keys: pass --share-keys or set SHARE_KEYS")]
    NoShareKeys,
    /// A tenant-less link minted for a gateway whose callers are tenants.
    #[error(
        "a link without --tenant opens only on a gateway with --auth none; this one runs --auth {0} (AUTH_MODE): name the tenant with --tenant"
    )]
    ShareTenantRequired(&'static str),
    /// Not `host:port`.
    #[error("{setting} `{value}` is not a host and port such as 127.0.0.1:3000 or localhost:3000")]
    Listen {
        /// The flag and its variable.
        setting: &'static str,
        /// What was given.
        value: String,
    },
    /// A host name that resolves to nothing.
    #[error("{setting} `{value}` does not resolve to an address: {reason}")]
    Unresolvable {
        /// The flag and its variable.
        setting: &'static str,
        /// What was given.
        value: String,
        /// The resolver's reason.
        reason: String,
    },
    /// An allowed upload type that is not one.
    #[error("--allowed-types / ALLOWED_TYPES entry `{0}` is not a media type such as image/png or image/*")]
    AllowedType(String),
    /// A media type that is not one.
    #[error("--inline-types / INLINE_TYPES entry `{0}` is not a media type such as text/html or image/*")]
    InlineType(String),
    /// An allowed host that is not a host name.
    #[error(
        "--allowed-hosts / ALLOWED_HOSTS entry `{0}` is not a host name such as files.example.com (no scheme, port or wildcard)"
    )]
    AllowedHost(String),
    /// A body budget smaller than one part list.
    #[error("--max-body-memory / MAX_BODY_MEMORY must be at least 2MiB (one part list of 10,000 parts), not {0} bytes")]
    MaxBodyMemory(u64),
    /// A header limit hyper cannot keep, or one that no longer limits.
    #[error("--max-header-bytes / MAX_HEADER_BYTES must be between 8KiB and 16MiB, not {0} bytes")]
    MaxHeaderBytes(u64),
    /// A zero limit.
    #[error("--max-connections / MAX_CONNECTIONS must be at least 1")]
    MaxConnections,
    /// A timeout of zero.
    #[error("{0} must be at least one second")]
    Timeout(&'static str),
    /// A tenant id that cannot be used.
    #[error("--tenant: {0}")]
    Tenant(TenantError),
    /// A key that cannot be shared.
    #[error("the key to share: {0}")]
    ShareKey(KeyError),
    /// A link lifetime out of range.
    #[error("--ttl must be between 1 second and {0} (SHARE_MAX_TTL)")]
    ShareTtl(DurationIn),
    /// A link the gateway's share rules refuse.
    #[error("cannot mint the link: {0}")]
    Share(Rejection),
    /// Not a CloudWatch namespace.
    #[error("--metrics-namespace / METRICS_NAMESPACE: {0}")]
    MetricsNamespace(BadNamespace),
    /// Lambda has no port to serve metrics on.
    #[error(
        "--metrics-listen / METRICS_LISTEN_ADDR is for the local server; in Lambda the metrics go out in the log lines (METRICS_NAMESPACE)"
    )]
    MetricsListenInLambda,
    /// The metrics port is the gateway's own.
    #[error(
        "--metrics-listen / METRICS_LISTEN_ADDR must differ from --listen / LISTEN_ADDR ({0}): every path of the gateway's port is a key"
    )]
    MetricsListenIsGateway(SocketAddr),
    /// A receiver URL that cannot be POSTed to; not repeated, as it may carry a secret.
    #[error(
        "entry {0} of --notify-url / NOTIFY_URL is not an absolute http:// or https:// URL such as http://127.0.0.1:8080/events"
    )]
    NotifyUrl(usize),
    /// A secret too short to sign with.
    #[error("--notify-secret / NOTIFY_SECRET must be at least {} bytes", super::notify::MIN_SECRET_BYTES)]
    NotifySecret,
    /// A spool that could hold nothing.
    #[error("--notify-spool-limit / NOTIFY_SPOOL_LIMIT must be at least 1")]
    NotifySpoolLimit,
    /// Events asked of a gateway whose storage sends its own.
    #[error("--notify-url / NOTIFY_URL makes the embedded store send upload events: {0}")]
    NotifyElsewhere(&'static str),
    /// `Origin: null` asked of storage other than the embedded store.
    #[error("--allow-null-origin / ALLOW_NULL_ORIGIN is the embedded store's: {0}")]
    NullOriginElsewhere(&'static str),
    /// `Origin: null` asked with no page from another origin that could need it.
    #[error(
        "--allow-null-origin / ALLOW_NULL_ORIGIN is for pages from --allowed-origins / ALLOWED_ORIGINS that follow a cross-origin 307, and none are set"
    )]
    NullOriginAlone,
    /// Strict signing is a mode of the embedded store, which does not run here.
    #[error(
        "--strict-signing / STRICT_SIGNING is a mode of the embedded store, which does not run {0}: the storage there signs as it does"
    )]
    StrictSigningElsewhere(&'static str),
    /// A rendition preset that does not parse.
    #[error("--renditions / RENDITIONS: {0}")]
    Renditions(String),
    /// An image limit of zero.
    #[error("--max-image-bytes / MAX_IMAGE_BYTES and --max-image-pixels / MAX_IMAGE_PIXELS must be more than zero")]
    ImageLimits,
    /// A sync so frequent it would list the bucket without pause.
    #[error("--catalog-sync-every / CATALOG_SYNC_EVERY must be at least a minute")]
    CatalogSyncEvery,
    /// A rate of nothing.
    #[error("--rate-limit / RATE_LIMIT and --rate-burst / RATE_BURST must be at least 1")]
    RateLimit,
    /// A burst without a rate.
    #[error("--rate-burst / RATE_BURST needs --rate-limit / RATE_LIMIT")]
    RateBurstWithoutLimit,
    /// A per-process limit where every instance counts apart.
    #[error(
        "--rate-limit / RATE_LIMIT is for the local server: in Lambda every instance would count apart (the template's ThrottlingRateLimit and ThrottlingBurstLimit set API Gateway's)"
    )]
    RateLimitInLambda,
    /// Not an EventBridge bus's name or ARN.
    #[error(
        "--event-bus / EVENT_BUS `{0}` is not an EventBridge bus name (letters, digits, `.`, `-`, `_`, `/`) or ARN"
    )]
    EventBus(String),
    /// A bus where the events go to the spool.
    #[error(
        "--event-bus / EVENT_BUS is for the processor function and `catalog sync --render`: `serve` tells rendition events to its --notify-url receivers"
    )]
    EventBusLocally,
    /// The log filter does not parse.
    #[error("--log-level / LOG_LEVEL `{0}` is not a valid filter such as `info` or `presign_gateway=debug`")]
    LogLevel(String),
}
