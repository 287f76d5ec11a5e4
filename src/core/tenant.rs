//! Tenant isolation: the only way to a storage key. A [`StorageKey`] can only
//! be made by a [`Scope`], which puts the configured prefix and the tenant's
//! folder in front of the object key, so no operation can reach outside the
//! folder of the tenant it acts for.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::key::{Folder, KeyError, KeyPrefix, MAX_KEY_BYTES, ObjectKey};

/// The longest tenant id accepted, in bytes before encoding.
pub const MAX_TENANT_BYTES: usize = 128;

/// Characters kept as they are in a tenant's folder name; everything else,
/// `%` included, is percent-encoded, so the mapping is one-to-one and no id
/// can contain `/`.
const TENANT_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Why a claim cannot name a tenant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// An empty claim.
    #[error("the tenant id is empty")]
    Empty,
    /// Longer than [`MAX_TENANT_BYTES`].
    #[error("the tenant id is longer than {MAX_TENANT_BYTES} bytes")]
    TooLong,
    /// `.` and `..` would be read as folders of their own.
    #[error("the tenant id is `.` or `..`")]
    Dot,
    /// Control characters have no place in an id.
    #[error("the tenant id contains a control character")]
    ControlCharacter,
}

/// A tenant, as named by an identity claim, and its folder name.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TenantId {
    id: String,
    folder: String,
}

impl TenantId {
    /// Validates a claim value. Any other character is allowed: it is
    /// percent-encoded in the folder name.
    pub fn new(id: &str) -> Result<Self, TenantError> {
        match id {
            "" => return Err(TenantError::Empty),
            "." | ".." => return Err(TenantError::Dot),
            _ => {}
        }
        if id.len() > MAX_TENANT_BYTES {
            return Err(TenantError::TooLong);
        }
        if id.chars().any(char::is_control) {
            return Err(TenantError::ControlCharacter);
        }
        Ok(Self { id: id.to_owned(), folder: utf8_percent_encode(id, TENANT_ESCAPES).to_string() })
    }

    /// The id as the claim gave it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The single path segment the tenant's objects live under.
    #[must_use]
    pub fn folder(&self) -> &str {
        &self.folder
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.id, f)
    }
}

/// Where a caller's keys live: the configured prefix, then, for a tenant,
/// `<tenant folder>/<tenant id>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope<'a> {
    prefix: &'a KeyPrefix,
    tenants: &'a KeyPrefix,
    tenant: Option<&'a TenantId>,
}

impl<'a> Scope<'a> {
    /// The scope of `tenant` (`None`: the single tenant of `--auth none`).
    #[must_use]
    pub fn new(prefix: &'a KeyPrefix, tenants: &'a KeyPrefix, tenant: Option<&'a TenantId>) -> Self {
        Self { prefix, tenants, tenant }
    }

    /// The storage key for `key` in this scope.
    pub fn storage_key(&self, key: &ObjectKey) -> Result<StorageKey, KeyError> {
        Ok(StorageKey { key: self.place(key.as_str())? })
    }

    /// The storage prefix of `folder` in this scope, to list.
    pub fn storage_prefix(&self, folder: &Folder) -> Result<StoragePrefix, KeyError> {
        let hidden = self.keeps_out().map(|tenants| format!("{}{tenants}", self.prefix.as_str()));
        Ok(StoragePrefix { prefix: self.place(folder.as_str())?, root: self.root().len(), hidden })
    }

    /// The tenants' folder, for the single tenant of `--auth none`: a bucket
    /// a signed-in gateway also serves (or served) holds its tenants' files
    /// there, which are not this caller's. `None` for a tenant, and when the
    /// tenants' folder is the bucket's root (`--tenant-folder ''`).
    fn keeps_out(&self) -> Option<&str> {
        let tenants = self.tenants.as_str();
        (self.tenant.is_none() && !tenants.is_empty()).then_some(tenants)
    }

    /// Where this scope's keys start: the key prefix and the tenant's folder.
    fn root(&self) -> String {
        let mut root = String::from(self.prefix.as_str());
        if let Some(tenant) = self.tenant {
            root.push_str(self.tenants.as_str());
            root.push_str(tenant.folder());
            root.push('/');
        }
        root
    }

    fn place(&self, path: &str) -> Result<String, KeyError> {
        if let Some(tenants) = self.keeps_out().filter(|tenants| path.starts_with(tenants)) {
            return Err(KeyError::TenantsFolder(tenants.to_owned()));
        }
        let mut full = self.root();
        full.push_str(path);
        if full.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong(full.len()));
        }
        // Renditions live at `<prefix>_renditions/`: no scope reaches it, not
        // even a tenant called `_renditions` when the tenants' folder is the
        // prefix itself (`--tenant-folder ''`).
        let reserved = full.strip_prefix(self.prefix.as_str()).and_then(|rest| rest.strip_prefix(super::key::RESERVED));
        if reserved.is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) {
            return Err(KeyError::Reserved);
        }
        Ok(full)
    }
}

