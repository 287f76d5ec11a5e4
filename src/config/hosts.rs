//! The `Host` names the gateway answers to, against DNS rebinding: a website
//! a user visits can point its own name at `127.0.0.1` and, being then
//! same-origin with it, read what a local gateway with `--auth none` lists.
//! Its requests carry its own name as `Host`, so the local server answers
//! only IP literals, `localhost`, the `--base-url` host and `--allowed-hosts`.
//! Inside Lambda the check is on only when `ALLOWED_HOSTS` is set: an ALB
//! forwards any `Host`, and a function on AWS is not on anyone's loopback.

use http::uri::Authority;

use super::ConfigError;

/// Host names a request's `Host` may carry, besides IP literals and `localhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl AllowedHosts {
    /// `names` (host names, no ports), lowercased, with `base_url`'s host.
    ///
    /// # Errors
    /// [`ConfigError::AllowedHost`] for an entry that is not a host name.
    pub fn new(names: &[String], base_url: Option<&str>) -> Result<Self, ConfigError> {
        let mut allowed = Vec::new();
        for name in names.iter().map(|name| name.trim()).filter(|name| !name.is_empty()) {
            let valid = name.len() <= 253
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                && !name.starts_with(['.', '-']);
            if !valid {
                return Err(ConfigError::AllowedHost(name.to_owned()));
            }
            allowed.push(name.to_ascii_lowercase());
        }
        let base_host =
            base_url.and_then(|url| url.parse::<http::Uri>().ok()).and_then(|uri| uri.host().map(str::to_owned));
        allowed.extend(base_host.map(|host| host.to_ascii_lowercase()));
        Ok(Self { names: allowed })
    }

    /// Whether a request with this `Host` header is answered. A request
    /// without one is: browsers always send it, so rebinding cannot omit it.
    #[must_use]
    pub fn admits(&self, host: Option<&[u8]>) -> bool {
        let Some(host) = host else { return true };
        let Some(name) = std::str::from_utf8(host).ok().and_then(|host| host.parse::<Authority>().ok()) else {
            return false;
        };
        if name.as_str().contains('@') {
            return false;
        }
        let name = name.host().trim_end_matches('.');
        name.eq_ignore_ascii_case("localhost")
            || name.parse::<std::net::Ipv4Addr>().is_ok()
            || name
                .strip_prefix('[')
                .and_then(|v6| v6.strip_suffix(']'))
                .is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok())
            || self.names.iter().any(|allowed| allowed.eq_ignore_ascii_case(name))
    }

    /// The names, for messages.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_localhost_and_named_hosts_are_answered() {
        let hosts = AllowedHosts::new(&["Files.Example.com".into()], Some("https://gw.example.org/prod")).unwrap();
        for good in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:3000",
            "localhost:3000",
            "LOCALHOST",
            "localhost.",
            "files.example.com",
            "files.example.com:8443",
            "gw.example.org",
        ] {
            assert!(hosts.admits(Some(good.as_bytes())), "{good}");
        }
        for bad in [
            "evil.example",
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "files.example.com.evil.example",
            "[::1.evil]",
            "",
            "a@127.0.0.1",
            "\u{ff}",
        ] {
            assert!(!hosts.admits(Some(bad.as_bytes())), "{bad}");
        }
        assert!(hosts.admits(None), "HTTP/1.0 sends no Host; a browser always does");
    }

    #[test]
    fn an_entry_must_be_a_host_name() {
        for bad in ["files.example.com:443", "https://files.example.com", "*.example.com", ".example.com", "a b"] {
            assert!(AllowedHosts::new(&[bad.into()], None).is_err(), "{bad}");
        }
        let hosts = AllowedHosts::new(&[" a.example ".into(), String::new()], None).unwrap();
        assert_eq!(hosts.names(), ["a.example"]);
    }
}
