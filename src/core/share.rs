//! The share family: `POST /<key>?share&ttl=…` mints a link to one key of
//! the caller's, for some methods, for a while (and with `max_uses`, for
//! that many uses); `GET /?links` lists the caller's links and
//! `DELETE /?links=ID` revokes one; and which answers through a link spend
//! one of its uses ([`spends_a_use`]).

use http::Method;

use super::grant::{Methods, Shared};
use super::key::{Folder, ObjectKey};
use super::policy::{Caller, Policy};
use super::query::LinksParam;
use super::query::Query;
use super::rejection::Rejection;
use super::units::Ttl;
use super::{Action, LinksOrder, LinksStep, MultipartStep, Operation, ShareOrder};

/// What a link is asked to be, from the query (`ttl`, `methods`,
/// `max_size`) or from `presign-gateway share`'s flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terms {
    /// How long it works; required.
    pub ttl: Option<Ttl>,
    /// What it allows (GET and HEAD unless said).
    pub methods: Option<Methods>,
    /// The largest upload it takes, in bytes.
    pub max_size: Option<u64>,
    /// How many times it may be used.
    pub max_uses: Option<u64>,
}

impl Terms {
    /// The terms a query asks for.
    #[must_use]
    pub fn of(query: &Query) -> Self {
        Self { ttl: query.ttl, methods: query.methods, max_size: query.max_size, max_uses: query.max_uses }
    }
}

/// The link an owner asks for on `target` (a key, or a folder and what is under it).
///
/// # Errors
///
/// A [`Rejection`] when the caller is a link, the terms break the policy
/// (`max_uses` needs links with records), or the key is outside the caller's scope.
pub fn share(target: Shared, terms: &Terms, caller: Caller<'_>, policy: &Policy) -> Result<ShareOrder, Rejection> {
    let Caller::Owner(tenant) = caller else { return Err(Rejection::LinkCannotShare) };
    let asked = terms.ttl.ok_or(Rejection::TtlRequired)?;
    let ttl = asked.duration();
    if ttl.is_zero() || ttl > policy.max_share_ttl {
        return Err(Rejection::TtlOutOfRange(asked.limit(policy.max_share_ttl)));
    }
    let methods = terms.methods.unwrap_or(Methods::DOWNLOAD);
    let max_size = terms.max_size;
    if max_size.is_some() && !methods.allows_put() {
        return Err(Rejection::MaxSizeWithoutPut);
    }
    if terms.max_uses.is_some() && !policy.link_records {
        return Err(Rejection::MaxUsesWithoutRecords);
    }
    // The key or folder must fit in the tenant's scope now, or the link could never work.
    match &target {
        Shared::Key(key) => drop(policy.scope(tenant).storage_key(key)?),
        Shared::Folder(folder) if folder.as_str().is_empty() => return Err(Rejection::ShareTopLevel),
        Shared::Folder(folder) => drop(policy.scope(tenant).storage_prefix(folder)?),
    }
    Ok(ShareOrder { tenant: tenant.cloned(), target, methods, ttl, max_size, max_uses: terms.max_uses })
}

/// What `path` (decoded) shares: a folder when it ends in `/`, else a key.
///
/// # Errors
/// [`Rejection::Key`] for a path that is neither.
pub fn target(path: String) -> Result<Shared, Rejection> {
    Ok(if Folder::is_folder(&path) { Shared::Folder(Folder::new(path)?) } else { Shared::Key(ObjectKey::new(path)?) })
}

/// The links routes: `GET /?links` lists the owner's links, `DELETE
/// /?links=ID` revokes one; only at the top level (`path` is the decoded
/// path, `/` or empty), only for owners, only where links have records.
///
/// # Errors
///
/// A [`Rejection`] for a link, another path or method, or no records.
pub fn manage(
    method: &Method,
    path: &str,
    asked: &LinksParam,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<LinksOrder, Rejection> {
    let Caller::Owner(tenant) = caller else { return Err(Rejection::LinkCannotManageLinks) };
    // The top level, as `Folder` reads it: empty, or `/` from `/%2F`.
    if !matches!(path, "" | "/") {
        return Err(Rejection::LinksUsage);
    }
    let step = match (method, asked) {
        (&Method::GET, LinksParam::All) => LinksStep::List,
        (&Method::DELETE, LinksParam::One(id)) => LinksStep::Revoke(id.clone()),
        _ => return Err(Rejection::LinksUsage),
    };
    if !policy.link_records {
        return Err(Rejection::LinkRecordsOff);
    }
    Ok(LinksOrder { tenant: tenant.cloned(), step })
}

/// What answering an action through a link does to the link's uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUse {
    /// It spends one ([`spends_a_use`]).
    Spends,
    /// It spends none, and needs a use left (a `HEAD`, a listing).
    Free,
    /// A later step of a multipart upload whose start was the use (a part,
    /// the parts' list, the completion, the abort): it spends none, and a
    /// link whose last use started the upload still takes it, or an upload
    /// through a link for one use could never be finished. A revoked link
    /// takes nothing.
    Continues,
}

