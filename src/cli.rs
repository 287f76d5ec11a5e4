//! Command-line arguments as given, before validation (the configuration
//! step turns them into the settings the rest of the program trusts). Every
//! setting has an environment twin, and inside Lambda the same struct is read
//! from the environment alone, so the names in `template.yaml` and here cannot
//! drift apart unnoticed. (Past 400 lines: every flag of every command with
//! its help text is in this one file, as `--help` shows them.)

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::core::grant::Methods;
use crate::core::units::{self, Ttl, UnitError};

/// The bucket the embedded store serves when none is named.
pub const DEFAULT_EMBEDDED_BUCKET: &str = "presign-gateway";

/// Answers GET, HEAD, PUT and DELETE with a 307 to a short-lived presigned S3 URL.
#[derive(Debug, Parser)]
#[command(name = "presign-gateway", version, about)]
pub struct Cli {
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // Parsed once at start-up.
pub enum Command {
    /// Serve the gateway over HTTP, on the embedded store unless --endpoint is given.
    Serve(ServeArgs),
    /// Serve only the embedded S3-compatible store, with the credentials given,
    /// for a gateway running elsewhere (such as under `cargo lambda watch`).
    #[cfg(feature = "embedded-store")]
    Store(StoreArgs),
    /// Mint a share link offline, with the same keys the gateway verifies (SHARE_KEYS).
    Share(ShareArgs),
    /// Upload a file (or standard input) through a gateway, in parallel parts when large.
    #[cfg(feature = "client")]
    Upload(UploadArgs),
    /// Download an object through a gateway to a file (or standard output).
    #[cfg(feature = "client")]
    Download(DownloadArgs),
    /// Work on the upload log kept in a DynamoDB state table.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Create, list or revoke a tenant's API keys in a DynamoDB state table (against serve's local state file, use
    /// GET/POST/DELETE /%2F?keys over HTTP).
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `presign-gateway keys …`.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (shown this once) with what it may do, as JSON.
    Create(KeyCreateArgs),
    /// Print the tenant's keys as JSON (never the keys themselves).
    List(KeysStateArgs),
    /// Revoke a key: it stops working within 5 seconds on every gateway sharing the table.
    Revoke(KeyRevokeArgs),
}

/// The tenant and the state table, for every `keys` command.
#[derive(Debug, Clone, Args)]
pub struct KeysStateArgs {
    /// The tenant whose keys these are, as its tokens' tenant claim names it.
    #[arg(long)]
    pub tenant: String,

    /// DynamoDB table of the gateway's state, as the gateway is configured.
    #[arg(long, env = "STATE_TABLE")]
    pub state_table: Option<String>,

    /// A DynamoDB-compatible endpoint for --state-table [default: AWS DynamoDB].
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    pub state_endpoint: Option<String>,

    /// A local state folder: refused with the reason (its redb file admits one process, the running serve).
    #[arg(long, env = "STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// The table's region [default: the AWS config chain's].
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
}

/// Settings for `keys create`.
#[derive(Debug, Clone, Args)]
pub struct KeyCreateArgs {
    /// Where the keys are.
    #[command(flatten)]
    pub state: KeysStateArgs,

    /// Only downloads, listings and the log: no upload or delete.
    #[arg(long)]
    pub read_only: bool,

    /// The folder the key is confined to (`a` and `a/` both mean the folder a/) [default: the whole tenant].
    #[arg(long)]
    pub prefix: Option<String>,

    /// How long the key works (seconds, or 30m, 12h, 30d, 2w; at most 3650d) [default: until revoked].
    #[arg(long, value_parser = Ttl::parse)]
    pub ttl: Option<Ttl>,

    /// A name for people, such as the system that holds the key.
    #[arg(long)]
    pub name: Option<String>,
}

/// Settings for `keys revoke`.
#[derive(Debug, Clone, Args)]
pub struct KeyRevokeArgs {
    /// The key's id, as `keys list` shows it.
    pub id: String,

    /// Where the keys are.
    #[command(flatten)]
    pub state: KeysStateArgs,
}

/// `presign-gateway catalog …`.
#[derive(Debug, Clone, Subcommand)]
pub enum CatalogCommand {
    /// List the bucket into the upload log (what storage sent no event for, or a lost log), configured as the
    /// processor function is: --bucket, --state-table, the key layout and --renditions.
    Sync(SyncArgs),
}

/// Settings for `catalog sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Also render images that lack a preset (stored before renditions were on, or a preset added since).
    #[arg(long)]
    pub render: bool,

