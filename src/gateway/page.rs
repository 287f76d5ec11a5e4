//! The web page and the ES module apps import, served from the binary (also
//! on Lambda), with a strict Content-Security-Policy: no inline script or
//! style, connections only to the gateway, its storage and the sign-in
//! provider. The page carries no data and needs no token; every data call it
//! makes carries one. `?config` tells it how to sign in.

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use super::{Gateway, PublicBaseUrl};
use crate::auth::Authenticator;
use crate::cli::OidcToken;
use crate::core::page::Asset;
use crate::wire::PageConfig;

const PAGE: &str = include_str!("page/index.html");
const APP: &str = include_str!("page/app.js");
const MODULE: &str = include_str!("page/gateway.js");
const STYLE: &str = include_str!("page/style.css");
const SIGN_IN: &str = include_str!("page/signin.js");

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
            return page_response(page, gateway.storage_origin(), &provider_origins(gateway));
        }
        Asset::Config => {
            let mut response = axum::Json(config(gateway)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            return response;
        }
        Asset::Module => ("text/javascript; charset=utf-8", MODULE),
        Asset::App => ("text/javascript; charset=utf-8", APP),
        Asset::SignIn => ("text/javascript; charset=utf-8", SIGN_IN),
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

/// What `?config` says: no secret, only what a page needs to sign in.
fn config(gateway: &Gateway) -> PageConfig {
    let sign_in = gateway.sign_in();
    PageConfig {
        auth: match gateway.authenticator() {
            Authenticator::None => "none",
            Authenticator::Authorizer { .. } => "authorizer",
            Authenticator::Jwt(_) => "jwt",
        }
        .to_owned(),
        issuer: sign_in.map(|s| s.issuer.clone()),
        client_id: sign_in.and_then(|s| s.client_id.clone()),
        token: sign_in.map_or(OidcToken::Id, |s| s.token).name().to_owned(),
        links: gateway.links_base().is_some(),
    }
}

/// Where the page may connect to sign in: the issuer (its discovery
/// document), and its token endpoint once the gateway has read where that is.
fn provider_origins(gateway: &Gateway) -> String {
    let Some(sign_in) = gateway.sign_in() else { return String::new() };
    let mut origins: Vec<String> = origin(&sign_in.issuer).into_iter().collect();
    if let Some(token) = sign_in.provider.token_endpoint_origin()
        && !origins.contains(&token)
    {
        origins.push(token);
    }
    origins.join(" ")
}

/// `scheme://host[:port]` of `url`, for the Content-Security-Policy.
fn origin(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?.as_str()))
}

/// The page, with a policy that lets it reach the gateway, storage and the
/// sign-in `provider` (its token endpoint; the authorize step is a navigation).
fn page_response(page: String, storage_origin: &str, provider: &str) -> Response {
    let provider = if provider.is_empty() { String::new() } else { format!(" {provider}") };
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {storage_origin}; \
         connect-src 'self' {storage_origin}{provider}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
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
