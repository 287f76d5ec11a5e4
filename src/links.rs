//! Share links: a compact token, `base64url(payload).base64url(HMAC-SHA256)`,
//! that carries a [`Grant`] (version, key id, tenant, key, methods, expiry and
//! size limit), signed with one of the configured share keys.
//!
//! The first key signs new links and every key verifies, so keys rotate
//! without breaking live links; removing a key revokes every link it signed.
//! A link outlives any presigned URL: each use gets a fresh one.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_smithy_http::label::{EncodingStrategy, fmt_string};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::core::grant::{Grant, Methods};
use crate::core::key::ObjectKey;
use crate::core::tenant::TenantId;

/// The token format this build writes and reads.
const VERSION: u8 = 1;

/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Tokens longer than this are refused before any parsing.
const MAX_TOKEN_CHARS: usize = 4096;

/// Why the share keys setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareKeysError {
    /// Nothing configured.
    #[error("no share key is given: use kid:secret[,kid:secret...]")]
    Empty,
    /// An entry without `kid:`.
    #[error("share key entry {0} is not kid:secret")]
    Entry(usize),
    /// A key id with other characters than letters, digits, `-` and `_`.
    #[error("share key id `{0}` must be 1 to 32 letters, digits, `-` or `_`")]
    KeyId(String),
    /// A secret too short to resist guessing.
    #[error("the secret of share key `{0}` is shorter than {MIN_SECRET_BYTES} bytes")]
    ShortSecret(String),
    /// The same id twice.
    #[error("share key id `{0}` appears twice")]
    DuplicateId(String),
}

/// Why a link does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token this gateway wrote.
    #[error("the share link is not valid")]
    Malformed,
    /// Signed with a key that is no longer configured.
    #[error("the share link was revoked or is not valid")]
    UnknownKey,
    /// The signature does not match: the token was altered.
    #[error("the share link is not valid")]
    Forged,
    /// Past its lifetime.
    #[error("the share link has expired")]
    Expired,
}

struct ShareKey {
    id: String,
    key: hmac::Key,
}

/// The configured share keys, the first of which signs.
pub struct ShareKeys(Vec<ShareKey>);

impl fmt::Debug for ShareKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|k| &k.id)).finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    v: u8,
    kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    k: String,
    m: u8,
    e: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<u64>,
}

/// The JSON form AWS Secrets Manager generates: `{"kid":"k1","secret":"…"}`.
#[derive(Deserialize)]
struct GeneratedSecret {
    kid: String,
    secret: String,
}

