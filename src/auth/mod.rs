//! Who is asking, decided once per request before any key is built:
//! nobody in particular (`none`, one tenant), API Gateway's authorizer
//! (`authorizer`), or a bearer token the gateway verifies itself (`jwt`),
//! with keys it holds or fetches from a sign-in provider ([`jwks`]).
//! The tenant comes from a configurable claim.

mod authorizer;
mod jwks;
mod jwt;
mod keys;

use std::collections::HashMap;

use http::request::Parts;
use serde_json::Value;

pub use authorizer::AuthorizerClaims;
pub use jwks::{FETCH_TIMEOUT, FetchError, KeyUrl, ON_DEMAND_EVERY, RemoteKeys};
pub use jwt::{Audience, JwtKeys, JwtVerifier};
pub use keys::JwtKeyError;

use crate::core::tenant::{TenantError, TenantId};

/// Why a request is not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all: 401.
    #[error("authentication required: send Authorization: Bearer <token>")]
    Missing,
    /// Credentials that do not check out: 401. The reason told is for the
    /// person holding the token; the detail is for the operator's log.
    #[error("{}", .0.told)]
    Invalid(TokenRefusal),
    /// The sign-in provider's keys have never been fetched, so no token
    /// can be checked yet: 503, never a token let in.
    #[error(
        "the sign-in provider's keys have not been fetched yet, so no sign-in token can be checked; try again shortly"
    )]
    KeysUnavailable,
    /// Authenticated, but the identity names no tenant: 403.
    #[error("the identity has no `{0}` claim to name its tenant")]
    NoTenantClaim(String),
    /// Authenticated, but the claim cannot name a tenant: 403.
    #[error("the identity's tenant is not usable: {0}")]
    BadTenant(#[from] TenantError),
    /// A numeric claim that is not a whole number within 64 bits, which no
    /// two tokens could be told apart by once read as a float: 403.
    #[error("the identity's `{0}` claim is a number but not a whole one within 64 bits, so it names no tenant")]
    TenantNumber(String),
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefusal {
    /// What the caller is told.
    pub told: TokenProblem,
    /// What the verifier found, for the log only (it may name keys and claims).
    pub detail: String,
}

/// A refused token, in words for whoever pasted it (a visitor of the page
/// as much as a curl user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    /// Not three base64url parts of JSON: not a JWT at all.
    #[error("that does not look like a sign-in token (a JWT)")]
    NotAToken,
    /// Past its `exp`.
    #[error("that sign-in token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("that sign-in token is not valid yet")]
    NotYet,
    /// A signature, key, algorithm, issuer or audience that does not check out.
    #[error("that sign-in token is not valid")]
    NotValid,
}

impl AuthError {
    /// Whether the caller was authenticated (403) rather than not (401).
    #[must_use]
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::NoTenantClaim(_) | Self::BadTenant(_) | Self::TenantNumber(_))
    }
}

/// How requests are authenticated.
#[derive(Debug)]
pub enum Authenticator {
    /// Everyone is the single tenant.
    None,
    /// API Gateway already authenticated the caller; its claims name the tenant.
    Authorizer {
        /// The claim that names the tenant.
        claim: String,
    },
    /// The gateway verifies a bearer JWT itself.
    Jwt(JwtVerifier),
}

impl Authenticator {
    /// Whether callers are tenants of their own (every mode but `none`), so
    /// nothing may act outside a tenant's folder.
    #[must_use]
    pub fn has_tenants(&self) -> bool {
        !matches!(self, Self::None)
    }

