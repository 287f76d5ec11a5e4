//! The listing family: `GET` on a folder (a path ending in `/`, or `/` for
//! the top level) lists what the caller has there, one page at a time
//! (`?limit=N`, at most 1000, or 100 with `&metadata`; `?after=CURSOR`).
//! Owners, and a folder link's holder within its folder.

use super::cursor::Cursor;
use super::key::Folder;
use super::policy::{Caller, Policy};
use super::query::Query;
use super::query::StatusFilter;
use super::rejection::Rejection;
use super::{ListOrder, LogOrder};

pub use super::query::MAX_PAGE;

/// The most entries a page holds when each object's metadata is added (one
/// `HEAD` each).
pub const MAX_PAGE_WITH_METADATA: u16 = 100;

/// One page of the upload log, at the top level, for owners.
pub fn log(folder: &Folder, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<LogOrder, Rejection> {
    let Caller::Owner(tenant) = caller else { return Err(Rejection::LinkCannotReadLog) };
    if !folder.as_str().is_empty() {
        return Err(Rejection::LogAtTop);
    }
    if query.status == Some(StatusFilter::Record) {
        return Err(Rejection::StatusFilter);
    }
    let after = match &query.after {
        None => None,
        Some(Cursor::Object(pointer)) => Some(pointer.clone()),
        Some(Cursor::Folder(_)) => return Err(Rejection::Cursor),
    };
    Ok(LogOrder {
        root: policy.scope(tenant).storage_prefix(folder)?,
        limit: query.limit.map_or(DEFAULT_LOG_PAGE, |limit| limit.get().min(MAX_PAGE)),
        after,
        failed_only: query.status == Some(StatusFilter::Failed),
    })
}

/// Records in a log page unless asked otherwise.
pub const DEFAULT_LOG_PAGE: u16 = 100;

/// The page of `folder` the caller asks for.
pub fn list(folder: Folder, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<ListOrder, Rejection> {
    let tenant = match caller {
        Caller::Owner(tenant) => tenant,
        // A folder link lists its folder and those under it: their keys and sizes, no more.
        Caller::Link(grant) if grant.target.lists(&folder) && grant.methods.allows(super::Operation::Get) => {
            if query.metadata {
                return Err(Rejection::LinkMetadata);
            }
            grant.tenant.as_ref()
        }
        Caller::Link(_) => return Err(Rejection::LinkCannotList),
    };
    let most = if query.metadata && !policy.catalog { MAX_PAGE_WITH_METADATA } else { MAX_PAGE };
    let limit = query.limit.map_or(most, |limit| limit.get().min(most));
    Ok(ListOrder {
        prefix: policy.scope(tenant).storage_prefix(&folder)?,
        folder,
        limit,
        after: query.after.clone(),
        metadata: query.metadata,
        renditions: query.renditions.clone(),
    })
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::super::testing::{act, grant, request};
    use super::super::{Action, KeyPath};
    use super::*;
    use crate::core::cursor::Cursor;
    use crate::core::key::KeyError;
    use crate::core::tenant::TenantId;

    fn listed(path: &str, query: Option<&str>, caller: Caller<'_>) -> Result<ListOrder, Rejection> {
        match act(&request(&Method::GET, path), query, caller, "up")? {
            Action::List(order) => Ok(order),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn owners_list_their_own_folders() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let top = listed("/", None, owner).unwrap();
        assert_eq!((top.folder.as_str(), top.prefix.as_str(), top.limit), ("", "up/tenants/acme/", 1000));
        let after = Cursor::Object("b.jpg".into());
        let photos = listed("/photos/2024/", Some(&format!("limit=10&after={}", after.token())), owner).unwrap();
        assert_eq!(photos.prefix.as_str(), "up/tenants/acme/photos/2024/");
        assert_eq!((photos.limit, photos.after, photos.metadata), (10, Some(after), false));
        assert_eq!(listed("/", Some("after=abc!"), owner), Err(Rejection::Cursor));
        let titled = listed("/photos/", Some("metadata&limit=500"), owner).unwrap();
        assert_eq!((titled.limit, titled.metadata), (100, true));
        assert_eq!(listed("/a%20b/", None, Caller::Owner(None)).unwrap().prefix.as_str(), "up/a b/");
    }

    #[test]
    fn bad_listings_are_refused() {
        let owner = Caller::Owner(None);
        for limit in ["0", "1001", "-1", "x"] {
            assert_eq!(listed("/", Some(&format!("limit={limit}")), owner), Err(Rejection::Limit), "{limit}");
        }
        assert_eq!(listed("/a//", None, owner), Err(Rejection::Key(KeyError::EmptySegment)));
        assert_eq!(listed("/../", None, owner), Err(Rejection::Key(KeyError::DotSegment)));
        let link = grant("f.txt", "GET", None, None);
        assert_eq!(listed("/", None, Caller::Link(&link)), Err(Rejection::LinkCannotList));
        // Only GET lists: a folder is no key for any other method.
        for method in [Method::HEAD, Method::PUT, Method::DELETE] {
            assert_eq!(act(&request(&method, "/"), None, owner, ""), Err(Rejection::Key(KeyError::Empty)), "{method}");
            assert_eq!(act(&request(&method, "/a/"), None, owner, ""), Err(Rejection::Key(KeyError::EmptySegment)));
        }
        let decoded = super::super::Incoming { path: KeyPath::Decoded("docs/"), ..request(&Method::GET, "/") };
        assert!(matches!(act(&decoded, None, owner, ""), Ok(Action::List(_))));
    }
}
