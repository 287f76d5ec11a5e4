//! ListObjectsV2 over the index: a range read that starts at the prefix
//! (or after the continuation token) and stops at the first key outside it.
//! With a delimiter, each common prefix is listed once and the read jumps
//! past all its keys, so a folder of a million objects costs one seek.

use std::ops::Bound;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::StoreError;
use super::index::{Index, Scan};
use super::records::ObjectRecord;

/// The most keys one page lists, as on S3.
pub const MAX_KEYS: usize = 1000;

/// Where a page ended: the continuation token's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// After this key.
    Key(String),
    /// After every key under this common prefix.
    Prefix(String),
}

impl Marker {
    /// The continuation token of a listing of `prefix`. It holds only what
    /// follows `prefix`, so a client that lists a folder under a key prefix
    /// it does not know (a tenant's) never learns it from a token.
    pub fn token(&self, prefix: &str) -> String {
        let (kind, at) = match self {
            Self::Key(key) => ('k', key),
            Self::Prefix(common) => ('p', common),
        };
        URL_SAFE_NO_PAD.encode(format!("{kind}{}", at.strip_prefix(prefix).unwrap_or(at)))
    }

    /// The marker a token of a listing of `prefix` holds.
    pub fn parse(token: &str, prefix: &str) -> Result<Self, StoreError> {
        let invalid = || StoreError::InvalidRequest("The continuation token provided is incorrect.".into());
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        match text.split_at_checked(1) {
            Some(("k", key)) => Ok(Self::Key(format!("{prefix}{key}"))),
            Some(("p", common)) if !common.is_empty() => Ok(Self::Prefix(format!("{prefix}{common}"))),
            _ => Err(invalid()),
        }
    }
}

/// One page's request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// Only keys that start with it.
    pub prefix: String,
    /// Roll keys up to the first delimiter after the prefix.
    pub delimiter: Option<String>,
    /// Where the previous page ended (token or `start-after`).
    pub after: Option<Marker>,
    /// At most this many keys and prefixes.
    pub max: usize,
}

/// One page.
#[derive(Debug, Default)]
pub struct Listing {
    /// The objects, in key order.
    pub objects: Vec<(String, ObjectRecord)>,
    /// The common prefixes, in order.
    pub prefixes: Vec<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<Marker>,
}

