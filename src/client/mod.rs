//! `presign-gateway upload` and `download`: a client that asks the gateway
//! where to send the bytes, then moves them straight to or from storage.
//!
//! It never sends a body to the gateway, so front doors with small body
//! limits (API Gateway's 10 MB, Lambda's 6 MB) are no obstacle. Large files go
//! up in parts, several at once, each with its CRC64NVME signed in, and the
//! whole object's CRC64NVME is checked by storage at completion; failed
//! requests are retried with jittered backoff; an interrupted upload can
//! resume from the parts already stored; downloads stream and resume with
//! `Range`. Presigned URLs are never printed. The gateway's answers are read
//! as the [`crate::wire`] messages it writes.

pub mod address;
mod attributes;
mod checksum;
mod download;
mod multipart;
mod parts;
mod progress;
mod put;
mod resume;
mod retry;
mod state;
mod upload;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};

pub use download::{DownloadOptions, download};
pub use upload::{UploadOptions, upload};

use crate::wire::s3;

/// Why a transfer failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The gateway refused the request.
    #[error("the gateway answered {status}: {reason}")]
    Gateway {
        /// The HTTP status.
        status: StatusCode,
        /// Its one-line reason.
        reason: String,
    },
    /// Storage refused the request.
    #[error("storage answered {status} {code}{}", detail(message))]
    Storage {
        /// The HTTP status.
        status: StatusCode,
        /// S3's error code, such as `SignatureDoesNotMatch`.
        code: String,
        /// S3's message.
        message: String,
    },
    /// The network failed (after retries). The error carries no URL:
    /// presigned ones are credentials.
    #[error("the connection failed")]
    Network(#[source] reqwest::Error),
    /// The gateway could not be reached before it ever answered: a gateway
    /// that is not running, or a wrong address, which retries would not cure.
    #[error("cannot reach {origin}: {reason} — {question}")]
    Unreachable {
        /// The gateway's scheme, host and port (never its path or query, which may carry a share token).
        origin: String,
        /// Why, in a few words: `connection refused`, `timed out`, the resolver's reason.
        reason: String,
        /// What to check: whether it runs, or also whether the address is right.
        question: &'static str,
    },
    /// A local file could not be read or written.
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
    /// The data did not survive the trip.
    #[error("{0}")]
    Integrity(String),
    /// The gateway or storage answered something this client cannot use.
    #[error("{0}")]
    Protocol(String),
    /// The gateway's answer is not the message it should be.
    #[error("the gateway's answer could not be read")]
    Decode(#[source] reqwest::Error),
    /// A task of the transfer stopped.
    #[error("a transfer task failed")]
    Task(#[source] tokio::task::JoinError),
    /// A failure the user can continue from, with how.
    #[error("{}\n{hint}", crate::telemetry::ErrorChain(error.as_ref()))]
    Resumable {
        /// What went wrong.
        error: Box<ClientError>,
        /// How to continue.
        hint: String,
    },
    /// Stopped by Ctrl-C, with how to go on.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A mistake in what the user asked for.
    #[error("{0}")]
    Usage(String),
}

/// `: message`, or nothing when storage gave none.
fn detail(message: &str) -> String {
    if message.is_empty() { String::new() } else { format!(": {message}") }
}

impl ClientError {
    /// Whether trying again may help: a network failure, the gateway or
    /// storage overloaded or failing, or storage refusing what a fresh
    /// presigned URL cures (an expired URL, a request that took too long).
    /// Never the gateway's own refusals, a bad URL or a local error: they
    /// answer the same however often they are tried.
    fn is_transient(&self) -> bool {
        match self {
            Self::Network(error) => !error.is_builder(),
            Self::Gateway { status, .. } => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            Self::Storage { status, code, message } => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || matches!(code.as_str(), "RequestTimeout" | "SlowDown" | "RequestTimeTooSkewed")
                    || (*status == StatusCode::FORBIDDEN && code == "AccessDenied" && message.contains("expired"))
            }
            Self::Unreachable { .. }
            | Self::Io(..)
            | Self::Integrity(_)
            | Self::Protocol(_)
            | Self::Decode(_)
            | Self::Task(_)
            | Self::Resumable { .. }
            | Self::Interrupted(_)
            | Self::Usage(_) => false,
        }
    }
}

/// A network failure, without its URL.
fn network(error: reqwest::Error) -> ClientError {
    ClientError::Network(error.without_url())
}

/// `error`, a failure to connect to the gateway at `url`, in a few words.
fn unreachable(url: &Url, error: &reqwest::Error) -> ClientError {
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    let mut io = None;
    while let Some(source) = innermost.source() {
        innermost = source;
        io = io.or_else(|| source.downcast_ref::<std::io::Error>());
    }
    let kind = io.map(std::io::Error::kind);
    let reason = match kind {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
        Some(std::io::ErrorKind::TimedOut) => "timed out".to_owned(),
        _ if error.is_timeout() => "timed out".to_owned(),
        _ => innermost.to_string(),
    };
    ClientError::Unreachable {
        origin: url.origin().ascii_serialization(),
        reason,
        question: if kind == Some(std::io::ErrorKind::ConnectionRefused) {
            "is the gateway running?"
        } else {
            "is the address right, and the gateway running?"
        },
    }
}

/// Talks to one gateway.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    http: reqwest::Client,
    token: Option<String>,
    /// Whether the gateway has answered once: until it has, a failure to
    /// connect means it is down or elsewhere, said at once; after, a
    /// connection lost mid-transfer is retried like any network failure.
    answered: Arc<AtomicBool>,
}

