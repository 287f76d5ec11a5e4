//! The catalog's rules against the local state engine (a redb file): events
//! replayed or reordered change nothing, deletions leave tombstones, uploads
//! are attributed from intents, the log pages newest first and skips stale
//! pointers. The DynamoDB engine passes the same conformance suite
//! (`tests/state_conformance.rs`), so these hold there too.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::state::local::LocalState;

fn catalog(name: &str) -> Catalog {
    let dir = std::env::temp_dir().join(format!("pgw-catalog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let layout = Layout { prefix: "up/".into(), tenants: Some("tenants/".into()), hidden: None };
    Catalog::new(Arc::new(LocalState::open(&dir).unwrap()), layout)
}

fn created(key: &str, etag: &str, sequencer: &str, time: u64) -> Created {
    Created {
        key: key.into(),
        size: 7,
        etag: etag.into(),
        sequencer: sequencer.into(),
        time,
        content_type: Some("image/jpeg".into()),
        metadata: BTreeMap::from([("title".into(), "Beach".into())]),
        status: Status::Stored,
    }
}

const A: &str = "up/tenants/acme/a.jpg";

#[tokio::test]
async fn replayed_and_older_events_change_nothing() {
    let catalog = catalog("order");
    assert!(catalog.created(created(A, "e2", "0002", 20)).await.unwrap().is_some());
    assert_eq!(catalog.created(created(A, "e2", "0002", 20)).await.unwrap(), None, "a replay");
    assert_eq!(catalog.created(created(A, "e1", "0001", 10)).await.unwrap(), None, "an older event");
    assert_eq!(catalog.record(A).await.unwrap().unwrap().etag, "e2");
    let newer = catalog.created(created(A, "e3", "0003", 30)).await.unwrap().unwrap();
    assert_eq!(newer.replaced.unwrap().etag, "e2");
    // S3's sequencers compare padded: 0FF is after 0003.
    assert!(catalog.created(created(A, "e4", "0FF", 40)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_deletion_leaves_a_tombstone_that_older_events_cannot_pass() {
    let catalog = catalog("delete");
    catalog.created(created(A, "e1", "0001", 10)).await.unwrap();
    assert_eq!(catalog.deleted(A, "0000", crate::state::now_seconds()).await.unwrap(), None, "an older deletion");
    assert!(catalog.record(A).await.unwrap().is_some());
    let removed = catalog.deleted(A, "0002", crate::state::now_seconds()).await.unwrap().unwrap();
    assert_eq!(removed.etag, "e1");
    assert_eq!(catalog.record(A).await.unwrap(), None);
    assert_eq!(catalog.created(created(A, "e1", "0001", 10)).await.unwrap(), None, "the create replayed late");
    assert_eq!(catalog.record(A).await.unwrap(), None);
    assert!(catalog.log("up/tenants/acme/", None, 10, false).await.unwrap().records.is_empty());
    // A new upload after the deletion is filed.
    assert!(catalog.created(created(A, "e5", "0005", 50)).await.unwrap().is_some());
}

#[tokio::test]
async fn uploads_are_attributed_to_the_newest_intent_of_their_size() {
    let catalog = catalog("intents");
    let far = crate::state::now_seconds() + 300;
    let intend = |by: &str, size| Intent { uploaded_by: by.into(), size };
    catalog.intend(A, &intend("someone-else", Some(99)), far).await.unwrap();
    catalog.intend(A, &intend("alice", Some(7)), far).await.unwrap();
    let filed = catalog.created(created(A, "e1", "0001", 10)).await.unwrap().unwrap();
    assert_eq!(filed.record.uploaded_by, "alice");
    // No intent of that size, none unexpired: unknown.
    let b = "up/tenants/acme/b.jpg";
    catalog.intend(b, &intend("alice", Some(99)), far).await.unwrap();
    catalog.intend(b, &intend("mallory", Some(7)), crate::state::now_seconds() - 1).await.unwrap();
    let filed = catalog.created(created(b, "e1", "0001", 10)).await.unwrap().unwrap();
    assert_eq!(filed.record.uploaded_by, UNKNOWN_UPLOADER);
    // A multipart completion's intent takes any size.
    let c = "up/tenants/acme/c.bin";
    catalog.intend(c, &intend("bob", None), far).await.unwrap();
    assert_eq!(catalog.created(created(c, "e1", "0001", 10)).await.unwrap().unwrap().record.uploaded_by, "bob");
}

#[tokio::test]
async fn the_log_pages_newest_first_and_skips_overwritten_uploads() {
    let catalog = catalog("log");
    let root = "up/tenants/acme/";
    for n in 0..5u64 {
        let key = format!("{root}{n}.jpg");
        catalog.created(created(&key, "e", &format!("{:04}", n + 1), 100 + n)).await.unwrap();
    }
    // 0.jpg uploaded again later: it moves to the top, once.
    catalog.created(created(&format!("{root}0.jpg"), "f", "0009", 200)).await.unwrap();
    let first = catalog.log(root, None, 2, false).await.unwrap();
    let keys =
        |page: &LogPage| page.records.iter().map(|r| r.key.strip_prefix(root).unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(keys(&first), ["0.jpg", "4.jpg"]);
    let second = catalog.log(root, first.next.clone(), 10, false).await.unwrap();
    assert_eq!(keys(&second), ["3.jpg", "2.jpg", "1.jpg"]);
    assert_eq!(second.next, None);
    // Another tenant's log is another partition.
    assert!(catalog.log("up/tenants/other/", None, 10, false).await.unwrap().records.is_empty());
    // Failed ones only.
    catalog
        .update(&format!("{root}2.jpg"), "e", |r| {
            r.status = Status::Failed;
            r.reason = Some("not a supported image".into());
        })
        .await
        .unwrap();
    let failed = catalog.log(root, None, 10, true).await.unwrap();
    assert_eq!(keys(&failed), ["2.jpg"]);
    assert_eq!(failed.records[0].reason.as_deref(), Some("not a supported image"));
}

#[tokio::test]
async fn an_update_leaves_a_newer_upload_alone() {
    let catalog = catalog("update");
    catalog.created(created(A, "e1", "0001", 10)).await.unwrap();
    catalog.created(created(A, "e2", "0002", 20)).await.unwrap();
    let stale = catalog.update(A, "e1", |r| r.status = Status::Ready).await.unwrap();
    assert_eq!(stale, None);
    assert_eq!(catalog.record(A).await.unwrap().unwrap().status, Status::Stored);
}

#[tokio::test]
async fn a_sync_files_what_it_finds_and_yields_to_events() {
    let catalog = catalog("sync");
    assert!(!catalog.ever_synced().await.unwrap());
    assert!(catalog.created(created(A, "e1", SYNCED, 10)).await.unwrap().is_some());
    assert_eq!(catalog.created(created(A, "e1", SYNCED, 10)).await.unwrap(), None, "the same version again");
    assert!(catalog.created(created(A, "e2", SYNCED, 20)).await.unwrap().is_some(), "another version");
    assert_eq!(catalog.created(created(A, "e2", "0001", 20)).await.unwrap(), None, "its event, after the sync");
    assert!(catalog.created(created(A, "e3", "0002", 30)).await.unwrap().is_some(), "a newer version's event");
    assert_eq!(catalog.created(created(A, "e4", SYNCED, 40)).await.unwrap(), None, "a sync never beats an event");
    catalog.note_sync(50).await.unwrap();
    assert!(catalog.ever_synced().await.unwrap());
}

#[test]
fn each_key_is_filed_under_its_scope() {
    let tenants = Layout { prefix: "up/".into(), tenants: Some("tenants/".into()), hidden: None };
    assert_eq!(tenants.root("up/tenants/acme/a/b.jpg").as_deref(), Some("up/tenants/acme/"));
    for unreachable in ["other/a.jpg", "up/a.jpg", "up/tenants/loose", "up/_renditions/x/e/thumb.jpg", "up/tenants//a"]
    {
        assert_eq!(tenants.root(unreachable), None, "{unreachable}");
    }
    let open = Layout { prefix: String::new(), tenants: None, hidden: Some("tenants/".into()) };
    assert_eq!(open.root("a/b.jpg").as_deref(), Some(""));
    assert_eq!(open.root("tenants/acme/a.jpg"), None);
    assert_eq!(open.root("_renditions/x"), None);
    assert_eq!(open.renditions(), "_renditions/");
}

#[tokio::test]
async fn one_claimant_wins_a_rendering_and_a_stuck_one_is_claimed_again() {
    let catalog = catalog("claim");
    catalog.created(created(A, "e1", "0001", 10)).await.unwrap();
    let now = crate::state::now_seconds();
    let claims = futures_util::future::join_all((0..8).map(|_| catalog.claim(A, "e1", now))).await;
    assert_eq!(claims.iter().filter(|claim| matches!(claim, Ok(Some(_)))).count(), 1, "{claims:?}");
    assert_eq!(catalog.claim(A, "e1", now + 1).await.unwrap(), None, "a rendering under way");
    assert_eq!(catalog.claim(A, "other", now + 2000).await.unwrap(), None, "another version");
    let again = catalog.claim(A, "e1", now + STUCK_SECONDS + 1).await.unwrap().expect("stuck: claimed again");
    assert_eq!((again.status, again.processing_since), (Status::Processing, Some(now + STUCK_SECONDS + 1)));
}

#[tokio::test]
async fn keys_as_long_as_storage_takes_are_logged() {
    let catalog = catalog("long");
    let key = format!("up/tenants/acme/{}", "k".repeat(1000));
    assert!(catalog.created(created(&key, "e1", "0001", 10)).await.unwrap().is_some());
    let page = catalog.log("up/tenants/acme/", None, 10, false).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].key, key);
}

#[tokio::test]
async fn signing_again_replaces_an_intent() {
    let catalog = catalog("intent-once");
    let later = crate::state::now_seconds() + 300;
    for _ in 0..50 {
        catalog.intend(A, &Intent { uploaded_by: "alice".into(), size: Some(7) }, later).await.unwrap();
    }
    let partition = table::intent_partition(A);
    assert_eq!(catalog.state.query(&partition, &Range::default(), 100).await.unwrap().len(), 1);
}