    /// The gateway's settings, as its functions have them.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Settings for `upload`.
#[cfg(feature = "client")]
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// The file to upload, or `-` for standard input.
    pub source: String,

    /// The object's gateway URL, such as https://files.example.com/reports/q3.pdf (or a share link).
    #[arg(value_parser = crate::client::address::parse_gateway_url)]
    pub url: reqwest::Url,

    /// Bytes per part; files up to this size go up in one PUT (bytes, or KiB, MiB, GiB).
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    pub part_size: u64,

    /// Parts in flight at once (memory: about this many times --part-size).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,

    /// Continue the interrupted upload of this file to this URL from the parts already stored.
    #[arg(long)]
    pub resume: bool,

    /// Also record the file's SHA-256 with the object (one more read of a file); the CRC64NVME storage checks is always sent.
    #[arg(long, conflicts_with = "no_sha256")]
    pub sha256: bool,

    /// The default now: no SHA-256 is recorded (kept so scripts that pass it still run).
    #[arg(long, hide = true)]
    pub no_sha256: bool,

    /// The object's Content-Type, which the gateway may require to be one it allows [default: from the file's extension].
    #[arg(long)]
    pub content_type: Option<String>,

    /// Metadata to keep with the object, NAME=VALUE (again for more); non-ASCII values are percent-encoded.
    #[arg(long = "meta", value_name = "NAME=VALUE", value_parser = parse_meta)]
    pub metadata: Vec<(String, String)>,

    /// Bearer token for the gateway (prefer the environment variable).
    #[arg(long, env = "PRESIGN_GATEWAY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Settings for `download`.
#[cfg(feature = "client")]
#[derive(Debug, Clone, Args)]
pub struct DownloadArgs {
    /// The object's gateway URL (or a share link).
    #[arg(value_parser = crate::client::address::parse_gateway_url)]
    pub url: reqwest::Url,

    /// The file to write, or `-` for standard output.
    pub dest: String,

    /// Continue a partial file from where it stops.
    #[arg(long)]
    pub resume: bool,

    /// Bearer token for the gateway (prefer the environment variable).
    #[arg(long, env = "PRESIGN_GATEWAY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Settings for `serve` and for the Lambda function.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Host (name or address) and port the gateway listens on; a name listens on every address it resolves to (port 0 picks a free one).
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: String,

    /// Folder the embedded store keeps its buckets in.
    #[arg(long, env = "DATA_DIR", default_value = "data", conflicts_with = "endpoint")]
    pub data_dir: PathBuf,

    /// Address the embedded store listens on [default: the gateway's host, a free port].
    #[arg(long, env = "STORE_LISTEN_ADDR", conflicts_with = "endpoint")]
    pub store_listen: Option<SocketAddr>,

    /// The local server's limits.
    #[command(flatten)]
    pub server: ServerArgs,

    /// How long a request body the gateway reads (a completion's part list, or one sent unasked) may take to arrive.
    #[arg(long, env = "BODY_TIMEOUT", default_value = "120s", value_parser = parse_duration)]
    pub body_timeout: Duration,

    /// Memory that request bodies the gateway keeps (completions' part lists) may take together (64MiB); beyond it a request waits a second, then gets 503 and Retry-After.
    #[arg(long, env = "MAX_BODY_MEMORY", default_value = "64MiB", value_parser = parse_size)]
    pub max_body_memory: u64,

    /// Requests a second each tenant may make of this server, weighed by cost (a listing with metadata is 10, a page of parts or of the log 5, a listing 2, a redirect 1); more get 429 and Retry-After [default: no limit].
    #[arg(long, env = "RATE_LIMIT")]
    pub rate_limit: Option<u32>,

    /// How many requests' worth a tenant may make at once, beyond which --rate-limit paces it [default: twice --rate-limit].
    #[arg(long, env = "RATE_BURST")]
    pub rate_burst: Option<u32>,

    /// How long each of the gateway's own calls to storage (multipart steps) may take, retries included.
    #[arg(long, env = "STORAGE_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub storage_timeout: Duration,

