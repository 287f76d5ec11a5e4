//! What `upload` does with the upload recorded for the same file and URL:
//! continue it with the part size it was recorded with (the parts already
//! stored fix it, whatever `--part-size` says now), refuse to when the file
//! has changed since (keeping the record, so the upload is not lost to a
//! typo), or, without `--resume`, abort it and start afresh.

use std::path::Path;

use super::ClientError;
use super::state::{self, Pending};

/// The file as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileNow {
    /// Bytes.
    pub size: u64,
    /// Seconds since the epoch.
    pub modified: u64,
}

/// What to do before sending parts.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing recorded: a new upload.
    Fresh {
        /// `--resume` was given with nothing to resume: said, then a new upload.
        nothing_to_resume: bool,
    },
    /// A recorded upload the user did not ask to resume: abort it (its parts
    /// would only linger), then a new upload.
    Replace(Pending),
    /// Continue the recorded upload, in its own part size.
    Resume {
        /// The upload.
        pending: Pending,
        /// One line to say, when the part size asked for now is not the recorded one.
        note: Option<String>,
    },
}

/// The plan for `file` (now `now`) in parts of `part_size`, given what was
/// `recorded` for it and whether the user asked to `resume`.
///
/// # Errors
///
/// [`ClientError::Usage`] when `--resume` asks to continue an upload of a
/// file that has changed since: the record is kept.
pub fn plan(
    recorded: Option<Pending>,
    resume: bool,
    file: &Path,
    now: FileNow,
    part_size: u64,
) -> Result<Plan, ClientError> {
    let Some(pending) = recorded else { return Ok(Plan::Fresh { nothing_to_resume: resume }) };
    if !resume {
        return Ok(Plan::Replace(pending));
    }
    if let Some(change) = changed(&pending, now) {
        return Err(ClientError::Usage(format!(
            "cannot resume: {} has changed since its upload was interrupted ({change}); the interrupted upload is kept (state in {}): put the file back as it was to resume it, or run without --resume to start afresh",
            file.display(),
            state::path(&pending.url, file).display()
        )));
    }
    let note = (pending.part_size != part_size).then(|| {
        format!(
            "resuming in the recorded upload's parts of {}, not the {} asked for: the parts already stored fix their size",
            size(pending.part_size),
            size(part_size)
        )
    });
    Ok(Plan::Resume { pending, note })
}

/// How the file differs from the one whose upload was recorded.
fn changed(pending: &Pending, now: FileNow) -> Option<String> {
    if pending.size != now.size {
        return Some(format!("{} bytes now, {} then", now.size, pending.size));
    }
    (pending.modified != now.modified).then(|| "modified since".to_owned())
}

/// A part size for people: whole MiB when it is whole MiB.
fn size(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) { format!("{} MiB", bytes >> 20) } else { format!("{bytes} bytes") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn pending() -> Pending {
        Pending {
            url: "http://127.0.0.1:3000/x.bin".into(),
            file: "f".into(),
            size: 20 * MIB,
            modified: 1_700_000_000,
            part_size: 5 * MIB,
            upload_id: "u1".into(),
        }
    }

    fn plan_for(recorded: Option<Pending>, resume: bool, now: FileNow, part_size: u64) -> Result<Plan, ClientError> {
        plan(recorded, resume, Path::new("f"), now, part_size)
    }

    const SAME: FileNow = FileNow { size: 20 * MIB, modified: 1_700_000_000 };

    #[test]
    fn a_recorded_upload_is_resumed_in_its_own_part_size() {
        assert_eq!(
            plan_for(Some(pending()), true, SAME, 5 * MIB).unwrap(),
            Plan::Resume { pending: pending(), note: None }
        );
        let Plan::Resume { pending: resumed, note: Some(note) } =
            plan_for(Some(pending()), true, SAME, 8 * MIB).unwrap()
        else {
            panic!("not resumed in its own part size");
        };
        assert_eq!(resumed.part_size, 5 * MIB);
        assert!(note.contains("parts of 5 MiB, not the 8 MiB asked for") && !note.contains('\n'), "{note}");
        let odd = plan_for(Some(pending()), true, SAME, 5_000_000).unwrap();
        assert!(matches!(odd, Plan::Resume { note: Some(note), .. } if note.contains("not the 5000000 bytes")));
    }

    #[test]
    fn a_changed_file_is_not_resumed_and_its_record_is_kept() {
        for (now, why) in [
            (FileNow { size: 20 * MIB + 1, ..SAME }, "20971521 bytes now, 20971520 then"),
            (FileNow { modified: 1_700_000_001, ..SAME }, "modified since"),
        ] {
            let error = plan_for(Some(pending()), true, now, 5 * MIB).unwrap_err().to_string();
            assert!(error.contains(why) && error.contains("without --resume") && error.contains("is kept"), "{error}");
        }
    }

    #[test]
    fn without_resume_a_recorded_upload_is_replaced_whatever_its_part_size() {
        for now in [SAME, FileNow { size: 1, modified: 2 }] {
            assert_eq!(plan_for(Some(pending()), false, now, 16 * MIB).unwrap(), Plan::Replace(pending()));
        }
        assert_eq!(plan_for(None, false, SAME, 16 * MIB).unwrap(), Plan::Fresh { nothing_to_resume: false });
        assert_eq!(plan_for(None, true, SAME, 16 * MIB).unwrap(), Plan::Fresh { nothing_to_resume: true });
    }
}
