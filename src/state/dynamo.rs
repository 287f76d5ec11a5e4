//! The state store in a DynamoDB table: on AWS, and wherever several
//! gateways share state (any DynamoDB-compatible server with an endpoint).
//!
//! The table is one table with a string hash key `pk` and a string range
//! key `sk`, and the attributes `data` (S, the item's JSON), `version` (N)
//! and `expires` (N, the table's TTL attribute). Why this shape:
//! - every access pattern is a key lookup (`GetItem`, `BatchGetItem` for a
//!   listing's page) or a range read of one partition (`Query`, newest
//!   first for the upload log), so one table with a composite key answers
//!   them all and the template grants one resource;
//! - no secondary indexes: they are eventually consistent, and correctness
//!   here rests on consistent reads of the base table (`ConsistentRead` on
//!   every read, so a read sees every write that returned before it);
//! - optimistic concurrency with `version` and condition expressions, so two
//!   gateways (or two Lambda instances) cannot both win a race;
//! - `expires` as the TTL attribute, with readers filtering expired items
//!   themselves: DynamoDB deletes them lazily (up to days later), and moto
//!   never does, so an expired item is absent to every read and condition.
//!
//! Calls have bounded timeouts and retries: an unreachable table is
//! [`StateError::Unavailable`] within a few seconds, and callers answer 503.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use futures_util::future::try_join_all;

use super::{
    BoxError, Condition, Item, ItemKey, NewItem, Range, StateError, StateStore, check_size, distinct_keys, expired,
    now_seconds,
};

/// The region used with a custom endpoint when none is configured.
const DEFAULT_ENDPOINT_REGION: &str = "us-east-1";

/// BatchGetItem reads at most 100 keys a call.
const BATCH_KEYS: usize = 100;

/// How often a batch's unprocessed keys are asked for again, waiting
/// 50 ms, then twice as long each time (3.15 s in all at most).
const BATCH_TRIES: u32 = 7;

/// How often a write without a condition tries again when a concurrent
/// writer created or removed the item between its two steps.
const UNCONDITIONAL_TRIES: u32 = 5;

/// The most items one `Query` page asks for (its 1 MB cap comes first for large items).
const QUERY_PAGE: usize = 1000;

const PK: &str = "pk";
const SK: &str = "sk";
const DATA: &str = "data";
const VERSION: &str = "version";
const EXPIRES: &str = "expires";

/// A live item at the time the request runs (`:now`).
const LIVE: &str = "attribute_exists(#pk) AND (attribute_not_exists(#expires) OR #expires > :now)";
/// No live item: none at all, or an expired one.
const ABSENT: &str = "attribute_not_exists(#pk) OR #expires <= :now";
/// The live item has version `:v`.
const AT_VERSION: &str = "#version = :v AND (attribute_not_exists(#expires) OR #expires > :now)";
/// Not expired, for a query's filter.
const NOT_EXPIRED: &str = "attribute_not_exists(#expires) OR #expires > :now";

/// Why the DynamoDB engine cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum DynamoSetupError {
    /// Neither configuration nor the AWS chain names a region, and no endpoint is given.
    #[error("no region for the state table `{0}`: set --region / AWS_REGION")]
    NoRegion(String),
}

/// The state store in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoState {
    client: Client,
    table: String,
}

