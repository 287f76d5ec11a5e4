//! `presign-gateway share`: a link minted offline, by the gateway's own rules.

use crate::cli::ShareArgs;
use crate::core::ShareOrder;
use crate::core::grant::Methods;
use crate::core::key::ObjectKey;
use crate::core::tenant::TenantId;
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
        let tenant = args.tenant.as_deref().map(TenantId::new).transpose().map_err(ConfigError::Tenant)?;
        let key = ObjectKey::new(args.key.trim_start_matches('/').to_owned()).map_err(ConfigError::ShareKey)?;
        check_share_max_ttl(args.share_max_ttl)?;
        if args.ttl.is_zero() || args.ttl > args.share_max_ttl {
            return Err(ConfigError::ShareTtl(args.share_max_ttl.as_secs()));
        }
        let methods = Methods::parse(&args.methods).map_err(ConfigError::ShareMethods)?;
        if args.max_size.is_some() && !methods.allows_put() {
            return Err(ConfigError::ShareMaxSize);
        }
        Ok(Self {
            keys: ShareKeys::parse(&args.share_keys)?,
            base_url: base_url("--base-url / BASE_URL", &args.base_url)?,
            order: ShareOrder { tenant, key, methods, ttl: args.ttl, max_size: args.max_size },
        })
    }
}
