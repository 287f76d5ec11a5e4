//! Command-line arguments. Every setting has an environment twin, and inside
//! Lambda the same struct is read from the environment alone, so the names in
//! `template.yaml` and here cannot drift apart unnoticed.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
pub enum Command {
    /// Serve the gateway over HTTP, on the embedded store unless --endpoint is given.
    Serve(ServeArgs),
    /// Serve only the embedded S3-compatible store, with the credentials given,
    /// for a gateway running elsewhere (such as under `cargo lambda watch`).
    #[cfg(feature = "embedded-store")]
    Store(StoreArgs),
}

impl Cli {}

/// Settings for `serve` and for the Lambda function.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the gateway listens on (port 0 picks a free one).
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Folder the embedded store keeps its buckets in.
    #[arg(long, env = "DATA_DIR", default_value = "data", conflicts_with = "endpoint")]
    pub data_dir: PathBuf,

    /// Address the embedded store listens on [default: the gateway's host, a free port].
    #[arg(long, env = "STORE_LISTEN_ADDR", conflicts_with = "endpoint")]
    pub store_listen: Option<SocketAddr>,

    /// Lifetime of each presigned URL in seconds, at most 604800 (7 days).
    #[arg(long, env = "EXPIRES_SECONDS", default_value_t = 300)]
    pub expires: u64,

    /// An S3-compatible endpoint (MinIO, Garage, R2, ...); switches the embedded store off.
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    pub endpoint: Option<String>,

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

    /// Log filter, in `tracing` `EnvFilter` syntax.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log format [default: json in Lambda, text elsewhere].
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
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

/// Settings for `store`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Address the store listens on.
    #[arg(long, env = "STORE_LISTEN_ADDR", default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,

    /// Folder the store keeps its buckets in.
    #[arg(long, env = "DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// The bucket it serves.
    #[arg(long, env = "BUCKET_NAME", default_value = crate::config::DEFAULT_EMBEDDED_BUCKET)]
    pub bucket: String,

    /// The access key id signatures must be made with.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub access_key_id: String,

    /// The secret key signatures must be made with (prefer the environment variable).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: String,

    /// Origins whose browser pages may reach the store (CORS), comma-separated, or `*`.
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Log filter, in `tracing` `EnvFilter` syntax.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for CloudWatch and log shippers.
    Json,
    /// Human-readable lines.
    Text,
}
