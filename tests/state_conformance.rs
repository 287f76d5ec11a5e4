//! One conformance suite for every state engine: each `async fn` below runs
//! against the redb file (`local::`) and against DynamoDB on moto's server
//! (`dynamo::`), so both engines answer every call alike, expired items,
//! conditions, batches over 100 keys and races included.

mod common;

use common::moto::Moto;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use presign_gateway::state::dynamo::DynamoState;
use presign_gateway::state::{
    Condition, Item, ItemKey, MAX_DATA_BYTES, NewItem, Range, StateError, StateStore, now_seconds,
};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The engines, each test on a fresh store.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        #[cfg(feature = "embedded-store")]
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::local_store(stringify!($name))).await;
                }
            )*
        }
        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(store) = super::dynamo_store().await else { return };
                    super::$name(store).await;
                }
            )*
        }
    };
}

conformance!(
    put_get_delete,
    conditions,
    expired_items_are_absent,
    get_many_crosses_batches,
    query_reads_one_partition_in_order,
    query_pages_past_expired_items,
    data_size_is_limited_alike,
    concurrent_conditional_writes_all_count,
    keys_take_any_text,
    probe_answers,
);

#[cfg(feature = "embedded-store")]
fn local_store(name: &str) -> Arc<dyn StateStore> {
    let dir = common::scratch_dir(&format!("state-{name}"));
    Arc::new(presign_gateway::state::local::LocalState::open(&dir).expect("open the state file"))
}

async fn dynamo_store() -> Option<Arc<dyn StateStore>> {
    let moto = Moto::shared()?;
    let table = moto.create_table().await;
    let store = DynamoState::new(&Moto::sdk_config().await, &table, Some(&moto.endpoint)).expect("a DynamoDB client");
    Some(Arc::new(store))
}

fn item(pk: &str, sk: &str, data: &str) -> NewItem {
    NewItem { key: ItemKey::new(pk, sk), data: data.to_owned(), expires: None }
}

fn expiring(pk: &str, sk: &str, data: &str, expires: u64) -> NewItem {
    NewItem { expires: Some(expires), ..item(pk, sk, data) }
}

fn failed<T>(result: &Result<T, StateError>) -> bool {
    matches!(result, Err(StateError::ConditionFailed))
}

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(|item| item.key.sk.as_str()).collect()
}

fn range(prefix: &str, after: Option<&str>, descending: bool) -> Range {
    Range { prefix: prefix.to_owned(), after: after.map(str::to_owned), descending }
}

