//! Bearer JWTs the gateway verifies itself, for the local server and Function
//! URLs: HS256 with a shared secret, and/or an RSA, EC or Ed25519 public key
//! (PEM) or a JWKS file, or the keys of a sign-in provider fetched over HTTPS
//! ([`super::jwks`]). `exp` is required; `nbf`, `iss` and `aud` are
//! checked. Each key verifies exactly its algorithms (`--jwt-algorithms`, else
//! HS256 for a secret, the key's own `alg` for a JWKS entry, and for a PEM key
//! RS256, ES256/ES384 or EdDSA by its type), so `alg: none`, HS384 against an
//! HS256 secret and HS256 signed with a public key are all refused. JWKS
//! entries meant for encryption (`use: enc`) are never used. A token without
//! `kid` is tried against every key that takes its algorithm.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use super::jwks::{KeyUrl, RemoteKeys};
use super::keys::{JwtKeyError, Key, read_public_keys, restrict};
use super::{AuthError, TokenProblem, TokenRefusal};

/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// Where a verifier's keys come from.
#[derive(Debug, Default)]
pub struct JwtKeys<'a> {
    /// An HS256 secret.
    pub secret: Option<&'a str>,
    /// A PEM public key or JWKS file, read once.
    pub public_key_path: Option<&'a str>,
    /// A provider's keys, fetched over HTTPS and kept fresh.
    pub remote: Option<KeyUrl>,
    /// The algorithms accepted (each key's default when empty).
    pub algorithms: &'a [String],
}

/// Whom tokens must be meant for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Anyone: `aud` is not checked.
    Any,
    /// `aud` must name this (`--jwt-audience`).
    Aud(String),
    /// An OpenID client (`--oidc-client-id`): `aud` names it, or the
    /// `client_id` claim is it (Cognito's access tokens carry no `aud`).
    Client(String),
}

/// Verifies bearer tokens and reads their claims.
pub struct JwtVerifier {
    keys: Vec<Key>,
    remote: Option<RemoteKeys>,
    issuer: Option<String>,
    audience: Audience,
    claim: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self.keys.iter().map(|k| (k.id.as_deref(), &k.algorithms)).collect();
        f.debug_struct("JwtVerifier")
            .field("keys", &keys)
            .field("remote", &self.remote)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("claim", &self.claim)
            .finish()
    }
}

