//! CORS for browser pages on other origins, shared by the gateway and the
//! embedded store: the configured origins, the methods the gateway answers
//! (POST for links and multipart steps), any request header (the module
//! sends `Authorization`, `Upload-Length`, `Content-Type`, `Content-MD5`,
//! `x-amz-meta-*` and checksums), and the response headers page scripts may
//! read. A refused preflight looks to the page like a server that is down,
//! so the server says it in its log, once per origin.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::AllowedOrigins;

/// How many refused origins are remembered (and so warned about); a page
/// that makes up origins cannot grow the set further.
const MAX_WARNED_ORIGINS: usize = 64;

/// A real origin (`scheme://host:port`) is short; a longer one is made up and
/// neither kept nor logged.
const MAX_ORIGIN_BYTES: usize = 256;

/// `router` answering CORS for `origins` plus `extra_origins` (none at all:
/// no CORS header is ever sent), warning once per origin whose preflight it
/// refuses. `server` names the server in the warning.
pub fn apply(
    router: Router,
    server: &'static str,
    origins: &AllowedOrigins,
    extra_origins: &[HeaderValue],
    exposed: impl IntoIterator<Item = HeaderName>,
) -> Router {
    let refusals = Arc::new(Refusals {
        server,
        allowed: origins.clone(),
        extra: extra_origins.to_vec(),
        warned: Mutex::default(),
    });
    let router = match layer(origins, extra_origins, exposed) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(axum::middleware::from_fn_with_state(refusals, warn_refused))
}

fn layer(
    origins: &AllowedOrigins,
    extra_origins: &[HeaderValue],
    exposed: impl IntoIterator<Item = HeaderName>,
) -> Option<CorsLayer> {
    let allow_origin = match origins {
        AllowedOrigins::None if extra_origins.is_empty() => return None,
        AllowedOrigins::None => AllowOrigin::list(extra_origins.iter().cloned()),
        AllowedOrigins::Any => AllowOrigin::any(),
        AllowedOrigins::List(list) => AllowOrigin::list(list.iter().chain(extra_origins).cloned()),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::POST, Method::DELETE])
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(exposed.into_iter().collect::<Vec<_>>())
            .max_age(Duration::from_secs(600)),
    )
}

/// The origins a server lets in, and those it has warned about.
#[derive(Debug)]
struct Refusals {
    server: &'static str,
    allowed: AllowedOrigins,
    extra: Vec<HeaderValue>,
    warned: Mutex<HashSet<HeaderValue>>,
}

impl Refusals {
    fn allows(&self, origin: &HeaderValue) -> bool {
        let listed = |list: &[HeaderValue]| list.contains(origin);
        match &self.allowed {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => listed(list) || listed(&self.extra),
            AllowedOrigins::None => listed(&self.extra),
        }
    }

    /// Whether `origin` is refused and not yet warned about (remembering it if so).
    fn first_refusal(&self, origin: &HeaderValue) -> bool {
        if origin.len() > MAX_ORIGIN_BYTES || self.allows(origin) {
            return false;
        }
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        warned.len() < MAX_WARNED_ORIGINS && warned.insert(origin.clone())
    }
}

async fn warn_refused(State(refusals): State<Arc<Refusals>>, request: Request, next: Next) -> Response {
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if let Some(origin) = request.headers().get(header::ORIGIN).filter(|_| preflight)
        && refusals.first_refusal(origin)
    {
        // `null` is no origin to list: a sandboxed frame, or a page that followed a cross-origin 307.
        let fix = if origin == "null" {
            "if the page is yours and follows a 307 to storage, let it ask for JSON instead (?presign), \
             or start the store with --allow-null-origin / ALLOW_NULL_ORIGIN"
        } else {
            "if the page is yours, add its origin to --allowed-origins / ALLOWED_ORIGINS"
        };
        // Escaped: an origin is whatever the client sent, and must not shape the log.
        let origin = origin.as_bytes().escape_ascii();
        tracing::warn!(
            "{} refused a CORS preflight from a page on {origin}: the page sees it as unreachable; {fix} \
             (this origin is not logged again)",
            refusals.server
        );
    }
    next.run(request).await
}

/// The origins in a start-up banner: what a page needs to know to be let in.
#[must_use]
pub fn describe(origins: &AllowedOrigins) -> String {
    match origins {
        AllowedOrigins::None => {
            "this page's own only (--allowed-origins / ALLOWED_ORIGINS lets other pages in)".to_owned()
        }
        AllowedOrigins::Any => "any (--allowed-origins '*')".to_owned(),
        AllowedOrigins::List(list) => {
            let names: Vec<_> = list.iter().map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned()).collect();
            names.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals(allowed: AllowedOrigins) -> Refusals {
        let extra = vec![HeaderValue::from_static("http://127.0.0.1:3000")];
        Refusals { server: "the gateway", allowed, extra, warned: Mutex::default() }
    }

    #[test]
    fn each_refused_origin_is_warned_about_once_and_the_set_is_bounded() {
        let gate = refusals(AllowedOrigins::List(vec![HeaderValue::from_static("https://app.example")]));
        let evil = HeaderValue::from_static("https://evil.example");
        assert!(gate.first_refusal(&evil));
        assert!(!gate.first_refusal(&evil));
        assert!(!gate.first_refusal(&HeaderValue::from_static("https://app.example")));
        assert!(!gate.first_refusal(&HeaderValue::from_static("http://127.0.0.1:3000")));
        for n in 0..200 {
            let _ = gate.first_refusal(&HeaderValue::from_str(&format!("https://{n}.example")).unwrap());
        }
        assert_eq!(gate.warned.lock().unwrap().len(), MAX_WARNED_ORIGINS);
        let made_up = HeaderValue::from_str(&format!("https://{}.example", "a".repeat(300))).unwrap();
        assert!(!refusals(AllowedOrigins::None).first_refusal(&made_up));
    }

    #[test]
    fn any_origin_is_never_refused() {
        assert!(!refusals(AllowedOrigins::Any).first_refusal(&HeaderValue::from_static("https://x.example")));
        assert!(refusals(AllowedOrigins::None).first_refusal(&HeaderValue::from_static("https://x.example")));
    }
}
