//! The keys family's face: a signed-in tenant lists, creates and revokes
//! its API keys; a new key's terms come from the query or a JSON body.

use super::{GatewayError, Reply};
use crate::core::Rejection;
use crate::core::api_key::{KeyTerms, KeysOrder};
use crate::keys::ApiKeys;

/// Does `order`; `body` is what a create sent (empty for none).
pub async fn perform(keys: &ApiKeys, order: KeysOrder, body: &[u8]) -> Result<Reply, GatewayError> {
    match order {
        KeysOrder::List(tenant) => Ok(Reply::Keys(KeysReply::Listed(keys.list(&tenant).await?))),
        KeysOrder::Create(tenant, from_query) => {
            let terms = match (from_query, body.iter().all(u8::is_ascii_whitespace)) {
                (Some(_), false) => return Err(Rejection::KeyTermsTwice.into()),
                (Some(terms), true) => terms,
                (None, false) => KeyTerms::from_json(body)?,
                (None, true) => KeyTerms::default(),
            };
            Ok(Reply::Keys(KeysReply::Created(keys.create(&tenant, &terms).await?)))
        }
        KeysOrder::Revoke(tenant, id) => {
            keys.revoke(&tenant, &id).await?;
            Ok(Reply::Keys(KeysReply::Revoked))
        }
    }
}

/// What the keys family answers.
#[derive(Debug)]
pub enum KeysReply {
    /// The tenant's keys.
    Listed(crate::wire::keys::ApiKeyList),
    /// A new key, shown this once.
    Created(crate::wire::keys::NewApiKey),
    /// Gone.
    Revoked,
}
