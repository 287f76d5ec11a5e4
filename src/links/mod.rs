//! Share links: a token that carries a [`Grant`] (tenant, key, methods,
//! expiry and size limit) and that only the configured share keys can make
//! or read.
//!
//! Tokens are opaque: `v2.<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext)>`,
//! the grant encrypted and authenticated with a key derived (HKDF-SHA256) from
//! the share key, so a link shows its key id and nothing of the grant. Links
//! minted before (`base64url(payload).base64url(HMAC-SHA256)`, readable) keep
//! working until their key is rotated out.
//!
//! The first key mints new links and every key reads them, so keys rotate
//! without breaking live links; removing a key revokes every link it made.
//! Every token that does not check out gets the same answer, whatever the
//! reason (unknown or revoked key id, altered, malformed), so an attacker
//! learns nothing about which key ids exist.
//! A link outlives any presigned URL: each use gets a fresh one, which never
//! outlives the link.
//!
//! A link minted with a state store also carries, sealed, the id of its
//! record ([`records`], laid out as [`table`] explains): the record counts
//! its uses and its owner can list and revoke it. A token without an id
//! (minted without a state store, or before records existed) stays a
//! stateless link.

pub mod records;
pub mod table;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{hkdf, hmac, rand};
use aws_smithy_http::label::{EncodingStrategy, fmt_string};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::core::grant::{Grant, LinkId, Methods, Shared};
use crate::core::tenant::TenantId;

/// The readable format of the first links, still read.
const READABLE_VERSION: u8 = 1;

/// The prefix of opaque tokens, the format this build mints.
const OPAQUE_PREFIX: &str = "v2.";

/// Binds a derived key to this use, so a share key's secret used elsewhere
/// yields other keys.
const KEY_DERIVATION_SALT: &[u8] = b"presign-gateway share link v2";

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
    /// Not made by a configured key: unknown or revoked key id, altered,
    /// malformed. One answer for all of them.
    #[error("the share link is not valid")]
    Invalid,
    /// Past its lifetime.
    #[error("the share link has expired")]
    Expired,
    /// A link for the single tenant of `--auth none`, used on a gateway
    /// whose callers are tenants.
    #[error("the share link names no tenant, and this gateway keeps each tenant's files apart")]
    NoTenant,
}

struct ShareKey {
    id: String,
    /// Verifies readable (version 1) tokens.
    mac: hmac::Key,
    /// Seals and opens opaque tokens.
    seal: LessSafeKey,
}

impl ShareKey {
    fn new(id: &str, secret: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, KEY_DERIVATION_SALT).extract(secret);
        let mut bytes = [0u8; 32];
        let derived = prk.expand(&[id.as_bytes()], &AES_256_GCM).and_then(|okm| okm.fill(&mut bytes));
        derived.expect("HKDF-SHA256 yields the 32 bytes of an AES-256 key");
        let seal = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &bytes).expect("32 bytes is an AES-256 key"));
        Self { id: id.to_owned(), mac: hmac::Key::new(hmac::HMAC_SHA256, secret), seal }
    }
}

/// The configured share keys, the first of which mints.
pub struct ShareKeys(Vec<ShareKey>);

impl fmt::Debug for ShareKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|k| &k.id)).finish()
    }
}

/// A grant as a token carries it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    /// Only in readable tokens, which name their format and key id inside.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    v: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    k: String,
    m: u8,
    e: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<u64>,
    /// The record's id, for links that have one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    i: Option<String>,
}

impl Payload {
    fn of(grant: &Grant) -> Self {
        Self {
            v: None,
            kid: None,
            t: grant.tenant.as_ref().map(|t| t.as_str().to_owned()),
            k: grant.target.as_str().to_owned(),
            m: grant.methods.bits(),
            e: grant.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            s: grant.max_size,
            i: grant.id.as_ref().map(|id| id.as_str().to_owned()),
        }
    }

