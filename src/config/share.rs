//! `presign-gateway share`: a link minted offline, by the gateway's own rules
//! (the core's share family, with the gateway's key prefix, tenant folder and
//! longest lifetime).

use crate::cli::{AuthMode, ShareArgs};
use crate::core::share::{self, Terms};
use crate::core::tenant::TenantId;
use crate::core::{Caller, Rejection, ShareOrder};
use crate::links::ShareKeys;

use super::values::{base_url, check_table, layout};
use super::{ConfigError, StateConfig};

/// A link to mint with `presign-gateway share`, validated.
#[derive(Debug)]
pub struct ShareCommand {
    /// The keys that sign.
    pub keys: ShareKeys,
    /// The gateway's public base URL.
    pub base_url: String,
    /// What the link grants.
    pub order: ShareOrder,
    /// Where the link's record goes (`Off`: a stateless link).
    pub state: StateConfig,
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
        // A path ending in `/` shares that folder.
        let key = share::target(args.key.trim_start_matches('/').to_owned()).map_err(|rejected| match rejected {
            Rejection::Key(error) => ConfigError::ShareKey(error),
            other => ConfigError::Share(other),
        })?;
        let state = state(args)?;
        let mut policy = layout(&args.key_prefix, &args.tenant_folder, args.share_max_ttl)?;
        policy.link_records = !matches!(state, StateConfig::Off);
        let terms = Terms {
            ttl: Some(args.ttl),
            methods: Some(args.methods),
            max_size: args.max_size,
            max_uses: args.max_uses,
        };
        let order = share::share(key, &terms, Caller::Owner(tenant.as_ref()), &policy).map_err(refused)?;
        Ok(Self { keys, base_url: base_url("--base-url / BASE_URL", &args.base_url)?, order, state })
    }
}

/// The gateway's state store, when named: a table, or a folder (an endpoint alone names nothing).
fn state(args: &ShareArgs) -> Result<StateConfig, ConfigError> {
    const ENDPOINT: &str = "--state-endpoint / AWS_ENDPOINT_URL_DYNAMODB";
    match (&args.state_table, &args.state_dir) {
        (Some(table), _) => Ok(StateConfig::Dynamo {
            table: check_table(table)?,
            endpoint: args.state_endpoint.as_deref().map(|url| base_url(ENDPOINT, url)).transpose()?,
        }),
        (None, Some(_)) if !cfg!(feature = "embedded-store") => Err(ConfigError::NoLocalState),
        (None, Some(dir)) => Ok(StateConfig::Local { dir: dir.clone() }),
        (None, None) => Ok(StateConfig::Off),
    }
}

/// The core's refusal, a lifetime out of range named as the `--ttl` flag it
/// came from rather than the query parameter.
fn refused(rejection: Rejection) -> ConfigError {
    match rejection {
        Rejection::TtlOutOfRange(max) => ConfigError::ShareTtl(max),
        other => ConfigError::Share(other),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn error(argv: &[&str]) -> String {
        let mut full = vec!["presign-gateway", "share", "--share-keys", "k1:0123456789abcdef0123456789abcdef"];
        full.extend_from_slice(&["--base-url", "https://g.example", "--auth", "none", "--key-prefix", ""]);
        full.extend_from_slice(argv);
        let Some(Command::Share(share)) = Cli::parse_from(full).command else { unreachable!() };
        ShareCommand::from_args(&share).unwrap_err().to_string()
    }

    #[test]
    fn lifetimes_out_of_range_name_the_flags() {
        let year = "--ttl must be between 1 second and 31536000 seconds (SHARE_MAX_TTL)";
        assert_eq!(error(&["f", "--ttl", "0", "--share-max-ttl", "365d"]), year);
        // The limit in the unit the flag was given in.
        let days = "--ttl must be between 1 second and 365d (SHARE_MAX_TTL)";
        assert_eq!(error(&["f", "--ttl", "366d", "--share-max-ttl", "365d"]), days);
        assert_eq!(error(&["f", "--ttl", "53w", "--share-max-ttl", "365d"]), days);
        let weeks = "--ttl must be between 1 second and 2w (SHARE_MAX_TTL)";
        assert_eq!(error(&["f", "--ttl", "3w", "--share-max-ttl", "14d"]), weeks);
        let hour = "--ttl must be between 1 second and 3600 seconds (SHARE_MAX_TTL)";
        assert_eq!(error(&["f", "--ttl", "3601", "--share-max-ttl", "1h"]), hour);
        let forever = error(&["f", "--ttl", "1h", "--share-max-ttl", "200000000000000d"]);
        assert_eq!(forever, "--share-max-ttl / SHARE_MAX_TTL must be between one second and 100 years");
        let max_size = error(&["f", "--ttl", "1h", "--share-max-ttl", "1d", "--max-size", "1MiB"]);
        assert!(max_size.starts_with("cannot mint the link: "), "{max_size}");
        let max_uses = error(&["f", "--ttl", "1h", "--max-uses", "3"]);
        assert!(max_uses.contains("max_uses needs the gateway's state store"), "{max_uses}");
    }
}