    /// Media types (or `type/*`) an upload may declare, comma-separated; uploads must then send a Content-Type in the list [default: any].
    #[arg(long, env = "ALLOWED_TYPES", value_delimiter = ',')]
    pub allowed_types: Vec<String>,

    /// Media types (or `type/*`) that downloads may show in the browser besides images, audio, video, PDF and plain text; all others are saved as attachments.
    #[arg(long, env = "INLINE_TYPES", value_delimiter = ',')]
    pub inline_types: Vec<String>,

    /// Abort multipart uploads of the embedded store started longer ago than this, as S3's lifecycle rule does (seconds, or 30m, 12h, 1d).
    #[arg(long, env = "ABORT_INCOMPLETE_UPLOADS_AFTER", default_value = "1d", value_parser = parse_duration)]
    pub abort_incomplete_uploads_after: Duration,

    /// Upload events of the embedded store.
    #[command(flatten)]
    pub notify: NotifyArgs,

    /// Make the embedded store refuse presigned requests with any unsigned x-amz-* header, as strict S3-compatible servers (Garage) do, to test clients against them.
    #[arg(long, env = "STRICT_SIGNING", value_parser = BoolishValueParser::new())]
    pub strict_signing: bool,

    /// Lifetime of each presigned URL in seconds, at most 604800 (7 days).
    #[arg(long, env = "EXPIRES_SECONDS", default_value_t = 300)]
    pub expires: u64,

    /// An S3-compatible endpoint (MinIO, Garage, R2, ...); switches the embedded store off.
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    pub endpoint: Option<String>,

    /// DynamoDB table of the gateway's state (the upload log, API keys, share links' records), which every gateway naming it shares [default: a redb file, state.redb, in --data-dir with the embedded store; off with --endpoint].
    #[arg(long, env = "STATE_TABLE", conflicts_with = "state_dir")]
    pub state_table: Option<String>,

    /// A DynamoDB-compatible endpoint for --state-table [default: AWS DynamoDB].
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    pub state_endpoint: Option<String>,

    /// Folder of the gateway's state (the upload log, API keys, share links' records) as a redb file, state.redb, which one process at a time may open (with --endpoint; the embedded store defaults to --data-dir).
    #[arg(long, env = "STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// The bucket [default: `presign-gateway` on the embedded store; required otherwise].
    #[arg(long, env = "BUCKET_NAME")]
    pub bucket: Option<String>,

    /// The bucket's region [default: the AWS config chain's, or us-east-1 with --endpoint].
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,

    /// Base URL clients reach storage at, when it differs from --endpoint or the embedded store's address.
    /// SigV4 signs the host, so it must be exactly what clients will use.
    #[arg(long, env = "STORE_URL")]
    pub store_url: Option<String>,

    /// Folder every key is placed under, such as `uploads/`.
    #[arg(long, env = "KEY_PREFIX", default_value = "")]
    pub key_prefix: String,

    /// Origins whose browser pages may call the gateway (CORS), comma-separated, or `*`.
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Host names the gateway answers to besides IP addresses, localhost and --base-url's host, comma-separated; others get 421 (against DNS rebinding). In Lambda, any Host unless this is set.
    #[arg(long, env = "ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Let the embedded store answer `Origin: null` too, for pages from --allowed-origins that follow a cross-origin 307 to it; any sandboxed iframe sends it as well, so it stays off unless such a page needs it.
    #[arg(long, env = "ALLOW_NULL_ORIGIN")]
    pub allow_null_origin: bool,

    /// The largest object accepted, by single PUT or in parts (bytes, or KiB, MiB, GiB, TiB); unset, storage's own limits apply.
    #[arg(long, env = "MAX_OBJECT_SIZE", value_parser = parse_size)]
    pub max_object_size: Option<u64>,

    /// How callers are identified.
    #[arg(long = "auth", env = "AUTH_MODE", default_value = "none")]
    pub auth: AuthMode,

    /// HS256 secret for --auth jwt, at least 32 bytes (prefer the environment variable).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM public key (RSA, EC or Ed25519) or JWKS file for --auth jwt.
    #[arg(long, env = "JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<String>,