    /// The grant, for a payload a configured key made. Fails only for tokens
    /// from another build.
    fn into_grant(self) -> Result<Grant, LinkError> {
        Ok(Grant {
            tenant: self.t.as_deref().map(TenantId::new).transpose().map_err(|_| LinkError::Invalid)?,
            // A folder ends in `/` (never the top level); links from before name keys only.
            target: match crate::core::share::target(self.k) {
                Ok(Shared::Folder(folder)) if folder.as_str().is_empty() => return Err(LinkError::Invalid),
                Ok(target) => target,
                Err(_) => return Err(LinkError::Invalid),
            },
            methods: Methods::from_bits(self.m).ok_or(LinkError::Invalid)?,
            expires_at: UNIX_EPOCH.checked_add(Duration::from_secs(self.e)).ok_or(LinkError::Invalid)?,
            max_size: self.s,
            id: self.i.as_deref().map(LinkId::parse).map(|id| id.ok_or(LinkError::Invalid)).transpose()?,
        })
    }
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
            keys.push(ShareKey::new(id, secret.as_bytes()));
        }
        if keys.is_empty() { Err(ShareKeysError::Empty) } else { Ok(Self(keys)) }
    }

    /// An opaque token for `grant`, made with the first key.
    #[must_use]
    pub fn mint(&self, grant: &Grant) -> String {
        let minter = &self.0[0];
        // Serializing a struct of strings and numbers cannot fail.
        let mut sealed = serde_json::to_vec(&Payload::of(grant)).unwrap_or_default();
        let mut nonce = [0u8; NONCE_LEN];
        // The system's random source does not fail on the systems we build for.
        let filled = rand::fill(&mut nonce);
        debug_assert!(filled.is_ok());
        let sealing = minter.seal.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(minter.id.as_bytes()),
            &mut sealed,
        );
        debug_assert!(sealing.is_ok());
        let mut token = nonce.to_vec();
        token.append(&mut sealed);
        format!("{OPAQUE_PREFIX}{}.{}", minter.id, URL_SAFE_NO_PAD.encode(token))
    }

    /// The link for `grant`: the gateway's `base` URL, the key (or folder), the token.
    #[must_use]
    pub fn url(&self, base: &str, grant: &Grant) -> String {
        format!("{}?token={}", object_url(base, grant.target.as_str()), self.mint(grant))
    }

    /// The grant `token` carries, if a configured key made it and it has
    /// not expired at `now`.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Grant, LinkError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(LinkError::Invalid);
        }
        let grant = match token.strip_prefix(OPAQUE_PREFIX) {
            Some(opaque) => self.open(opaque)?,
            None => self.check_readable(token)?,
        };
        if grant.remaining(now).is_none() {
            return Err(LinkError::Expired);
        }
        Ok(grant)
    }

    /// `<kid>.<base64url(nonce ‖ ciphertext)>`, opened with that key.
    fn open(&self, opaque: &str) -> Result<Grant, LinkError> {
        let (kid, sealed) = opaque.split_once('.').ok_or(LinkError::Invalid)?;
        let key = self.0.iter().find(|k| k.id == kid).ok_or(LinkError::Invalid)?;
        let mut bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| LinkError::Invalid)?;
        if bytes.len() < NONCE_LEN {
            return Err(LinkError::Invalid);
        }
        let mut ciphertext = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| LinkError::Invalid)?;
        let plain = key
            .seal
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut ciphertext)
            .map_err(|_| LinkError::Invalid)?;
        let payload: Payload = serde_json::from_slice(plain).map_err(|_| LinkError::Invalid)?;
        if payload.v.is_some() || payload.kid.is_some() {
            return Err(LinkError::Invalid);
        }
        payload.into_grant()
    }

    /// `base64url(payload).base64url(HMAC-SHA256)`, as the first links were.
    fn check_readable(&self, token: &str) -> Result<Grant, LinkError> {
        let (payload_b64, tag_b64) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag_b64).map_err(|_| LinkError::Invalid)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload_b64).map_err(|_| LinkError::Invalid)?;
        let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| LinkError::Invalid)?;
        if payload.v != Some(READABLE_VERSION) || payload.i.is_some() {
            return Err(LinkError::Invalid);
        }
        let kid = payload.kid.as_deref().ok_or(LinkError::Invalid)?;
        let key = self.0.iter().find(|k| k.id == kid).ok_or(LinkError::Invalid)?;
        hmac::verify(&key.mac, payload_b64.as_bytes(), &tag).map_err(|_| LinkError::Invalid)?;
        payload.into_grant()
    }
}

