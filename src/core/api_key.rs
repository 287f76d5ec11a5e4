//! API keys for external systems: the keys family (`GET`, `POST`,
//! `DELETE /%2F?keys`), which only a signed-in tenant may use, and what a
//! key lets its holder do. A key acts as its tenant, confined to its scope:
//! [`confine`] checks an action decided as for the tenant against the key's
//! `read_only` and `prefix`, so every family (downloads, listings,
//! renditions, multipart) is confined by one rule. `crate::keys` keeps the
//! keys in the state store; nothing here does I/O.
//!
//! A key's prefix is a folder: `a` and `a/` both mean `a/`, so a key for `a`
//! never reaches `ab/x`. It is read as a folder path is (no empty, `.` or
//! `..` segment; decoded once, as the query string is), and compared with
//! the storage key the action was decided for, which is built from an
//! already validated key: `..` or a percent-encoded `/` cannot step out.

use std::time::Duration;

use http::Method;
use serde::Deserialize;

use super::Action;
use super::key::Folder;
use super::policy::{Caller, Policy};
use super::rejection::Rejection;
use super::request::KeyPath;
use super::tenant::TenantId;
use super::units::Ttl;

/// What every API key starts with, so a key is told from a JWT at a glance
/// (and by secret scanners).
pub const KEY_PREFIX: &str = "pgk_";

/// The longest name a key may be given, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The longest lifetime a key may be given: ten years.
pub const MAX_KEY_TTL: Duration = Duration::from_secs(3650 * 86_400);

/// A key's public id: 16 lowercase hex digits (64 random bits), shown in
/// lists and used to revoke; it grants nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Validates an id as the query or the CLI gives it.
    ///
    /// # Errors
    /// [`Rejection::KeyId`] for anything but 16 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let valid = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid { Ok(Self(text.to_owned())) } else { Err(Rejection::KeyId) }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a key may do within its tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyScope {
    /// Only downloads, listings and reads of the log: no upload or delete.
    pub read_only: bool,
    /// The folder it is confined to (the top level: the whole tenant).
    pub prefix: Folder,
}

/// What a new key is asked to be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyTerms {
    /// Its scope.
    pub scope: KeyScope,
    /// How long it works (`None`: until revoked).
    pub ttl: Option<Duration>,
    /// A name for people, such as the system that holds it.
    pub name: String,
}

/// The terms as a JSON body gives them: `{"read_only": true, "prefix":
/// "in/", "ttl": "30d" or 3600, "name": "backup"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTerms {
    #[serde(default)]
    read_only: Option<bool>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    ttl: Option<JsonTtl>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum JsonTtl {
    Seconds(u64),
    Text(String),
}

impl KeyTerms {
    /// Terms from their text (the query string's or the CLI's flags).
    ///
    /// # Errors
    /// A [`Rejection`] naming the term that does not parse or is out of range.
    pub fn parse(
        read_only: Option<&str>,
        prefix: Option<&str>,
        ttl: Option<Ttl>,
        name: Option<&str>,
    ) -> Result<Self, Rejection> {
        let read_only = match read_only.map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "no") => false,
            Some("" | "true" | "1" | "yes") => true,
            Some(_) => return Err(Rejection::KeyTerm("read_only must be true or false")),
        };
        let prefix = prefix.map(folder).transpose()?.unwrap_or_default();
        let ttl = ttl.map(|ttl| checked_ttl(ttl.duration(), ttl)).transpose()?;
        let name = name.unwrap_or_default();
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(Rejection::KeyTerm("name must be at most 100 characters, without control characters"));
        }
        Ok(Self { scope: KeyScope { read_only, prefix }, ttl, name: name.to_owned() })
    }

    /// Terms from a JSON body.
    ///
    /// # Errors
    /// [`Rejection::KeyBody`] when it is not the object above; as [`KeyTerms::parse`] otherwise.
    pub fn from_json(body: &[u8]) -> Result<Self, Rejection> {
        let terms: JsonTerms = serde_json::from_slice(body).map_err(|_| Rejection::KeyBody)?;
        let ttl = match terms.ttl {
            None => None,
            Some(JsonTtl::Seconds(seconds)) => Some(Ttl::parse(&seconds.to_string())?),
            Some(JsonTtl::Text(text)) => Some(Ttl::parse(&text)?),
        };
        let read_only = terms.read_only.map(|flag| if flag { "true" } else { "false" });
        Self::parse(read_only, terms.prefix.as_deref(), ttl, terms.name.as_deref())
    }
}