    /// The JWT algorithms accepted, comma-separated [default: HS256 with a secret; with a PEM key RS256, ES256, ES384 or EdDSA by its type; a JWKS key's own `alg`].
    #[arg(long, env = "JWT_ALGORITHMS", value_delimiter = ',')]
    pub jwt_algorithms: Vec<String>,

    /// The `iss` bearer tokens must carry.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// The `aud` bearer tokens must carry.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// URL of the sign-in provider's JWKS for --auth jwt (instead of --jwt-public-key): fetched over HTTPS (plain HTTP only to a loopback host), kept fresh, and fetched again when a token names a key not held.
    #[arg(long, env = "JWKS_URL", conflicts_with = "jwt_public_key")]
    pub jwks_url: Option<String>,

    /// The OpenID provider's issuer URL: with --auth jwt its /.well-known/openid-configuration names the keys (jwks_uri) and tokens' `iss` must be exactly this; the page signs visitors in there.
    #[arg(long, env = "OIDC_ISSUER", conflicts_with_all = ["jwks_url", "jwt_public_key", "jwt_issuer"])]
    pub oidc_issuer: Option<String>,

    /// The page's OpenID client id (a public client: Authorization Code with PKCE, no secret); tokens must name it in `aud` or, as Cognito's access tokens do, in `client_id`.
    #[arg(long, env = "OIDC_CLIENT_ID", requires = "oidc_issuer", conflicts_with = "jwt_audience")]
    pub oidc_client_id: Option<String>,

    /// Which of the provider's tokens the page sends.
    #[arg(long, env = "OIDC_TOKEN", value_enum, default_value = "id")]
    pub oidc_token: OidcToken,

    /// The claim that names the caller's tenant.
    #[arg(long, env = "TENANT_CLAIM", default_value = "sub")]
    pub tenant_claim: String,

    /// Folder the tenants' folders are in: a tenant's keys live under FOLDER/<tenant>/.
    #[arg(long, env = "TENANT_FOLDER", default_value = "tenants")]
    pub tenant_folder: String,

    /// Share link keys, kid:secret[,kid:secret...]: the first signs, all verify (prefer the environment variable).
    #[arg(long, env = "SHARE_KEYS", hide_env_values = true)]
    pub share_keys: Option<String>,

    /// ARN of an AWS Secrets Manager secret holding the share keys, read at start-up.
    #[arg(long, env = "SHARE_KEYS_SECRET_ARN", conflicts_with = "share_keys")]
    pub share_keys_secret_arn: Option<String>,

    /// The longest lifetime a share link may have (seconds, or 30m, 12h, 365d).
    #[arg(long, env = "SHARE_MAX_TTL", default_value = "365d", value_parser = parse_duration)]
    pub share_max_ttl: Duration,

    /// The gateway's public base URL, used in share links [default: the request's host and stage].
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,

    /// Address of a second port serving Prometheus metrics (/metrics) and health checks (/healthz, /readyz)
    /// [default: none].
    #[arg(long, env = "METRICS_LISTEN_ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// CloudWatch namespace of the metrics Lambda writes into its log lines (Embedded Metric Format).
    #[arg(long, env = "METRICS_NAMESPACE", default_value = "presign-gateway")]
    pub metrics_namespace: String,

    /// Log filter, in `tracing` `EnvFilter` syntax.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log format [default: json in Lambda, text elsewhere].
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Renditions, and keeping the upload log in step.
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// What happens after an upload: renditions, and keeping the upload log in step.
#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    /// Rendition presets, name=WxH[:cover][:rotate90|180|270][:png|:jpeg][:qN], comma-separated, or `none` [default: thumb=320x320 locally, none in Lambda].
    #[arg(long, env = "RENDITIONS")]
    pub renditions: Option<String>,

    /// The largest image renditions are made of (bytes, or KiB, MiB, GiB).
    #[arg(long, env = "MAX_IMAGE_BYTES", default_value = "64MiB", value_parser = parse_size)]
    pub max_image_bytes: u64,

    /// The most pixels (width times height) an image renditions are made of may have, read from its header before decoding.
    #[arg(long, env = "MAX_IMAGE_PIXELS", default_value_t = 50_000_000)]
    pub max_image_pixels: u64,

