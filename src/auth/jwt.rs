//! Bearer JWTs the gateway verifies itself, for the local server and Function
//! URLs: HS256 with a shared secret, and/or an RSA, EC or Ed25519 public key
//! (PEM) or a JWKS file. `exp` is required; `nbf`, `iss` and `aud` are
//! checked. A token is only ever checked with a key of the family its `alg`
//! names, so `alg: none` and HS256-signed-with-the-public-key are refused.

use std::collections::HashMap;
use std::fmt;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use super::AuthError;

/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// Why a JWT key setting cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JwtKeyError {
    /// Neither a secret nor a public key.
    #[error("--auth jwt needs --jwt-secret / JWT_SECRET or --jwt-public-key / JWT_PUBLIC_KEY")]
    NoKey,
    /// The secret is too short for HS256.
    #[error("--jwt-secret / JWT_SECRET must be at least 32 bytes")]
    ShortSecret,
    /// The key file cannot be read.
    #[error("cannot read --jwt-public-key / JWT_PUBLIC_KEY {0}: {1}")]
    Read(String, std::io::Error),
    /// Neither an RSA, EC or Ed25519 PEM public key nor a JWKS.
    #[error("--jwt-public-key / JWT_PUBLIC_KEY {0} is not an RSA, EC or Ed25519 PEM public key, nor a JWKS")]
    Parse(String),
}

/// Public keys: one from a PEM file, or a JWKS's, found by `kid`.
enum PublicKeys {
    Pem(DecodingKey),
    Jwks(Vec<(Option<String>, DecodingKey)>),
}

/// Verifies bearer tokens and reads their claims.
pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    public: Option<PublicKeys>,
    issuer: Option<String>,
    audience: Option<String>,
    claim: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("hs256", &self.secret.is_some())
            .field("public_key", &self.public.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("claim", &self.claim)
            .finish()
    }
}

impl JwtVerifier {
    /// Builds a verifier from the settings; reads the public key file once.
    pub fn new(
        secret: Option<&str>,
        public_key_path: Option<&str>,
        issuer: Option<String>,
        audience: Option<String>,
        claim: String,
    ) -> Result<Self, JwtKeyError> {
        if secret.is_none() && public_key_path.is_none() {
            return Err(JwtKeyError::NoKey);
        }
        let secret = match secret {
            Some(s) if s.len() < 32 => return Err(JwtKeyError::ShortSecret),
            Some(s) => Some(DecodingKey::from_secret(s.as_bytes())),
            None => None,
        };
        let public = public_key_path.map(read_public_keys).transpose()?;
        Ok(Self { secret, public, issuer, audience, claim })
    }

    /// The claim that names the tenant.
    #[must_use]
    pub fn claim(&self) -> &str {
        &self.claim
    }

    /// The claims of a valid `token`.
    pub fn verify(&self, token: &str) -> Result<HashMap<String, Value>, AuthError> {
        let invalid = |e: jsonwebtoken::errors::Error| AuthError::Invalid(e.to_string());
        let header = decode_header(token).map_err(invalid)?;
        let key = self
            .key_for(header.alg, header.kid.as_deref())
            .ok_or_else(|| AuthError::Invalid(format!("tokens signed with {:?} are not accepted here", header.alg)))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        Ok(decode::<HashMap<String, Value>>(token, key, &validation).map_err(invalid)?.claims)
    }

    /// The configured key for `alg`'s family, never another family's.
    fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Option<&DecodingKey> {
        let family = alg.family();
        if family == AlgorithmFamily::Hmac {
            return self.secret.as_ref();
        }
        match self.public.as_ref()? {
            PublicKeys::Pem(key) => Some(key).filter(|k| k.family() == family),
            PublicKeys::Jwks(keys) => keys
                .iter()
                .filter(|(id, key)| key.family() == family && (kid.is_none() || id.as_deref() == kid))
                .map(|(_, key)| key)
                .next(),
        }
    }
}

