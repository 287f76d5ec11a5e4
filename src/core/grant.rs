//! What a share link grants: one key of one tenant, some methods, until a
//! moment, optionally up to a size. Signing and checking the token that
//! carries a grant is `crate::links`' job; this is the plain data.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::Operation;
use super::key::ObjectKey;
use super::tenant::TenantId;

/// A set of methods a link allows. GET implies HEAD.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Methods(u8);

/// Why a `methods` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a list of GET, HEAD, PUT and DELETE")]
pub struct MethodsError(pub String);

impl Methods {
    const GET: u8 = 1;
    const HEAD: u8 = 2;
    const PUT: u8 = 4;
    const DELETE: u8 = 8;

    /// A download link: GET and HEAD.
    pub const DOWNLOAD: Self = Self(Self::GET | Self::HEAD);

    /// Parses `GET,PUT` (any case, comma-separated).
    pub fn parse(list: &str) -> Result<Self, MethodsError> {
        let mut bits = 0;
        for name in list.split(',').map(str::trim) {
            bits |= match name.to_ascii_uppercase().as_str() {
                "GET" => Self::GET | Self::HEAD,
                "HEAD" => Self::HEAD,
                "PUT" => Self::PUT,
                "DELETE" => Self::DELETE,
                _ => return Err(MethodsError(list.to_owned())),
            };
        }
        Ok(Self(bits))
    }

    /// The set as stored in a token.
    #[must_use]
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The set from a token's bits, if they name only known methods.
    #[must_use]
    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits != 0 && bits & !(Self::GET | Self::HEAD | Self::PUT | Self::DELETE) == 0).then_some(Self(bits))
    }

    /// Whether `operation` is allowed.
    #[must_use]
    pub fn allows(self, operation: Operation) -> bool {
        let bit = match operation {
            Operation::Get => Self::GET,
            Operation::Head => Self::HEAD,
            Operation::Put | Operation::UploadPart => Self::PUT,
            Operation::Delete => Self::DELETE,
        };
        self.0 & bit != 0
    }

    /// Whether uploads are allowed.
    #[must_use]
    pub fn allows_put(self) -> bool {
        self.0 & Self::PUT != 0
    }
}

impl fmt::Debug for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [(Self::GET, "GET"), (Self::HEAD, "HEAD"), (Self::PUT, "PUT"), (Self::DELETE, "DELETE")];
        let listed: Vec<&str> = names.iter().filter(|(bit, _)| self.0 & bit != 0).map(|(_, name)| *name).collect();
        f.write_str(&listed.join(","))
    }
}

/// What a share link allows, once its signature and lifetime are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Whose key it is (`None`: the single tenant of `--auth none`).
    pub tenant: Option<TenantId>,
    /// The key, as the tenant names it (without any prefix or tenant folder).
    pub key: ObjectKey,
    /// Allowed methods.
    pub methods: Methods,
    /// When the link stops working.
    pub expires_at: SystemTime,
    /// The largest upload allowed, for links that allow PUT.
    pub max_size: Option<u64>,
}

impl Grant {
    /// The time left until the link expires, if any.
    #[must_use]
    pub fn remaining(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at.duration_since(now).ok().filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_lists() {
        assert_eq!(Methods::parse("GET").unwrap(), Methods::DOWNLOAD);
        assert_eq!(Methods::parse("get, put").unwrap().to_string(), "GET,HEAD,PUT");
        assert_eq!(Methods::parse("PUT").unwrap().to_string(), "PUT");
        assert!(!Methods::parse("PUT").unwrap().allows(Operation::Get));
        assert!(Methods::DOWNLOAD.allows(Operation::Head));
        assert!(Methods::parse("GET,POST").is_err());
        assert!(Methods::parse("").is_err());
        assert_eq!(Methods::from_bits(0), None);
        assert_eq!(Methods::from_bits(16), None);
        assert_eq!(Methods::from_bits(4), Some(Methods::parse("PUT").unwrap()));
    }
}
