//! The share family: `POST /<key>?share&ttl=…` mints a link to one key of
//! the caller's, for some methods, for a while.

use super::grant::Methods;
use super::key::ObjectKey;
use super::policy::{Caller, Policy};
use super::query::Query;
use super::rejection::Rejection;
use super::{ShareOrder, units};

/// The link an owner asks for on `key`.
pub fn share(key: ObjectKey, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<ShareOrder, Rejection> {
    let Caller::Owner(tenant) = caller else { return Err(Rejection::LinkCannotShare) };
    let ttl = units::parse_duration(query.ttl.as_deref().ok_or(Rejection::TtlRequired)?)?;
    if ttl.is_zero() || ttl > policy.max_share_ttl {
        return Err(Rejection::TtlOutOfRange(policy.max_share_ttl));
    }
    let methods = query.methods.as_deref().map_or(Ok(Methods::DOWNLOAD), Methods::parse)?;
    let max_size = query.max_size.as_deref().map(units::parse_size).transpose()?;
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
    use crate::core::units::UnitError;

    #[test]
    fn owners_order_share_links() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let order = shared("/docs/q3.pdf", "share&ttl=30d", owner).unwrap();
        assert_eq!(order.key.as_str(), "docs/q3.pdf");
        assert_eq!(order.tenant.as_ref(), Some(&acme));
        assert_eq!((order.ttl, order.methods, order.max_size), (DAY * 30, Methods::DOWNLOAD, None));
        let upload = shared("/in/box", "share&ttl=3600&methods=PUT&max_size=5MiB", owner).unwrap();
        assert_eq!((upload.methods.to_string(), upload.max_size), ("PUT".to_owned(), Some(5 << 20)));

        let refused = [
            ("share", Rejection::TtlRequired),
            ("share&ttl=0", Rejection::TtlOutOfRange(DAY * 365)),
            ("share&ttl=366d", Rejection::TtlOutOfRange(DAY * 365)),
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
    }
}