/// A prefix as a folder: a leading `/` is dropped and a trailing one added.
fn folder(text: &str) -> Result<Folder, Rejection> {
    let text = text.strip_prefix('/').unwrap_or(text);
    if text.is_empty() {
        return Ok(Folder::default());
    }
    let path = if text.ends_with('/') { text.to_owned() } else { format!("{text}/") };
    Folder::new(path).map_err(|error| Rejection::KeyPrefix(error.to_string()))
}

fn checked_ttl(duration: Duration, ttl: Ttl) -> Result<Duration, Rejection> {
    if duration.is_zero() || duration > MAX_KEY_TTL {
        return Err(Rejection::TtlOutOfRange(ttl.limit(MAX_KEY_TTL)));
    }
    Ok(duration)
}

/// What `?keys` names: all of the caller's keys, or one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysParam {
    /// `keys` alone: list or create.
    All,
    /// `keys=ID`: revoke.
    One(KeyId),
}

impl KeysParam {
    /// Reads the value of `keys`.
    ///
    /// # Errors
    /// [`Rejection::KeyId`] for a value that is no key id.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        if text.is_empty() { Ok(Self::All) } else { KeyId::parse(text).map(Self::One) }
    }
}

/// A step on a tenant's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysOrder {
    /// List them.
    List(TenantId),
    /// Create one, with the terms the query gave (a JSON body may give them instead).
    Create(TenantId, Option<KeyTerms>),
    /// Revoke one.
    Revoke(TenantId, KeyId),
}

/// The keys family.
///
/// # Errors
/// A [`Rejection`] for another path than the top level, a method that does
/// not fit, a share link, or a gateway whose callers are no tenants.
pub fn manage(
    method: &Method,
    path: KeyPath<'_>,
    keys: &KeysParam,
    terms: Option<&KeyTerms>,
    caller: Caller<'_>,
) -> Result<KeysOrder, Rejection> {
    let path = match path {
        KeyPath::Encoded(path) => super::key::decode_path(path)?,
        KeyPath::Decoded(path) => path.strip_prefix('/').unwrap_or(path).to_owned(),
    };
    if !matches!(path.as_str(), "" | "/") {
        return Err(Rejection::KeysAtTop);
    }
    let tenant = match caller {
        Caller::Owner(Some(tenant)) => tenant.clone(),
        Caller::Owner(None) => return Err(Rejection::KeysNeedTenants),
        Caller::Link(_) => return Err(Rejection::LinkCannotManageKeys),
    };
    match (method.as_str(), keys) {
        ("GET" | "HEAD", KeysParam::All) => Ok(KeysOrder::List(tenant)),
        ("POST", KeysParam::All) => Ok(KeysOrder::Create(tenant, terms.cloned())),
        ("DELETE", KeysParam::One(id)) => Ok(KeysOrder::Revoke(tenant, id.clone())),
        _ => Err(Rejection::KeysUsage),
    }
}

