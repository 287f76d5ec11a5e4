//! Key material for bearer JWTs: each key with exactly the algorithms it
//! verifies, read from a PEM public key or a JWKS, whether a file
//! ([`super::jwt`]) or a sign-in provider's document ([`super::jwks`]).

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

/// Why a JWT key setting cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JwtKeyError {
    /// Neither a secret nor a public key.
    #[error(
        "--auth jwt needs --jwt-secret / JWT_SECRET, --jwt-public-key / JWT_PUBLIC_KEY, --jwks-url / JWKS_URL or --oidc-issuer / OIDC_ISSUER"
    )]
    NoKey,
    /// A URL keys may not be fetched from.
    #[error(
        "{0} `{1}` is not an https:// URL (plain http:// only to localhost or a loopback address), without credentials, query or fragment"
    )]
    Url(&'static str, String),
    /// The HTTP client for the keys cannot be built.
    #[error("cannot build the HTTP client that fetches the sign-in provider's keys: {0}")]
    Client(String),
    /// The secret is too short for HS256.
    #[error("--jwt-secret / JWT_SECRET must be at least 32 bytes")]
    ShortSecret,
    /// The key file cannot be read.
    #[error("cannot read --jwt-public-key / JWT_PUBLIC_KEY {0}: {1}")]
    Read(String, std::io::Error),
    /// Neither an RSA, EC or Ed25519 PEM public key nor a JWKS.
    #[error("--jwt-public-key / JWT_PUBLIC_KEY {0} is not an RSA, EC or Ed25519 PEM public key, nor a JWKS")]
    Parse(String),
    /// Not an algorithm name.
    #[error(
        "--jwt-algorithms / JWT_ALGORITHMS entry `{0}` is not a JWS algorithm such as HS256, RS256, ES256 or EdDSA"
    )]
    Algorithm(String),
    /// A key none of whose algorithms is allowed.
    #[error("--jwt-algorithms / JWT_ALGORITHMS allows no algorithm that {0} can verify")]
    Unusable(&'static str),
}

/// One key and exactly the algorithms it verifies.
pub(super) struct Key {
    /// The JWKS `kid`, if any.
    pub(super) id: Option<String>,
    pub(super) decoding: DecodingKey,
    pub(super) algorithms: Vec<Algorithm>,
}

/// `defaults` (or, when the operator listed algorithms, those of `family`
/// among them).
pub(super) fn restrict(
    defaults: Vec<Algorithm>,
    family: AlgorithmFamily,
    allowed: Option<&[Algorithm]>,
) -> Vec<Algorithm> {
    match allowed {
        None => defaults,
        Some(allowed) => allowed.iter().copied().filter(|alg| alg.family() == family).collect(),
    }
}

/// What a public key of `family` verifies when nothing else is said.
fn family_defaults(family: AlgorithmFamily) -> Vec<Algorithm> {
    match family {
        AlgorithmFamily::Rsa => vec![Algorithm::RS256],
        AlgorithmFamily::Ec => vec![Algorithm::ES256, Algorithm::ES384],
        AlgorithmFamily::Ed => vec![Algorithm::EdDSA],
        AlgorithmFamily::Hmac => Vec::new(),
    }
}

pub(super) fn read_public_keys(path: &str, allowed: Option<&[Algorithm]>) -> Result<Vec<Key>, JwtKeyError> {
    let bytes = std::fs::read(path).map_err(|e| JwtKeyError::Read(path.to_owned(), e))?;
    let parse_error = || JwtKeyError::Parse(path.to_owned());
    if let Ok(set) = serde_json::from_slice::<JwkSet>(&bytes) {
        let keys: Vec<Key> = set.keys.iter().filter_map(|jwk| jwks_key(jwk, allowed)).collect();
        return if set.keys.is_empty() { Err(parse_error()) } else { Ok(keys) };
    }
    let key = DecodingKey::from_rsa_pem(&bytes)
        .or_else(|_| DecodingKey::from_ec_pem(&bytes))
        .or_else(|_| DecodingKey::from_ed_pem(&bytes))
        .map_err(|_| parse_error())?;
    let algorithms = restrict(family_defaults(key.family()), key.family(), allowed);
    Ok(if algorithms.is_empty() { Vec::new() } else { vec![Key { id: None, decoding: key, algorithms }] })
}

/// A JWKS entry as a verifying key: never one meant for encryption, never an
/// HMAC secret, and only for its own `alg` when it names one.
pub(super) fn jwks_key(jwk: &Jwk, allowed: Option<&[Algorithm]>) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok().filter(|key| key.family() != AlgorithmFamily::Hmac)?;
    let own = match jwk.common.key_algorithm {
        Some(alg) => vec![Algorithm::try_from(alg).ok().filter(|alg| alg.family() == key.family())?],
        None => family_defaults(key.family()),
    };
    let algorithms = match allowed {
        None => own,
        Some(allowed) => own.into_iter().filter(|alg| allowed.contains(alg)).collect(),
    };
    (!algorithms.is_empty()).then(|| Key { id: jwk.common.key_id.clone(), decoding: key, algorithms })
}
