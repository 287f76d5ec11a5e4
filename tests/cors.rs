//! CORS that explains itself, through the real binary: the embedded store
//! lets in the page at `--base-url` (the page behind a front door), a
//! refused preflight is logged once per origin with the setting that fixes
//! it, the banner says which origins are let in, and `Origin: null` (any
//! sandboxed iframe) is let in only with `--allow-null-origin`.

mod common;

use common::{Gateway, Server, Store, binary, curl, location, scratch_dir};

/// The banner of `serve` with `extra` flags.
fn banner(name: &str, extra: &[&str]) -> String {
    let mut command = binary();
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(scratch_dir(name)).args(extra);
    let (_server, banner): (Server, _) = Server::spawn_until(command, "presign-gateway listening on ", "  download:");
    banner.join("\n")
}

/// Sends a CORS preflight for a PUT from `origin` to `url`; returns the
/// `Access-Control-Allow-Origin` it was answered with, if any.
fn preflight(url: &str, origin: &str) -> Option<String> {
    let output = curl(&[
        "-X",
        "OPTIONS",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        &format!("Origin: {origin}"),
        "-H",
        "Access-Control-Request-Method: PUT",
        url,
    ]);
    let headers = String::from_utf8_lossy(&output.stdout).into_owned();
    headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("access-control-allow-origin").then(|| value.trim().to_owned())
    })
}

#[test]
fn the_store_lets_in_the_page_at_the_base_url() {
    let gateway = Gateway::start("cors-base-url", &["--base-url", "https://files.example.com/prod"]);
    let store = location("PUT", &gateway.at("f.txt"));
    let store = store.split('?').next().unwrap();
    assert_eq!(preflight(store, "https://files.example.com").as_deref(), Some("https://files.example.com"));
    assert_eq!(preflight(store, &gateway.url).as_deref(), Some(gateway.url.as_str()));
    // Never the origin a request names itself in its Host.
    assert_eq!(preflight(store, "https://evil.example"), None);
}

#[test]
fn the_store_refuses_a_null_origin_unless_asked_to_let_it_in() {
    let origins = ["--allowed-origins", "https://app.example"];
    let gateway = Gateway::start("cors-null", &origins);
    let store = location("PUT", &gateway.at("f.txt"));
    let store = store.split('?').next().unwrap();
    assert_eq!(preflight(store, "https://app.example").as_deref(), Some("https://app.example"));
    assert_eq!(preflight(store, "null"), None, "a sandboxed iframe anywhere sends `Origin: null`");

    let opted_in = Gateway::start("cors-null-opt-in", &[origins[0], origins[1], "--allow-null-origin"]);
    let store = location("PUT", &opted_in.at("f.txt"));
    assert_eq!(preflight(store.split('?').next().unwrap(), "null").as_deref(), Some("null"));

    // `store` alone, and the environment twin.
    let alone = Store::start_in(scratch_dir("cors-null-store").join("data"), &origins);
    assert_eq!(preflight(&format!("{}/presign-gateway/f.txt", alone.url), "null"), None);
    let with_env = || {
        let mut command = binary();
        command.args(["store", "--listen", "127.0.0.1:0", "--data-dir"]).arg(scratch_dir("cors-null-env"));
        command.args(origins).env("ALLOW_NULL_ORIGIN", "true");
        command.env("AWS_ACCESS_KEY_ID", common::STORE_ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", "secret");
        Server::spawn(command, "embedded store listening on ")
    };
    let opted_in = with_env();
    assert_eq!(preflight(&format!("{}/presign-gateway/f.txt", opted_in.url), "null").as_deref(), Some("null"));
}

#[test]
fn a_refused_preflight_is_logged_once_per_origin() {
    let gateway = Gateway::start("cors-refused", &["--allowed-origins", "https://app.example"]);
    assert_eq!(preflight(&gateway.at("f.txt"), "https://app.example").as_deref(), Some("https://app.example"));
    for _ in 0..3 {
        assert_eq!(preflight(&gateway.at("f.txt"), "https://elsewhere.example"), None);
    }
    assert_eq!(preflight(&gateway.at("f.txt"), "https://another.example"), None);
    let logged = |needle: &str| gateway.server.logged(needle, std::time::Duration::from_secs(30));
    assert!(logged("refused a CORS preflight from a page on https://another.example"), "{}", gateway.logs());
    let logs = gateway.logs();
    let warnings = logs.matches("refused a CORS preflight from a page on https://elsewhere.example").count();
    assert_eq!(warnings, 1, "{logs}");
    assert!(logs.contains("--allowed-origins"), "{logs}");
    assert!(!logs.contains("from a page on https://app.example"), "{logs}");
}

#[test]
fn the_banner_names_the_origins_let_in() {
    let listed = banner("cors-banner-list", &["--allowed-origins", "https://a.example,https://b.example"]);
    assert!(listed.contains("\n  pages from other origins: https://a.example, https://b.example\n"), "{listed}");
    let none = banner("cors-banner-none", &[]);
    assert!(none.contains("\n  pages from other origins: this page's own only (--allowed-origins"), "{none}");
}
