//! Sign-in with a real OpenID provider (issue 22): panva's `oidc-provider`
//! from npm on loopback (tests/common/oidc.rs), and the real binary with
//! `--auth jwt --oidc-issuer --oidc-client-id`, which reads the provider's
//! discovery document and JWKS over HTTP. Tokens come from the provider's
//! own login flow (Authorization Code with PKCE) or are signed with its key.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::oidc::{self, CLIENT_ID, OidcProvider};
use common::{Gateway, Server, binary, curl, curl_status, random_file, scratch_dir, sha256};
use serde_json::{Value, json};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn start_gateway(name: &str, provider: &OidcProvider) -> Gateway {
    Gateway::start(name, &["--auth", "jwt", "--oidc-issuer", &provider.issuer, "--oidc-client-id", CLIENT_ID])
}

/// `curl` as the holder of `token`.
fn call(token: &str, args: &[&str], url: &str) -> (u16, String) {
    let auth = format!("Authorization: Bearer {token}");
    let mut all = vec!["--location", "-H", &auth];
    all.extend_from_slice(args);
    all.push(url);
    curl_status(&all)
}

fn list(token: &str, gateway: &Gateway) -> (u16, String) {
    call(token, &["-H", "Accept: application/json"], &gateway.at("/%2F"))
}

/// Claims as the provider would issue them, for this gateway's client.
fn claims(provider: &OidcProvider, sub: &str) -> Value {
    json!({ "sub": sub, "iss": provider.issuer, "aud": CLIENT_ID, "iat": now(), "exp": now() + 600 })
}

#[test]
fn a_signed_in_user_uploads_and_reads_back_in_their_own_folder() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let gateway = start_gateway("oidc-accepted", &provider);
    let alice = provider.login("alice");
    let file = scratch_dir("oidc-accepted-file").join("notes.bin");
    random_file(&file, 70_000, 22);
    let (status, body) = call(&alice, &["--upload-file", file.to_str().unwrap()], &gateway.at("/notes.bin"));
    assert_eq!(status, 200, "upload: {body}");
    let back = file.with_extension("back");
    let (status, _) = call(&alice, &["--output", back.to_str().unwrap()], &gateway.at("/notes.bin"));
    assert_eq!(status, 200);
    assert_eq!(sha256(&back), sha256(&file));
    let (status, listing) = list(&alice, &gateway);
    assert_eq!(status, 200);
    assert!(listing.contains("notes.bin"), "{listing}");
    // Another user of the same provider sees none of it.
    let bob = provider.login("bob");
    let (status, listing) = list(&bob, &gateway);
    assert_eq!(status, 200);
    assert!(!listing.contains("notes.bin"), "bob sees alice's file: {listing}");
}

#[test]
fn a_jwks_url_alone_verifies_the_providers_tokens() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let jwks = format!("{}/jwks", provider.issuer);
    let gateway = Gateway::start(
        "oidc-jwks-url",
        &["--auth", "jwt", "--jwks-url", &jwks, "--jwt-issuer", &provider.issuer, "--jwt-audience", CLIENT_ID],
    );
    assert_eq!(list(&provider.login("alice"), &gateway).0, 200);
    let mut other = claims(&provider, "alice");
    other["aud"] = json!("someone-else");
    assert_eq!(list(&provider.sign(&other), &gateway).0, 401);
    // The provider said `Cache-Control: max-age=600`: the next refresh is in three quarters of it.
    assert!(gateway.server.logged("refresh_in=450s", Duration::from_secs(10)), "{}", gateway.logs());
}

#[test]
fn config_tells_the_page_how_to_sign_in_and_nothing_secret() {
    if !oidc::available() {
        return;
    }
    let provider = OidcProvider::start();
    let gateway = start_gateway("oidc-config", &provider);
    for path in ["/%2F?config", "/?config"] {
        let (status, body) = curl_status(&[&gateway.at(path)]);
        assert_eq!(status, 200, "{path}: {body}");
        let config: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            config,
            json!({ "auth": "jwt", "issuer": provider.issuer, "client_id": CLIENT_ID, "token": "id", "links": false })
        );
    }
    // The page may reach the provider's token endpoint, and nothing else new.
    let headers = curl(&["--head", "-H", "Accept: text/html", &gateway.at("/")]);
    let headers = String::from_utf8_lossy(&headers.stdout).to_ascii_lowercase();
    let policy = headers.lines().find(|line| line.starts_with("content-security-policy:")).expect("a CSP");
    let connect = policy.split(';').find(|part| part.trim().starts_with("connect-src")).unwrap();
    assert!(connect.contains(&provider.issuer), "{policy}");
    assert!(policy.contains("form-action 'none'"), "{policy}");
}