/// Whether a key of `tenant` with `scope` may do `action` (decided as for
/// the tenant itself).
///
/// # Errors
/// A [`Rejection`] saying which limit of the key the action breaks.
pub fn confine(action: &Action, scope: &KeyScope, tenant: &TenantId, policy: &Policy) -> Result<(), Rejection> {
    let root = policy.scope(Some(tenant)).storage_prefix(&scope.prefix)?;
    let outside = || Rejection::KeyOutsidePrefix(scope.prefix.as_str().to_owned());
    let within = |storage_key: &str| if storage_key.starts_with(root.as_str()) { Ok(()) } else { Err(outside()) };
    match action {
        Action::Keys(_) => Err(Rejection::ApiKeyCannotManageKeys),
        // A link would outlive the key's revocation; the owner's links are the owner's to manage.
        Action::Share(_) | Action::Links(_) => Err(Rejection::ApiKeyCannotShare),
        // The log is the whole tenant's: it names files outside a prefix.
        Action::Log(_) if !scope.prefix.as_str().is_empty() => Err(outside()),
        Action::Log(_) => Ok(()),
        Action::List(order) => within(order.prefix.as_str()),
        Action::Presign(order) => {
            if scope.read_only && !order.operation.reads() {
                return Err(Rejection::ApiKeyReadOnly);
            }
            within(order.key.as_str())
        }
        Action::Status(order) | Action::Rendition(order, _) => within(order.key.as_str()),
        Action::Multipart(order) => {
            if scope.read_only {
                return Err(Rejection::ApiKeyReadOnly);
            }
            within(order.key.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::query::Query;
    use super::super::{BodySize, Incoming};
    use super::*;
    use crate::core::key::KeyError;

    /// A key's scope, a request, and what it gets.
    type Case<'a> = (&'a KeyScope, &'a Method, &'a str, &'a str, Result<(), Rejection>);

    fn scope(read_only: bool, prefix: &str) -> KeyScope {
        KeyTerms::parse(Some(if read_only { "true" } else { "false" }), Some(prefix), None, None).unwrap().scope
    }

    /// What a key of `acme` with `scope` gets for `method path?query`.
    fn as_key(scope: &KeyScope, method: &Method, path: &str, query: &str) -> Result<(), Rejection> {
        let acme = TenantId::new("acme").unwrap();
        let policy = Policy::new(Duration::from_secs(300));
        let incoming = Incoming {
            body: if *method == Method::PUT { BodySize::Known(3) } else { BodySize::Absent },
            ..super::super::testing::request(method, path)
        };
        let query = Query::parse(Some(query)).map_err(|bad| bad.reason)?;
        let action = super::super::decide(&incoming, &query, Caller::Owner(Some(&acme)), &policy)?;
        confine(&action, scope, &acme, &policy)
    }

    #[test]
    fn prefixes_are_folders() {
        assert_eq!(scope(false, "a").prefix.as_str(), "a/");
        assert_eq!(scope(false, "/a/b/").prefix.as_str(), "a/b/");
        assert_eq!(scope(false, "").prefix.as_str(), "");
        for bad in ["..", "a/../b", "a//b", "./a"] {
            let refused = KeyTerms::parse(None, Some(bad), None, None);
            assert!(matches!(refused, Err(Rejection::KeyPrefix(_))), "{bad}: {refused:?}");
        }
    }

    #[test]
    fn terms_parse_from_the_query_and_json_alike() {
        let query = KeyTerms::parse(Some(""), Some("in"), Some(Ttl::parse("30d").unwrap()), Some("backup")).unwrap();
        let json = KeyTerms::from_json(br#"{"read_only": true, "prefix": "in/", "ttl": "30d", "name": "backup"}"#);
        assert_eq!(json.unwrap(), query);
        assert_eq!(KeyTerms::from_json(br#"{"ttl": 60}"#).unwrap().ttl, Some(Duration::from_secs(60)));
        assert_eq!(KeyTerms::from_json(b"{}").unwrap(), KeyTerms::default());
        assert_eq!(KeyTerms::from_json(br#"{"scope": "all"}"#), Err(Rejection::KeyBody));
        assert_eq!(KeyTerms::from_json(b"not json"), Err(Rejection::KeyBody));
        assert!(matches!(KeyTerms::from_json(br#"{"ttl": 0}"#), Err(Rejection::TtlOutOfRange(_))));
        assert!(matches!(KeyTerms::parse(Some("maybe"), None, None, None), Err(Rejection::KeyTerm(_))));
        assert!(matches!(KeyTerms::parse(None, None, None, Some("a\nb")), Err(Rejection::KeyTerm(_))));
        let long = "n".repeat(101);
        assert!(matches!(KeyTerms::parse(None, None, None, Some(&long)), Err(Rejection::KeyTerm(_))));
    }

    #[test]
    fn only_signed_in_tenants_manage_keys_at_the_top_level() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let id = KeyId::parse("0123456789abcdef").unwrap();
        let one = KeysParam::One(id.clone());
        let top = KeyPath::Encoded("/%2F");
        assert_eq!(manage(&Method::GET, top, &KeysParam::All, None, owner), Ok(KeysOrder::List(acme.clone())));
        assert_eq!(manage(&Method::POST, top, &KeysParam::All, None, owner), Ok(KeysOrder::Create(acme.clone(), None)));
        assert_eq!(manage(&Method::DELETE, top, &one, None, owner), Ok(KeysOrder::Revoke(acme.clone(), id)));
        assert_eq!(manage(&Method::DELETE, top, &KeysParam::All, None, owner), Err(Rejection::KeysUsage));
        assert_eq!(manage(&Method::PUT, top, &KeysParam::All, None, owner), Err(Rejection::KeysUsage));
        assert_eq!(
            manage(&Method::GET, KeyPath::Encoded("/a/"), &KeysParam::All, None, owner),
            Err(Rejection::KeysAtTop)
        );
        assert_eq!(
            manage(&Method::GET, top, &KeysParam::All, None, Caller::Owner(None)),
            Err(Rejection::KeysNeedTenants)
        );
        assert_eq!(KeysParam::parse("0123456789ABCDEF"), Err(Rejection::KeyId));
        assert_eq!(KeysParam::parse("../x"), Err(Rejection::KeyId));
    }

    #[test]
    fn a_key_stays_in_its_folder_and_scope() {
        let (get, put, delete, post) = (Method::GET, Method::PUT, Method::DELETE, Method::POST);
        let whole = scope(false, "");
        let reader = scope(true, "");
        let folder = scope(false, "a");
        let outside = Err(Rejection::KeyOutsidePrefix("a/".into()));
        let cases: [Case<'_>; 20] = [
            (&whole, &put, "/x", "", Ok(())),
            (&whole, &get, "/%2F", "log", Ok(())),
            (&whole, &post, "/x", "share&ttl=60", Err(Rejection::ApiKeyCannotShare)),
            (&whole, &get, "/%2F", "keys", Err(Rejection::ApiKeyCannotManageKeys)),
            (&reader, &get, "/x", "", Ok(())),
            (&reader, &get, "/", "", Ok(())),
            (&reader, &put, "/x", "", Err(Rejection::ApiKeyReadOnly)),
            (&reader, &delete, "/x", "", Err(Rejection::ApiKeyReadOnly)),
            (&reader, &get, "/x", "presign=PUT", Err(Rejection::ApiKeyReadOnly)),
            (&reader, &post, "/x", "uploads", Err(Rejection::ApiKeyReadOnly)),
            (&folder, &get, "/a/x", "", Ok(())),
            (&folder, &put, "/a/b/c", "", Ok(())),
            (&folder, &get, "/a/", "", Ok(())),
            (&folder, &get, "/a/x", "rendition=thumb", Ok(())),
            (&folder, &get, "/ab/x", "", outside.clone()),
            (&folder, &get, "/a", "", outside.clone()),
            (&folder, &get, "/", "", outside.clone()),
            (&folder, &get, "/%2F", "log", outside.clone()),
            (&folder, &get, "/b/x", "status", outside.clone()),
            (&folder, &get, "/a%2F..%2Fb/x", "", Err(Rejection::Key(KeyError::DotSegment))),
        ];
        for (scope, method, path, query, expected) in cases {
            assert_eq!(as_key(scope, method, path, query), expected, "{method} {path}?{query} {scope:?}");
        }
    }
}
