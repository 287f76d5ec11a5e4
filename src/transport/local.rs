//! The local HTTP server: the gateway's router on TCP listeners (every
//! address `--listen` resolves to), beside the embedded store unless an
//! endpoint is configured, both within the server limits of
//! [`crate::http_server`], and the metrics port if asked for
//! ([`super::observe`]). Ctrl-C or SIGTERM stops accepting connections and
//! lets requests in flight finish (`/readyz` fails meanwhile).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use http::HeaderValue;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::observe;
use crate::auth::Authenticator;
use crate::config::Config;
#[cfg(feature = "embedded-store")]
use crate::config::StoreOnlyConfig;
use crate::gateway::{Gateway, app};
use crate::http_server;
#[cfg(feature = "embedded-store")]
use crate::store::EmbeddedStore;

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let (listen, limits, metrics_listen) = (config.listen.clone(), config.server, config.metrics_listen);
    let listeners = http_server::bind(&listen).await?;
    let base = format!("http://{}", listeners[0].local_addr()?);
    let page_origins = page_origins(&listeners, config.gateway.base_url.as_deref())?;
    let (sync_every, presets) = (config.catalog.sync_every, config.catalog.presets.to_string());
    let started = super::start(config, &page_origins, signalled(stopped.clone())).await?;
    let catalog = match &started.processor {
        Some(_) => format!("{}; renditions: {presets} (--renditions / RENDITIONS)", started.catalog),
        None => started.catalog.clone(),
    };
    // The log is listed from storage when it is new, and every --catalog-sync-every.
    let syncing = started.processor.map(|processor| super::catalog::keep_in_step(processor, sync_every));
    let gateway = Arc::new(started.gateway);
    let metrics = match metrics_listen {
        Some(address) => Some(observe::serve(address, gateway.clone(), stopped.clone(), limits).await?),
        None => None,
    };
    // Tests and scripts read the first line for the address; a closed stdout is no reason to stop.
    let _ = writeln!(std::io::stdout().lock(), "{}", banner(&base, &started.storage, &catalog, &gateway, metrics));
    if gateway.links_from_host() {
        tracing::warn!(
            "share links name the gateway by each request's Host header: set --base-url / BASE_URL to fix it"
        );
    }

    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stop.send(true);
    });
    http_server::serve(listeners, app(gateway), limits, signalled(stopped)).await;
    if let Some(syncing) = syncing {
        syncing.abort();
    }
    if let Some(store) = started.store {
        store.await.context("the embedded store stopped")?;
    }
    Ok(())
}

/// The origins the gateway's page is served from, which the embedded store
/// lets in: each address it listens on, `localhost` for loopback ones, and
/// the `--base-url` a front door serves it at. A static list: never taken
/// from a request's `Host`, which anyone can set.
fn page_origins(listeners: &[TcpListener], base_url: Option<&str>) -> anyhow::Result<Vec<HeaderValue>> {
    let mut origins = Vec::new();
    for listener in listeners {
        let address = listener.local_addr()?;
        origins.push(format!("http://{address}"));
        if address.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", address.port()));
        }
    }
    origins.extend(base_url.and_then(origin_of));
    origins.dedup();
    Ok(origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect())
}

/// `scheme://host[:port]` of a validated URL, as a browser writes its `Origin`
/// (no default port).
fn origin_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let (scheme, authority) = (uri.scheme_str()?, uri.authority()?);
    let default_port = matches!((scheme, authority.port_u16()), ("http", Some(80)) | ("https", Some(443)));
    let host = if default_port { authority.host() } else { authority.as_str() };
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// What the gateway is, and two commands that work against it as configured.
fn banner(base: &str, storage: &str, catalog: &str, gateway: &Gateway, metrics: Option<SocketAddr>) -> String {
    let (auth, curl) = match gateway.authenticator() {
        Authenticator::None => ("none: one tenant, the whole bucket".to_owned(), "curl -L".to_owned()),
        Authenticator::Authorizer { claim } => {
            (format!("authorizer: API Gateway's claim `{claim}` names the tenant"), "curl -L".to_owned())
        }
        Authenticator::Jwt(verifier) => (
            format!(
                "jwt: send Authorization: Bearer <token>; its claim `{}` names the tenant{}",
                verifier.claim(),
                match verifier.remote_keys().map(crate::auth::RemoteKeys::source) {
                    Some(crate::auth::KeyUrl::Jwks(url)) => format!("; keys from {url}"),
                    Some(crate::auth::KeyUrl::Issuer { issuer, .. }) => format!("; keys from {issuer}'s jwks_uri"),
                    None => String::new(),
                }
            ),
            "curl -L -H \"Authorization: Bearer $TOKEN\"".to_owned(),
        ),
    };
    let links = match gateway.links_base() {
        None => "off (--share-keys / SHARE_KEYS turns them on)".to_owned(),
        Some(Some(url)) => format!("on, leading to {url}"),
        Some(None) => "on, leading to each request's Host (--base-url / BASE_URL fixes it)".to_owned(),
    };
    let metrics = metrics.map(|bound| format!("\n  metrics:  http://{bound}/metrics (and /healthz, /readyz)"));
    let metrics = metrics.unwrap_or_default();
    let origins = crate::cors::describe(gateway.allowed_origins());
    format!(
        "presign-gateway listening on {base}\n  storage: {storage}\n  catalog: {catalog}{metrics}\n  auth: {auth}\n  share links: {links}\n  pages from other origins: {origins}\n  upload:   echo hello > hello.txt && {curl} --upload-file hello.txt {base}/hello.txt\n  download: {curl} {base}/hello.txt"
    )
}

/// Serves the embedded store alone until Ctrl-C or SIGTERM.
#[cfg(feature = "embedded-store")]
pub async fn serve_store(config: StoreOnlyConfig) -> anyhow::Result<()> {
    let store = EmbeddedStore::open(&config.store, config.credentials, &config.allowed_origins, &[], None).await?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "embedded store listening on {}\n  bucket `{}`, files in {}{}",
        store.location().endpoint.as_deref().unwrap_or_default(),
        config.store.bucket,
        config.store.data_dir.display(),
        if config.store.strict_signing { ", strict signing" } else { "" }
    );
    store.serve(config.server, shutdown_signal(), None).await;
    Ok(())
}

/// Completes once the stop flag is raised.
async fn signalled(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot watch for SIGTERM; only Ctrl-C stops the server");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn a_base_url_has_the_origin_a_browser_sends() {
        let cases = [
            ("https://files.example.com", Some("https://files.example.com")),
            (
                "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
                Some("https://abc.execute-api.eu-west-1.amazonaws.com"),
            ),
            ("https://Files.Example.com:443/x", Some("https://files.example.com")),
            ("http://127.0.0.1:8080/", Some("http://127.0.0.1:8080")),
            ("http://h:80", Some("http://h")),
            ("/relative", None),
        ];
        for (url, origin) in cases {
            assert_eq!(origin_of(url).as_deref(), origin, "{url}");
        }
    }
}
