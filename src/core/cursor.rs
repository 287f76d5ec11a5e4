//! Listing cursors of the gateway's own. Storage's continuation tokens are
//! its business: AWS's are opaque, another backend's may carry a key, and so
//! a key prefix or a tenant folder. The gateway hands out where a page
//! ended, relative to the folder listed, and asks storage for the next page
//! with `StartAfter` under the caller's own prefix, so a cursor (forged or
//! not) can only move within the caller's folder: storage lists nothing
//! outside the prefix it is given, whatever `StartAfter` says.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::key::MAX_KEY_BYTES;
use super::rejection::Rejection;
use super::tenant::StoragePrefix;

/// Where a listing page ended: its last entry, relative to the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// After this object.
    Object(String),
    /// After this folder (ending in `/`) and everything in it.
    Folder(String),
}

impl Cursor {
    /// The cursor after `entry`, a storage key or common prefix listed under `prefix`.
    #[must_use]
    pub fn after(entry: &str, prefix: &StoragePrefix, folder: bool) -> Self {
        let relative = entry.strip_prefix(prefix.as_str()).unwrap_or(entry).to_owned();
        if folder { Self::Folder(relative) } else { Self::Object(relative) }
    }

    /// Reads a cursor the gateway handed out (`?after=`).
    pub fn parse(token: &str) -> Result<Self, Rejection> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| Rejection::Cursor)?;
        let text = String::from_utf8(bytes).map_err(|_| Rejection::Cursor)?;
        if text.len() > MAX_KEY_BYTES + 1 || text.chars().any(char::is_control) {
            return Err(Rejection::Cursor);
        }
        match text.split_at_checked(1) {
            Some(("k", name)) => Ok(Self::Object(name.to_owned())),
            Some(("p", name)) if name.ends_with('/') => Ok(Self::Folder(name.to_owned())),
            _ => Err(Rejection::Cursor),
        }
    }

    /// The cursor as handed out: opaque, URL-safe.
    #[must_use]
    pub fn token(&self) -> String {
        let (kind, name) = match self {
            Self::Object(name) => ('k', name),
            Self::Folder(name) => ('p', name),
        };
        URL_SAFE_NO_PAD.encode(format!("{kind}{name}"))
    }

    /// Storage's `StartAfter` for the page after this one under `prefix`:
    /// the object's key, or past every key in the folder (the largest
    /// character after it), so the folder is not listed again.
    #[must_use]
    pub fn start_after(&self, prefix: &StoragePrefix) -> String {
        match self {
            Self::Object(name) => format!("{}{name}", prefix.as_str()),
            Self::Folder(name) => format!("{}{name}{}", prefix.as_str(), char::MAX),
        }
    }

    /// The storage key of the folder this cursor ends at, if it ends at one.
    #[must_use]
    pub fn folder_under(&self, prefix: &StoragePrefix) -> Option<String> {
        match self {
            Self::Folder(name) => Some(format!("{}{name}", prefix.as_str())),
            Self::Object(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::key::{Folder, KeyPrefix};
    use crate::core::tenant::{Scope, TenantId};

    fn prefix() -> StoragePrefix {
        let (uploads, tenants) = (KeyPrefix::new("up").unwrap(), KeyPrefix::new("tenants").unwrap());
        let acme = TenantId::new("acme").unwrap();
        Scope::new(&uploads, &tenants, Some(&acme)).storage_prefix(&Folder::new("photos/".into()).unwrap()).unwrap()
    }

    #[test]
    fn cursors_hold_only_what_follows_the_folder_and_round_trip() {
        let prefix = prefix();
        for (entry, folder) in [("up/tenants/acme/photos/1.jpg", false), ("up/tenants/acme/photos/2024/", true)] {
            let cursor = Cursor::after(entry, &prefix, folder);
            let token = cursor.token();
            let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
            assert!(!decoded.contains("acme") && !decoded.contains("up/"), "{decoded}");
            assert_eq!(Cursor::parse(&token), Ok(cursor));
        }
        assert_eq!(
            Cursor::after("up/tenants/acme/photos/1.jpg", &prefix, false).start_after(&prefix),
            "up/tenants/acme/photos/1.jpg"
        );
        let past = Cursor::after("up/tenants/acme/photos/2024/", &prefix, true).start_after(&prefix);
        assert!(
            past.as_str() > "up/tenants/acme/photos/2024/\u{ffff}zzz" && past.as_str() < "up/tenants/acme/photos/2025",
            "{past}"
        );
    }

    #[test]
    fn what_the_gateway_did_not_hand_out_is_refused() {
        let not_base64 = "not base64!";
        let not_utf8 = URL_SAFE_NO_PAD.encode([b'k', 0xff]);
        let no_kind = URL_SAFE_NO_PAD.encode("x1.jpg");
        let folder_without_slash = URL_SAFE_NO_PAD.encode("pphotos");
        let control = URL_SAFE_NO_PAD.encode("ka\nb");
        let long = URL_SAFE_NO_PAD.encode(format!("k{}", "a".repeat(2000)));
        for token in [not_base64, &not_utf8, &no_kind, &folder_without_slash, &control, &long, ""] {
            assert_eq!(Cursor::parse(token), Err(Rejection::Cursor), "{token}");
        }
    }
}
