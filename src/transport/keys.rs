//! `presign-gateway keys create|list|revoke`: a tenant's API keys, worked on
//! in a DynamoDB state table from a shell, as the gateway's `?keys` routes do.
//! A local state file is refused: redb admits one process, the `serve`
//! holding it, so against it keys are managed over HTTP.

use anyhow::Context as _;

use crate::aws;
use crate::cli::{KeysCommand, KeysStateArgs};
use crate::core::api_key::{KeyId, KeyTerms};
use crate::core::tenant::TenantId;
use crate::keys::ApiKeys;

/// Runs `command`; what to print.
pub async fn run(command: KeysCommand) -> anyhow::Result<String> {
    match command {
        KeysCommand::Create(args) => {
            let terms = KeyTerms::parse(
                args.read_only.then_some("true"),
                args.prefix.as_deref(),
                args.ttl,
                args.name.as_deref(),
            )?;
            let (keys, tenant) = open(&args.state).await?;
            Ok(serde_json::to_string_pretty(&keys.create(&tenant, &terms).await?)?)
        }
        KeysCommand::List(state) => {
            let (keys, tenant) = open(&state).await?;
            Ok(serde_json::to_string_pretty(&keys.list(&tenant).await?)?)
        }
        KeysCommand::Revoke(args) => {
            let id = KeyId::parse(&args.id)?;
            let (keys, tenant) = open(&args.state).await?;
            keys.revoke(&tenant, &id).await?;
            Ok(format!("revoked {} (within {} seconds on every gateway)", id.as_str(), crate::keys::CACHE_SECONDS))
        }
    }
}

/// The keys in the table `args` names, and the tenant.
async fn open(args: &KeysStateArgs) -> anyhow::Result<(ApiKeys, TenantId)> {
    let tenant = TenantId::new(&args.tenant).context("--tenant")?;
    let Some(table) = &args.state_table else {
        let local = match &args.state_dir {
            Some(dir) => format!("the local state file in {}", dir.display()),
            None => "a local state file".to_owned(),
        };
        anyhow::bail!(
            "keys are worked on here in a DynamoDB state table: set --state-table / STATE_TABLE. {local} admits one \
             process (redb), the `serve` holding it: manage its keys over HTTP with GET, POST /%2F?keys and DELETE \
             /%2F?keys=ID, signed in as the tenant"
        );
    };
    let config = crate::config::state_table(table, args.state_endpoint.as_deref())?;
    let sdk = aws::sdk_config(args.region.as_deref()).await;
    let state = crate::state::open(&config, Some(&sdk)).await?.context("the state table")?;
    Ok((ApiKeys::new(state), tenant))
}
