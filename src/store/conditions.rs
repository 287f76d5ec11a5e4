//! RFC 9110 §13.2.2 preconditions on reads (`If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`), evaluated the way S3 does:
//! 412 for a failed `If-Match`, 304 for a matching `If-None-Match`.

use s3s::dto::{ETag, ETagCondition, Timestamp};
use s3s::{S3Result, s3_error};

/// The preconditions of a GET or HEAD.
#[derive(Debug, Default)]
pub struct Conditions {
    /// `If-Match`.
    pub matching: Option<ETagCondition>,
    /// `If-None-Match`.
    pub none_matching: Option<ETagCondition>,
    /// `If-Modified-Since`.
    pub modified_since: Option<Timestamp>,
    /// `If-Unmodified-Since`.
    pub unmodified_since: Option<Timestamp>,
}

impl Conditions {
    /// Refuses (412) or short-cuts (304) a read of the object with `e_tag`, last modified at `last_modified`.
    pub fn check(&self, e_tag: &ETag, last_modified: &Timestamp) -> S3Result<()> {
        let matches = |condition: &ETagCondition, strong: bool| match condition {
            ETagCondition::Any => true,
            ETagCondition::ETag(wanted) if strong => wanted.strong_cmp(e_tag),
            ETagCondition::ETag(wanted) => wanted.weak_cmp(e_tag),
        };
        let modified_after = |since: &Timestamp| seconds(last_modified) > seconds(since);

        if let Some(condition) = &self.matching {
            if !matches(condition, true) {
                return Err(s3_error!(
                    PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold"
                ));
            }
        } else if let Some(since) = &self.unmodified_since
            && modified_after(since)
        {
            return Err(s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold"));
        }
        if let Some(condition) = &self.none_matching {
            if matches(condition, false) {
                return Err(s3_error!(NotModified));
            }
        } else if let Some(since) = &self.modified_since
            && !modified_after(since)
        {
            return Err(s3_error!(NotModified));
        }
        Ok(())
    }
}

/// HTTP dates have whole seconds; file times do not.
fn seconds(timestamp: &Timestamp) -> i64 {
    time::OffsetDateTime::from(timestamp.clone()).unix_timestamp()
}
