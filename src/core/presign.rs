//! The plain family: `GET`, `HEAD`, `PUT` and `DELETE` on a key, presigned
//! for an owner or through a share link.

use super::checksum;
use super::download;
use super::key::ObjectKey;
use super::policy::{Caller, Policy};
use super::query::Query;
use super::rejection::Rejection;
use super::request::Incoming;
use super::upload::{self, Upload};
use super::{Delivery, Operation, PresignOrder, ResponseOverrides};

/// The URL to presign for `operation` on `key`.
pub fn presign(
    request: &Incoming<'_>,
    operation: Operation,
    key: &ObjectKey,
    query: &Query,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<PresignOrder, Rejection> {
    let (tenant, link_limit, valid_until) = match caller {
        Caller::Owner(tenant) => (tenant, None, None),
        Caller::Link(grant) => {
            if !grant.target.covers(key) {
                return Err(Rejection::LinkForAnotherKey);
            }
            if !grant.methods.allows(operation) {
                return Err(Rejection::LinkMethod(operation.method()));
            }
            (grant.tenant.as_ref(), grant.max_size, Some(grant.expires_at))
        }
    };
    let (signed_headers, metadata) = match operation {
        Operation::Put => {
            let max = upload::limit(policy.max_object_size, link_limit);
            (
                upload::signed_headers(request, max, Upload::Object, &policy.allowed_types)?,
                upload::metadata(request.upload)?,
            )
        }
        Operation::Get | Operation::Head => (checksum::read_headers(&request.upload)?, Vec::new()),
        Operation::Delete | Operation::UploadPart => (Vec::new(), Vec::new()),
    };
    let response = if operation.reads() {
        download_headers(key, query.download.as_deref(), policy)?
    } else if query.download.is_some() {
        return Err(Rejection::DownloadOnWrite);
    } else {
        ResponseOverrides::default()
    };
    Ok(PresignOrder {
        operation,
        key: policy.scope(tenant).storage_key(key)?,
        expires_in: policy.expires_in,
        valid_until,
        response,
        signed_headers,
        metadata,
        delivery: Delivery::Redirect,
        part: None,
    })
}

/// The type from the key's extension; a disposition, always: the name asked
/// for with `?download`, or an attachment when the type could run script (or
/// is unknown, so storage would answer with whatever the uploader claimed),
/// else [`download::INLINE`]; and [`download::CACHE_CONTROL`]. So the
/// disposition and caching an uploader stored never reach a download.
fn download_headers(key: &ObjectKey, download: Option<&str>, policy: &Policy) -> Result<ResponseOverrides, Rejection> {
    let content_type = download::content_type_for(key.file_name());
    let content_disposition = match download {
        None if content_type.as_deref().is_some_and(|t| policy.inline_types.allows(t)) => download::INLINE.to_owned(),
        None | Some("") => download::attachment(key.file_name()),
        Some(name) => {
            download::check_file_name(name)?;
            download::attachment(name)
        }
    };
    Ok(ResponseOverrides {
        cache_control: Some(download::CACHE_CONTROL.to_owned()),
        content_type,
        content_disposition: Some(content_disposition),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::Method;

    use super::super::testing::{act, decided, grant, request};
    use super::super::{Action, BodySize, Caller, Incoming, KeyPath};
    use super::*;
    use crate::core::download::FileNameError;
    use crate::core::key::KeyError;
    use crate::core::tenant::TenantId;

    #[test]
    fn keys_prefixes_and_tenants() {
        let acme = TenantId::new("acme").unwrap();
        let cases = [
            ("", None, "/a b.txt", Ok("a b.txt")),
            ("", None, "/a%20b.txt", Ok("a b.txt")),
            ("uploads", None, "/x/y.bin", Ok("uploads/x/y.bin")),
            ("", Some(&acme), "/x/y.bin", Ok("tenants/acme/x/y.bin")),
            ("p/", Some(&acme), "/%E2%9C%93", Ok("p/tenants/acme/\u{2713}")),
            ("p", Some(&acme), "/a//b", Err(Rejection::Key(KeyError::EmptySegment))),
            ("p", Some(&acme), "/%2e%2e/q", Err(Rejection::Key(KeyError::DotSegment))),
            // A GET on `/` lists the top level (the listing family's tests); other methods refuse it.
        ];
        for (prefix, tenant, path, expected) in cases {
            let decided = act(&request(&Method::GET, path), None, Caller::Owner(tenant), prefix);
            let key = decided.map(|action| match action {
                Action::Presign(order) => order.key.as_str().to_owned(),
                other => panic!("unexpected {other:?}"),
            });
            assert_eq!(key, expected.map(str::to_owned), "{prefix} {tenant:?} {path}");
        }
    }

    #[test]
    fn decoded_paths_are_taken_as_they_are() {
        let incoming = Incoming { path: KeyPath::Decoded("/b%20c.txt"), ..request(&Method::GET, "/") };
        let Ok(Action::Presign(order)) = act(&incoming, None, Caller::Owner(None), "") else { panic!() };
        assert_eq!(order.key.as_str(), "b%20c.txt");
    }

    /// Every download names its disposition and caching, so what an
    /// uploader stored with the object never reaches the browser.
    #[test]
    fn downloads_get_a_type_and_on_request_a_disposition() {
        let cases = [
            (Method::GET, "/a/photo.jpg", None, Some("image/jpeg"), Some("inline")),
            (Method::GET, "/README", None, None, Some("attachment; filename=\"README\"")),
            (
                Method::GET,
                "/page.html",
                None,
                Some("text/html; charset=utf-8"),
                Some("attachment; filename=\"page.html\""),
            ),
            (Method::HEAD, "/logo.svg", None, Some("image/svg+xml"), Some("attachment; filename=\"logo.svg\"")),
            (Method::HEAD, "/a/doc.pdf", None, Some("application/pdf"), Some("inline")),
            (
                Method::GET,
                "/a/doc.pdf",
                Some("download"),
                Some("application/pdf"),
                Some("attachment; filename=\"doc.pdf\""),
            ),
            (
                Method::GET,
                "/a/doc.pdf",
                Some("download="),
                Some("application/pdf"),
                Some("attachment; filename=\"doc.pdf\""),
            ),
            (
                Method::GET,
                "/a/doc.pdf",
                Some("download=Q3+report.pdf"),
                Some("application/pdf"),
                Some("attachment; filename=\"Q3 report.pdf\""),
            ),
            (
                Method::GET,
                "/x",
                Some("v=3&download=n%C3%A9.txt"),
                None,
                Some("attachment; filename=\"n_.txt\"; filename*=UTF-8''n%C3%A9.txt"),
            ),
            (Method::GET, "/x.txt", Some("cachebust=1"), Some("text/plain; charset=utf-8"), Some("inline")),
        ];
        for (method, path, query, content_type, disposition) in cases {
            let order = decided(&method, path, query).unwrap();
            assert_eq!(order.response.content_type.as_deref(), content_type, "{path} {query:?}");
            assert_eq!(order.response.content_disposition.as_deref(), disposition, "{path} {query:?}");
            assert_eq!(order.response.cache_control.as_deref(), Some("private, no-cache"), "{path} {query:?}");
        }
    }

    #[test]
    fn writes_carry_no_download_headers() {
        for method in [Method::PUT, Method::DELETE] {
            let order = decided(&method, "/photo.jpg", None).unwrap();
            assert_eq!(order.response, ResponseOverrides::default(), "{method}");
            assert_eq!(decided(&method, "/photo.jpg", Some("download")), Err(Rejection::DownloadOnWrite));
        }
    }

    #[test]
    fn bad_queries_are_refused() {
        assert_eq!(
            decided(&Method::GET, "/f", Some("download&download=x")),
            Err(Rejection::RepeatedParameter("download"))
        );
        assert_eq!(
            decided(&Method::GET, "/f", Some("download=..%2Fx")),
            Err(Rejection::FileName(FileNameError::Separator))
        );
        assert_eq!(decided(&Method::GET, "/f", Some("share&ttl=60")), Err(Rejection::ShareNeedsPost));
    }

    #[test]
    fn uploads_need_a_size() {
        let put = Method::PUT;
        let chunked = Incoming { body: BodySize::Unknown, ..request(&put, "/f") };
        assert_eq!(act(&chunked, None, Caller::Owner(None), ""), Err(Rejection::LengthRequired));
        let sized = Incoming { body: BodySize::Known(10), ..request(&put, "/f") };
        assert!(act(&sized, None, Caller::Owner(None), "").is_ok());
        let get = Method::GET;
        let chunked_get = Incoming { body: BodySize::Unknown, ..request(&get, "/f") };
        assert!(act(&chunked_get, None, Caller::Owner(None), "").is_ok());
    }

    #[test]
    fn links_reach_their_key_only_with_their_methods() {
        let acme = TenantId::new("acme").unwrap();
        let download = grant("docs/q3.pdf", "GET", None, Some(&acme));
        let link = Caller::Link(&download);
        let Ok(Action::Presign(get)) = act(&request(&Method::GET, "/docs/q3.pdf"), None, link, "") else { panic!() };
        assert_eq!(get.key.as_str(), "tenants/acme/docs/q3.pdf");
        assert!(act(&request(&Method::HEAD, "/docs/q3.pdf"), None, link, "").is_ok());
        assert_eq!(act(&request(&Method::PUT, "/docs/q3.pdf"), None, link, ""), Err(Rejection::LinkMethod("PUT")));
        assert_eq!(
            act(&request(&Method::DELETE, "/docs/q3.pdf"), None, link, ""),
            Err(Rejection::LinkMethod("DELETE"))
        );
        assert_eq!(act(&request(&Method::GET, "/docs/other.pdf"), None, link, ""), Err(Rejection::LinkForAnotherKey));
        assert_eq!(act(&request(&Method::GET, "/docs/q3.pdf%20"), None, link, ""), Err(Rejection::LinkForAnotherKey));
        assert_eq!(
            act(&request(&Method::POST, "/docs/q3.pdf"), Some("share&ttl=60"), link, ""),
            Err(Rejection::LinkCannotShare)
        );
    }

    #[test]
    fn upload_links_sign_and_bound_the_length() {
        let upload = grant("in/box.bin", "PUT", Some(1000), None);
        let link = Caller::Link(&upload);
        let put = Method::PUT;
        let small = Incoming { body: BodySize::Known(999), ..request(&put, "/in/box.bin") };
        let Ok(Action::Presign(order)) = act(&small, None, link, "") else { panic!() };
        assert_eq!(order.signed_headers, vec![("content-length", "999".to_owned())]);
        let big = Incoming { body: BodySize::Known(1001), ..request(&put, "/in/box.bin") };
        assert_eq!(act(&big, None, link, ""), Err(Rejection::TooLarge(1000)));
        let unbounded = grant("in/box.bin", "PUT", None, None);
        let Ok(Action::Presign(order)) = act(&small, None, Caller::Link(&unbounded), "") else { panic!() };
        assert_eq!(order.signed_headers, vec![("content-length", "999".to_owned())]);
        let no_size = Incoming { body: BodySize::Absent, ..request(&put, "/in/box.bin") };
        assert_eq!(act(&no_size, None, link, ""), Err(Rejection::SizeRequired));
    }

    #[test]
    fn the_lifetime_comes_from_the_policy() {
        assert_eq!(decided(&Method::GET, "/f", None).unwrap().expires_in, Duration::from_secs(300));
    }
}