/// Past every key that starts with `prefix` (the largest character after it).
fn past(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// Lists one page of `request` from `index`.
pub fn list(index: &Index, request: &ListRequest) -> Result<Listing, StoreError> {
    let mut listing = Listing::default();
    if request.max == 0 {
        return Ok(listing);
    }
    let prefix = request.prefix.as_str();
    let (start, mut skipping) = match &request.after {
        Some(Marker::Key(key)) if key.as_str() >= prefix => (Bound::Excluded(key.clone()), None),
        Some(Marker::Prefix(common)) if common.as_str() >= prefix => {
            (Bound::Excluded(past(common)), Some(common.clone()))
        }
        _ => (Bound::Included(prefix.to_owned()), None),
    };
    let mut last: Option<Marker> = None;
    let mut truncated = false;
    index.scan(start.as_ref().map(String::as_str), |key, record| {
        if !key.starts_with(prefix) {
            return Scan::Stop;
        }
        if skipping.as_ref().is_some_and(|common| key.starts_with(common.as_str())) {
            return Scan::Next;
        }
        if listing.objects.len() + listing.prefixes.len() == request.max {
            truncated = true;
            return Scan::Stop;
        }
        let rest = &key[prefix.len()..];
        if let Some(delimiter) = request.delimiter.as_deref().filter(|d| !d.is_empty())
            && let Some(at) = rest.find(delimiter)
        {
            let common = key[..prefix.len() + at + delimiter.len()].to_owned();
            listing.prefixes.push(common.clone());
            last = Some(Marker::Prefix(common.clone()));
            let jump = past(&common);
            skipping = Some(common);
            return Scan::SkipPast(jump);
        }
        listing.objects.push((key.to_owned(), record));
        last = Some(Marker::Key(key.to_owned()));
        Scan::Next
    })?;
    if truncated {
        listing.next = last;
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::checksum::{Algorithm, Kind};
    use crate::store::disk::RealDisk;
    use crate::store::index::Precondition;
    use crate::store::records::{Attributes, StoredChecksum};

    fn index(keys: &[&str]) -> (Index, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("pgw-listing-{}-{}", std::process::id(), uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let index = Index::open(&dir.join("index.redb"), Arc::new(RealDisk)).unwrap();
        for key in keys {
            let record = ObjectRecord {
                version: uuid::Uuid::new_v4(),
                size: key.len() as u64,
                etag: "e".into(),
                modified_ns: 0,
                attributes: Attributes::default(),
                checksum: StoredChecksum {
                    algorithm: Algorithm::Crc64Nvme,
                    kind: Kind::FullObject,
                    value: String::new(),
                },
                parts: None,
                blobs: vec![],
            };
            index.put(key, &record, &Precondition::None).unwrap();
        }
        (index, dir)
    }

    /// Every page of a listing, as `key` and `prefix/` lines per page.
    fn pages(index: &Index, prefix: &str, delimiter: Option<&str>, max: usize) -> Vec<Vec<String>> {
        let mut request = ListRequest { prefix: prefix.into(), delimiter: delimiter.map(Into::into), after: None, max };
        let mut pages = Vec::new();
        loop {
            let page = list(index, &request).unwrap();
            let mut lines: Vec<String> = page.objects.iter().map(|(k, _)| k.clone()).collect();
            lines.extend(page.prefixes.iter().map(|p| format!("[{p}]")));
            lines.sort();
            pages.push(lines);
            match page.next {
                Some(marker) => request.after = Some(Marker::parse(&marker.token(prefix), prefix).unwrap()),
                None => return pages,
            }
        }
    }

    #[test]
    fn listings_follow_s3s_order_prefixes_and_pages() {
        let keys = ["a", "a.txt", "a/b", "a/c/d", "a/c/e", "a0", "b/x", "b/y", "\u{e9}t\u{e9}/1"];
        let (index, dir) = index(&keys);
        assert_eq!(pages(&index, "", None, 1000), [keys.map(str::to_owned).to_vec()]);
        assert_eq!(pages(&index, "", Some("/"), 1000), [vec!["[a/]", "[b/]", "[\u{e9}t\u{e9}/]", "a", "a.txt", "a0"]]);
        assert_eq!(pages(&index, "a/", Some("/"), 1000), [vec!["[a/c/]", "a/b"]]);
        assert_eq!(pages(&index, "a", Some("/"), 2), [vec!["a", "a.txt"], vec!["[a/]", "a0"]]);
        assert_eq!(
            pages(&index, "", Some("/"), 1),
            [vec!["a"], vec!["a.txt"], vec!["[a/]"], vec!["a0"], vec!["[b/]"], vec!["[\u{e9}t\u{e9}/]"]]
        );
        assert_eq!(pages(&index, "b", None, 1), [vec!["b/x"], vec!["b/y"]]);
        assert_eq!(pages(&index, "zz", Some("/"), 10), [Vec::<String>::new()]);
        // start-after before the prefix starts at the prefix; a bad token is refused.
        let request =
            ListRequest { prefix: "b/".into(), after: Some(Marker::Key("a".into())), max: 10, ..Default::default() };
        assert_eq!(list(&index, &request).unwrap().objects.len(), 2);
        assert!(Marker::parse("!!", "").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tokens_hold_only_what_follows_the_prefix() {
        let marker = Marker::Key("tenants/alice/photos/a.jpg".into());
        let token = marker.token("tenants/alice/");
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap(), b"kphotos/a.jpg");
        assert_eq!(Marker::parse(&token, "tenants/alice/").unwrap(), marker);
        // Used under another prefix, a token stays under that prefix.
        assert_eq!(Marker::parse(&token, "tenants/bob/").unwrap(), Marker::Key("tenants/bob/photos/a.jpg".into()));
    }
}
