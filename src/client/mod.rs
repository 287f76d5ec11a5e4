//! `presign-gateway upload` and `download`: a client that asks the gateway
//! where to send the bytes, then moves them straight to or from storage.
//!
//! It never sends a body to the gateway, so front doors with small body
//! limits (API Gateway's 10 MB, Lambda's 6 MB) are no obstacle. Large files go
//! up in parts, several at once, each with its MD5 signed in; failed
//! requests are retried with backoff; an interrupted upload can resume from
//! the parts already stored; downloads stream and resume with `Range`.
//! Presigned URLs are never printed.

mod download;
mod progress;
mod state;
mod upload;

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};

pub use download::{DownloadOptions, download};
pub use upload::{UploadOptions, upload};

/// Attempts per request before giving up.
const ATTEMPTS: u32 = 5;

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
    #[error("storage answered {status} {code}: {message}")]
    Storage {
        /// The HTTP status.
        status: StatusCode,
        /// S3's error code, such as `SignatureDoesNotMatch`.
        code: String,
        /// S3's message.
        message: String,
    },
    /// The network failed (after retries).
    #[error("the connection failed: {0}")]
    Network(String),
    /// A local file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The data did not survive the trip.
    #[error("{0}")]
    Integrity(String),
    /// Something else that the user must fix.
    #[error("{0}")]
    Usage(String),
}

impl ClientError {
    /// Whether trying again may help.
    fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Gateway { status, .. } => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            Self::Storage { status, code, .. } => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || matches!(code.as_str(), "RequestTimeout" | "SlowDown" | "RequestTimeTooSkewed")
            }
            Self::Io(..) | Self::Integrity(_) | Self::Usage(_) => false,
        }
    }
}

/// A network failure, described without its URL: presigned ones are credentials.
fn network(error: reqwest::Error) -> ClientError {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ClientError::Network(text)
}

/// Talks to one gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    http: reqwest::Client,
    token: Option<String>,
}

impl Gateway {
    /// A client that sends `token` as a bearer token to the gateway (never to storage).
    pub fn new(token: Option<String>) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(network)?;
        Ok(Self { http, token })
    }

    /// Asks the gateway where `method` on `url` goes, without sending a body.
    async fn locate(&self, method: Method, url: &Url, headers: HeaderMap) -> Result<Url, ClientError> {
        let response = self.call(method, url, headers, None).await?;
        if response.status() != StatusCode::TEMPORARY_REDIRECT {
            return Err(gateway_error(response).await);
        }
        let location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        Url::parse(location)
            .map_err(|_| ClientError::Usage("the gateway answered 307 without a usable Location".into()))
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
        request.send().await.map_err(network)
    }

    /// The plain HTTP client, for storage (which must not see the token).
    fn storage(&self) -> &reqwest::Client {
        &self.http
    }
}

/// The gateway's one-line reason.
async fn gateway_error(response: reqwest::Response) -> ClientError {
    let status = response.status();
    let reason = response.text().await.unwrap_or_default().trim().to_owned();
    ClientError::Gateway { status, reason }
}

/// Storage's S3 error code and message, from its XML body.
async fn storage_error(response: reqwest::Response) -> ClientError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].to_owned())
    };
    ClientError::Storage {
        status,
        code: field("Code").unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned()),
        message: field("Message").unwrap_or_default(),
    }
}

/// Counts attempts, and waits 0.2 s, 0.4 s, 0.8 s… between them.
struct Retry {
    tries: u32,
}

impl Retry {
    fn new() -> Self {
        Self { tries: 1 }
    }

    /// Whether to try again after `error`, having waited.
    async fn again(&mut self, what: &str, error: &ClientError) -> bool {
        if !error.is_transient() || self.tries >= ATTEMPTS {
            return false;
        }
        let wait = Duration::from_millis(200 << self.tries.min(6));
        tracing::warn!(%error, attempt = self.tries, "{what} failed; retrying in {wait:?}");
        tokio::time::sleep(wait).await;
        self.tries += 1;
        true
    }
}

/// Runs `attempt` until it succeeds, fails for good, or runs out of tries.
async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let mut retry = Retry::new();
    loop {
        match attempt().await {
            Err(error) if retry.again(what, &error).await => {}
            result => return result,
        }
    }
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