/// A prefix in the bucket to list, made only by [`Scope::storage_prefix`]:
/// it knows where the scope's own keys start, so what storage lists under it
/// is given back as the client names it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoragePrefix {
    prefix: String,
    /// The length of the scope's root (key prefix and tenant folder).
    root: usize,
    /// Where the tenants' folder starts, kept out of `--auth none`'s listings.
    hidden: Option<String>,
}

impl StoragePrefix {
    /// The prefix as S3 lists it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.prefix
    }

    /// A key storage listed under this prefix, as the client names it;
    /// `None` for one outside the prefix, which storage must never list, and
    /// for the tenants' folder in a listing of `--auth none` and the
    /// renditions' folder, which no key may name.
    #[must_use]
    pub fn client_name<'k>(&self, storage_key: &'k str) -> Option<&'k str> {
        let hidden = self.hidden.as_deref().is_some_and(|hidden| storage_key.starts_with(hidden));
        let name = if storage_key.starts_with(&self.prefix) && !hidden { storage_key.get(self.root..) } else { None };
        name.filter(|name| name.split('/').next() != Some(super::key::RESERVED))
    }

    /// The scope's root: the key prefix and the tenant's folder.
    #[must_use]
    pub fn root(&self) -> &str {
        self.prefix.get(..self.root).unwrap_or_default()
    }
}

impl fmt::Debug for StoragePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.prefix, f)
    }
}

/// A key in the bucket, made only by [`Scope::storage_key`].
#[derive(Clone, PartialEq, Eq)]
pub struct StorageKey {
    key: String,
}

impl StorageKey {
    /// The key of a rendition the catalog recorded for an object the caller
    /// may read: made from the catalog's record of that very object, never
    /// from a request.
    #[must_use]
    pub fn rendition(recorded: String) -> Self {
        Self { key: recorded }
    }