impl ShareKeys {
    /// Parses `kid:secret[,kid:secret…]`, or the JSON `{"kid":…,"secret":…}`.
    pub fn parse(spec: &str) -> Result<Self, ShareKeysError> {
        let spec = spec.trim();
        if let Ok(generated) = serde_json::from_str::<GeneratedSecret>(spec) {
            return Self::from_pairs([(generated.kid.as_str(), generated.secret.as_str())]);
        }
        let entries: Vec<&str> = spec.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
        let pairs = entries
            .iter()
            .enumerate()
            .map(|(n, entry)| entry.split_once(':').ok_or(ShareKeysError::Entry(n + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_pairs(pairs)
    }

    fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, ShareKeysError> {
        let mut keys: Vec<ShareKey> = Vec::new();
        for (id, secret) in pairs {
            let id_ok =
                (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(ShareKeysError::KeyId(id.to_owned()));
            }
            if secret.len() < MIN_SECRET_BYTES {
                return Err(ShareKeysError::ShortSecret(id.to_owned()));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(ShareKeysError::DuplicateId(id.to_owned()));
            }
            keys.push(ShareKey { id: id.to_owned(), key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()) });
        }
        if keys.is_empty() { Err(ShareKeysError::Empty) } else { Ok(Self(keys)) }
    }

    /// A token for `grant`, signed with the first key.
    #[must_use]
    pub fn mint(&self, grant: &Grant) -> String {
        let signer = &self.0[0];
        let payload = Payload {
            v: VERSION,
            kid: signer.id.clone(),
            t: grant.tenant.as_ref().map(|t| t.as_str().to_owned()),
            k: grant.key.as_str().to_owned(),
            m: grant.methods.bits(),
            e: grant.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            s: grant.max_size,
        };
        // Serializing a struct of strings and numbers cannot fail.
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let tag = hmac::sign(&signer.key, payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The link for `grant`: the gateway's `base` URL, the key, the token.
    #[must_use]
    pub fn url(&self, base: &str, grant: &Grant) -> String {
        let key = fmt_string(grant.key.as_str(), EncodingStrategy::Greedy);
        format!("{}/{key}?token={}", base.trim_end_matches('/'), self.mint(grant))
    }

    /// The grant `token` carries, if a configured key signed it and it has
    /// not expired at `now`.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Grant, LinkError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(LinkError::Malformed);
        }
        let (payload_b64, tag_b64) = token.split_once('.').ok_or(LinkError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| LinkError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| LinkError::Malformed)?;
        let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| LinkError::Malformed)?;
        if payload.v != VERSION {
            return Err(LinkError::Malformed);
        }
        let signer = self.0.iter().find(|k| k.id == payload.kid).ok_or(LinkError::UnknownKey)?;
        hmac::verify(&signer.key, payload_b64.as_bytes(), &tag).map_err(|_| LinkError::Forged)?;

        // Signed by us: what follows can only fail for tokens from another build.
        let grant = Grant {
            tenant: payload.t.as_deref().map(TenantId::new).transpose().map_err(|_| LinkError::Malformed)?,
            key: ObjectKey::new(payload.k).map_err(|_| LinkError::Malformed)?,
            methods: Methods::from_bits(payload.m).ok_or(LinkError::Malformed)?,
            expires_at: UNIX_EPOCH.checked_add(Duration::from_secs(payload.e)).ok_or(LinkError::Malformed)?,
            max_size: payload.s,
        };
        if grant.remaining(now).is_none() {
            return Err(LinkError::Expired);
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";

    fn keys(spec: &str) -> ShareKeys {
        ShareKeys::parse(spec).unwrap()
    }

    fn grant(now: SystemTime) -> Grant {
        Grant {
            tenant: Some(TenantId::new("acme").unwrap()),
            key: ObjectKey::new("docs/q3 report.pdf".into()).unwrap(),
            methods: Methods::parse("GET,PUT").unwrap(),
            expires_at: UNIX_EPOCH + Duration::from_secs(now.duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600),
            max_size: Some(1 << 20),
        }
    }

    #[test]
    fn tokens_round_trip() {
        let now = SystemTime::now();
        let keys = keys(&format!("k1:{SECRET}"));
        let token = keys.mint(&grant(now));
        assert!(token.len() < 300, "{token}");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
        assert_eq!(keys.verify(&token, now), Ok(grant(now)));
    }

    #[test]
    fn rotation_keeps_old_links_and_removal_revokes_them() {
        let now = SystemTime::now();
        let old = keys(&format!("k1:{SECRET}")).mint(&grant(now));
        let rotated = keys(&format!("k2:{OTHER},k1:{SECRET}"));
        assert_eq!(rotated.verify(&old, now), Ok(grant(now)));
        let new = rotated.mint(&grant(now));
        assert_eq!(rotated.verify(&new, now), Ok(grant(now)));
        assert_eq!(keys(&format!("k2:{OTHER}")).verify(&old, now), Err(LinkError::UnknownKey));
    }

    #[test]
    fn altered_expired_and_foreign_tokens_are_refused() {
        let now = SystemTime::now();
        let keys = keys(&format!("k1:{SECRET}"));
        let token = keys.mint(&grant(now));
        let (payload, tag) = token.split_once('.').unwrap();

        let mut json: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        json["t"] = "other-tenant".into();
        let swapped = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).unwrap());
        assert_eq!(keys.verify(&format!("{swapped}.{tag}"), now), Err(LinkError::Forged));

        let mut flipped = tag.as_bytes().to_vec();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            keys.verify(&format!("{payload}.{}", String::from_utf8(flipped).unwrap()), now),
            Err(LinkError::Forged)
        );

        let later = now + Duration::from_secs(3601);
        assert_eq!(keys.verify(&token, later), Err(LinkError::Expired));
        let impostor = ShareKeys::parse(&format!("k1:{OTHER}")).unwrap().mint(&grant(now));
        assert_eq!(keys.verify(&impostor, now), Err(LinkError::Forged));
        for junk in ["", ".", "abc", "a.b", "!!!.???", &"x".repeat(5000)] {
            assert_eq!(keys.verify(junk, now), Err(LinkError::Malformed), "{junk}");
        }
    }

    #[test]
    fn key_settings_are_checked() {
        assert!(ShareKeys::parse(&format!("{{\"kid\":\"k1\",\"secret\":\"{SECRET}\"}}")).is_ok());
        assert_eq!(ShareKeys::parse("").unwrap_err(), ShareKeysError::Empty);
        assert_eq!(ShareKeys::parse("nocolon").unwrap_err(), ShareKeysError::Entry(1));
        assert_eq!(ShareKeys::parse("k1:short").unwrap_err(), ShareKeysError::ShortSecret("k1".into()));
        assert_eq!(ShareKeys::parse(&format!("k 1:{SECRET}")).unwrap_err(), ShareKeysError::KeyId("k 1".into()));
        assert_eq!(
            ShareKeys::parse(&format!("k1:{SECRET},k1:{OTHER}")).unwrap_err(),
            ShareKeysError::DuplicateId("k1".into())
        );
        assert_eq!(format!("{:?}", keys(&format!("k1:{SECRET}"))), "[\"k1\"]");
    }
}