async fn put_get_delete(store: Arc<dyn StateStore>) {
    let key = ItemKey::new("p", "s");
    assert!(store.get(&key).await.expect("get").is_none());
    assert_eq!(store.put(item("p", "s", r#"{"n":1}"#), Condition::None).await.expect("put"), 1);
    let got = store.get(&key).await.expect("get").expect("the item");
    assert_eq!(got, Item { key: key.clone(), data: r#"{"n":1}"#.into(), version: 1, expires: None });
    assert_eq!(store.put(item("p", "s", r#"{"n":2}"#), Condition::None).await.expect("put"), 2);
    let later = now_seconds() + 3600;
    assert_eq!(store.put(expiring("p", "s", r#"{"n":3}"#, later), Condition::None).await.expect("put"), 3);
    let got = store.get(&key).await.expect("get").expect("the item");
    assert_eq!((got.data.as_str(), got.version, got.expires), (r#"{"n":3}"#, 3, Some(later)));
    // A write without an expiry removes the old one.
    assert_eq!(store.put(item("p", "s", "{}"), Condition::None).await.expect("put"), 4);
    assert_eq!(store.get(&key).await.expect("get").expect("the item").expires, None);
    store.delete(&key, Condition::None).await.expect("delete");
    assert!(store.get(&key).await.expect("get").is_none());
    store.delete(&key, Condition::None).await.expect("deleting nothing is fine");
    // After a delete the item starts over.
    assert_eq!(store.put(item("p", "s", "{}"), Condition::None).await.expect("put"), 1);
}

async fn conditions(store: Arc<dyn StateStore>) {
    let key = ItemKey::new("p", "s");
    assert!(failed(&store.put(item("p", "s", "{}"), Condition::Version(1)).await), "no item has no version");
    assert!(failed(&store.delete(&key, Condition::Version(1)).await));
    store.delete(&key, Condition::Absent).await.expect("nothing is there");
    assert_eq!(store.put(item("p", "s", r#"{"a":1}"#), Condition::Absent).await.expect("absent"), 1);
    assert!(failed(&store.put(item("p", "s", r#"{"a":2}"#), Condition::Absent).await));
    assert!(failed(&store.put(item("p", "s", r#"{"a":2}"#), Condition::Version(2)).await));
    assert!(failed(&store.delete(&key, Condition::Absent).await));
    assert!(failed(&store.delete(&key, Condition::Version(0)).await));
    let got = store.get(&key).await.expect("get").expect("unchanged");
    assert_eq!((got.data.as_str(), got.version), (r#"{"a":1}"#, 1));
    assert_eq!(store.put(item("p", "s", r#"{"a":2}"#), Condition::Version(1)).await.expect("version 1"), 2);
    assert!(failed(&store.put(item("p", "s", r#"{"a":3}"#), Condition::Version(1)).await), "stale");
    assert_eq!(store.put(item("p", "s", r#"{"a":3}"#), Condition::Version(2)).await.expect("version 2"), 3);
    store.delete(&key, Condition::Version(3)).await.expect("delete version 3");
    assert!(store.get(&key).await.expect("get").is_none());
}

async fn expired_items_are_absent(store: Arc<dyn StateStore>) {
    let past = now_seconds() - 10;
    let key = ItemKey::new("p", "old");
    store.put(expiring("p", "old", r#"{"old":true}"#, past), Condition::None).await.expect("put");
    store.put(expiring("p", "new", "{}", now_seconds() + 3600), Condition::None).await.expect("put");
    assert!(store.get(&key).await.expect("get").is_none());
    let many = store.get_many(&[key.clone(), ItemKey::new("p", "new")]).await.expect("get_many");
    assert_eq!(sks(&many), ["new"]);
    assert_eq!(sks(&store.query("p", &Range::default(), 10).await.expect("query")), ["new"]);
    assert!(failed(&store.put(item("p", "old", "{}"), Condition::Version(1)).await), "an expired item has no version");
    assert!(failed(&store.delete(&key, Condition::Version(1)).await));
    store.delete(&key, Condition::Absent).await.expect("an expired item is absent");
    store.put(expiring("p", "old", "{}", past), Condition::None).await.expect("put");
    assert_eq!(store.put(item("p", "old", r#"{"fresh":1}"#), Condition::Absent).await.expect("absent"), 1);
    let got = store.get(&key).await.expect("get").expect("the new item");
    assert_eq!((got.data.as_str(), got.version, got.expires), (r#"{"fresh":1}"#, 1, None));
    // A write without a condition over an expired item starts it over too.
    store.put(expiring("p", "other", "{}", past), Condition::None).await.expect("put");
    assert_eq!(store.put(item("p", "other", "{}"), Condition::None).await.expect("put"), 1);
}

async fn get_many_crosses_batches(store: Arc<dyn StateStore>) {
    let keys: Vec<ItemKey> = (0..250).map(|n| ItemKey::new(format!("p{}", n % 3), format!("k{n:03}"))).collect();
    let past = now_seconds() - 10;
    let mut writes = Vec::new();
    let mut live = BTreeSet::new();
    for (n, key) in keys.iter().enumerate() {
        if n % 5 == 0 {
            continue; // missing
        }
        let expires = (n % 7 == 0).then_some(past);
        if expires.is_none() {
            live.insert(key.clone());
        }
        let store = store.clone();
        let new = NewItem { key: key.clone(), data: format!(r#"{{"n":{n}}}"#), expires };
        writes.push(tokio::spawn(async move { store.put(new, Condition::None).await }));
    }
    for write in writes {
        write.await.expect("join").expect("put");
    }
    let mut asked = keys.clone();
    asked.extend(keys[..10].iter().cloned()); // duplicates are fine
    let found = store.get_many(&asked).await.expect("get_many");
    let found_keys: BTreeSet<ItemKey> = found.iter().map(|item| item.key.clone()).collect();
    assert_eq!(found.len(), found_keys.len(), "each item once");
    assert_eq!(found_keys, live);
    for item in &found {
        let n: usize = item.key.sk[1..].parse().expect("a number");
        assert_eq!(item.data, format!(r#"{{"n":{n}}}"#));
        assert_eq!(item.version, 1);
    }
    assert!(store.get_many(&[]).await.expect("no keys").is_empty());
}

async fn query_reads_one_partition_in_order(store: Arc<dyn StateStore>) {
    for (pk, sk) in [
        ("log#a", "x"),
        ("log#b", "2026-01-01#a"),
        ("log#b", "2026-01-02#b"),
        ("log#b", "2026-02-01#c"),
        ("log#b", "2026-02-03#d"),
        ("log#b", "2027-01-01#e"),
        ("log#b", "z"),
        ("log#b0", "2026-01-05"),
        ("log#c", "2026-01-01"),
    ] {
        store.put(item(pk, sk, "{}"), Condition::None).await.expect("put");
    }
    let all = ["2026-01-01#a", "2026-01-02#b", "2026-02-01#c", "2026-02-03#d", "2027-01-01#e", "z"];
    let query = |prefix: &str, after: Option<&str>, descending: bool, limit: usize| {
        let store = store.clone();
        let range = range(prefix, after, descending);
        async move { store.query("log#b", &range, limit).await.expect("query") }
    };
    assert_eq!(sks(&query("", None, false, 100).await), all);
    let mut reversed = all;
    reversed.reverse();
    assert_eq!(sks(&query("", None, true, 100).await), reversed);
    assert_eq!(sks(&query("2026-", None, false, 100).await), all[..4]);
    assert_eq!(
        sks(&query("2026-0", None, true, 100).await),
        ["2026-02-03#d", "2026-02-01#c", "2026-01-02#b", "2026-01-01#a"]
    );
    assert_eq!(sks(&query("2026-01", None, false, 1).await), ["2026-01-01#a"]);
    assert_eq!(sks(&query("2026-", None, true, 2).await), ["2026-02-03#d", "2026-02-01#c"]);
    assert_eq!(sks(&query("2026-", Some("2026-01-02#b"), false, 100).await), ["2026-02-01#c", "2026-02-03#d"]);
    assert_eq!(sks(&query("2026-", Some("2026-02-01#c"), true, 100).await), ["2026-01-02#b", "2026-01-01#a"]);
    // An `after` that is not an item's key, or lies outside the prefix.
    assert_eq!(sks(&query("2026-", Some("2026-01-5"), false, 100).await), ["2026-02-01#c", "2026-02-03#d"]);
    assert_eq!(sks(&query("2026-", Some("2025"), false, 100).await), all[..4]);
    assert!(query("2026-", Some("2027"), false, 100).await.is_empty());
    assert_eq!(sks(&query("2026-", Some("2027"), true, 1).await), ["2026-02-03#d"]);
    assert!(query("2026-", Some("2025"), true, 100).await.is_empty());
    assert!(query("2028", None, false, 100).await.is_empty());
    assert!(query("", None, false, 0).await.is_empty());
    assert!(store.query("log#none", &Range::default(), 10).await.expect("query").is_empty());
    // Paging with the last key as `after` visits each item once.
    for descending in [false, true] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = query("", after.as_deref(), descending, 2).await;
            if page.is_empty() {
                break;
            }
            after = page.last().map(|item| item.key.sk.clone());
            seen.extend(page.into_iter().map(|item| item.key.sk));
        }
        assert_eq!(seen, if descending { reversed } else { all });
    }
}

async fn query_pages_past_expired_items(store: Arc<dyn StateStore>) {
    let past = now_seconds() - 10;
    let mut live = Vec::new();
    for n in 0..30 {
        let sk = format!("e{n:02}");
        // Runs of expired items longer than a page, between live ones.
        if n % 7 < 4 {
            store.put(expiring("p", &sk, "{}", past), Condition::None).await.expect("put");
        } else {
            store.put(item("p", &sk, "{}"), Condition::None).await.expect("put");
            live.push(sk);
        }
    }
    for descending in [false, true] {
        let mut expected = live.clone();
        if descending {
            expected.reverse();
        }
        let first = store.query("p", &range("e", None, descending), 3).await.expect("query");
        assert_eq!(sks(&first), expected[..3]);
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store.query("p", &range("e", after.as_deref(), descending), 2).await.expect("query");
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(last.key.sk.clone());
            seen.extend(page.into_iter().map(|item| item.key.sk));
        }
        assert_eq!(seen, expected);
    }
}

async fn data_size_is_limited_alike(store: Arc<dyn StateStore>) {
    let biggest = format!("\"{}\"", "x".repeat(MAX_DATA_BYTES - 2));
    store
        .put(NewItem { key: ItemKey::new("p", "big"), data: biggest.clone(), expires: None }, Condition::None)
        .await
        .expect("the most data");
    assert_eq!(store.get(&ItemKey::new("p", "big")).await.expect("get").expect("the item").data, biggest);
    let too_big = format!("\"{}\"", "x".repeat(MAX_DATA_BYTES - 1));
    let refused = store.put(item("p", "bigger", &too_big), Condition::None).await;
    assert!(matches!(refused, Err(StateError::TooLarge(n)) if n == MAX_DATA_BYTES + 1), "{refused:?}");
    let long_sk = "s".repeat(presign_gateway::state::MAX_SK_BYTES + 1);
    assert!(matches!(store.put(item("p", &long_sk, "{}"), Condition::None).await, Err(StateError::TooLarge(_))));
    assert!(matches!(store.put(item("", "s", "{}"), Condition::None).await, Err(StateError::EmptyKey)));
    assert!(matches!(store.put(item("p", "", "{}"), Condition::None).await, Err(StateError::EmptyKey)));
    assert!(matches!(store.get(&ItemKey::new("p", "")).await, Err(StateError::EmptyKey)));
    assert!(store.get(&ItemKey::new("p", "bigger")).await.expect("get").is_none());
}

async fn concurrent_conditional_writes_all_count(store: Arc<dyn StateStore>) {
    let key = ItemKey::new("counters", "uploads");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                loop {
                    let current = store.get(&key).await.expect("get");
                    let (count, condition) = match &current {
                        Some(item) => (item.data.parse::<u64>().expect("a count"), Condition::Version(item.version)),
                        None => (0, Condition::Absent),
                    };
                    let next = NewItem { key: key.clone(), data: (count + 1).to_string(), expires: None };
                    match store.put(next, condition).await {
                        Ok(_) => return,
                        Err(StateError::ConditionFailed) => tokio::task::yield_now().await,
                        Err(other) => panic!("put: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer");
    }
    let counter = store.get(&key).await.expect("get").expect("the counter");
    assert_eq!((counter.data.as_str(), counter.version), ("20", 20));
}

async fn keys_take_any_text(store: Arc<dyn StateStore>) {
    let pk = "tenant/é#1 x";
    let sks_written = ["a/b#c 日本", "a/b#😀/", "a/b#%2F?x=1&y", "a/c", "a\u{10FFFF}"];
    for sk in sks_written {
        store.put(item(pk, sk, &format!("{{\"sk\":{sk:?}}}")), Condition::Absent).await.expect("put");
    }
    for sk in sks_written {
        let got = store.get(&ItemKey::new(pk, sk)).await.expect("get").expect("the item");
        assert_eq!(got.key, ItemKey::new(pk, sk));
    }
    let keys: Vec<ItemKey> = sks_written.iter().map(|sk| ItemKey::new(pk, *sk)).collect();
    assert_eq!(store.get_many(&keys).await.expect("get_many").len(), sks_written.len());
    assert_eq!(
        sks(&store.query(pk, &range("a/b#", None, false), 10).await.expect("query")),
        ["a/b#%2F?x=1&y", "a/b#c 日本", "a/b#😀/"]
    );
    assert_eq!(sks(&store.query(pk, &range("a", None, true), 2).await.expect("query")), ["a\u{10FFFF}", "a/c"]);
    assert!(store.get(&ItemKey::new("tenant/é#1", "a/c")).await.expect("get").is_none());
}

async fn probe_answers(store: Arc<dyn StateStore>) {
    store.probe().await.expect("probe");
}

/// redb admits one process: a second open of the same folder says who holds it.
#[cfg(feature = "embedded-store")]
#[test]
fn a_second_open_of_the_local_file_fails_clearly() {
    use presign_gateway::state::local::{LocalOpenError, LocalState};
    let dir = common::scratch_dir("state-second-open");
    let first = LocalState::open(&dir).expect("open");
    let second = LocalState::open(&dir).expect_err("the file is held");
    assert!(matches!(second, LocalOpenError::InUse(_)), "{second:?}");
    assert!(second.to_string().contains("state.redb is open in another process"), "{second}");
    drop(first);
    LocalState::open(&dir).expect("free again");
}

/// What one process wrote, the next one reads.
#[cfg(feature = "embedded-store")]
#[tokio::test]
async fn the_local_file_keeps_items_across_opens() {
    use presign_gateway::state::local::LocalState;
    let dir = common::scratch_dir("state-reopen");
    let first = LocalState::open(&dir).expect("open");
    first.put(item("p", "s", "{}"), Condition::None).await.expect("put");
    drop(first);
    let second = LocalState::open(&dir).expect("open again");
    assert_eq!(second.get(&ItemKey::new("p", "s")).await.expect("get").expect("kept").version, 1);
}

/// Every call of `store`, each one `Unavailable` within `limit`.
async fn all_unavailable(store: &DynamoState, limit: Duration) {
    let key = ItemKey::new("p", "s");
    let keys = [key.clone()];
    let calls: Vec<(&str, BoxFuture<'_, Result<(), StateError>>)> = vec![
        ("get", Box::pin(async { store.get(&key).await.map(|_| ()) })),
        ("get_many", Box::pin(async { store.get_many(&keys).await.map(|_| ()) })),
        ("put", Box::pin(async { store.put(item("p", "s", "{}"), Condition::None).await.map(|_| ()) })),
        ("delete", Box::pin(store.delete(&key, Condition::None))),
        ("query", Box::pin(async { store.query("p", &Range::default(), 10).await.map(|_| ()) })),
        ("probe", Box::pin(store.probe())),
    ];
    // At once: a silent server costs each call its whole timeout.
    let timed = calls.into_iter().map(|(name, call)| async move {
        let began = Instant::now();
        let result = tokio::time::timeout(limit * 2, call).await.unwrap_or_else(|_| panic!("{name} hangs"));
        (name, result, began.elapsed())
    });
    for (name, result, took) in futures_util::future::join_all(timed).await {
        assert!(matches!(result, Err(StateError::Unavailable(_))), "{name}: {result:?}");
        assert!(took < limit, "{name} took {took:?}");
    }
}

/// A DynamoDB that stopped (connections refused) is `Unavailable` at once, not a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_dynamodb_is_unavailable_quickly() {
    if !Moto::available() {
        return;
    }
    let moto = Moto::start();
    let table = moto.create_table().await;
    let store = DynamoState::new(&Moto::sdk_config().await, &table, Some(&moto.endpoint)).expect("a client");
    store.put(item("p", "s", "{}"), Condition::None).await.expect("put while it runs");
    drop(moto);
    all_unavailable(&store, Duration::from_secs(3)).await;
}

/// A DynamoDB that accepts connections and never answers is `Unavailable`
/// within the client's timeouts (5 s a call in all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_dynamodb_is_unavailable_within_the_timeouts() {
    // The kernel accepts connections into the backlog; nobody reads them.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", silent.local_addr().expect("address"));
    let store = DynamoState::new(&Moto::sdk_config().await, "state", Some(&endpoint)).expect("a client");
    all_unavailable(&store, Duration::from_secs(7)).await;
}