    /// How often to reconcile the upload log with storage by listing it (for storage that sends no events), such as 1h [default: only at start, when the log is new].
    #[arg(long, env = "CATALOG_SYNC_EVERY", value_parser = parse_duration)]
    pub catalog_sync_every: Option<Duration>,

    /// The EventBridge bus (name or ARN) the processor function and `catalog sync --render` send `Rendition Ready` / `Rendition Failed` to; `serve` tells its --notify-url receivers instead.
    #[arg(long, env = "EVENT_BUS")]
    pub event_bus: Option<String>,
}

impl ServeArgs {
    /// The settings from environment variables and defaults alone.
    pub fn from_env() -> Result<Self, clap::Error> {
        #[derive(Parser)]
        struct EnvOnly {
            #[command(flatten)]
            args: ServeArgs,
        }
        EnvOnly::try_parse_from(["presign-gateway"]).map(|parsed| parsed.args)
    }
}

/// The local server's limits, the same for `serve` and `store`.
#[derive(Debug, Clone, Copy, Args)]
pub struct ServerArgs {
    /// How long a client may take to send a request's headers before its connection is closed (seconds, or 30s, 2m).
    #[arg(long, env = "HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// The most client connections served at once; when all are taken an idle one gives way (of the address holding the most, idle longest, not within 500 ms of its last activity), and when none can, more wait.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// The most connections one client address may hold at once (0: no limit; use 0 behind a proxy, where every client has its address).
    #[arg(long, env = "MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256)]
    pub max_connections_per_address: usize,

    /// Bytes a second a request body must keep arriving at, and a response keep being read at, while the server waits on the client (8KiB; 0 turns it off); a slower client is cut off.
    #[arg(long, env = "MIN_BODY_RATE", default_value = "8KiB", value_parser = parse_size)]
    pub min_body_rate: u64,

    /// The most bytes a request's line and headers may take (64KiB, 1MiB); more get 431.
    #[arg(long, env = "MAX_HEADER_BYTES", default_value = "64KiB", value_parser = parse_size)]
    pub max_header_bytes: u64,
}

/// Settings for `store`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Host (name or address) and port the store listens on; a name listens on every address it resolves to (port 0 picks a free one).
    #[arg(long, env = "STORE_LISTEN_ADDR", default_value = "127.0.0.1:9000")]
    pub listen: String,

    /// The local server's limits.
    #[command(flatten)]
    pub server: ServerArgs,

    /// Folder the store keeps its buckets in.
    #[arg(long, env = "DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// The bucket it serves.
    #[arg(long, env = "BUCKET_NAME", default_value = DEFAULT_EMBEDDED_BUCKET)]
    pub bucket: String,

    /// Abort multipart uploads of the embedded store started longer ago than this, as S3's lifecycle rule does (seconds, or 30m, 12h, 1d).
    #[arg(long, env = "ABORT_INCOMPLETE_UPLOADS_AFTER", default_value = "1d", value_parser = parse_duration)]
    pub abort_incomplete_uploads_after: Duration,

    /// Upload events.
    #[command(flatten)]
    pub notify: NotifyArgs,

    /// The folder every key is placed under, as the gateway is configured (a full event spool counts events by tenant).
    #[arg(long, env = "KEY_PREFIX", default_value = "")]
    pub key_prefix: String,

    /// The folder the tenants' folders are in, as the gateway is configured.
    #[arg(long, env = "TENANT_FOLDER", default_value = "tenants")]
    pub tenant_folder: String,

    /// Refuse presigned requests with any unsigned x-amz-* header, as strict S3-compatible servers (Garage) do, to test clients against them.
    #[arg(long, env = "STRICT_SIGNING", value_parser = BoolishValueParser::new())]
    pub strict_signing: bool,

    /// The access key id signatures must be made with.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub access_key_id: String,

    /// The secret key signatures must be made with (prefer the environment variable).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: String,

    /// Origins whose browser pages may reach the store (CORS), comma-separated, or `*`.
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Answer `Origin: null` too, for pages from --allowed-origins that follow a cross-origin 307 here; any sandboxed iframe sends it as well, so it stays off unless such a page needs it.
    #[arg(long, env = "ALLOW_NULL_ORIGIN")]
    pub allow_null_origin: bool,

