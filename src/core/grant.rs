//! What a share link grants: one key of one tenant, some methods, until a
//! moment, optionally up to a size, and for links minted with a state store
//! the id of the record that counts its uses and can revoke it. Signing and
//! checking the token that carries a grant is `crate::links`' job; this is
//! the plain data, and the rules a link's record adds ([`take_use`]).

use std::fmt;
use std::time::{Duration, SystemTime};

use super::Operation;
use super::key::{Folder, ObjectKey};
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
    /// The key or folder, as the tenant names it (without any prefix or tenant folder).
    pub target: Shared,
    /// Allowed methods.
    pub methods: Methods,
    /// When the link stops working.
    pub expires_at: SystemTime,
    /// The largest upload allowed, for links that allow PUT.
    pub max_size: Option<u64>,
    /// The link's record in the state store (`None`: a stateless link,
    /// minted without one, which nothing but its expiry and keys ends).
    pub id: Option<LinkId>,
}

/// What a link opens: one key, or a folder and everything under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// This key only.
    Key(ObjectKey),
    /// Every key under this folder (never the top level), in its subfolders too.
    Folder(Folder),
}

impl Shared {
    /// The key, or the folder with its trailing `/`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Key(key) => key.as_str(),
            Self::Folder(folder) => folder.as_str(),
        }
    }

    /// Whether the link reaches `key`: it is the key, or under the folder.
    /// Keys are decoded and checked (no `.` or `..` segment, no empty one)
    /// before they get here, and a folder ends in `/`, so `photos/` covers
    /// `photos/a.jpg` and not `photos-old/a.jpg`.
    #[must_use]
    pub fn covers(&self, key: &ObjectKey) -> bool {
        match self {
            Self::Key(shared) => shared == key,
            Self::Folder(folder) => key.as_str().starts_with(folder.as_str()),
        }
    }

    /// Whether the link lists `folder`: it is the shared folder or one under it.
    #[must_use]
    pub fn lists(&self, folder: &Folder) -> bool {
        match self {
            Self::Key(_) => false,
            Self::Folder(shared) => folder.as_str().starts_with(shared.as_str()),
        }
    }
}

/// A link record's id: 32 lowercase hex digits, the first 10 the second it
/// was made (so a tenant's links sort newest first), the rest random. It
/// travels sealed in the token, so it cannot be chosen or altered by the
/// link's holder; the owner names it to revoke the link.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(String);

impl LinkId {
    /// Its length in hex digits.
    pub const LEN: usize = 32;

    /// The id `text` spells, if it is 32 lowercase hex digits.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Self(text.to_owned()))
    }

    /// The id of a link made at `seconds` (since the epoch) with `random` bits.
    #[must_use]
    pub fn new(seconds: u64, random: [u8; 11]) -> Self {
        use fmt::Write as _;
        let mut id = format!("{:010x}", seconds & 0xff_ffff_ffff);
        for byte in random {
            let _ = write!(id, "{byte:02x}");
        }
        Self(id)
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a genuine, unexpired link opens no more: its record says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkGone {
    /// Its owner revoked it (its record is gone).
    #[error("this share link was revoked by its owner")]
    Revoked,
    /// It was used as many times as it allows.
    #[error("this share link has been used as many times as it allows")]
    UsedUp,
}

/// The use count after one more use of a link used `uses` times, of at most
/// `max_uses`.
///
/// # Errors
///
/// [`LinkGone::UsedUp`] when no use is left.
pub fn take_use(uses: u64, max_uses: Option<u64>) -> Result<u64, LinkGone> {
    match max_uses {
        Some(max) if uses >= max => Err(LinkGone::UsedUp),
        _ => Ok(uses.saturating_add(1)),
    }
}

/// Whether a link with `uses` of at most `max_uses` still opens.
#[must_use]
pub fn has_uses_left(uses: u64, max_uses: Option<u64>) -> bool {
    take_use(uses, max_uses).is_ok()
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

    #[test]
    fn folders_cover_what_is_under_them_and_nothing_beside() {
        let key = |k: &str| ObjectKey::new(k.into()).unwrap();
        let folder = |f: &str| Folder::new(f.into()).unwrap();
        let shared = Shared::Folder(folder("photos/2024/"));
        assert!(shared.covers(&key("photos/2024/a.jpg")));
        assert!(shared.covers(&key("photos/2024/trip/b.jpg")));
        for outside in ["photos/2024", "photos/2024-old/a.jpg", "photos/2025/a.jpg", "photos/a.jpg", "a.jpg"] {
            assert!(!shared.covers(&key(outside)), "{outside}");
        }
        assert!(shared.lists(&folder("photos/2024/")) && shared.lists(&folder("photos/2024/trip/")));
        for outside in ["photos/", "", "photos/2024-old/", "photos/2025/"] {
            assert!(!shared.lists(&folder(outside)), "{outside:?}");
        }
        let one = Shared::Key(key("photos/2024/a.jpg"));
        assert!(one.covers(&key("photos/2024/a.jpg")) && !one.covers(&key("photos/2024/a.jpg2")));
        assert!(!one.lists(&folder("photos/2024/")));
    }

    #[test]
    fn uses_run_out_at_the_limit() {
        assert_eq!(take_use(0, Some(2)), Ok(1));
        assert_eq!(take_use(1, Some(2)), Ok(2));
        assert_eq!(take_use(2, Some(2)), Err(LinkGone::UsedUp));
        assert_eq!(take_use(7, Some(2)), Err(LinkGone::UsedUp));
        assert_eq!(take_use(u64::MAX, None), Ok(u64::MAX));
        assert!(has_uses_left(0, None) && !has_uses_left(1, Some(1)));
    }

    #[test]
    fn link_ids_are_32_lowercase_hex_digits_sorting_by_time() {
        let early = LinkId::new(1_700_000_000, [0xff; 11]);
        let late = LinkId::new(1_700_000_001, [0; 11]);
        assert!(early < late);
        assert_eq!(LinkId::parse(early.as_str()), Some(early.clone()));
        for bad in ["", "00", &"g".repeat(32), &"A".repeat(32), &"0".repeat(33), "../../../../../../../../../../.."] {
            assert_eq!(LinkId::parse(bad), None, "{bad}");
        }
    }
}
