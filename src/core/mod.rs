//! The pure core: a request's method, path, query and declared body size,
//! and who it acts for, in; an [`Action`] (a [`Decision`] to presign, or a
//! share link to mint) or a [`Rejection`] out. Nothing here does I/O, so every
//! rule is a unit test away.

pub mod download;
pub mod grant;
pub mod key;
pub mod query;
pub mod tenant;
pub mod units;

use std::time::Duration;

use http::Method;

use download::FileNameError;
use grant::{Grant, Methods, MethodsError};
use key::{KeyError, KeyPrefix, ObjectKey};
use query::Query;
use tenant::{Scope, StorageKey, TenantId};
use units::UnitError;

/// What the `Allow` header lists.
pub const ALLOWED_METHODS: &str = "GET, HEAD, PUT, DELETE, OPTIONS";

/// The S3 operation a presigned URL is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `GetObject`: a download.
    Get,
    /// `HeadObject`: length, type and ETag without the bytes.
    Head,
    /// `PutObject`: an upload of up to 5 GiB.
    Put,
    /// `DeleteObject`.
    Delete,
}

impl Operation {
    /// The operation a method asks for, if it is one the gateway redirects.
    #[must_use]
    pub fn from_method(method: &Method) -> Option<Self> {
        match *method {
            Method::GET => Some(Self::Get),
            Method::HEAD => Some(Self::Head),
            Method::PUT => Some(Self::Put),
            Method::DELETE => Some(Self::Delete),
            _ => None,
        }
    }

    /// The method the presigned URL must be used with (a 307 keeps it).
    #[must_use]
    pub fn method(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }

    /// S3's name for it, as logs show it.
    #[must_use]
    pub fn s3_name(self) -> &'static str {
        match self {
            Self::Get => "GetObject",
            Self::Head => "HeadObject",
            Self::Put => "PutObject",
            Self::Delete => "DeleteObject",
        }
    }

    fn reads(self) -> bool {
        matches!(self, Self::Get | Self::Head)
    }
}

/// Where the key comes from: some front doors hand over the path still
/// percent-encoded, others (API Gateway path parameters) already decoded it.
#[derive(Debug, Clone, Copy)]
pub enum KeyPath<'a> {
    /// As sent on the wire; decoded exactly once here.
    Encoded(&'a str),
    /// Decoded by the front door; taken as it is.
    Decoded(&'a str),
}

/// How much body the client declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySize {
    /// `Content-Length`, or no body at all (0).
    Known(u64),
    /// `Transfer-Encoding: chunked` with no length: storage cannot take it.
    Unknown,
}

/// The parts of a request the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The object's path, without any stage or mount prefix.
    pub path: KeyPath<'a>,
    /// The declared body size.
    pub body: BodySize,
}

/// Rules from configuration that every decision follows.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Folder every key is placed under.
    pub prefix: KeyPrefix,
    /// Folder the tenants' folders are in (`tenants/`).
    pub tenants: KeyPrefix,
    /// How long a presigned URL lives, before any cap from the credentials.
    pub expires_in: Duration,
    /// The longest lifetime a share link may be given.
    pub max_share_ttl: Duration,
}

impl Policy {
    /// URLs that live `expires_in`, no key prefix, tenants under `tenants/`,
    /// share links of up to a year: the defaults of `serve`.
    #[must_use]
    pub fn new(expires_in: Duration) -> Self {
        Self {
            prefix: KeyPrefix::default(),
            tenants: KeyPrefix::new("tenants").unwrap_or_default(),
            expires_in,
            max_share_ttl: Duration::from_secs(365 * 86_400),
        }
    }

    /// Where `tenant`'s keys live.
    #[must_use]
    pub fn scope<'a>(&'a self, tenant: Option<&'a TenantId>) -> Scope<'a> {
        Scope::new(&self.prefix, &self.tenants, tenant)
    }
}