    /// The API key `request` carries as its bearer token (`pgk_…`), with
    /// `--auth jwt` only: behind API Gateway's authorizer (or without
    /// authentication) the bearer is not the gateway's to read. No other
    /// header carries keys (`X-Api-Key` is not read).
    #[must_use]
    pub fn api_key<'r>(&self, request: &'r Parts) -> Option<&'r str> {
        let token = matches!(self, Self::Jwt(_)).then(|| bearer(request)).flatten()?;
        token.starts_with(crate::core::api_key::KEY_PREFIX).then_some(token)
    }

    /// Fetches the sign-in provider's keys first when `request`'s bearer
    /// token names one the gateway does not hold (or none is held yet);
    /// rate-limited, one fetch at a time (see [`jwks`]).
    pub async fn fetch_keys_for(&self, request: &Parts) {
        if let (Self::Jwt(verifier), Some(token)) = (self, bearer(request)) {
            verifier.fetch_keys_for(token).await;
        }
    }

    /// Whether tokens can be checked: no sign-in provider's keys are awaited.
    #[must_use]
    pub fn ready(&self) -> bool {
        match self {
            Self::Jwt(verifier) => verifier.ready(),
            Self::None | Self::Authorizer { .. } => true,
        }
    }

    /// Starts the task that fetches the sign-in provider's keys and keeps
    /// them fresh, if they come from one. Needs a Tokio runtime.
    pub fn keep_keys_fresh(&self) {
        if let Self::Jwt(verifier) = self
            && let Some(remote) = verifier.remote_keys()
        {
            tokio::spawn(remote.clone().keep_fresh());
        }
    }

    /// The tenant `request` acts for (`None` without authentication).
    pub fn authenticate(&self, request: &Parts) -> Result<Option<TenantId>, AuthError> {
        self.identify(request).map(|identity| identity.tenant)
    }

    /// Who `request` comes from: its tenant, and the token's `sub` for the upload log.
    pub fn identify(&self, request: &Parts) -> Result<Identity, AuthError> {
        let identity = |claims: &HashMap<String, Value>, claim: &str| {
            Ok(Identity { tenant: Some(tenant(claims, claim)?), subject: subject(claims) })
        };
        match self {
            Self::None => Ok(Identity::default()),
            Self::Authorizer { claim } => {
                let claims = request.extensions.get::<AuthorizerClaims>().filter(|c| !c.0.is_empty());
                identity(&claims.ok_or(AuthError::Missing)?.0, claim)
            }
            Self::Jwt(verifier) => {
                let token = bearer(request).ok_or(AuthError::Missing)?;
                identity(&verifier.verify(token)?, verifier.claim())
            }
        }
    }
}

/// Who a request comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The tenant it acts for (`None`: the single tenant of `--auth none`).
    pub tenant: Option<TenantId>,
    /// The token's `sub`, naming the person in the upload log.
    pub subject: Option<String>,
}

/// `sub` as text (a whole number as its decimal text, as for tenants).
fn subject(claims: &HashMap<String, Value>) -> Option<String> {
    match claims.get("sub")? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) if number.is_u64() || number.is_i64() => Some(number.to_string()),
        _ => None,
    }
}

/// The tenant named by `claim`: a string as it is, a whole number as its
/// decimal text. API Gateway's authorizers hand every claim over as a
/// string, so `"sub": 42` and `"sub": "42"` are one tenant, whichever front
/// door authenticated it. Any other number is refused: serde_json reads
/// 18446744073709551616 and 18446744073709551617 as one float, and two
/// identities must never share a folder. (serde_json's `arbitrary_precision`
/// would keep them apart, but cargo unifies features, and it would change
/// number parsing inside the Lambda crates too.)
fn tenant(claims: &HashMap<String, Value>, claim: &str) -> Result<TenantId, AuthError> {
    let value = match claims.get(claim) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(whole), _) => whole.to_string(),
            (None, Some(negative)) => negative.to_string(),
            (None, None) => return Err(AuthError::TenantNumber(claim.to_owned())),
        },
        _ => return Err(AuthError::NoTenantClaim(claim.to_owned())),
    };
    Ok(TenantId::new(&value)?)
}

fn bearer(request: &Parts) -> Option<&str> {
    let value = request.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> HashMap<String, Value> {
        HashMap::from([("sub".to_owned(), value)])
    }

    #[test]
    fn numbers_name_the_tenant_their_text_names() {
        let folder = |value| tenant(&claims(value), "sub").map(|t| t.folder().to_owned());
        assert_eq!(folder(json!(42)), Ok("42".to_owned()));
        assert_eq!(folder(json!("42")), folder(json!(42)));
        assert_eq!(folder(json!(true)), Err(AuthError::NoTenantClaim("sub".into())));
        assert_eq!(folder(json!(null)), Err(AuthError::NoTenantClaim("sub".into())));
        assert_eq!(folder(json!(["a"])), Err(AuthError::NoTenantClaim("sub".into())));
        assert_eq!(folder(json!(u64::MAX)), Ok(u64::MAX.to_string()));
        assert_eq!(folder(json!(-7)), Ok("-7".to_owned()));
        let read = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        for number in ["18446744073709551616", "18446744073709551617", "1.5", "1e3", "-9223372036854775809"] {
            assert_eq!(folder(read(number)), Err(AuthError::TenantNumber("sub".into())), "{number}");
        }
    }
}
