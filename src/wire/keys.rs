//! The keys family's JSON (`GET`, `POST /%2F?keys`): what a tenant sees of
//! its API keys. The key itself appears once, in [`NewApiKey`]; no answer
//! ever carries its hash.

use serde::{Deserialize, Serialize};

/// One key, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    /// Its public id, to revoke it with (`DELETE /%2F?keys=ID`).
    pub id: String,
    /// The name it was given.
    pub name: String,
    /// Whether it only reads.
    pub read_only: bool,
    /// The folder it is confined to (`""`: the whole tenant).
    pub prefix: String,
    /// When it was made, RFC 3339.
    pub created: String,
    /// When it stops working, RFC 3339 (`null`: until revoked).
    pub expires: Option<String>,
    /// When it was last used, RFC 3339, to the minute (`null`: never).
    pub last_used: Option<String>,
}

/// `GET /%2F?keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyList {
    /// Oldest first.
    pub keys: Vec<ApiKeyInfo>,
}

/// `POST /%2F?keys`: the new key, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    /// The key to send as `Authorization: Bearer <key>`.
    pub key: String,
    /// What the list shows of it.
    #[serde(flatten)]
    pub info: ApiKeyInfo,
}
