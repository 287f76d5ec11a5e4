//! The pure core: a request's method, path, query and declared body size in,
//! a [`Decision`] to presign or a [`Rejection`] out. Nothing here does I/O, so
//! every rule is a unit test away.

pub mod download;
pub mod key;

use std::time::Duration;

use http::Method;

use download::FileNameError;
use key::{KeyError, KeyPrefix, ObjectKey};

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
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The declared body size.
    pub body: BodySize,
}

/// Rules from configuration that every decision follows.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Folder every key is placed under.
    pub prefix: KeyPrefix,
    /// How long a presigned URL lives, before any cap from the credentials.
    pub expires_in: Duration,
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
    /// The full storage key, prefix included.
    pub key: ObjectKey,
    /// The lifetime asked for.
    pub expires_in: Duration,
    /// Download headers for storage to send.
    pub response: ResponseOverrides,
}

/// Why a request gets no redirect. Each variant is a client mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Only GET, HEAD, PUT and DELETE are redirected.
    #[error("{0} is not supported: use GET, HEAD, PUT or DELETE")]
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
}

/// Maps a request to a decision, or says why not.
pub fn decide(request: &Incoming<'_>, policy: &Policy) -> Result<Decision, Rejection> {
    let operation =
        Operation::from_method(request.method).ok_or_else(|| Rejection::MethodNotAllowed(request.method.clone()))?;
    let key = match request.path {
        KeyPath::Encoded(path) => ObjectKey::from_encoded_path(path)?,
        KeyPath::Decoded(path) => ObjectKey::from_decoded_path(path)?,
    };
    let query = Query::parse(request.query.unwrap_or_default())?;
    if operation == Operation::Put && request.body == BodySize::Unknown {
        return Err(Rejection::LengthRequired);
    }
    let response = if operation.reads() {
        download_headers(&key, query.download.as_deref())?
    } else if query.download.is_some() {
        return Err(Rejection::DownloadOnWrite);
    } else {
        ResponseOverrides::default()
    };
    Ok(Decision { operation, key: policy.prefix.apply(&key)?, expires_in: policy.expires_in, response })
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

/// The query parameters the gateway understands; others are ignored so that
/// cache-busting parameters do no harm.
#[derive(Debug, Default)]
struct Query {
    download: Option<String>,
}

impl Query {
    fn parse(raw: &str) -> Result<Self, Rejection> {
        let mut query = Self::default();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if name == "download" {
                if query.download.is_some() {
                    return Err(Rejection::RepeatedParameter("download"));
                }
                query.download = Some(value.into_owned());
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(prefix: &str) -> Policy {
        Policy { prefix: KeyPrefix::new(prefix).unwrap(), expires_in: Duration::from_secs(300) }
    }

    fn request<'a>(method: &'a Method, path: &'a str, query: Option<&'a str>) -> Incoming<'a> {
        Incoming { method, path: KeyPath::Encoded(path), query, body: BodySize::Known(0) }
    }

    fn decided(method: &Method, path: &str, query: Option<&str>) -> Result<Decision, Rejection> {
        decide(&request(method, path, query), &policy(""))
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
    fn keys_and_prefixes() {
        let cases = [
            ("", "/a b.txt", Ok("a b.txt")),
            ("", "/a%20b.txt", Ok("a b.txt")),
            ("tenants/t1", "/x/y.bin", Ok("tenants/t1/x/y.bin")),
            ("p/", "/%E2%9C%93", Ok("p/\u{2713}")),
            ("p", "/a//b", Err(Rejection::Key(KeyError::EmptySegment))),
            ("p", "/%2e%2e/q", Err(Rejection::Key(KeyError::DotSegment))),
            ("p", "/", Err(Rejection::Key(KeyError::Empty))),
        ];
        for (prefix, path, expected) in cases {
            let decided = decide(&request(&Method::GET, path, None), &policy(prefix));
            assert_eq!(decided.as_ref().map(|d| d.key.as_str()), expected.as_ref().map(|k| *k), "{prefix} {path}");
        }
    }

    #[test]
    fn decoded_paths_are_taken_as_they_are() {
        let incoming = Incoming {
            method: &Method::GET,
            path: KeyPath::Decoded("/b%20c.txt"),
            query: None,
            body: BodySize::Known(0),
        };
        assert_eq!(decide(&incoming, &policy("")).unwrap().key.as_str(), "b%20c.txt");
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
    }

    #[test]
    fn uploads_need_a_size() {
        let put = Method::PUT;
        let chunked = Incoming { body: BodySize::Unknown, ..request(&put, "/f", None) };
        assert_eq!(decide(&chunked, &policy("")), Err(Rejection::LengthRequired));
        let sized = Incoming { body: BodySize::Known(10), ..request(&put, "/f", None) };
        assert!(decide(&sized, &policy("")).is_ok());
        let get = Method::GET;
        let chunked_get = Incoming { body: BodySize::Unknown, ..request(&get, "/f", None) };
        assert!(decide(&chunked_get, &policy("")).is_ok());
    }

    #[test]
    fn the_lifetime_comes_from_the_policy() {
        assert_eq!(decided(&Method::GET, "/f", None).unwrap().expires_in, Duration::from_secs(300));
    }
}
