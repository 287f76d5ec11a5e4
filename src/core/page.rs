//! Which requests ask for the web page (and its script and style) rather
//! than for data: a browser navigating to the top level or to a folder
//! (`Accept: text/html`), and `/?module`, `/?app`, `/?style`, `/?signin`, which the page
//! and other apps load, and `/?config` (also `/%2F?config`), what the page
//! needs to know before anyone signs in. None of them carries data, so none
//! needs a token.

use http::{HeaderMap, Method, header};

use super::key::{self, Folder};
use super::query::Query;
use super::request::KeyPath;

/// A file of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    /// The page itself, opened at a folder.
    Page(Folder),
    /// The ES module apps import: `gateway(baseUrl, {getToken})`.
    Module,
    /// The page's own script.
    App,
    /// The page's style sheet.
    Style,
    /// The page's sign-in with an OpenID provider.
    SignIn,
    /// How the page signs in, as JSON.
    Config,
}

/// The asset `GET`/`HEAD` `path?raw` asks for, if any; `query` is `raw`
/// parsed, `None` when it does not parse.
#[must_use]
pub fn asset(
    method: &Method,
    path: KeyPath<'_>,
    raw: &str,
    query: Option<&Query>,
    headers: &HeaderMap,
) -> Option<Asset> {
    if *method != Method::GET && *method != Method::HEAD {
        return None;
    }
    let path = match path {
        KeyPath::Encoded(path) => key::decode_path(path).ok()?,
        KeyPath::Decoded(path) => path.strip_prefix('/').unwrap_or(path).to_owned(),
    };
    if !Folder::is_folder(&path) {
        return None;
    }
    if raw == "config" && (path.is_empty() || path == "/") {
        return Some(Asset::Config);
    }
    if path.is_empty() {
        match raw {
            "module" => return Some(Asset::Module),
            "app" => return Some(Asset::App),
            "style" => return Some(Asset::Style),
            "signin" => return Some(Asset::SignIn),
            _ => {}
        }
    }
    // Navigation only: a data request's query (`?limit`, `?presign`) wants data.
    let parsed = query?;
    let plain = parsed.presign.is_none()
        && parsed.limit.is_none()
        && parsed.after.is_none()
        && !parsed.metadata
        && parsed.keys.is_none()
        && parsed.links.is_none();
    let html = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    (plain && html).then(|| Folder::new(path).ok().map(Asset::Page)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(method: &Method, path: &str, query: &str, accept: Option<&'static str>) -> Option<Asset> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, http::HeaderValue::from_static(accept));
        }
        asset(method, KeyPath::Encoded(path), query, Query::parse(Some(query)).ok().as_ref(), &headers)
    }

    #[test]
    fn browsers_get_the_page_and_clients_the_data() {
        let browser = Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        assert_eq!(asked(&Method::GET, "/", "", browser), Some(Asset::Page(Folder::default())));
        assert_eq!(
            asked(&Method::GET, "/photos/2024/", "", browser),
            Some(Asset::Page(Folder::new("photos/2024/".into()).unwrap()))
        );
        assert_eq!(asked(&Method::GET, "/", "", Some("*/*")), None, "curl wants the listing");
        assert_eq!(asked(&Method::GET, "/%2F", "keys", browser), None, "a browser asking for keys wants them");
        assert_eq!(asked(&Method::GET, "/", "", Some("application/json")), None);
        assert_eq!(asked(&Method::GET, "/", "limit=10", browser), None);
        assert_eq!(asked(&Method::GET, "/a.txt", "", browser), None, "a key is a download");
        assert_eq!(asked(&Method::PUT, "/", "", browser), None);
        assert_eq!(asked(&Method::GET, "/", "module", None), Some(Asset::Module));
        assert_eq!(asked(&Method::GET, "/", "app", Some("*/*")), Some(Asset::App));
        assert_eq!(asked(&Method::HEAD, "/", "style", None), Some(Asset::Style));
        assert_eq!(asked(&Method::GET, "/", "signin", None), Some(Asset::SignIn));
        // The provider's answer comes back to the top level: the page finishes the sign-in.
        let answer = "code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A4000";
        assert_eq!(asked(&Method::GET, "/", answer, browser), Some(Asset::Page(Folder::default())));
        assert_eq!(asked(&Method::GET, "/docs/", "module", None), None);
        assert_eq!(asked(&Method::GET, "/", "config", None), Some(Asset::Config));
        assert_eq!(asked(&Method::GET, "/%2F", "config", Some("*/*")), Some(Asset::Config));
        assert_eq!(asked(&Method::GET, "/docs/", "config", None), None);
        assert_eq!(asked(&Method::PUT, "/%2F", "config", None), None);
    }
}
