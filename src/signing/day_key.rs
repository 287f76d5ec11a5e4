//! The SigV4 signing key of a day. It depends only on the secret, the date,
//! the region and the service (four chained HMACs), so it is derived once
//! per day and credentials, not per request, together with the parts of the
//! URL that come from the credentials (the encoded credential scope and
//! security token).

use std::fmt;
use std::sync::{PoisonError, RwLock};

use aws_credential_types::Credentials;
use aws_lc_rs::hmac;
use percent_encoding::utf8_percent_encode;

use super::amz_date::AmzDate;
use super::encoding::QUERY;

/// S3's SigV4 service name.
pub const SERVICE: &str = "s3";

/// What one day's signatures with one set of credentials need.
pub struct DayKey {
    day: u64,
    /// The credentials the key was derived from, to tell when they change: a
    /// clone shares their one (zeroed on drop) copy of the secret. Clones of
    /// the same credentials, as [`super::CredentialsCache`] hands out, compare
    /// by pointer before any field (`Arc<T: Eq>` does).
    credentials: Credentials,
    signing_key: hmac::Key,
    /// `YYYYMMDD/region/s3/aws4_request`.
    scope: String,
    /// `X-Amz-Credential`'s value, encoded.
    credential: String,
    /// `X-Amz-Security-Token=…`, encoded.
    token: Option<String>,
}

impl DayKey {
    /// Derives the key for `credentials` on `date` in `region`:
    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
    fn derive(credentials: &Credentials, date: &AmzDate, region: &str) -> Self {
        let chain = |key: &[u8], data: &str| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes());
        let secret = format!("AWS4{}", credentials.secret_access_key());
        let key = chain(secret.as_bytes(), date.date());
        let key = chain(key.as_ref(), region);
        let key = chain(key.as_ref(), SERVICE);
        let key = chain(key.as_ref(), "aws4_request");
        let scope = format!("{}/{region}/{SERVICE}/aws4_request", date.date());
        let credential = format!("{}/{scope}", credentials.access_key_id());
        Self {
            day: date.day(),
            credentials: credentials.clone(),
            signing_key: hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
            scope,
            credential: utf8_percent_encode(&credential, QUERY).to_string(),
            token: credentials
                .session_token()
                .map(|token| format!("X-Amz-Security-Token={}", utf8_percent_encode(token, QUERY))),
        }
    }

    fn fits(&self, credentials: &Credentials, day: u64) -> bool {
        self.day == day && self.credentials == *credentials
    }

    /// The day's signing key, ready for HMAC.
    pub fn signing_key(&self) -> &hmac::Key {
        &self.signing_key
    }

    /// `YYYYMMDD/region/s3/aws4_request`.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// `X-Amz-Credential`'s value, percent-encoded.
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// `X-Amz-Security-Token=…`, percent-encoded, for temporary credentials.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl fmt::Debug for DayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DayKey").field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// The last day key made, shared by every request. One entry is enough:
/// credentials change rarely, days once a day.
#[derive(Debug, Default)]
pub struct DayKeys {
    current: RwLock<Option<DayKey>>,
}

impl DayKeys {
    /// Runs `sign` with the key for `credentials` on `date` in `region`,
    /// deriving it first if the day or the credentials changed.
    pub fn with<T>(
        &self,
        credentials: &Credentials,
        date: &AmzDate,
        region: &str,
        sign: impl FnOnce(&DayKey) -> T,
    ) -> T {
        {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(key) = current.as_ref().filter(|key| key.fits(credentials, date.day())) {
                return sign(key);
            }
        }
        let key = DayKey::derive(credentials, date, region);
        let signed = sign(&key);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(key);
        signed
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// The example of AWS's documentation ("Examples of how to derive a signing key").
    #[test]
    fn the_key_is_awss_example() {
        let credentials = Credentials::new("AKID", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "doc");
        let date = AmzDate::new(1_329_264_000).unwrap(); // 2012-02-15
        let key = DayKey::derive(&credentials, &date, "us-east-1");
        let expected = aws_sigv4::sign::v4::generate_signing_key(
            credentials.secret_access_key(),
            UNIX_EPOCH + Duration::from_secs(1_329_264_000),
            "us-east-1",
            "s3",
        );
        let mine = hmac::sign(key.signing_key(), b"probe");
        let theirs = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, expected.as_ref()), b"probe");
        assert_eq!(mine.as_ref(), theirs.as_ref());
        assert_eq!(key.scope(), "20120215/us-east-1/s3/aws4_request");
        assert_eq!(key.credential(), "AKID%2F20120215%2Fus-east-1%2Fs3%2Faws4_request");
    }

    #[test]
    fn a_new_day_or_new_credentials_make_a_new_key() {
        let keys = DayKeys::default();
        let first = Credentials::new("AK1", "S1", None, None, "t");
        let day1 = AmzDate::new(1_700_000_000).unwrap();
        let day2 = AmzDate::new(1_700_000_000 + 86_400).unwrap();
        let scope =
            |c: &Credentials, d: &AmzDate| keys.with(c, d, "r", |k| (k.scope().to_owned(), k.credential().to_owned()));
        assert_eq!(scope(&first, &day1).0, "20231114/r/s3/aws4_request");
        assert_eq!(scope(&first, &day2).0, "20231115/r/s3/aws4_request");
        let second = Credentials::new("AK2", "S2", Some("t/k".into()), None, "t");
        assert!(scope(&second, &day2).1.starts_with("AK2%2F"));
        assert_eq!(
            keys.with(&second, &day2, "r", |k| k.token().map(str::to_owned)).as_deref(),
            Some("X-Amz-Security-Token=t%2Fk")
        );
        // The same key id with another secret is other credentials.
        let edited = Credentials::new("AK2", "S3", Some("t/k".into()), None, "t");
        let signed =
            |c: &Credentials| keys.with(c, &day2, "r", |k| hmac::sign(k.signing_key(), b"x").as_ref().to_vec());
        assert_ne!(signed(&second), signed(&edited));
    }
}