/// Who a request acts for, once authenticated.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An authenticated tenant, or `None` for the single tenant of `--auth none`.
    Owner(Option<&'a TenantId>),
    /// The holder of a share link whose token checked out.
    Link(&'a Grant),
}

/// Headers storage should answer a download with, carried in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides {
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-content-disposition`.
    pub content_disposition: Option<String>,
}

/// Everything needed to presign one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Which S3 operation.
    pub operation: Operation,
    /// The full storage key, prefix and tenant folder included.
    pub key: StorageKey,
    /// The lifetime asked for.
    pub expires_in: Duration,
    /// Download headers for storage to send.
    pub response: ResponseOverrides,
    /// Request headers signed into the URL, which storage then checks: only
    /// headers the client sends itself and resends unchanged on the redirect.
    pub signed_headers: Vec<(&'static str, String)>,
}

/// A share link to mint for an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareOrder {
    /// Whose key.
    pub tenant: Option<TenantId>,
    /// The key as the tenant names it.
    pub key: ObjectKey,
    /// What the link allows.
    pub methods: Methods,
    /// How long the link lives.
    pub ttl: Duration,
    /// The largest upload, for links that allow PUT.
    pub max_size: Option<u64>,
}

impl ShareOrder {
    /// The grant the link carries, counted from `now` in whole seconds.
    #[must_use]
    pub fn into_grant(self, now: std::time::SystemTime) -> Grant {
        let since_epoch = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let expires_at = std::time::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs()) + self.ttl;
        Grant { tenant: self.tenant, key: self.key, methods: self.methods, expires_at, max_size: self.max_size }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with a 307 to a presigned URL.
    Presign(Decision),
    /// Answer with a new share link.
    Share(ShareOrder),
}

/// Why a request gets no redirect. Each variant is a client mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Only GET, HEAD, PUT and DELETE are redirected (and POST creates links).
    #[error("{0} is not supported: use GET, HEAD, PUT or DELETE (or POST ?share for a share link)")]
    MethodNotAllowed(Method),
    /// The path is not a usable key.
    #[error("{0}")]
    Key(#[from] KeyError),
    /// The name asked for by `?download=`.
    #[error("{0}")]
    FileName(#[from] FileNameError),
    /// `?download` on a PUT or DELETE.
    #[error("`download` applies to GET and HEAD only")]
    DownloadOnWrite,
    /// A parameter given twice is ambiguous.
    #[error("`{0}` appears more than once in the query")]
    RepeatedParameter(&'static str),
    /// A chunked upload: S3 needs the size before the first byte.
    #[error("storage needs the upload's size up front (Content-Length): save standard input to a file and upload that")]
    LengthRequired,
    /// `?share` with another method than POST.
    #[error("share links are created with POST /<key>?share&ttl=SECONDS")]
    ShareNeedsPost,
    /// A share link without a lifetime.
    #[error("a share link needs a lifetime: add ttl=SECONDS (or 30m, 12h, 30d)")]
    TtlRequired,
    /// A lifetime or size that does not parse.
    #[error("{0}")]
    Unit(#[from] UnitError),
    /// A lifetime beyond the configured maximum.
    #[error("ttl must be between 1 second and {} seconds", .0.as_secs())]
    TtlOutOfRange(Duration),
    /// A methods list that does not parse.
    #[error("{0}")]
    Methods(#[from] MethodsError),
    /// `max_size` on a link that cannot upload.
    #[error("max_size applies to links that allow PUT")]
    MaxSizeWithoutPut,
    /// A link used to make another link.
    #[error("a share link cannot create share links")]
    LinkCannotShare,
    /// A link used for another key.
    #[error("this share link is for another file")]
    LinkForAnotherKey,
    /// A link used with a method it does not allow.
    #[error("this share link does not allow {0}")]
    LinkMethod(&'static str),
    /// An upload over a link's size limit.
    #[error("this share link takes uploads of at most {0} bytes")]
    TooLarge(u64),
}

/// Maps a request to an action, or says why not.
pub fn decide(request: &Incoming<'_>, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<Action, Rejection> {
    let method = request.method;
    if *method == Method::POST && query.share {
        let key = object_key(request.path)?;
        return share(key, query, caller, policy).map(Action::Share);
    }
    let operation = Operation::from_method(method).ok_or_else(|| Rejection::MethodNotAllowed(method.clone()))?;
    if query.share {
        return Err(Rejection::ShareNeedsPost);
    }
    let key = object_key(request.path)?;
    if operation == Operation::Put && request.body == BodySize::Unknown {
        return Err(Rejection::LengthRequired);
    }
    let mut signed_headers = Vec::new();
    let tenant = match caller {
        Caller::Owner(tenant) => tenant,
        Caller::Link(grant) => {
            if grant.key != key {
                return Err(Rejection::LinkForAnotherKey);
            }
            if !grant.methods.allows(operation) {
                return Err(Rejection::LinkMethod(operation.method()));
            }
            if let (Operation::Put, Some(limit), BodySize::Known(length)) = (operation, grant.max_size, request.body) {
                if length > limit {
                    return Err(Rejection::TooLarge(limit));
                }
                // Signed, so storage refuses a body of any other length.
                signed_headers.push(("content-length", length.to_string()));
            }
            grant.tenant.as_ref()
        }
    };
    let response = if operation.reads() {
        download_headers(&key, query.download.as_deref())?
    } else if query.download.is_some() {
        return Err(Rejection::DownloadOnWrite);
    } else {
        ResponseOverrides::default()
    };
    let key = policy.scope(tenant).storage_key(&key)?;
    Ok(Action::Presign(Decision { operation, key, expires_in: policy.expires_in, response, signed_headers }))
}

fn object_key(path: KeyPath<'_>) -> Result<ObjectKey, KeyError> {
    match path {
        KeyPath::Encoded(path) => ObjectKey::from_encoded_path(path),
        KeyPath::Decoded(path) => ObjectKey::from_decoded_path(path),
    }
}

fn share(key: ObjectKey, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<ShareOrder, Rejection> {
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

fn download_headers(key: &ObjectKey, download: Option<&str>) -> Result<ResponseOverrides, Rejection> {
    let content_disposition = match download {
        None => None,
        Some("") => Some(download::attachment(key.file_name())),
        Some(name) => {
            download::check_file_name(name)?;
            Some(download::attachment(name))
        }
    };
    Ok(ResponseOverrides { content_type: download::content_type_for(key.file_name()), content_disposition })
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn policy(prefix: &str) -> Policy {
        Policy {
            prefix: KeyPrefix::new(prefix).unwrap(),
            tenants: KeyPrefix::new("tenants").unwrap(),
            expires_in: Duration::from_secs(300),
            max_share_ttl: DAY * 365,
        }
    }

    fn request<'a>(method: &'a Method, path: &'a str) -> Incoming<'a> {
        Incoming { method, path: KeyPath::Encoded(path), body: BodySize::Known(0) }
    }

    fn act(request: &Incoming<'_>, query: Option<&str>, caller: Caller<'_>, prefix: &str) -> Result<Action, Rejection> {
        decide(request, &Query::parse(query)?, caller, &policy(prefix))
    }

    fn decided(method: &Method, path: &str, query: Option<&str>) -> Result<Decision, Rejection> {
        match act(&request(method, path), query, Caller::Owner(None), "")? {
            Action::Presign(decision) => Ok(decision),
            Action::Share(order) => panic!("unexpected share {order:?}"),
        }
    }

    fn shared(path: &str, query: &str, caller: Caller<'_>) -> Result<ShareOrder, Rejection> {
        match act(&request(&Method::POST, path), Some(query), caller, "")? {
            Action::Share(order) => Ok(order),
            Action::Presign(decision) => panic!("unexpected presign {decision:?}"),
        }
    }

    #[test]
    fn methods_map_to_operations() {
        let cases = [
            (Method::GET, Ok(Operation::Get)),
            (Method::HEAD, Ok(Operation::Head)),
            (Method::PUT, Ok(Operation::Put)),
            (Method::DELETE, Ok(Operation::Delete)),
            (Method::PATCH, Err(Rejection::MethodNotAllowed(Method::PATCH))),
            (Method::POST, Err(Rejection::MethodNotAllowed(Method::POST))),
            (Method::OPTIONS, Err(Rejection::MethodNotAllowed(Method::OPTIONS))),
        ];
        for (method, expected) in cases {
            assert_eq!(decided(&method, "/f.txt", None).map(|d| d.operation), expected, "{method}");
        }
    }

    #[test]
    fn the_method_is_checked_before_the_key() {
        assert_eq!(decided(&Method::PATCH, "/../x", None), Err(Rejection::MethodNotAllowed(Method::PATCH)));
    }

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
            ("p", None, "/", Err(Rejection::Key(KeyError::Empty))),
        ];
        for (prefix, tenant, path, expected) in cases {
            let decided = act(&request(&Method::GET, path), None, Caller::Owner(tenant), prefix);
            let key = decided.map(|action| match action {
                Action::Presign(decision) => decision.key.as_str().to_owned(),
                Action::Share(_) => unreachable!(),
            });
            assert_eq!(key, expected.map(str::to_owned), "{prefix} {tenant:?} {path}");
        }
    }

    #[test]
    fn decoded_paths_are_taken_as_they_are() {
        let incoming =
            Incoming { method: &Method::GET, path: KeyPath::Decoded("/b%20c.txt"), body: BodySize::Known(0) };
        let Ok(Action::Presign(decision)) = act(&incoming, None, Caller::Owner(None), "") else { panic!() };
        assert_eq!(decision.key.as_str(), "b%20c.txt");
    }

    #[test]
    fn downloads_get_a_type_and_on_request_a_disposition() {
        let cases = [
            (Method::GET, "/a/photo.jpg", None, Some("image/jpeg"), None),
            (Method::GET, "/README", None, None, None),
            (Method::HEAD, "/a/doc.pdf", None, Some("application/pdf"), None),
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
            (Method::GET, "/x.txt", Some("cachebust=1"), Some("text/plain"), None),
        ];
        for (method, path, query, content_type, disposition) in cases {
            let decision = decided(&method, path, query).unwrap();
            assert_eq!(decision.response.content_type.as_deref(), content_type, "{path} {query:?}");
            assert_eq!(decision.response.content_disposition.as_deref(), disposition, "{path} {query:?}");
        }
    }

    #[test]
    fn writes_carry_no_download_headers() {
        for method in [Method::PUT, Method::DELETE] {
            let decision = decided(&method, "/photo.jpg", None).unwrap();
            assert_eq!(decision.response, ResponseOverrides::default(), "{method}");
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

    fn grant(key: &str, methods: &str, max_size: Option<u64>, tenant: Option<&TenantId>) -> Grant {
        Grant {
            tenant: tenant.cloned(),
            key: ObjectKey::new(key.into()).unwrap(),
            methods: Methods::parse(methods).unwrap(),
            expires_at: SystemTime::now() + DAY,
            max_size,
        }
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
        let Ok(Action::Presign(decision)) = act(&small, None, link, "") else { panic!() };
        assert_eq!(decision.signed_headers, vec![("content-length", "999".to_owned())]);
        let big = Incoming { body: BodySize::Known(1001), ..request(&put, "/in/box.bin") };
        assert_eq!(act(&big, None, link, ""), Err(Rejection::TooLarge(1000)));
        let unbounded = grant("in/box.bin", "PUT", None, None);
        let Ok(Action::Presign(decision)) = act(&small, None, Caller::Link(&unbounded), "") else { panic!() };
        assert!(decision.signed_headers.is_empty());
    }

    #[test]
    fn the_lifetime_comes_from_the_policy() {
        assert_eq!(decided(&Method::GET, "/f", None).unwrap().expires_in, Duration::from_secs(300));
    }
}