impl DynamoState {
    /// The table `table`, reached with the AWS chain in `sdk`, at `endpoint`
    /// (any DynamoDB-compatible server) or else at AWS. Each call gives up
    /// after 5 s in all (1 s to connect, 3 s an attempt, 3 attempts).
    pub fn new(sdk: &SdkConfig, table: &str, endpoint: Option<&str>) -> Result<Self, DynamoSetupError> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(5))
            .build();
        let retries = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(50))
            .with_max_backoff(Duration::from_secs(1));
        let mut config = aws_sdk_dynamodb::config::Builder::from(sdk).timeout_config(timeouts).retry_config(retries);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        if sdk.region().is_none() {
            if endpoint.is_none() {
                return Err(DynamoSetupError::NoRegion(table.to_owned()));
            }
            config = config.region(Region::new(DEFAULT_ENDPOINT_REGION));
        }
        Ok(Self { client: Client::from_conf(config.build()), table: table.to_owned() })
    }

    /// The table's name.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes `item` as version 1 if no live item is there.
    async fn put_absent(&self, item: &NewItem, now: u64) -> Result<u64, StateError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes(item, 1)))
            .condition_expression(ABSENT)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":now", number(now))
            .send()
            .await
            .map_err(failure)?;
        Ok(1)
    }

    /// Writes `item` over the live item, one version up: `None` if there is none.
    async fn update_live(&self, item: &NewItem, now: u64) -> Result<Option<u64>, StateError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(&item.key)))
            .condition_expression(LIVE)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#data", DATA)
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_names("#expires", EXPIRES)
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":data", AttributeValue::S(item.data.clone()))
            .expression_attribute_values(":one", number(1))
            .return_values(ReturnValue::UpdatedNew);
        update = match item.expires {
            Some(expires) => update
                .update_expression("SET #data = :data, #version = #version + :one, #expires = :expires")
                .expression_attribute_values(":expires", number(expires)),
            None => update.update_expression("SET #data = :data, #version = #version + :one REMOVE #expires"),
        };
        match update.send().await.map_err(failure) {
            Ok(output) => {
                let version = output.attributes().and_then(|new| new.get(VERSION));
                Ok(Some(read_number(version, VERSION)?))
            }
            Err(StateError::ConditionFailed) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// One batch of at most 100 distinct keys, asking again for the keys
    /// DynamoDB leaves unprocessed (it does under throttling or past 16 MB).
    async fn get_batch(&self, keys: &[ItemKey], now: u64) -> Result<Vec<Item>, StateError> {
        let mut pending: Vec<HashMap<String, AttributeValue>> = keys.iter().map(key).collect();
        let mut items = Vec::with_capacity(keys.len());
        let mut pause = Duration::from_millis(50);
        for attempt in 1..=BATCH_TRIES {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| StateError::Unavailable(Box::new(e)))?;
            let output =
                self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(failure)?;
            for found in output.responses().and_then(|tables| tables.get(&self.table)).into_iter().flatten() {
                items.extend(read_item(found, now)?);
            }
            pending = output
                .unprocessed_keys()
                .and_then(|tables| tables.get(&self.table))
                .map(|left| left.keys().to_vec())
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(items);
            }
            if attempt < BATCH_TRIES {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Err(StateError::Unavailable(
            format!("DynamoDB left {} keys unprocessed after {BATCH_TRIES} tries", pending.len()).into(),
        ))
    }
}

/// A number attribute.
fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key attributes of `key`.
fn key(key: &ItemKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// Every attribute of `item` at `version`.
fn attributes(item: &NewItem, version: u64) -> HashMap<String, AttributeValue> {
    let mut attributes = key(&item.key);
    attributes.insert(DATA.to_owned(), AttributeValue::S(item.data.clone()));
    attributes.insert(VERSION.to_owned(), number(version));
    if let Some(expires) = item.expires {
        attributes.insert(EXPIRES.to_owned(), number(expires));
    }
    attributes
}

fn read_string<'a>(value: Option<&'a AttributeValue>, name: &str) -> Result<&'a str, StateError> {
    value.and_then(|value| value.as_s().ok()).map(String::as_str).ok_or_else(|| corrupt(name))
}

fn read_number(value: Option<&AttributeValue>, name: &str) -> Result<u64, StateError> {
    value.and_then(|value| value.as_n().ok()).and_then(|n| n.parse().ok()).ok_or_else(|| corrupt(name))
}

fn corrupt(name: &str) -> StateError {
    StateError::Corrupt(format!("attribute `{name}` is missing or not of its type"))
}

/// The item in `attributes`, or `None` if it expired by `now`.
fn read_item(attributes: &HashMap<String, AttributeValue>, now: u64) -> Result<Option<Item>, StateError> {
    let expires = attributes.get(EXPIRES).map(|value| read_number(Some(value), EXPIRES)).transpose()?;
    if expired(expires, now) {
        return Ok(None);
    }
    Ok(Some(Item {
        key: ItemKey::new(read_string(attributes.get(PK), PK)?, read_string(attributes.get(SK), SK)?),
        data: read_string(attributes.get(DATA), DATA)?.to_owned(),
        version: read_number(attributes.get(VERSION), VERSION)?,
        expires,
    }))
}

/// A failed call: a condition that did not hold, or DynamoDB unreachable,
/// throttling past the retries, or refusing the call (the source says which).
fn failure<E, R>(error: SdkError<E, R>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException") {
        StateError::ConditionFailed
    } else {
        StateError::Unavailable(Box::new(error) as BoxError)
    }
}

/// How a query's `after` bears on a prefix: DynamoDB refuses an
/// `ExclusiveStartKey` outside the key condition, so an `after` outside
/// the prefix either leaves every prefixed key in range or none.
#[derive(Debug, PartialEq, Eq)]
enum Start<'a> {
    /// From the first key in the read's order.
    First,
    /// Strictly after this key.
    After(&'a str),
    /// Nothing is in range.
    Nothing,
}

fn start(range: &Range) -> Start<'_> {
    match range.after.as_deref() {
        None => Start::First,
        Some(after) if after.starts_with(&range.prefix) => Start::After(after),
        // Before every prefixed key: ascending, all follow it; descending, none does.
        Some(after) if after < range.prefix.as_str() => {
            if range.descending {
                Start::Nothing
            } else {
                Start::First
            }
        }
        // After every prefixed key.
        Some(_) => {
            if range.descending {
                Start::First
            } else {
                Start::Nothing
            }
        }
    }
}

