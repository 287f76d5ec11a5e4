//! The rules from configuration that every decision follows, and who a
//! request acts for once authenticated.

use std::time::Duration;

use super::download::InlineTypes;
use super::grant::Grant;
use super::key::KeyPrefix;
use super::media::MediaTypes;
use super::tenant::{Scope, TenantId};

/// Rules from configuration that every decision follows.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Folder every key is placed under.
    pub prefix: KeyPrefix,
    /// Folder the tenants' folders are in (`tenants/`).
    pub tenants: KeyPrefix,
    /// How long a presigned URL lives, before any cap from the credentials.
    pub expires_in: Duration,
    /// The longest lifetime a share link may be given.
    pub max_share_ttl: Duration,
    /// The largest object accepted, by single PUT or multipart.
    pub max_object_size: Option<u64>,
    /// Media types downloads may show in the browser besides the safe defaults.
    pub inline_types: InlineTypes,
    /// The media types an upload may declare (empty: any).
    pub allowed_types: MediaTypes,
    /// Whether the upload log is on: listings then read metadata from it, not by `HEAD`s.
    pub catalog: bool,
    /// Whether new share links get a record in the state store (which
    /// counts their uses and lets their owner list and revoke them).
    pub link_records: bool,
}

impl Policy {
    /// URLs that live `expires_in`, no key prefix, tenants under `tenants/`,
    /// share links of up to a year: the defaults of `serve`.
    #[must_use]
    pub fn new(expires_in: Duration) -> Self {
        Self {
            prefix: KeyPrefix::default(),
            tenants: KeyPrefix::new("tenants").unwrap_or_default(),
            expires_in,
            max_share_ttl: Duration::from_secs(365 * 86_400),
            max_object_size: None,
            inline_types: InlineTypes::default(),
            allowed_types: MediaTypes::default(),
            catalog: false,
            link_records: false,
        }
    }

    /// Where `tenant`'s keys live.
    #[must_use]
    pub fn scope<'a>(&'a self, tenant: Option<&'a TenantId>) -> Scope<'a> {
        Scope::new(&self.prefix, &self.tenants, tenant)
    }
}

/// Who a request acts for, once authenticated.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An authenticated tenant, or `None` for the single tenant of `--auth none`.
    Owner(Option<&'a TenantId>),
    /// The holder of a share link whose token checked out.
    Link(&'a Grant),
}