/// The gateway's URL of `key`: `base`, then the key with each segment
/// percent-encoded, as share links and S3's `Location` name an object.
#[must_use]
pub fn object_url(base: &str, key: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), fmt_string(key, EncodingStrategy::Greedy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::key::ObjectKey;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const OTHER: &str = "fedcba9876543210fedcba9876543210";

    fn keys(spec: &str) -> ShareKeys {
        ShareKeys::parse(spec).unwrap()
    }

    fn grant(now: SystemTime) -> Grant {
        Grant {
            tenant: Some(TenantId::new("acme").unwrap()),
            target: Shared::Key(ObjectKey::new("docs/q3 report.pdf".into()).unwrap()),
            methods: Methods::parse("GET,PUT").unwrap(),
            expires_at: UNIX_EPOCH + Duration::from_secs(now.duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600),
            max_size: Some(1 << 20),
            id: None,
        }
    }

    /// A token as the first links were made: readable JSON and its HMAC.
    fn readable(secret: &str, kid: &str, grant: &Grant) -> String {
        let payload = Payload { v: Some(READABLE_VERSION), kid: Some(kid.into()), ..Payload::of(grant) };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    #[test]
    fn tokens_round_trip() {
        let now = SystemTime::now();
        let keys = keys(&format!("k1:{SECRET}"));
        let token = keys.mint(&grant(now));
        assert!(token.len() < 300, "{token}");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
        assert_eq!(keys.verify(&token, now), Ok(grant(now)));
        assert_ne!(keys.mint(&grant(now)), token, "each token has a fresh nonce");
    }

    #[test]
    fn tokens_reveal_only_their_key_id() {
        let now = SystemTime::now();
        let token = keys(&format!("k2:{SECRET}")).mint(&grant(now));
        let sealed = token.strip_prefix("v2.k2.").expect("the format and key id are visible");
        let bytes = URL_SAFE_NO_PAD.decode(sealed).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["acme", "docs", "report", "GET", "1048576"] {
            assert!(!text.contains(secret), "{secret} shows in {text:?}");
        }
    }

    #[test]
    fn readable_links_from_before_keep_working_until_their_key_goes() {
        let now = SystemTime::now();
        let old = readable(SECRET, "k1", &grant(now));
        assert_eq!(keys(&format!("k2:{OTHER},k1:{SECRET}")).verify(&old, now), Ok(grant(now)));
        assert_eq!(keys(&format!("k2:{OTHER}")).verify(&old, now), Err(LinkError::Invalid));
        let (payload, tag) = old.split_once('.').unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        json["t"] = "other-tenant".into();
        let swapped = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).unwrap());
        assert_eq!(keys(&format!("k1:{SECRET}")).verify(&format!("{swapped}.{tag}"), now), Err(LinkError::Invalid));
    }

    #[test]
    fn rotation_keeps_old_links_and_removal_revokes_them() {
        let now = SystemTime::now();
        let old = keys(&format!("k1:{SECRET}")).mint(&grant(now));
        let rotated = keys(&format!("k2:{OTHER},k1:{SECRET}"));
        assert_eq!(rotated.verify(&old, now), Ok(grant(now)));
        let new = rotated.mint(&grant(now));
        assert!(new.starts_with("v2.k2."), "{new}");
        assert_eq!(rotated.verify(&new, now), Ok(grant(now)));
        assert_eq!(keys(&format!("k2:{OTHER}")).verify(&old, now), Err(LinkError::Invalid));
    }

    #[test]
    fn every_token_that_does_not_check_out_gets_one_answer() {
        let now = SystemTime::now();
        let keys = keys(&format!("k1:{SECRET}"));
        let token = keys.mint(&grant(now));
        let sealed = token.strip_prefix("v2.k1.").unwrap();

        let mut flipped = URL_SAFE_NO_PAD.decode(sealed).unwrap();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let altered = format!("v2.k1.{}", URL_SAFE_NO_PAD.encode(&flipped));
        let other_kid = format!("v2.k9.{sealed}");
        let impostor = ShareKeys::parse(&format!("k1:{OTHER}")).unwrap().mint(&grant(now));
        let readable_impostor = readable(OTHER, "k1", &grant(now));
        let unknown_readable = readable(SECRET, "k7", &grant(now));
        for bad in [altered, other_kid, impostor, readable_impostor, unknown_readable] {
            let refused = keys.verify(&bad, now);
            assert_eq!(refused, Err(LinkError::Invalid), "{bad}");
            assert_eq!(refused.unwrap_err().to_string(), "the share link is not valid");
        }
        for junk in ["", ".", "abc", "a.b", "v2.", "v2.k1", "v2.k1.", "v2.k1.!!!", "!!!.???", &"x".repeat(5000)] {
            assert_eq!(keys.verify(junk, now), Err(LinkError::Invalid), "{junk}");
        }
        let later = now + Duration::from_secs(3601);
        assert_eq!(keys.verify(&token, later), Err(LinkError::Expired));
    }

    #[test]
    fn ids_travel_sealed_and_links_without_one_stay_stateless() {
        let now = SystemTime::now();
        let keys = keys(&format!("k1:{SECRET}"));
        let id = LinkId::new(1_800_000_000, [0xab; 11]);
        let with_id = Grant { id: Some(id.clone()), ..grant(now) };
        let token = keys.mint(&with_id);
        assert_eq!(keys.verify(&token, now), Ok(with_id));
        let sealed = URL_SAFE_NO_PAD.decode(token.strip_prefix("v2.k1.").unwrap()).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains(id.as_str()), "the id shows");
        // A token minted before ids existed opens as a stateless link.
        assert_eq!(keys.verify(&keys.mint(&grant(now)), now).unwrap().id, None);
        // A readable (old) token cannot claim a record.
        let mut old = Payload { v: Some(READABLE_VERSION), kid: Some("k1".into()), ..Payload::of(&grant(now)) };
        old.i = Some(id.as_str().to_owned());
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&old).unwrap());
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes()), payload.as_bytes());
        let forged = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert_eq!(keys.verify(&forged, now), Err(LinkError::Invalid));
    }

    #[test]
    fn folder_links_round_trip_and_name_their_folder() {
        let now = SystemTime::now();
        let keys = keys(&format!("k1:{SECRET}"));
        let folder = crate::core::key::Folder::new("photos/2024 trip/".into()).unwrap();
        let album = Grant { target: Shared::Folder(folder), ..grant(now) };
        assert_eq!(keys.verify(&keys.mint(&album), now), Ok(album.clone()));
        assert!(
            keys.url("https://g.example", &album).starts_with("https://g.example/photos/2024%20trip/?token=v2.k1.")
        );
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