impl JwtVerifier {
    /// Builds a verifier from the settings; reads the public key file once.
    /// A provider's keys are fetched later ([`Self::remote_keys`]).
    pub fn new(
        keys: JwtKeys<'_>,
        issuer: Option<String>,
        audience: Audience,
        claim: String,
    ) -> Result<Self, JwtKeyError> {
        let JwtKeys { secret, public_key_path, remote, algorithms } = keys;
        if secret.is_none() && public_key_path.is_none() && remote.is_none() {
            return Err(JwtKeyError::NoKey);
        }
        let allowed = algorithms
            .iter()
            .map(|name| name.trim())
            .filter(|name| !name.is_empty())
            .map(|name| Algorithm::from_str(name).map_err(|_| JwtKeyError::Algorithm(name.to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        let allowed = (!allowed.is_empty()).then_some(allowed);
        let mut keys = Vec::new();
        if let Some(secret) = secret {
            if secret.len() < 32 {
                return Err(JwtKeyError::ShortSecret);
            }
            let algorithms = restrict(vec![Algorithm::HS256], AlgorithmFamily::Hmac, allowed.as_deref());
            if algorithms.is_empty() {
                return Err(JwtKeyError::Unusable("--jwt-secret"));
            }
            keys.push(Key { id: None, decoding: DecodingKey::from_secret(secret.as_bytes()), algorithms });
        }
        if let Some(path) = public_key_path {
            let public = read_public_keys(path, allowed.as_deref())?;
            if public.is_empty() {
                return Err(JwtKeyError::Unusable("--jwt-public-key"));
            }
            keys.extend(public);
        }
        let remote = remote.map(|from| RemoteKeys::new(from, allowed)).transpose()?;
        Ok(Self { keys, remote, issuer, audience, claim })
    }

    /// The provider's keys, when they are fetched over HTTPS.
    #[must_use]
    pub fn remote_keys(&self) -> Option<&RemoteKeys> {
        self.remote.as_ref()
    }

    /// Fetches the provider's keys first when `token` names a key not held,
    /// or none is held yet (see [`super::jwks`] for how often). Never fails:
    /// [`Self::verify`] then decides with whatever keys are held.
    pub async fn fetch_keys_for(&self, token: &str) {
        let Some(remote) = &self.remote else { return };
        let Ok(header) = decode_header(token) else { return };
        let unknown = match &header.kid {
            Some(kid) => !self.keys.iter().any(|key| key.id.as_deref() == Some(kid)) && !remote.holds(kid),
            None => !remote.ready(),
        };
        if unknown {
            remote.fetch_on_demand().await;
        }
    }

    /// Whether tokens can be checked: no provider's keys are awaited.
    #[must_use]
    pub fn ready(&self) -> bool {
        self.remote.as_ref().is_none_or(RemoteKeys::ready)
    }

    /// The claim that names the tenant.
    #[must_use]
    pub fn claim(&self) -> &str {
        &self.claim
    }

    /// The claims of a valid `token`.
    pub fn verify(&self, token: &str) -> Result<HashMap<String, Value>, AuthError> {
        let invalid = |e: jsonwebtoken::errors::Error| refused(told(e.kind()), e.to_string());
        let header = decode_header(token).map_err(invalid)?;
        let validation = self.validation(header.alg);
        let fetched: Arc<[Key]> = self.remote.as_ref().map_or_else(|| Arc::from(Vec::new()), RemoteKeys::keys);
        let mut candidates = self
            .keys
            .iter()
            .chain(fetched.iter())
            .filter(|key| key.algorithms.contains(&header.alg))
            .filter(|key| header.kid.is_none() || key.id.is_none() || key.id == header.kid)
            .peekable();
        if candidates.peek().is_none() {
            if !self.ready() {
                return Err(AuthError::KeysUnavailable);
            }
            let detail = match &header.kid {
                Some(kid) => format!("no key `{kid}` verifies tokens signed with {:?} here", header.alg),
                None => format!("tokens signed with {:?} are not accepted here", header.alg),
            };
            return Err(refused(TokenProblem::NotValid, detail));
        }
        // The first key whose signature checks out decides; an expired or
        // early token says so rather than "invalid signature".
        let mut refusal = None;
        for key in candidates {
            match decode::<HashMap<String, Value>>(token, &key.decoding, &validation) {
                Ok(data) => return self.for_the_client(data.claims),
                Err(error) if matches!(error.kind(), ErrorKind::InvalidSignature) => {
                    refusal.get_or_insert(error);
                }
                Err(error) => return Err(invalid(error)),
            }
        }
        Err(refusal.map_or_else(|| refused(TokenProblem::NotValid, "no key verifies the token".into()), invalid))
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        match &self.audience {
            Audience::Aud(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".into());
            }
            // The client is checked after the signature, by `for_the_client`.
            Audience::Any | Audience::Client(_) => validation.validate_aud = false,
        }
        validation
    }

    /// `claims` when they are meant for the configured OpenID client: `aud`
    /// names it (as a string or in a list), or `client_id` is it.
    fn for_the_client(&self, claims: HashMap<String, Value>) -> Result<HashMap<String, Value>, AuthError> {
        let Audience::Client(client) = &self.audience else { return Ok(claims) };
        let named = |value: Option<&Value>| match value {
            Some(Value::String(one)) => one == client,
            Some(Value::Array(many)) => many.iter().any(|one| one.as_str() == Some(client)),
            _ => false,
        };
        if named(claims.get("aud")) || claims.get("client_id").and_then(Value::as_str) == Some(client) {
            Ok(claims)
        } else {
            Err(refused(
                TokenProblem::NotValid,
                format!("the token is not for the client `{client}` (neither `aud` nor `client_id`)"),
            ))
        }
    }
}

fn refused(told: TokenProblem, detail: String) -> AuthError {
    AuthError::Invalid(TokenRefusal { told, detail })
}

/// What the holder of a token that failed with `kind` is told.
fn told(kind: &ErrorKind) -> TokenProblem {
    match kind {
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            TokenProblem::NotAToken
        }
        ErrorKind::ExpiredSignature => TokenProblem::Expired,
        ErrorKind::ImmatureSignature => TokenProblem::NotYet,
        _ => TokenProblem::NotValid,
    }
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
        with_algorithms(secret, public.as_deref(), &[]).unwrap()
    }

    fn with_algorithms(secret: Option<&str>, public: Option<&str>, algs: &[&str]) -> Result<JwtVerifier, JwtKeyError> {
        let algs: Vec<String> = algs.iter().map(|a| (*a).to_owned()).collect();
        let keys = JwtKeys { secret, public_key_path: public, remote: None, algorithms: &algs };
        JwtVerifier::new(keys, Some("issuer.example".into()), Audience::Aud("files".into()), "sub".into())
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

        // What the holder is told: in words for a person, never the verifier's own.
        let refused = [
            ("expired", sign(Algorithm::HS256, &secret, &expired), TokenProblem::Expired),
            ("not yet valid", sign(Algorithm::HS256, &secret, &early), TokenProblem::NotYet),
            ("no exp", sign(Algorithm::HS256, &secret, &no_exp), TokenProblem::NotValid),
            ("other issuer", sign(Algorithm::HS256, &secret, &other_iss), TokenProblem::NotValid),
            ("other audience", sign(Algorithm::HS256, &secret, &other_aud), TokenProblem::NotValid),
            ("altered claims", altered, TokenProblem::NotValid),
            ("alg none", alg_none, TokenProblem::NotAToken),
            ("wrong secret", wrong_secret, TokenProblem::NotValid),
            ("garbage", "not.a.token".to_owned(), TokenProblem::NotAToken),
            ("pasted text", "hello".to_owned(), TokenProblem::NotAToken),
        ];
        for (what, token, told) in refused {
            let refusal = both.verify(&token);
            assert!(matches!(&refusal, Err(AuthError::Invalid(r)) if r.told == told), "{what}: {refusal:?}");
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

    fn sign_with_kid(alg: Algorithm, kid: Option<&str>, key: &EncodingKey) -> String {
        let header = Header { kid: kid.map(str::to_owned), ..Header::new(alg) };
        encode(&header, &claims("acme"), key).unwrap()
    }

    #[test]
    fn only_the_configured_algorithms_verify() {
        let secret = EncodingKey::from_secret(SECRET.as_bytes());
        let hs = verifier(Some(SECRET), None);
        assert!(hs.verify(&sign(Algorithm::HS256, &secret, &claims("acme"))).is_ok());
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let refused = hs.verify(&sign(alg, &secret, &claims("acme")));
            assert!(matches!(refused, Err(AuthError::Invalid(_))), "{alg:?} verified against an HS256 secret");
        }
        let hs512 = with_algorithms(Some(SECRET), None, &["HS512"]).unwrap();
        assert!(hs512.verify(&sign(Algorithm::HS512, &secret, &claims("acme"))).is_ok());
        assert!(hs512.verify(&sign(Algorithm::HS256, &secret, &claims("acme"))).is_err());

        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        let pem = verifier(None, Some("rsa-public.pem"));
        assert!(pem.verify(&sign(Algorithm::RS256, &rsa, &claims("acme"))).is_ok());
        assert!(pem.verify(&sign(Algorithm::RS512, &rsa, &claims("acme"))).is_err(), "RS512 is not configured");

        assert!(matches!(with_algorithms(Some(SECRET), None, &["RS256"]), Err(JwtKeyError::Unusable(_))));
        assert!(matches!(with_algorithms(Some(SECRET), None, &["HS999"]), Err(JwtKeyError::Algorithm(_))));
    }

    #[test]
    fn jwks_keys_verify_their_own_algorithm_and_never_encrypt() {
        let jwks = key_path("jwks.json");
        let verifier = with_algorithms(None, Some(&jwks), &[]).unwrap();
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        let ec = EncodingKey::from_ec_pem(EC_PRIVATE).unwrap();
        let cases = [
            ("the encryption key", sign_with_kid(Algorithm::RS256, Some("enc-key"), &rsa), false),
            ("RS256 under an RS384 key", sign_with_kid(Algorithm::RS256, Some("rsa-384"), &rsa), false),
            ("RS384 under its key", sign_with_kid(Algorithm::RS384, Some("rsa-384"), &rsa), true),
            ("RS384 without kid", sign_with_kid(Algorithm::RS384, None, &rsa), true),
            ("RS256 without kid", sign_with_kid(Algorithm::RS256, None, &rsa), false),
            ("ES256 without kid", sign_with_kid(Algorithm::ES256, None, &ec), true),
            ("ES256 under another kid", sign_with_kid(Algorithm::ES256, Some("rsa-384"), &ec), false),
        ];
        for (what, token, accepted) in cases {
            assert_eq!(verifier.verify(&token).is_ok(), accepted, "{what}");
        }
    }

    #[test]
    fn key_settings_are_checked() {
        let new = |secret, public_key_path| {
            JwtVerifier::new(
                JwtKeys { secret, public_key_path, ..JwtKeys::default() },
                None,
                Audience::Any,
                "sub".into(),
            )
        };
        assert!(matches!(new(None, None), Err(JwtKeyError::NoKey)));
        assert!(matches!(new(Some("short"), None), Err(JwtKeyError::ShortSecret)));
        let missing = key_path("missing.pem");
        assert!(matches!(new(None, Some(&missing)), Err(JwtKeyError::Read(..))));
        let not_a_key = key_path("README.md");
        assert!(matches!(new(None, Some(&not_a_key)), Err(JwtKeyError::Parse(_))));
    }

    #[test]
    fn an_openid_client_is_named_by_aud_or_client_id() {
        let keys = JwtKeys { secret: Some(SECRET), ..JwtKeys::default() };
        let verifier = JwtVerifier::new(keys, None, Audience::Client("app".into()), "sub".into()).unwrap();
        let secret = EncodingKey::from_secret(SECRET.as_bytes());
        let with = |extra: serde_json::Value| {
            let mut claims = json!({ "sub": "acme", "exp": now() + 600 });
            claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            verifier.verify(&sign(Algorithm::HS256, &secret, &claims)).is_ok()
        };
        assert!(with(json!({ "aud": "app" })));
        assert!(with(json!({ "aud": ["other", "app"] })));
        assert!(with(json!({ "client_id": "app" })), "a Cognito access token");
        assert!(!with(json!({ "aud": "other" })));
        assert!(!with(json!({ "aud": ["other"], "client_id": "other" })));
        assert!(!with(json!({ "azp": "app" })));
        assert!(!with(json!({})));
    }
}
