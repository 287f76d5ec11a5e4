//! The gateway URL a person types: taken only as an absolute `http://` or
//! `https://` URL (nothing else can reach a gateway, however often it is
//! tried), and when it is not one, the URL they most likely meant: a host
//! name gets `https://`, a local address `http://`, and a bare key the
//! local gateway's address in front.

use std::net::{Ipv4Addr, Ipv6Addr};

use reqwest::Url;

/// Where `serve` listens by default, for a destination that names no host.
const LOCAL_GATEWAY: &str = "http://127.0.0.1:3000";

/// A destination that is not a gateway URL, with the one it most likely meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a gateway URL: write it in full, such as {suggested}")]
pub struct NotAGatewayUrl {
    /// What was typed.
    pub given: String,
    /// The URL suggested instead.
    pub suggested: String,
}

/// The gateway URL in `text`.
///
/// # Errors
///
/// [`NotAGatewayUrl`] for anything but an `http://` or `https://` URL with a host.
pub fn parse_gateway_url(text: &str) -> Result<Url, NotAGatewayUrl> {
    let not_a_url = || NotAGatewayUrl { given: text.to_owned(), suggested: suggestion(text) };
    let url = Url::parse(text).map_err(|_| not_a_url())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(not_a_url());
    }
    Ok(url)
}

/// What the first segment of a destination names.
#[derive(Debug, PartialEq, Eq)]
enum Host {
    /// `localhost`, an IP address, or a bare name with a port: plain HTTP, as `serve` speaks.
    Local,
    /// A dotted host name such as `files.example.com`: a deployed gateway, behind TLS.
    Named,
    /// Not a host: the text is a key.
    Key,
}

fn suggestion(text: &str) -> String {
    let text = text.trim();
    // Another scheme (`ftp://`, `s3://`) or a broken one: judge what follows it.
    let text = text.split_once("://").map_or(text, |(_, rest)| rest);
    let (first, path) = match text.split_once('/') {
        Some((first, _)) => (first, true),
        None => (text, false),
    };
    match host(first, path) {
        Host::Local => format!("http://{text}"),
        Host::Named => format!("https://{text}"),
        Host::Key => format!("{LOCAL_GATEWAY}/{}", text.trim_start_matches('/')),
    }
}

/// What `first` names; `path` says whether a `/` follows it, without which a
/// dotted name such as `report.pdf` is taken for a key, not a host.
fn host(first: &str, path: bool) -> Host {
    if let Some(v6) = first.strip_prefix('[') {
        let address = v6.split_once(']').map_or(v6, |(address, _)| address);
        return if address.parse::<Ipv6Addr>().is_ok() { Host::Local } else { Host::Key };
    }
    let (name, port) = match first.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => (name, true),
        _ => (first, false),
    };
    if name.eq_ignore_ascii_case("localhost") || name.parse::<Ipv4Addr>().is_ok() {
        return Host::Local;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let label = |l: &&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !labels.iter().all(label) {
        return Host::Key;
    }
    let top_level = labels.last().is_some_and(|l| l.len() >= 2 && l.bytes().all(|b| b.is_ascii_alphabetic()));
    match (labels.len(), port) {
        (1, true) => Host::Local,
        (2.., _) if top_level && (path || port) => Host::Named,
        _ => Host::Key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_taken_as_they_are() {
        for url in ["http://127.0.0.1:3000/x.bin", "https://files.example.com/a/b?token=t"] {
            assert_eq!(parse_gateway_url(url).unwrap().as_str(), url);
        }
    }

    #[test]
    fn each_kind_of_destination_gets_the_url_it_most_likely_meant() {
        for (given, suggested) in [
            ("files.example.com/x", "https://files.example.com/x"),
            ("FILES.example.com:8443/a/b.bin", "https://FILES.example.com:8443/a/b.bin"),
            ("files.example.com:8443", "https://files.example.com:8443"),
            ("ftp://files.example.com/x", "https://files.example.com/x"),
            ("localhost:3000/x.bin", "http://localhost:3000/x.bin"),
            ("LOCALHOST/x.bin", "http://LOCALHOST/x.bin"),
            ("127.0.0.1:3000/x.bin", "http://127.0.0.1:3000/x.bin"),
            ("[::1]:3000/x.bin", "http://[::1]:3000/x.bin"),
            ("gateway:3000/x", "http://gateway:3000/x"),
            ("reports/q3.pdf", "http://127.0.0.1:3000/reports/q3.pdf"),
            ("report.pdf", "http://127.0.0.1:3000/report.pdf"),
            ("archive.tar.gz", "http://127.0.0.1:3000/archive.tar.gz"),
            ("/x.bin", "http://127.0.0.1:3000/x.bin"),
            ("v1.2/notes", "http://127.0.0.1:3000/v1.2/notes"),
            ("my files/x", "http://127.0.0.1:3000/my files/x"),
        ] {
            let error = parse_gateway_url(given).expect_err(given);
            assert_eq!(error.suggested, suggested, "{given}");
            assert_eq!(
                error.to_string(),
                format!("`{given}` is not a gateway URL: write it in full, such as {suggested}")
            );
        }
    }
}
