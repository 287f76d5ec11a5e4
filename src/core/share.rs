//! The share family: `POST /<key>?share&ttl=…` mints a link to one key of
//! the caller's, for some methods, for a while.

use super::ShareOrder;
use super::grant::Methods;
use super::key::ObjectKey;
use super::policy::{Caller, Policy};
use super::query::Query;
use super::rejection::Rejection;
use super::units::Ttl;

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
}

impl Terms {
    /// The terms a query asks for.
    #[must_use]
    pub fn of(query: &Query) -> Self {
        Self { ttl: query.ttl, methods: query.methods, max_size: query.max_size }
    }
}

/// The link an owner asks for on `key`.
///
/// # Errors
///
/// A [`Rejection`] when the caller is a link, the terms break the policy, or
/// the key is outside the caller's scope.
pub fn share(key: ObjectKey, terms: &Terms, caller: Caller<'_>, policy: &Policy) -> Result<ShareOrder, Rejection> {
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
    // The key must fit in the tenant's scope now, or the link could never work.
    policy.scope(tenant).storage_key(&key)?;
    Ok(ShareOrder { tenant: tenant.cloned(), key, methods, ttl, max_size })
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
        assert_eq!(order.key.as_str(), "docs/q3.pdf");
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
        let told = shared("/f", "share&ttl=400d", owner).unwrap_err().to_string();
        assert_eq!(told, "ttl must be between 1 second and 365d");
    }
}