#[async_trait]
impl StateStore for DynamoState {
    async fn get(&self, key: &ItemKey) -> Result<Option<Item>, StateError> {
        check_size(key, "")?;
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self::key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(failure)?;
        output.item().map_or(Ok(None), |found| read_item(found, now_seconds()))
    }

    async fn get_many(&self, keys: &[ItemKey]) -> Result<Vec<Item>, StateError> {
        let keys = distinct_keys(keys)?;
        let now = now_seconds();
        let batches = try_join_all(keys.chunks(BATCH_KEYS).map(|batch| self.get_batch(batch, now))).await?;
        Ok(batches.into_iter().flatten().collect())
    }

    async fn put(&self, item: NewItem, condition: Condition) -> Result<u64, StateError> {
        check_size(&item.key, &item.data)?;
        let now = now_seconds();
        match condition {
            Condition::Absent => self.put_absent(&item, now).await,
            Condition::Version(version) => {
                // No item reaches the last version, so no item has it.
                let next = version.checked_add(1).ok_or(StateError::ConditionFailed)?;
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(attributes(&item, next)))
                    .condition_expression(AT_VERSION)
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_names("#expires", EXPIRES)
                    .expression_attribute_values(":v", number(version))
                    .expression_attribute_values(":now", number(now))
                    .send()
                    .await
                    .map_err(failure)?;
                Ok(next)
            }
            // One version up from the live item, or 1 over none: an update
            // where an item lives, else a put where none does. Each step is
            // conditional, so a writer in between makes it try again.
            Condition::None => {
                for _ in 0..UNCONDITIONAL_TRIES {
                    if let Some(version) = self.update_live(&item, now).await? {
                        return Ok(version);
                    }
                    match self.put_absent(&item, now).await {
                        Err(StateError::ConditionFailed) => {}
                        done => return done,
                    }
                }
                Err(StateError::ConditionFailed)
            }
        }
    }

    async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<(), StateError> {
        check_size(key, "")?;
        let delete = self.client.delete_item().table_name(&self.table).set_key(Some(self::key(key)));
        let now = number(now_seconds());
        let delete = match condition {
            Condition::None => delete,
            Condition::Absent => delete
                .condition_expression(ABSENT)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#expires", EXPIRES)
                .expression_attribute_values(":now", now),
            Condition::Version(version) => delete
                .condition_expression(AT_VERSION)
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_names("#expires", EXPIRES)
                .expression_attribute_values(":v", number(version))
                .expression_attribute_values(":now", now),
        };
        delete.send().await.map_err(failure)?;
        Ok(())
    }

    async fn query(&self, pk: &str, range: &Range, limit: usize) -> Result<Vec<Item>, StateError> {
        if pk.is_empty() {
            return Err(StateError::EmptyKey);
        }
        let mut next = match start(range) {
            Start::Nothing => return Ok(Vec::new()),
            _ if limit == 0 => return Ok(Vec::new()),
            Start::First => None,
            Start::After(after) => Some(key(&ItemKey::new(pk, after))),
        };
        let now = now_seconds();
        let mut items = Vec::new();
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .scan_index_forward(!range.descending)
                .set_exclusive_start_key(next)
                // Limit counts items read, before the filter drops expired ones.
                .limit(i32::try_from((limit - items.len()).min(QUERY_PAGE)).unwrap_or(1))
                .filter_expression(NOT_EXPIRED)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#expires", EXPIRES)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .expression_attribute_values(":now", number(now));
            // An empty string is no valid key value, even in `begins_with`.
            query = if range.prefix.is_empty() {
                query.key_condition_expression("#pk = :pk")
            } else {
                query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":prefix", AttributeValue::S(range.prefix.clone()))
            };
            let output = query.send().await.map_err(failure)?;
            for found in output.items() {
                items.extend(read_item(found, now)?);
                if items.len() == limit {
                    return Ok(items);
                }
            }
            next = output.last_evaluated_key().cloned();
            if next.is_none() {
                return Ok(items);
            }
        }
    }

    async fn probe(&self) -> Result<(), StateError> {
        // A read of a key nobody writes: the same permission as every read,
        // where DescribeTable would need a grant of its own.
        self.get(&ItemKey::new("#probe", "#probe")).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_after_outside_the_prefix_reads_all_or_nothing() {
        let range = |after: &str, descending| Range { prefix: "m".into(), after: Some(after.into()), descending };
        assert_eq!(start(&Range::default()), Start::First);
        assert_eq!(start(&range("m1", false)), Start::After("m1"));
        assert_eq!(start(&range("m", true)), Start::After("m"));
        assert_eq!(start(&range("a", false)), Start::First);
        assert_eq!(start(&range("a", true)), Start::Nothing);
        assert_eq!(start(&range("z", false)), Start::Nothing);
        assert_eq!(start(&range("z", true)), Start::First);
    }
}