/// What answering `action` through a link does to its uses: a URL that
/// reads, writes or deletes the object (a 307 or `?presign`'s JSON), a
/// rendition, or the start of a multipart upload spends one; its parts,
/// completion and abort belong to that one upload; a `HEAD` is free, as is
/// anything that hands out no URL to the object's bytes.
#[must_use]
pub fn link_use(action: &Action) -> LinkUse {
    match action {
        Action::Presign(order) => match order.operation {
            Operation::Head => LinkUse::Free,
            // A part belongs to the upload whose start was the use.
            Operation::UploadPart => LinkUse::Continues,
            Operation::Get | Operation::Put | Operation::Delete => LinkUse::Spends,
        },
        Action::Rendition(..) => LinkUse::Spends,
        Action::Multipart(order) => match order.step {
            MultipartStep::Create(_) => LinkUse::Spends,
            MultipartStep::ListParts(..) | MultipartStep::Complete { .. } | MultipartStep::Abort(_) => {
                LinkUse::Continues
            }
        },
        Action::List(_)
        | Action::Share(_)
        | Action::Log(_)
        | Action::Status(_)
        | Action::Links(_)
        | Action::Keys(_) => LinkUse::Free,
    }
}

/// Whether answering `action` through a link spends one of its uses ([`link_use`]).
#[must_use]
pub fn spends_a_use(action: &Action) -> bool {
    link_use(action) == LinkUse::Spends
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::super::testing::{DAY, act, request, shared};
    use super::*;
    use crate::core::grant::MethodsError;
    use crate::core::key::KeyError;
    use crate::core::tenant::TenantId;
    use crate::core::units::{DurationIn, TimeUnit, UnitError};

    #[test]
    fn owners_order_share_links() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let order = shared("/docs/q3.pdf", "share&ttl=30d", owner).unwrap();
        assert_eq!(order.target.as_str(), "docs/q3.pdf");
        assert_eq!(order.tenant.as_ref(), Some(&acme));
        assert_eq!((order.ttl, order.methods, order.max_size), (DAY * 30, Methods::DOWNLOAD, None));
        assert_eq!(shared("/docs/q3.pdf", "share&ttl=2w", owner).unwrap().ttl, DAY * 14);
        let upload = shared("/in/box", "share&ttl=3600&methods=PUT&max_size=5MiB", owner).unwrap();
        assert_eq!((upload.methods.to_string(), upload.max_size), ("PUT".to_owned(), Some(5 << 20)));

        let refused = [
            ("share", Rejection::TtlRequired),
            ("share&ttl=0", Rejection::TtlOutOfRange(DurationIn { duration: DAY * 365, unit: TimeUnit::Second })),
            ("share&ttl=366d", Rejection::TtlOutOfRange(DurationIn { duration: DAY * 365, unit: TimeUnit::Day })),
            ("share&ttl=53w", Rejection::TtlOutOfRange(DurationIn { duration: DAY * 365, unit: TimeUnit::Week })),
            ("share&ttl=soon", Rejection::Unit(UnitError::Duration("soon".into()))),
            ("share&ttl=60&methods=GET,POST", Rejection::Methods(MethodsError("GET,POST".into()))),
            ("share&ttl=60&max_size=1MiB", Rejection::MaxSizeWithoutPut),
        ];
        for (query, rejection) in refused {
            assert_eq!(shared("/f", query, owner), Err(rejection), "{query}");
        }
        assert_eq!(
            act(&request(&Method::POST, "/f"), Some("ttl=60"), owner, ""),
            Err(Rejection::MethodNotAllowed(Method::POST))
        );
        assert_eq!(shared("/../f", "share&ttl=60", owner), Err(Rejection::Key(KeyError::DotSegment)));
        assert_eq!(shared("/f", "share&ttl=60&max_uses=2", owner), Err(Rejection::MaxUsesWithoutRecords));
        let folder = shared("/photos/2024/", "share&ttl=1h&methods=GET,PUT", owner).unwrap();
        assert_eq!(folder.target, Shared::Folder(Folder::new("photos/2024/".into()).unwrap()));
        for top in ["/", "/%2F"] {
            assert_eq!(shared(top, "share&ttl=60", owner), Err(Rejection::ShareTopLevel), "{top}");
        }
        assert_eq!(shared("/a//", "share&ttl=60", owner), Err(Rejection::Key(KeyError::EmptySegment)));
        assert_eq!(shared("/a/../", "share&ttl=60", owner), Err(Rejection::Key(KeyError::DotSegment)));
        let told = shared("/f", "share&ttl=400d", owner).unwrap_err().to_string();
        assert_eq!(told, "ttl must be between 1 second and 365d");
    }

    #[test]
    fn links_are_listed_and_revoked_at_the_top_by_owners_where_they_have_records() {
        use crate::core::grant::LinkId;
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let id = LinkId::new(1_800_000_000, [7; 11]);
        let records = Policy { link_records: true, ..crate::core::testing::policy("") };
        let all = LinksParam::All;
        let one = LinksParam::One(id.clone());
        let listed = manage(&Method::GET, "/", &all, owner, &records).unwrap();
        assert_eq!(listed, LinksOrder { tenant: Some(acme.clone()), step: LinksStep::List });
        assert_eq!(manage(&Method::GET, "", &all, owner, &records).unwrap().step, LinksStep::List);
        let revoked = manage(&Method::DELETE, "/", &one, owner, &records).unwrap();
        assert_eq!(revoked.step, LinksStep::Revoke(id));
        let download = crate::core::testing::grant("f", "GET,DELETE", None, Some(&acme));
        let refused = [
            (Method::GET, "/", &all, Caller::Link(&download), &records, Rejection::LinkCannotManageLinks),
            (Method::DELETE, "/", &one, Caller::Link(&download), &records, Rejection::LinkCannotManageLinks),
            (Method::GET, "/docs/", &all, owner, &records, Rejection::LinksUsage),
            (Method::GET, "/f", &all, owner, &records, Rejection::LinksUsage),
            (Method::DELETE, "/", &all, owner, &records, Rejection::LinksUsage),
            (Method::GET, "/", &one, owner, &records, Rejection::LinksUsage),
            (Method::PUT, "/", &all, owner, &records, Rejection::LinksUsage),
        ];
        for (method, path, asked, caller, policy, rejection) in refused {
            assert_eq!(manage(&method, path, asked, caller, policy), Err(rejection), "{method} {path} {asked:?}");
        }
        let stateless = crate::core::testing::policy("");
        assert_eq!(manage(&Method::GET, "/", &all, owner, &stateless), Err(Rejection::LinkRecordsOff));
        // Through decide: `/%2F?links` reaches the same family.
        let decided =
            crate::core::decide(&request(&Method::GET, "/%2F"), &Query::parse(Some("links")).unwrap(), owner, &records);
        assert_eq!(decided, Ok(Action::Links(listed)));
    }

    #[test]
    fn every_answer_with_a_url_but_a_head_spends_a_use() {
        let acme = TenantId::new("acme").unwrap();
        let link = crate::core::testing::grant("f.txt", "GET,PUT,DELETE", None, Some(&acme));
        let caller = Caller::Link(&link);
        let spent = |method: &Method, query: Option<&str>| {
            let incoming = crate::core::Incoming { body: crate::core::BodySize::Known(3), ..request(method, "/f.txt") };
            spends_a_use(&act(&incoming, query, caller, "").unwrap())
        };
        assert!(spent(&Method::GET, None));
        assert!(spent(&Method::GET, Some("presign")));
        assert!(spent(&Method::PUT, None));
        assert!(spent(&Method::DELETE, None));
        assert!(!spent(&Method::HEAD, None));
        assert!(!spent(&Method::GET, Some("presign=HEAD")));
        assert!(spent(&Method::POST, Some("uploads")));
        assert!(!spent(&Method::PUT, Some("partNumber=1&uploadId=u")));
        assert!(!spent(&Method::POST, Some("uploadId=u")));
        assert!(!spent(&Method::DELETE, Some("uploadId=u")));
        let used = |method: &Method, query: Option<&str>| {
            let incoming = crate::core::Incoming { body: crate::core::BodySize::Known(3), ..request(method, "/f.txt") };
            link_use(&act(&incoming, query, caller, "").unwrap())
        };
        for (method, query) in [
            (Method::PUT, "partNumber=1&uploadId=u"),
            (Method::GET, "uploadId=u"),
            (Method::POST, "uploadId=u"),
            (Method::DELETE, "uploadId=u"),
        ] {
            assert_eq!(used(&method, Some(query)), LinkUse::Continues, "{method} ?{query}");
        }
        assert_eq!(used(&Method::HEAD, None), LinkUse::Free);
        assert_eq!(used(&Method::POST, Some("uploads")), LinkUse::Spends);
    }
}
