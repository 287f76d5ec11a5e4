//! Upload events' settings, validated: where the embedded store POSTs its
//! events, the secret that signs them, and how many may wait. A receiver's
//! URL may carry a secret of its own (a token in the path or query), so
//! neither the URLs nor the secret ever appear in a message or a `Debug`
//! print: only the URL's host does.

use std::fmt;

use http::Uri;

use super::ConfigError;
use crate::cli::NotifyArgs;

/// The shortest secret accepted, in bytes, as for `--jwt-secret`.
pub const MIN_SECRET_BYTES: usize = 32;

/// Why `--notify-url` is refused with `--endpoint`.
pub(super) const WITH_ENDPOINT: &str = "with --endpoint / AWS_ENDPOINT_URL_S3, events come from that store's own notification system (AWS S3: EventBridge; MinIO: bucket notifications; see After the upload: events in the README)";
/// Why it is refused in Lambda.
pub(super) const IN_LAMBDA: &str =
    "in Lambda, events come from S3 through EventBridge (template.yaml's UploadEventsTarget wires them)";

/// Where and how upload events go. No URLs: no events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// Each receiver, once.
    pub urls: Vec<NotifyUrl>,
    /// Signs each POST, if set.
    pub secret: Option<NotifySecret>,
    /// The most events the spool keeps; beyond it, the oldest of the tenant holding the most go.
    pub spool_limit: u64,
    /// Where the tenants' folders are, `<key prefix><tenant folder>/` (empty:
    /// every key is one tenant's), which a full spool counts events by.
    pub tenants: String,
}

/// An absolute http(s) URL to POST events to.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyUrl {
    url: String,
    host: String,
}

impl NotifyUrl {
    /// The whole URL: for the request only, never for a log.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host (and port), which logs may name.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Debug for NotifyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotifyUrl({})", self.host)
    }
}

/// The HMAC key events are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifySecret(String);

impl NotifySecret {
    /// Its bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for NotifySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NotifySecret(..)")
    }
}

impl NotifyConfig {
    /// Validates the arguments; `elsewhere` says why events cannot come from
    /// here (external storage, Lambda), if so, and refuses URLs then.
    pub fn from_args(args: &NotifyArgs, elsewhere: Option<&'static str>) -> Result<Self, ConfigError> {
        let mut urls: Vec<NotifyUrl> = Vec::new();
        let entries = args.urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty());
        for (n, entry) in entries.enumerate() {
            let url = parse_url(entry).ok_or(ConfigError::NotifyUrl(n + 1))?;
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        if let (Some(reason), false) = (elsewhere, urls.is_empty()) {
            return Err(ConfigError::NotifyElsewhere(reason));
        }
        let secret = args.secret.as_deref().map(|secret| {
            if secret.len() < MIN_SECRET_BYTES {
                Err(ConfigError::NotifySecret)
            } else {
                Ok(NotifySecret(secret.to_owned()))
            }
        });
        if args.spool_limit == 0 {
            return Err(ConfigError::NotifySpoolLimit);
        }
        Ok(Self { urls, secret: secret.transpose()?, spool_limit: args.spool_limit, tenants: String::new() })
    }

    /// The same, counting a full spool's events by the tenants' folders under `tenants`.
    #[must_use]
    pub fn with_tenants(self, tenants: String) -> Self {
        Self { tenants, ..self }
    }
}

fn parse_url(entry: &str) -> Option<NotifyUrl> {
    let uri: Uri = entry.parse().ok()?;
    let host = uri.authority()?.as_str().rsplit_once('@').map_or(uri.authority()?.as_str(), |(_, host)| host);
    let http = matches!(uri.scheme_str(), Some("http" | "https"));
    (http && uri.host().is_some_and(|h| !h.is_empty()))
        .then(|| NotifyUrl { url: entry.to_owned(), host: host.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(urls: &[&str], secret: Option<&str>, limit: u64) -> NotifyArgs {
        NotifyArgs {
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            secret: secret.map(str::to_owned),
            spool_limit: limit,
        }
    }

    #[test]
    fn urls_are_kept_once_and_show_only_their_host() {
        let config = NotifyConfig::from_args(
            &args(
                &[
                    "http://127.0.0.1:8080/events",
                    " https://hooks.example/t/s3cr3t?k=v ",
                    "http://127.0.0.1:8080/events",
                ],
                None,
                10,
            ),
            None,
        )
        .unwrap();
        let hosts: Vec<&str> = config.urls.iter().map(NotifyUrl::host).collect();
        assert_eq!(hosts, ["127.0.0.1:8080", "hooks.example"]);
        assert_eq!(config.urls[1].as_str(), "https://hooks.example/t/s3cr3t?k=v");
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cr3t") && printed.contains("hooks.example"), "{printed}");
        let user = NotifyConfig::from_args(&args(&["https://me:pw@hooks.example/x"], None, 1), None).unwrap();
        assert_eq!(user.urls[0].host(), "hooks.example");
    }

    #[test]
    fn wrong_settings_say_what_to_fix_without_repeating_the_url() {
        let secret = "s".repeat(MIN_SECRET_BYTES);
        let cases: &[(NotifyArgs, Option<&'static str>, &str)] = &[
            (
                args(&["http://ok.example", "ftp://files.example/s3cr3t"], None, 1),
                None,
                "entry 2 of --notify-url / NOTIFY_URL",
            ),
            (args(&["/events"], None, 1), None, "entry 1 of --notify-url / NOTIFY_URL is not an absolute http"),
            (args(&["hooks.example/s3cr3t"], None, 1), None, "is not an absolute http"),
            (args(&[], Some("short"), 1), None, "--notify-secret / NOTIFY_SECRET must be at least 32 bytes"),
            (args(&[], Some(&secret), 0), None, "--notify-spool-limit / NOTIFY_SPOOL_LIMIT must be at least 1"),
            (args(&["http://ok.example"], None, 1), Some(WITH_ENDPOINT), "own notification system"),
        ];
        for (given, elsewhere, message) in cases {
            let error = NotifyConfig::from_args(given, *elsewhere).unwrap_err().to_string();
            assert!(error.contains(message), "{given:?}: {error}");
            assert!(!error.contains("s3cr3t"), "{error}");
        }
        assert!(NotifyConfig::from_args(&args(&[], None, 1), Some(WITH_ENDPOINT)).unwrap().urls.is_empty());
        assert!(NotifyConfig::from_args(&args(&[""], Some(&secret), 1), None).is_ok());
    }
}
