//! DNS rebinding: a website points its own name at 127.0.0.1 and, being
//! same-origin with the local gateway, reads what it lists. Its requests
//! carry its name as `Host`, which the gateway does not answer to.

use crate::common::{Gateway, curl_status, gateway_with_metrics};

fn status_with_host(url: &str, host: &str) -> (u16, String) {
    curl_status(&["-H", &format!("Host: {host}"), url])
}

#[test]
fn a_rebound_name_gets_421_on_the_gateway_and_metrics_ports() {
    let (_server, gateway, metrics) = gateway_with_metrics("rebinding", &[]);
    let port = gateway.rsplit(':').next().unwrap().to_owned();
    let listing = format!("{gateway}/?list");
    for host in ["evil.example", &format!("evil.example:{port}"), "127.0.0.1.evil.example"] {
        let (status, body) = status_with_host(&listing, host);
        assert_eq!(status, 421, "{host}: {body}");
        assert!(body.contains("--allowed-hosts"), "the reason names the fix: {body}");
        assert_eq!(status_with_host(&format!("{metrics}/metrics"), host).0, 421, "{host} on the metrics port");
    }
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}"), "LocalHost".into()]
    {
        assert_eq!(status_with_host(&listing, &host).0, 200, "{host}");
    }
}

#[test]
fn names_the_operator_gives_are_answered() {
    let flags = ["--allowed-hosts", "files.example,Other.Example", "--base-url", "https://gw.example.org/prod"];
    let gateway = Gateway::start("rebinding-allowed", &flags);
    let listing = gateway.at("?list");
    for host in ["files.example", "other.example:8443", "gw.example.org"] {
        assert_eq!(status_with_host(&listing, host).0, 200, "{host}");
    }
    assert_eq!(status_with_host(&listing, "evil.example").0, 421);
    let refused = Gateway::try_start("rebinding-bad-entry", &["--allowed-hosts", "https://files.example"]);
    let failure = refused.err().expect("a URL is not a host name");
    assert!(failure.contains("--allowed-hosts / ALLOWED_HOSTS entry `https://files.example`"), "{failure}");
}