fn read_public_keys(path: &str) -> Result<PublicKeys, JwtKeyError> {
    let bytes = std::fs::read(path).map_err(|e| JwtKeyError::Read(path.to_owned(), e))?;
    let parse_error = || JwtKeyError::Parse(path.to_owned());
    if let Ok(set) = serde_json::from_slice::<JwkSet>(&bytes) {
        let keys: Vec<_> = set
            .keys
            .iter()
            .filter_map(|jwk| DecodingKey::from_jwk(jwk).ok().map(|key| (jwk.common.key_id.clone(), key)))
            .filter(|(_, key)| key.family() != AlgorithmFamily::Hmac)
            .collect();
        return if keys.is_empty() { Err(parse_error()) } else { Ok(PublicKeys::Jwks(keys)) };
    }
    DecodingKey::from_rsa_pem(&bytes)
        .or_else(|_| DecodingKey::from_ec_pem(&bytes))
        .or_else(|_| DecodingKey::from_ed_pem(&bytes))
        .map(PublicKeys::Pem)
        .map_err(|_| parse_error())
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "an HS256 test secret of at least 32 bytes";
    const RSA_PRIVATE: &[u8] = include_bytes!("../../tests/data/keys/rsa-private.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("../../tests/data/keys/rsa-public.pem");
    const EC_PRIVATE: &[u8] = include_bytes!("../../tests/data/keys/ec-private.pem");

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn key_path(name: &str) -> String {
        format!("{}/tests/data/keys/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn verifier(secret: Option<&str>, public: Option<&str>) -> JwtVerifier {
        let public = public.map(key_path);
        JwtVerifier::new(secret, public.as_deref(), Some("issuer.example".into()), Some("files".into()), "sub".into())
            .unwrap()
    }

    fn claims(sub: &str) -> serde_json::Value {
        json!({ "sub": sub, "iss": "issuer.example", "aud": "files", "exp": now() + 600 })
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &serde_json::Value) -> String {
        encode(&Header::new(alg), claims, key).unwrap()
    }

    #[test]
    fn valid_tokens_of_each_family_pass() {
        let both = verifier(Some(SECRET), Some("rsa-public.pem"));
        let hs = sign(Algorithm::HS256, &EncodingKey::from_secret(SECRET.as_bytes()), &claims("acme"));
        let rs = sign(Algorithm::RS256, &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(), &claims("acme"));
        assert_eq!(both.verify(&hs).unwrap()["sub"], "acme");
        assert_eq!(both.verify(&rs).unwrap()["sub"], "acme");
        let ec = verifier(None, Some("ec-public.pem"));
        let es = sign(Algorithm::ES256, &EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(), &claims("acme"));
        assert_eq!(ec.verify(&es).unwrap()["sub"], "acme");
    }

    #[test]
    fn bad_tokens_are_refused() {
        let both = verifier(Some(SECRET), Some("rsa-public.pem"));
        let secret = EncodingKey::from_secret(SECRET.as_bytes());
        let mut expired = claims("acme");
        expired["exp"] = json!(now() - 120);
        let mut early = claims("acme");
        early["nbf"] = json!(now() + 600);
        let mut no_exp = claims("acme");
        no_exp.as_object_mut().unwrap().remove("exp");
        let mut other_iss = claims("acme");
        other_iss["iss"] = json!("evil.example");
        let mut other_aud = claims("acme");
        other_aud["aud"] = json!("elsewhere");

        let valid = sign(Algorithm::HS256, &secret, &claims("acme"));
        let (head, rest) = valid.split_once('.').unwrap();
        let signature = rest.split_once('.').unwrap().1;
        let altered = format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims("victim").to_string()));
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let alg_none = format!("{none_header}.{}.", URL_SAFE_NO_PAD.encode(claims("acme").to_string()));
        let wrong_secret =
            sign(Algorithm::HS256, &EncodingKey::from_secret(b"another secret that is long enough!"), &claims("acme"));

        let refused = [
            ("expired", sign(Algorithm::HS256, &secret, &expired)),
            ("not yet valid", sign(Algorithm::HS256, &secret, &early)),
            ("no exp", sign(Algorithm::HS256, &secret, &no_exp)),
            ("other issuer", sign(Algorithm::HS256, &secret, &other_iss)),
            ("other audience", sign(Algorithm::HS256, &secret, &other_aud)),
            ("altered claims", altered),
            ("alg none", alg_none),
            ("wrong secret", wrong_secret),
            ("garbage", "not.a.token".to_owned()),
        ];
        for (what, token) in refused {
            assert!(matches!(both.verify(&token), Err(AuthError::Invalid(_))), "{what} was accepted");
        }
    }

    #[test]
    fn algorithm_confusion_is_refused() {
        // HS256 "signed" with the public key, which an attacker knows.
        let confused = sign(Algorithm::HS256, &EncodingKey::from_secret(RSA_PUBLIC), &claims("acme"));
        assert!(verifier(None, Some("rsa-public.pem")).verify(&confused).is_err());
        assert!(verifier(Some(SECRET), Some("rsa-public.pem")).verify(&confused).is_err());
        // An RS256 token where only a secret is configured.
        let rs = sign(Algorithm::RS256, &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(), &claims("acme"));
        assert!(verifier(Some(SECRET), None).verify(&rs).is_err());
        // An ES256 token against an RSA key.
        let es = sign(Algorithm::ES256, &EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(), &claims("acme"));
        assert!(verifier(None, Some("rsa-public.pem")).verify(&es).is_err());
    }

    #[test]
    fn key_settings_are_checked() {
        assert!(matches!(JwtVerifier::new(None, None, None, None, "sub".into()), Err(JwtKeyError::NoKey)));
        assert!(matches!(
            JwtVerifier::new(Some("short"), None, None, None, "sub".into()),
            Err(JwtKeyError::ShortSecret)
        ));
        let missing = key_path("missing.pem");
        assert!(matches!(JwtVerifier::new(None, Some(&missing), None, None, "sub".into()), Err(JwtKeyError::Read(..))));
        let not_a_key = key_path("README.md");
        assert!(matches!(
            JwtVerifier::new(None, Some(&not_a_key), None, None, "sub".into()),
            Err(JwtKeyError::Parse(_))
        ));
    }
}
