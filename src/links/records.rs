//! Share links' records in the state store ([`crate::state`], laid out as
//! [`super::table`] explains): made with each link, counting its uses,
//! listed and revoked by its owner. What a record allows is the core's rule
//! ([`crate::core::grant::take_use`]); this only remembers.

use std::sync::Arc;

use crate::core::grant::{Grant, LinkGone, LinkId, has_uses_left, take_use};
use crate::core::share::LinkUse;
use crate::core::tenant::TenantId;
use crate::state::{Condition, NewItem, Range, StateError, StateStore};

pub use super::table::LinkRecord;
use super::table::{self, LIST_READ};

/// How many times a use is tried again when another gateway's write came
/// first. Each round lets one writer through, so this bounds the concurrent
/// uses of one link that all get an answer rather than a `503`.
const ATTEMPTS: usize = 256;

/// Why a link's record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A stored record is not one.
    #[error("a share link's record is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// Writers kept coming first.
    #[error("a share link's record kept changing")]
    Contended,
}

impl RecordError {
    /// Whether the state store could not be reached (503, try later).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::State(StateError::Unavailable(_)) | Self::Contended)
    }
}

/// What checking a use found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The link opens.
    Open,
    /// The link's record says it does not.
    Gone(LinkGone),
    /// The record is not the token's (never made by this gateway): the
    /// token is treated as not valid.
    Mismatch,
}

/// Share links' records.
#[derive(Debug, Clone)]
pub struct LinkRecords {
    state: Arc<dyn StateStore>,
}

impl LinkRecords {
    /// The records in `state`.
    #[must_use]
    pub fn new(state: Arc<dyn StateStore>) -> Self {
        Self { state }
    }

    /// A fresh id for a link made at `now` (seconds since the epoch).
    #[must_use]
    pub fn new_id(now: u64) -> LinkId {
        let mut random = [0u8; 11];
        // The system's random source does not fail on the systems we build for.
        let filled = aws_lc_rs::rand::fill(&mut random);
        debug_assert!(filled.is_ok());
        LinkId::new(now, random)
    }

    /// Writes the record of a new link `grant` (which names its id), made by
    /// `created_by` at `now`, allowing `max_uses`.
    ///
    /// # Errors
    /// The state store failed, or an item is already there (ids are random:
    /// it never is).
    pub async fn create(
        &self,
        grant: &Grant,
        created_by: String,
        now: u64,
        max_uses: Option<u64>,
    ) -> Result<(), RecordError> {
        let Some(id) = &grant.id else { return Ok(()) };
        let expires_at = seconds(grant.expires_at);
        let record = LinkRecord {
            key: grant.target.as_str().to_owned(),
            methods: grant.methods.to_string(),
            max_size: grant.max_size,
            created_by,
            created_at: now,
            expires_at,
            max_uses,
            uses: 0,
            last_use: None,
        };
        let item = NewItem {
            key: table::item(grant.tenant.as_ref(), id),
            data: serde_json::to_string(&record)?,
            expires: Some(expires_at),
        };
        self.state.put(item, Condition::Absent).await?;
        Ok(())
    }