    /// Log filter, in `tracing` `EnvFilter` syntax.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

/// Upload events, for `serve` on the embedded store and for `store`: S3's
/// EventBridge event, POSTed after each object is created or deleted.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// URLs the embedded store POSTs an event to after each object is created or deleted (S3's EventBridge event), comma-separated; delivered at least once, in order.
    #[arg(long = "notify-url", env = "NOTIFY_URL", value_delimiter = ',', hide_env_values = true)]
    pub urls: Vec<String>,

    /// Secret that signs each event (X-Presign-Gateway-Signature: HMAC-SHA256), at least 32 bytes (prefer the environment variable).
    #[arg(long = "notify-secret", env = "NOTIFY_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// The most events kept for receivers that are behind; beyond it the oldest of the tenant holding the most are dropped, counted and logged.
    #[arg(long = "notify-spool-limit", env = "NOTIFY_SPOOL_LIMIT", default_value_t = 100_000)]
    pub spool_limit: u64,
}

/// Settings for `share`.
#[derive(Debug, Clone, Args)]
pub struct ShareArgs {
    /// The key to share, as a path (`docs/q3 report.pdf`).
    pub key: String,

    /// How long the link works (seconds, or 30m, 12h, 30d, 2w).
    #[arg(long, value_parser = Ttl::parse)]
    pub ttl: Ttl,

    /// The tenant the key belongs to; required unless the gateway runs with --auth none.
    #[arg(long)]
    pub tenant: Option<String>,

    /// What the link allows: GET (and HEAD), PUT, DELETE, comma-separated.
    #[arg(long, default_value = "GET", value_parser = Methods::parse)]
    pub methods: Methods,

    /// The largest upload a PUT link takes (bytes, or KiB, MiB, GiB, TiB).
    #[arg(long, value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// How many times the link may be used (a download, an upload); needs the gateway's state store.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_uses: Option<u64>,

    /// The gateway's DynamoDB state table: the link gets a record there (uses counted, listed, revocable).
    #[arg(long, env = "STATE_TABLE", conflicts_with = "state_dir")]
    pub state_table: Option<String>,

    /// A DynamoDB-compatible endpoint for --state-table [default: AWS DynamoDB].
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    pub state_endpoint: Option<String>,

    /// The folder of the gateway's state.redb: the link gets a record there (the `serve` that holds it must be stopped).
    #[arg(long, env = "STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// The gateway's public base URL.
    #[arg(long, env = "BASE_URL")]
    pub base_url: String,

    /// Share link keys, kid:secret[,...]; the first signs (prefer the environment variable).
    #[arg(long, env = "SHARE_KEYS", hide_env_values = true)]
    pub share_keys: Option<String>,

    /// How the gateway identifies callers, as it is configured: links without --tenant are for --auth none only.
    #[arg(long = "auth", env = "AUTH_MODE", default_value = "none")]
    pub auth: AuthMode,

    /// The folder every key is placed under, as the gateway is configured.
    #[arg(long, env = "KEY_PREFIX", default_value = "")]
    pub key_prefix: String,

    /// The folder the tenants' folders are in, as the gateway is configured.
    #[arg(long, env = "TENANT_FOLDER", default_value = "tenants")]
    pub tenant_folder: String,

    /// The longest lifetime a link may have, as the gateway is configured.
    #[arg(long, env = "SHARE_MAX_TTL", default_value = "365d", value_parser = parse_duration)]
    pub share_max_ttl: Duration,
}

/// How callers are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Nobody in particular: one tenant, the whole bucket (or key prefix).
    None,
    /// API Gateway's authorizer (JWT, Cognito or Lambda) already checked the caller; its claims name the tenant.
    Authorizer,
    /// Bearer JWTs, verified here.
    Jwt,
}

/// Which token of the OpenID provider's the page sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OidcToken {
    /// The ID token, whose `aud` is the client.
    Id,
    /// The access token (Cognito's names the client in `client_id`).
    Access,
}

impl OidcToken {
    /// Its name in `?config` and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Access => "access",
        }
    }
}

/// `NAME=VALUE`, for `--meta`.
#[cfg(feature = "client")]
fn parse_meta(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    units::parse_duration(text)
}

fn parse_size(text: &str) -> Result<u64, UnitError> {
    units::parse_size(text)
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for CloudWatch and log shippers.
    Json,
    /// Human-readable lines.
    Text,
}