impl GatewayClient {
    /// A client that sends `token` as a bearer token to the gateway (never to storage).
    pub fn new(token: Option<String>) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(network)?;
        Ok(Self { http, token, answered: Arc::new(AtomicBool::new(false)) })
    }

    /// Asks the gateway where `method` on `url` goes, without sending a body.
    async fn locate(&self, method: Method, url: &Url, headers: HeaderMap) -> Result<Url, ClientError> {
        let response = self.call(method, url, headers, None).await?;
        if response.status() != StatusCode::TEMPORARY_REDIRECT {
            return Err(gateway_error(response).await);
        }
        let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        Url::parse(location)
            .map_err(|_| ClientError::Protocol("the gateway answered 307 without a usable Location".into()))
    }

    /// A request to the gateway itself, with the bearer token.
    async fn call(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<(Vec<u8>, &'static str)>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut request = self.http.request(method, url.clone()).headers(headers);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((body, content_type)) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        }
        match request.send().await {
            Ok(response) => {
                self.answered.store(true, Ordering::Relaxed);
                Ok(response)
            }
            Err(error) if error.is_connect() && !self.answered.load(Ordering::Relaxed) => Err(unreachable(url, &error)),
            Err(error) => Err(network(error)),
        }
    }

    /// The plain HTTP client, for storage (which must not see the token).
    fn storage(&self) -> &reqwest::Client {
        &self.http
    }
}

/// The gateway's one-line reason, with how the CLI passes a token when that is what it asks for.
async fn gateway_error(response: reqwest::Response) -> ClientError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    // The multipart routes refuse as S3 does, in JSON when asked for it.
    let mut reason = match serde_json::from_str::<crate::wire::ErrorMessage>(&body) {
        Ok(error) => error.message,
        Err(_) => body.trim().to_owned(),
    };
    if status == StatusCode::UNAUTHORIZED {
        reason.push_str(" (the CLI sends the token given with --token or PRESIGN_GATEWAY_TOKEN)");
    }
    ClientError::Gateway { status, reason }
}

/// Storage's S3 error code and message, from its XML body.
async fn storage_error(response: reqwest::Response) -> ClientError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let error: s3::Error = quick_xml::de::from_str(&body).unwrap_or_default();
    let code = if error.code.is_empty() { status.canonical_reason().unwrap_or("Error").to_owned() } else { error.code };
    ClientError::Storage { status, code, message: error.message }
}

fn header(value: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(value).map_err(|_| ClientError::Usage(format!("`{value}` cannot be sent as a header")))
}

/// The gateway URL with `params` added to its query.
fn with_query(url: &Url, params: &[(&str, Option<&str>)]) -> Url {
    let mut url = url.clone();
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            match value {
                Some(value) => query.append_pair(name, value),
                None => query.append_key_only(name),
            };
        }
    }
    url
}

/// MiB per second, for people to read.
#[allow(clippy::cast_precision_loss)]
fn rate(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / seconds.max(1e-9) / f64::from(1 << 20)
}
