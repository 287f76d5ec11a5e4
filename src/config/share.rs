//! `presign-gateway share`: a link minted offline, by the gateway's own rules
//! (the core's share family, with the gateway's key prefix, tenant folder and
//! longest lifetime).

use std::time::Duration;

use crate::cli::{AuthMode, ShareArgs};
use crate::core::key::{KeyPrefix, ObjectKey};
use crate::core::query::Query;
use crate::core::tenant::TenantId;
use crate::core::{Caller, Policy, ShareOrder, share};
use crate::links::ShareKeys;

use super::ConfigError;
use super::values::{base_url, check_share_max_ttl};

/// A link to mint with `presign-gateway share`, validated.
#[derive(Debug)]
pub struct ShareCommand {
    /// The keys that sign.
    pub keys: ShareKeys,
    /// The gateway's public base URL.
    pub base_url: String,
    /// What the link grants.
    pub order: ShareOrder,
}

impl ShareCommand {
    /// Validates the arguments of `presign-gateway share` by the gateway's own rules.
    pub fn from_args(args: &ShareArgs) -> Result<Self, ConfigError> {
        let keys = ShareKeys::parse(args.share_keys.as_deref().ok_or(ConfigError::NoShareKeys)?)
            .map_err(ConfigError::ShareKeys)?;
        let tenant = args.tenant.as_deref().map(TenantId::new).transpose().map_err(ConfigError::Tenant)?;
        let mode = match args.auth {
            AuthMode::None => None,
            AuthMode::Authorizer => Some("authorizer"),
            AuthMode::Jwt => Some("jwt"),
        };
        if let (None, Some(mode)) = (&tenant, mode) {
            return Err(ConfigError::ShareTenantRequired(mode));
        }
        let key = ObjectKey::new(args.key.trim_start_matches('/').to_owned()).map_err(ConfigError::ShareKey)?;
        check_share_max_ttl(args.share_max_ttl)?;
        if args.ttl.is_zero() || args.ttl > args.share_max_ttl {
            return Err(ConfigError::ShareTtl(args.share_max_ttl.as_secs()));
        }
        let policy = Policy {
            prefix: KeyPrefix::new(&args.key_prefix).map_err(ConfigError::KeyPrefix)?,
            tenants: KeyPrefix::new(&args.tenant_folder).map_err(ConfigError::TenantFolder)?,
            max_share_ttl: args.share_max_ttl,
            ..Policy::new(Duration::from_secs(1))
        };
        let asked = Query {
            share: true,
            ttl: Some(args.ttl.as_secs().to_string()),
            methods: Some(args.methods.clone()),
            max_size: args.max_size.map(|size| size.to_string()),
            ..Query::default()
        };
        let order = share::share(key, &asked, Caller::Owner(tenant.as_ref()), &policy).map_err(ConfigError::Share)?;
        Ok(Self { keys, base_url: base_url("--base-url / BASE_URL", &args.base_url)?, order })
    }
}
