//! The web page and the ES module apps import, served from the binary (also
//! on Lambda), with a strict Content-Security-Policy: no inline script or
//! style, connections only to the gateway and its storage. The page carries
//! no data and needs no token; every data call it makes carries one.

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use super::{Gateway, PublicBaseUrl};
use crate::auth::Authenticator;
use crate::core::page::Asset;

const PAGE: &str = include_str!("page/index.html");
const APP: &str = include_str!("page/app.js");
const MODULE: &str = include_str!("page/gateway.js");
const STYLE: &str = include_str!("page/style.css");

/// The response for `asset`.
pub fn serve(gateway: &Gateway, asset: &Asset, request: &Parts) -> Response {
    let (content_type, body) = match asset {
        Asset::Page(folder) => {
            let base = request.extensions.get::<PublicBaseUrl>().map_or("", |PublicBaseUrl(url)| url.as_str());
            let auth = match gateway.authenticator() {
                Authenticator::None => "none",
                Authenticator::Authorizer { .. } | Authenticator::Jwt(_) => "token",
            };
            let page = PAGE
                .replace("{{base}}", &escape(base))
                .replace("{{folder}}", &escape(folder.as_str()))
                .replace("{{auth}}", auth)
                .replace("{{links}}", if gateway.links_base().is_some() { "on" } else { "off" });
            return page_response(page, gateway.storage_origin());
        }
        Asset::Module => ("text/javascript; charset=utf-8", MODULE),
        Asset::App => ("text/javascript; charset=utf-8", APP),
        Asset::Style => ("text/css; charset=utf-8", STYLE),
    };
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if matches!(asset, Asset::Module) {
        // Any app may import it: it holds code, no data.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    response
}

fn page_response(page: String, storage_origin: &str) -> Response {
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {storage_origin}; \
         connect-src 'self' {storage_origin}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Text for an HTML attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}