#[test]
fn a_key_rotation_is_followed_without_a_restart() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let gateway = start_gateway("oidc-rotation", &provider);
    let before = provider.login("alice");
    assert_eq!(list(&before, &gateway).0, 200);
    let kid = provider.rotate();
    let after = provider.login("alice");
    assert!(header_kid(&after) == kid && header_kid(&before) != kid);
    let (status, body) = list(&after, &gateway);
    assert_eq!(status, 200, "a token signed with the new key: {body}");
    // The old key left the provider's JWKS, so it left the gateway's keys too.
    let (status, body) = list(&before, &gateway);
    assert_eq!(status, 401, "a token signed with the retired key: {body}");
    assert!(gateway.logs().contains(&kid), "the fetch names the new key: {}", gateway.logs());
}

fn header_kid(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// Requests that all need the keys after a rotation share one fetch; tokens
/// naming keys nobody has make the gateway fetch at most once per 10 s.
#[test]
fn unknown_keys_cost_one_fetch_however_many_tokens_name_them() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let gateway = start_gateway("oidc-one-fetch", &provider);
    assert_eq!(list(&provider.login("alice"), &gateway).0, 200);
    let at_start = provider.jwks_fetches();
    provider.rotate();
    let fresh = provider.sign(&claims(&provider, "alice"));
    let statuses = concurrently(&gateway, &vec![fresh; 16]);
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    assert_eq!(provider.jwks_fetches(), at_start + 1, "sixteen requests, one fetch in flight");

    let made_up: Vec<String> =
        (0..16).map(|n| provider.sign_as(&format!("made-up-{n}"), &claims(&provider, "alice"))).collect();
    let statuses = concurrently(&gateway, &made_up);
    assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
    // Within 10 s of the last fetch none more; on a slow machine past them, one.
    assert!(provider.jwks_fetches() <= at_start + 2, "made-up kids are rate-limited: {}", provider.jwks_fetches());
}

/// The statuses of listings asked with each of `tokens` at once.
fn concurrently(gateway: &Gateway, tokens: &[String]) -> Vec<u16> {
    std::thread::scope(|scope| {
        let asked: Vec<_> = tokens.iter().map(|token| scope.spawn(move || list(token, gateway).0)).collect();
        asked.into_iter().map(|thread| thread.join().unwrap()).collect()
    })
}

#[test]
fn tokens_that_do_not_check_out_are_refused() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let gateway = start_gateway("oidc-refused", &provider);
    let good = claims(&provider, "alice");
    assert_eq!(list(&provider.sign(&good), &gateway).0, 200, "the provider's key signs good claims");
    // Cognito's access tokens carry the client in `client_id`, and no `aud`.
    let mut access = good.clone();
    access.as_object_mut().unwrap().remove("aud");
    access["client_id"] = json!(CLIENT_ID);
    assert_eq!(list(&provider.sign(&access), &gateway).0, 200, "client_id names the client");

    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        claims
    };
    let refused = [
        ("expired", provider.sign(&with(&|c| c["exp"] = json!(now() - 300))), "expired"),
        ("another issuer", provider.sign(&with(&|c| c["iss"] = json!("http://127.0.0.1:1"))), "not valid"),
        ("another audience", provider.sign(&with(&|c| c["aud"] = json!("someone-else"))), "not valid"),
        ("no audience", provider.sign(&with(&|c| _ = c.as_object_mut().unwrap().remove("aud"))), "not valid"),
        (
            "another client_id",
            provider.sign(&with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
                c["client_id"] = json!("someone-else");
            })),
            "not valid",
        ),
        ("HS256 signed with the public key", provider.hs256_with_public_key(&good), "not valid"),
        ("alg none", provider.unsigned(&good), "does not look like"),
    ];
    for (what, token, told) in refused {
        let (status, body) = list(&token, &gateway);
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body.contains(told), "{what}: {body}");
    }
}

#[test]
fn the_provider_down_does_not_lock_out_holders_of_valid_tokens() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let gateway = start_gateway("oidc-down", &provider);
    let alice = provider.login("alice");
    assert_eq!(list(&alice, &gateway).0, 200);
    provider.stop();
    assert_eq!(list(&alice, &gateway).0, 200, "cached keys still verify");
    // A token naming a key the gateway does not hold makes it fetch, which
    // fails: the token is refused, and the keys held stay.
    provider.rotate();
    let unknown = provider.sign(&claims(&provider, "alice"));
    let (status, body) = list(&unknown, &gateway);
    assert_eq!(status, 401, "{body}");
    assert!(
        gateway.server.logged("cannot fetch the sign-in provider's keys", Duration::from_secs(10)),
        "{}",
        gateway.logs()
    );
    assert_eq!(list(&alice, &gateway).0, 200, "the keys held survive a failed fetch");
}