    /// The key as S3 stores it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The key as S3 stores it, without a copy.
    #[must_use]
    pub fn into_string(self) -> String {
        self.key
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.key, f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn prefix(p: &str) -> KeyPrefix {
        KeyPrefix::new(p).unwrap()
    }

    #[test]
    fn tenant_ids_become_one_safe_segment() {
        let cases = [
            ("acme", "acme"),
            ("user-1_a.b", "user-1_a.b"),
            ("auth0|abc123", "auth0%7Cabc123"),
            ("a/b", "a%2Fb"),
            ("../x", "..%2Fx"),
            ("50%", "50%25"),
            ("日本", "%E6%97%A5%E6%9C%AC"),
        ];
        for (id, folder) in cases {
            assert_eq!(TenantId::new(id).unwrap().folder(), folder, "{id}");
        }
        assert_eq!(TenantId::new(""), Err(TenantError::Empty));
        assert_eq!(TenantId::new(".."), Err(TenantError::Dot));
        assert_eq!(TenantId::new("a\0"), Err(TenantError::ControlCharacter));
        assert_eq!(TenantId::new(&"t".repeat(129)), Err(TenantError::TooLong));
    }

    #[test]
    fn no_scope_reaches_the_renditions_folder() {
        let (up, none) = (prefix("up"), prefix(""));
        let renditions = TenantId::new("_renditions").unwrap();
        let key = ObjectKey::new("x/e/thumb.jpg".into()).unwrap();
        // A tenant named like the folder, with the tenants' folders at the prefix itself.
        for base in [&up, &none] {
            let scope = Scope::new(base, &none, Some(&renditions));
            assert_eq!(scope.storage_key(&key), Err(KeyError::Reserved));
            assert_eq!(scope.storage_prefix(&Folder::new(String::new()).unwrap()), Err(KeyError::Reserved));
        }
        // Elsewhere it is a tenant like any other.
        let tenants = prefix("tenants");
        assert_eq!(
            Scope::new(&up, &tenants, Some(&renditions)).storage_key(&key).unwrap().as_str(),
            "up/tenants/_renditions/x/e/thumb.jpg"
        );
        let other = TenantId::new("_renditionsX").unwrap();
        assert!(Scope::new(&up, &none, Some(&other)).storage_key(&key).is_ok());
    }

    #[test]
    fn scopes_put_keys_under_the_tenant() {
        let key = ObjectKey::new("docs/a.txt".into()).unwrap();
        let tenant = TenantId::new("acme").unwrap();
        let (empty, tenants, uploads) = (prefix(""), prefix("tenants"), prefix("uploads"));
        assert_eq!(Scope::new(&empty, &tenants, None).storage_key(&key).unwrap().as_str(), "docs/a.txt");
        assert_eq!(
            Scope::new(&empty, &tenants, Some(&tenant)).storage_key(&key).unwrap().as_str(),
            "tenants/acme/docs/a.txt"
        );
        assert_eq!(
            Scope::new(&uploads, &tenants, Some(&tenant)).storage_key(&key).unwrap().as_str(),
            "uploads/tenants/acme/docs/a.txt"
        );
    }

    #[test]
    fn listed_prefixes_stay_in_the_scope_and_give_back_client_names() {
        let tenant = TenantId::new("acme").unwrap();
        let (uploads, tenants) = (prefix("uploads"), prefix("tenants"));
        let scope = Scope::new(&uploads, &tenants, Some(&tenant));
        let top = scope.storage_prefix(&Folder::default()).unwrap();
        assert_eq!(top.as_str(), "uploads/tenants/acme/");
        let photos = scope.storage_prefix(&Folder::new("photos/".into()).unwrap()).unwrap();
        assert_eq!(photos.as_str(), "uploads/tenants/acme/photos/");
        assert_eq!(photos.client_name("uploads/tenants/acme/photos/a.jpg"), Some("photos/a.jpg"));
        assert_eq!(photos.client_name("uploads/tenants/acme/photos/2024/"), Some("photos/2024/"));
        assert_eq!(photos.client_name("uploads/tenants/other/photos/a.jpg"), None);
        assert_eq!(photos.client_name("uploads/tenants/acme/docs/a.pdf"), None);
    }

    #[test]
    fn the_single_tenant_neither_lists_nor_reaches_the_tenants_folder() {
        let (uploads, tenants, none) = (prefix("uploads"), prefix("tenants"), prefix(""));
        let scope = Scope::new(&uploads, &tenants, None);
        for path in ["tenants/alice/notes.txt", "tenants/x"] {
            let refused = scope.storage_key(&ObjectKey::new(path.into()).unwrap());
            assert_eq!(refused, Err(KeyError::TenantsFolder("tenants/".into())), "{path}");
        }
        assert_eq!(
            scope.storage_prefix(&Folder::new("tenants/".into()).unwrap()),
            Err(KeyError::TenantsFolder("tenants/".into()))
        );
        for own in ["tenants", "tenantsx/a", "docs/tenants/a"] {
            assert!(scope.storage_key(&ObjectKey::new(own.into()).unwrap()).is_ok(), "{own}");
        }
        let top = scope.storage_prefix(&Folder::default()).unwrap();
        assert_eq!(top.client_name("uploads/tenants/"), None);
        assert_eq!(top.client_name("uploads/tenants/alice/notes.txt"), None);
        assert_eq!(top.client_name("uploads/tenantsx/"), Some("tenantsx/"));
        // With the tenants at the bucket's root there is no folder to keep out.
        let root = Scope::new(&uploads, &none, None).storage_prefix(&Folder::default()).unwrap();
        assert_eq!(root.client_name("uploads/alice/"), Some("alice/"));
    }

    proptest! {
        /// Whatever the claim and whatever the path, an accepted request's
        /// storage key lies inside its tenant's folder and cannot leave it.
        #[test]
        fn accepted_keys_never_leave_the_tenant_folder(id in "\\PC{0,40}", path in "(/|%2e|%2E|%2f|\\.|\\.\\.|[a-z]|%|\\\\|\\PC){0,40}") {
            let Ok(tenant) = TenantId::new(&id) else { return Ok(()) };
            let Ok(key) = ObjectKey::from_encoded_path(&path) else { return Ok(()) };
            let (empty, tenants) = (prefix(""), prefix("tenants"));
            let Ok(storage) = Scope::new(&empty, &tenants, Some(&tenant)).storage_key(&key) else { return Ok(()) };
            let folder = format!("tenants/{}/", tenant.folder());
            prop_assert!(storage.as_str().starts_with(&folder));
            let rest = &storage.as_str()[folder.len()..];
            prop_assert!(rest.split('/').all(|segment| !matches!(segment, "" | "." | "..")));
            prop_assert!(!tenant.folder().contains('/'));
            prop_assert!(!matches!(tenant.folder(), "." | ".."));
        }

        /// Different ids never share a folder.
        #[test]
        fn folders_are_one_to_one(a in "\\PC{1,20}", b in "\\PC{1,20}") {
            if let (Ok(ta), Ok(tb)) = (TenantId::new(&a), TenantId::new(&b)) {
                prop_assert_eq!(a == b, ta.folder() == tb.folder());
            }
        }
    }
}