    /// Checks that the link `grant` (which names its id) still opens for a
    /// step that is `asked` (a later step of a multipart upload opens a used
    /// up link, whose last use started it), and when it spends one counts one
    /// more use at `now`, atomically: two gateways never both hand out a
    /// link's last use.
    ///
    /// # Errors
    /// The state store failed or writers kept coming first.
    pub async fn use_link(&self, grant: &Grant, id: &LinkId, asked: LinkUse, now: u64) -> Result<Checked, RecordError> {
        let key = table::item(grant.tenant.as_ref(), id);
        for _ in 0..ATTEMPTS {
            let Some(item) = self.state.get(&key).await? else { return Ok(Checked::Gone(LinkGone::Revoked)) };
            let mut record: LinkRecord = serde_json::from_str(&item.data)?;
            if record.key != grant.target.as_str() || record.methods != grant.methods.to_string() {
                return Ok(Checked::Mismatch);
            }
            let uses = match (take_use(record.uses, record.max_uses), asked) {
                (Ok(uses), LinkUse::Spends) => uses,
                (Ok(_), LinkUse::Free) | (_, LinkUse::Continues) => return Ok(Checked::Open),
                (Err(gone), LinkUse::Spends | LinkUse::Free) => return Ok(Checked::Gone(gone)),
            };
            record.uses = uses;
            record.last_use = Some(now);
            let next = NewItem { key: key.clone(), data: serde_json::to_string(&record)?, expires: item.expires };
            match self.state.put(next, Condition::Version(item.version)).await {
                Ok(_) => return Ok(Checked::Open),
                Err(StateError::ConditionFailed) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RecordError::Contended)
    }

    /// `tenant`'s live links (unexpired, unrevoked, with uses left), newest
    /// first: at most the [`LIST_READ`] newest records are read.
    ///
    /// # Errors
    /// The state store failed, or a record is unreadable.
    pub async fn list(&self, tenant: Option<&TenantId>) -> Result<Vec<(LinkId, LinkRecord)>, RecordError> {
        let range = Range { descending: true, ..Range::default() };
        let items = self.state.query(&table::partition(tenant), &range, LIST_READ).await?;
        let mut live = Vec::with_capacity(items.len());
        for item in items {
            let record: LinkRecord = serde_json::from_str(&item.data)?;
            let Some(id) = LinkId::parse(&item.key.sk) else { continue };
            if has_uses_left(record.uses, record.max_uses) {
                live.push((id, record));
            }
        }
        Ok(live)
    }

    /// Revokes `tenant`'s link `id`; `false` if it has none by that id (or
    /// it expired).
    ///
    /// # Errors
    /// The state store failed.
    pub async fn revoke(&self, tenant: Option<&TenantId>, id: &LinkId) -> Result<bool, RecordError> {
        let key = table::item(tenant, id);
        for _ in 0..ATTEMPTS {
            let Some(item) = self.state.get(&key).await? else { return Ok(false) };
            match self.state.delete(&key, Condition::Version(item.version)).await {
                Ok(()) => return Ok(true),
                Err(StateError::ConditionFailed) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(RecordError::Contended)
    }
}

/// Seconds since the epoch of `time`.
fn seconds(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

#[cfg(all(test, feature = "embedded-store"))]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::core::grant::{Methods, Shared};
    use crate::core::key::ObjectKey;
    use crate::state::local::LocalState;

    fn records(name: &str) -> LinkRecords {
        let dir = std::env::temp_dir().join(format!("pgw-links-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        LinkRecords::new(Arc::new(LocalState::open(&dir).unwrap()))
    }

    fn grant(tenant: &str, key: &str, now: u64) -> Grant {
        Grant {
            tenant: Some(TenantId::new(tenant).unwrap()),
            target: Shared::Key(ObjectKey::new(key.into()).unwrap()),
            methods: Methods::DOWNLOAD,
            expires_at: SystemTime::now() + Duration::from_secs(3600),
            max_size: None,
            id: Some(LinkRecords::new_id(now)),
        }
    }

    #[tokio::test]
    async fn uses_are_counted_up_to_the_limit_and_heads_are_free() {
        let records = records("uses");
        let now = crate::state::now_seconds();
        let link = grant("acme", "a.txt", now);
        let id = link.id.clone().unwrap();
        records.create(&link, "alice".into(), now, Some(2)).await.unwrap();
        assert_eq!(records.use_link(&link, &id, LinkUse::Free, now).await.unwrap(), Checked::Open);
        assert_eq!(records.use_link(&link, &id, LinkUse::Spends, now).await.unwrap(), Checked::Open);
        assert_eq!(records.use_link(&link, &id, LinkUse::Spends, now + 5).await.unwrap(), Checked::Open);
        let spent = records.use_link(&link, &id, LinkUse::Spends, now).await.unwrap();
        assert_eq!(spent, Checked::Gone(LinkGone::UsedUp));
        assert_eq!(records.use_link(&link, &id, LinkUse::Free, now).await.unwrap(), Checked::Gone(LinkGone::UsedUp));
        // The upload its last use started is still finished through it.
        assert_eq!(records.use_link(&link, &id, LinkUse::Continues, now).await.unwrap(), Checked::Open);
        // Used up, it is no longer live.
        assert!(records.list(link.tenant.as_ref()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn owners_list_and_revoke_their_own_links_only() {
        let records = records("owners");
        let now = crate::state::now_seconds();
        let first = grant("acme", "a.txt", now);
        let second = grant("acme", "b.txt", now + 1);
        let theirs = grant("globex", "a.txt", now);
        for link in [&first, &second, &theirs] {
            records.create(link, "someone".into(), now, None).await.unwrap();
        }
        let acme = first.tenant.as_ref();
        let listed = records.list(acme).await.unwrap();
        let keys: Vec<&str> = listed.iter().map(|(_, record)| record.key.as_str()).collect();
        assert_eq!(keys, ["b.txt", "a.txt"], "newest first, acme's only");
        assert_eq!(listed[0].1.created_by, "someone");

        // Another tenant's id, named by acme, reaches nothing of globex's.
        let globex_id = theirs.id.clone().unwrap();
        assert!(!records.revoke(acme, &globex_id).await.unwrap());
        assert_eq!(records.use_link(&theirs, &globex_id, LinkUse::Spends, now).await.unwrap(), Checked::Open);

        let first_id = first.id.clone().unwrap();
        assert!(records.revoke(acme, &first_id).await.unwrap());
        assert!(!records.revoke(acme, &first_id).await.unwrap());
        for asked in [LinkUse::Free, LinkUse::Continues] {
            let revoked = records.use_link(&first, &first_id, asked, now).await.unwrap();
            assert_eq!(revoked, Checked::Gone(LinkGone::Revoked), "{asked:?}");
        }
        assert_eq!(records.list(acme).await.unwrap().len(), 1);

        // A grant whose record says otherwise (not this gateway's) does not open.
        let other_key = Grant { target: Shared::Key(ObjectKey::new("c.txt".into()).unwrap()), ..second.clone() };
        let second_id = second.id.clone().unwrap();
        assert_eq!(records.use_link(&other_key, &second_id, LinkUse::Spends, now).await.unwrap(), Checked::Mismatch);
    }
}
