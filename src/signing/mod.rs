//! Turning a [`PresignOrder`] into a presigned S3 URL (SigV4, the signature
//! in the query). The bucket's endpoint is resolved once at start-up by the
//! SDK's endpoint rules and the day's signing key once a day, so a request
//! costs two SHA-256 passes, one HMAC and no I/O ([`sigv4`]).

mod amz_date;
mod credentials;
mod day_key;
mod encoding;
mod endpoint;
mod headers;
mod sigv4;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use http::HeaderValue;

pub use credentials::{CredentialsCache, CredentialsUnavailable};
pub use endpoint::{BucketEndpoint, EndpointError, StoreLocation, UnsignableUrl};
pub use headers::LEFT_UNSIGNED;

use self::amz_date::AmzDate;
use self::day_key::DayKeys;
use crate::core::PresignOrder;

/// The longest lifetime SigV4 allows a presigned URL: 7 days.
pub const MAX_EXPIRES: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The cap for temporary credentials that do not say when they expire (the
/// Lambda execution role's come as bare environment variables). One hour is
/// the default session of an assumed role.
pub const UNKNOWN_EXPIRY_CAP: Duration = Duration::from_secs(60 * 60);

/// A presigned URL, ready to be a `Location` header, and when it stops
/// working. It is a bearer credential, so it is marked sensitive and `Debug`
/// does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    url: HeaderValue,
    expires_at: SystemTime,
}

impl PresignedUrl {
    /// The URL as a header value.
    #[must_use]
    pub fn header_value(&self) -> &HeaderValue {
        &self.url
    }

    /// The URL as a header value, without a copy.
    #[must_use]
    pub fn into_header_value(self) -> HeaderValue {
        self.url
    }

    /// The URL, for clients that follow it themselves.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Built from ASCII only (percent-encoded), so this cannot fail.
        self.url.to_str().unwrap_or_default()
    }

    /// When storage starts refusing it.
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

impl fmt::Debug for PresignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresignedUrl(<redacted>)")
    }
}

/// Why no URL could be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The credentials have expired or are about to: signing with them would
    /// hand out a URL that storage refuses.
    #[error("the signing credentials have expired")]
    CredentialsExpired,
    /// The clock says a time SigV4 cannot write (before 1970, after 9999).
    #[error("the system clock is outside the years SigV4 can sign for")]
    Clock,
    /// A header to sign has a name that is not a header name.
    #[error("a header to sign has an invalid name")]
    HeaderName,
    /// A header to sign has a value a header cannot carry.
    #[error("a header to sign has an invalid value")]
    HeaderValue,
    /// What the URL is for (a share link) expires before a URL could live a second.
    #[error("the share link has expired")]
    OrderExpired,
    /// The URL had a character a header cannot carry.
    #[error("the presigned URL is not a valid header value")]
    NotAHeader(#[from] http::header::InvalidHeaderValue),
}

/// Signs URLs for one bucket, in one region, for S3. Built once at
/// start-up; keeps the day's signing key.
#[derive(Debug)]
pub struct Presigner {
    endpoint: BucketEndpoint,
    keys: DayKeys,
}

impl Presigner {
    /// A presigner for the bucket at `endpoint`.
    #[must_use]
    pub fn new(endpoint: BucketEndpoint) -> Self {
        Self { endpoint, keys: DayKeys::default() }
    }

    /// The bucket's endpoint.
    #[must_use]
    pub fn endpoint(&self) -> &BucketEndpoint {
        &self.endpoint
    }

    /// Presigns `order` with `credentials` as of `now`. The URL never
    /// outlives the credentials that sign it.
    pub fn presign(
        &self,
        order: &PresignOrder,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<PresignedUrl, SignError> {
        let lifetime = lifetime(asked_lifetime(order, now)?, credentials, now)?;
        let since_epoch = now.duration_since(UNIX_EPOCH).map_err(|_| SignError::Clock)?;
        let date = AmzDate::new(since_epoch.as_secs())?;
        let url = self.keys.with(credentials, &date, self.endpoint.signing_region(), |key| {
            sigv4::presign(self.endpoint.target(), key, order, &date, lifetime)
        })?;
        let mut header = HeaderValue::try_from(url)?;
        header.set_sensitive(true);
        // SigV4 counts from the signing time in whole seconds.
        let signed_at = UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs());
        Ok(PresignedUrl { url: header, expires_at: signed_at + lifetime })
    }
}

/// The lifetime `order` asks for, within any moment it must not outlive (a
/// share link's expiry), in whole seconds as SigV4 counts them.
pub fn asked_lifetime(order: &PresignOrder, now: SystemTime) -> Result<Duration, SignError> {
    let Some(until) = order.valid_until else { return Ok(order.expires_in) };
    let left = until.duration_since(now).map_err(|_| SignError::OrderExpired)?;
    if left.as_secs() == 0 {
        return Err(SignError::OrderExpired);
    }
    Ok(order.expires_in.min(Duration::from_secs(left.as_secs())))
}