#[test]
fn a_gateway_started_while_the_provider_is_down_refuses_tokens_until_it_answers() {
    if !oidc::available() {
        return;
    }
    let mut provider = OidcProvider::start();
    let alice = provider.login("alice");
    provider.stop();
    let mut command = binary();
    let data = scratch_dir("oidc-start-down").join("data");
    command.args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--auth", "jwt"]);
    command.args(["--oidc-issuer", &provider.issuer, "--oidc-client-id", CLIENT_ID]).arg("--data-dir").arg(&data);
    let (server, banner) = Server::spawn_until(command, "presign-gateway listening on ", "  metrics:");
    let metrics = banner.last().unwrap().split_whitespace().nth(1).unwrap().trim_end_matches("/metrics").to_owned();
    let ready = || curl_status(&[&format!("{metrics}/readyz")]);
    let (status, body) = ready();
    assert_eq!((status, body.trim()), (503, "not ready: the sign-in provider's keys have not been fetched yet"));
    let bearer = format!("Authorization: Bearer {alice}");
    let (status, answer) = curl_status(&["--include", "-H", &bearer, &format!("{}/%2F", server.url)]);
    assert_eq!(status, 503, "no token is let in, none refused as invalid: {answer}");
    assert!(answer.contains("keys have not been fetched yet"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("\nretry-after: "), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("invalid_token"), "the token was not judged: {answer}");

    provider.restart();
    // The gateway tries again on its own (after 5 s, then 10 s, ...): wait for it to say so.
    let deadline = Instant::now() + Duration::from_secs(90);
    while ready().0 != 200 {
        assert!(Instant::now() < deadline, "never ready: {}", server.logs());
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, body) =
        curl_status(&["-H", &format!("Authorization: Bearer {alice}"), &format!("{}/%2F", server.url)]);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn sign_in_settings_are_checked_at_start() {
    let refused = |args: &[&str]| {
        let output = binary().arg("serve").args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?} started");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let plain = refused(&["--auth", "jwt", "--jwks-url", "http://login.example.com/jwks"]);
    assert!(plain.contains("--jwks-url / JWKS_URL") && plain.contains("https://"), "{plain}");
    let plain = refused(&["--auth", "jwt", "--oidc-issuer", "http://login.example.com"]);
    assert!(plain.contains("--oidc-issuer / OIDC_ISSUER"), "{plain}");
    let nobody = refused(&["--oidc-issuer", "https://login.example.com"]);
    assert!(nobody.contains("needs --auth jwt"), "{nobody}");
    let without_issuer = refused(&["--auth", "jwt", "--jwt-secret", &"s".repeat(32), "--oidc-client-id", "app"]);
    assert!(without_issuer.contains("--oidc-issuer"), "{without_issuer}");
    let both = refused(&["--auth", "jwt", "--jwks-url", "https://a.example/jwks", "--jwt-public-key", "k.pem"]);
    assert!(both.contains("cannot be used with"), "{both}");
}

/// The page in Chromium signs a visitor in through the provider's own forms
/// (Authorization Code with PKCE), uploads, renews its token with the refresh
/// token, survives a reload, signs out (tests/clients/page.py's `signin`).
#[test]
fn chromium_signs_in_through_the_provider_uploads_reloads_and_signs_out() {
    if !oidc::available() || !common::scripts::chromium_available() {
        return;
    }
    let _turn = common::scripts::browser_turn();
    let mut provider = OidcProvider::start();
    let gateway = start_gateway("oidc-page", &provider);
    provider.allow_redirect(&format!("{}/", gateway.url));
    provider.ask("ttl 75"); // the page renews its token a minute before it expires
    let scratch = scratch_dir("oidc-page-browser");
    let printed = common::scripts::run_script_with(
        "page.py",
        &["signin", scratch.to_str().unwrap(), &gateway.url, &provider.issuer],
        &[("PAGE_BROWSER", "chromium")],
    );
    print!("{printed}");
    assert!(printed.contains("result: {\"signin\": true}"), "{printed}");
    // The file went into ana's folder: ana's token lists it, and the gateway took no pasted token.
    let ana = provider.login("ana");
    let (status, listing) = call(&ana, &["-H", "Accept: application/json"], &gateway.at("/docs/"));
    assert_eq!(status, 200);
    assert!(listing.contains("docs/note.txt"), "{listing}");
}