/// How long a URL asked to live for `wanted` may live, given the credentials.
pub fn lifetime(wanted: Duration, credentials: &Credentials, now: SystemTime) -> Result<Duration, SignError> {
    let limit = match credentials.expiry() {
        Some(expiry) => expiry.duration_since(now).map_err(|_| SignError::CredentialsExpired)?,
        None if credentials.session_token().is_some() => UNKNOWN_EXPIRY_CAP,
        None => MAX_EXPIRES,
    };
    let lifetime = Duration::from_secs(wanted.min(limit).min(MAX_EXPIRES).as_secs());
    if lifetime.is_zero() {
        return Err(SignError::CredentialsExpired);
    }
    Ok(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::key::ObjectKey;
    use crate::core::{Delivery, Operation, Policy, ResponseOverrides};

    const DAY: Duration = Duration::from_secs(86_400);

    fn credentials(token: Option<&str>, expiry: Option<SystemTime>) -> Credentials {
        Credentials::new("AKIDEXAMPLE", "secret", token.map(str::to_owned), expiry, "test")
    }

    #[test]
    fn lifetime_is_capped_by_credentials() {
        let now = SystemTime::UNIX_EPOCH + DAY * 1000;
        let five_min = Duration::from_secs(300);
        assert_eq!(lifetime(five_min, &credentials(None, None), now).unwrap(), five_min);
        assert_eq!(lifetime(DAY * 30, &credentials(None, None), now).unwrap(), MAX_EXPIRES);
        assert_eq!(lifetime(DAY, &credentials(Some("t"), None), now).unwrap(), UNKNOWN_EXPIRY_CAP);
        let soon = credentials(Some("t"), Some(now + Duration::from_millis(90_500)));
        assert_eq!(lifetime(five_min, &soon, now).unwrap(), Duration::from_secs(90));
        let gone = credentials(Some("t"), Some(now - Duration::from_secs(1)));
        assert!(matches!(lifetime(five_min, &gone, now), Err(SignError::CredentialsExpired)));
        let almost = credentials(Some("t"), Some(now + Duration::from_millis(500)));
        assert!(matches!(lifetime(five_min, &almost, now), Err(SignError::CredentialsExpired)));
    }

    fn presigner() -> Presigner {
        Presigner::new(BucketEndpoint::new("http://127.0.0.1:9000/bucket", "us-east-1").unwrap())
    }

    fn order(key: &str, operation: Operation, response: ResponseOverrides) -> PresignOrder {
        let policy = Policy::new(Duration::from_secs(300));
        let key = policy.scope(None).storage_key(&ObjectKey::new(key.into()).unwrap()).unwrap();
        PresignOrder {
            operation,
            key,
            expires_in: policy.expires_in,
            valid_until: None,
            response,
            signed_headers: Vec::new(),
            metadata: Vec::new(),
            delivery: Delivery::Redirect,
            part: None,
        }
    }

    #[test]
    fn urls_carry_the_encoded_key_and_the_overrides() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let response = ResponseOverrides {
            cache_control: Some("private, no-cache".into()),
            content_type: Some("text/plain".into()),
            content_disposition: Some("attachment; filename=\"a b.txt\"".into()),
        };
        let url = presigner()
            .presign(&order("dir/a b+c%#é.txt", Operation::Get, response), &credentials(Some("tok/en"), None), now)
            .unwrap();
        let url = url.as_str();
        assert!(url.starts_with("http://127.0.0.1:9000/bucket/dir/a%20b%2Bc%25%23%C3%A9.txt?"), "{url}");
        assert!(url.contains("response-content-type=text%2Fplain"), "{url}");
        assert!(url.contains("response-cache-control=private%2C%20no-cache&"), "{url}");
        assert!(url.contains("response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22"), "{url}");
        assert!(url.contains("X-Amz-Expires=300"), "{url}");
        assert!(url.contains("X-Amz-Date=20231114T221320Z"), "{url}");
        assert!(url.contains("X-Amz-Security-Token=tok%2Fen"), "{url}");
        assert!(url.contains("X-Amz-SignedHeaders=host&"), "{url}");
        assert!(!url.contains("checksum"), "{url}");
    }

    #[test]
    fn signatures_depend_on_the_operation() {
        let now = SystemTime::now();
        let creds = credentials(None, None);
        let get = presigner().presign(&order("k", Operation::Get, ResponseOverrides::default()), &creds, now).unwrap();
        let put = presigner().presign(&order("k", Operation::Put, ResponseOverrides::default()), &creds, now).unwrap();
        assert_ne!(get, put);
        assert_eq!(format!("{get:?}"), "PresignedUrl(<redacted>)");
    }
}
