//! The headers a URL signs, canonicalised as SigV4 (and `aws-sigv4`) does:
//! names in lower case, sorted, `host` added unless given; values with their
//! outer spaces trimmed and runs of spaces made one; repeated names' values
//! joined by `,`; `x-amz-user-agent` left out of presigned URLs.
//!
//! Unlike `aws-sigv4`, which leaves `x-amz-checksum-mode` out of presigned
//! URLs too, a download that asks for checksums signs it: servers that sign
//! strictly (Garage) refuse it unsigned, and S3 takes it either way.

use std::borrow::Cow;

use super::SignError;

/// Headers presigned URLs leave out of the signature (as `aws-sigv4` does),
/// so a client may send them as it likes.
pub const LEFT_UNSIGNED: [&str; 1] = ["x-amz-user-agent"];

/// One signed header, normalised as SigV4 wants it.
struct Header<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

/// The headers to sign, sorted by name, and `host` unless given.
pub struct Headers<'a> {
    /// The headers given, sorted by name (stable: repeated names keep their order).
    sorted: Vec<Header<'a>>,
    /// The target's host, when no `host` header was given.
    host: Option<&'a str>,
    /// `content-length;host;...`: each name once, in order.
    names: Cow<'a, str>,
}

impl<'a> Headers<'a> {
    /// `content-length;host;...`: each name once, in order, as `X-Amz-SignedHeaders` lists them.
    pub fn names(&self) -> &str {
        &self.names
    }

    /// `given` headers and `metadata` (names without their `x-amz-meta-`).
    pub fn new(
        given: &'a [(&'static str, String)],
        metadata: &'a [(String, String)],
        host: &'a str,
    ) -> Result<Self, SignError> {
        let mut sorted = Vec::with_capacity(given.len() + metadata.len());
        for (name, value) in metadata {
            let mut name = format!("x-amz-meta-{name}");
            token(&name)?;
            name.make_ascii_lowercase();
            sorted.push(Header { name: name.into(), value: header_value(value)? });
        }
        for (name, value) in given {
            let name = lowercase(name)?;
            if LEFT_UNSIGNED.contains(&name.as_ref()) {
                continue;
            }
            sorted.push(Header { name, value: header_value(value)? });
        }
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let host = (!sorted.iter().any(|header| header.name == "host")).then_some(host);
        let mut headers = Self { sorted, host, names: Cow::Borrowed("host") };
        if !headers.sorted.is_empty() {
            let mut names = String::new();
            for (name, _, repeated) in headers.entries() {
                if !repeated {
                    if !names.is_empty() {
                        names.push(';');
                    }
                    names.push_str(name);
                }
            }
            headers.names = names.into();
        }
        Ok(headers)
    }

    /// Every header in order: name, value, and whether the name came just before.
    fn entries(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        let split = self.sorted.partition_point(|header| header.name.as_ref() < "host");
        let (before, after) = self.sorted.split_at(split);
        let all = before.iter().map(pair).chain(self.host.map(|host| ("host", host))).chain(after.iter().map(pair));
        let mut previous: Option<&str> = None;
        all.map(move |(name, value)| {
            let repeated = previous == Some(name);
            previous = Some(name);
            (name, value, repeated)
        })
    }

    /// `name:value\n` per name, repeated names' values joined by `,`, piece by piece to `put`.
    pub fn canonical(&self, mut put: impl FnMut(&str)) {
        let mut first = true;
        for (name, value, repeated) in self.entries() {
            if repeated {
                put(",");
            } else {
                if !first {
                    put("\n");
                }
                put(name);
                put(":");
            }
            put(value);
            first = false;
        }
        put("\n");
    }
}

fn pair<'h>(header: &'h Header<'_>) -> (&'h str, &'h str) {
    (header.name.as_ref(), header.value.as_ref())
}

/// Refuses a header name that is not an HTTP token.
fn token(name: &str) -> Result<(), SignError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(allowed) {
        return Err(SignError::HeaderName);
    }
    Ok(())
}

/// A header name in lower case, if it is one (a token: letters, digits, ``!#$%&'*+-.^_`|~``).
fn lowercase(name: &str) -> Result<Cow<'_, str>, SignError> {
    token(name)?;
    Ok(if name.bytes().any(|b| b.is_ascii_uppercase()) { name.to_ascii_lowercase().into() } else { name.into() })
}

/// A header value with its outer spaces trimmed and runs of spaces made one
/// (spaces only: S3 leaves tabs alone), if a header can carry it.
fn header_value(value: &str) -> Result<Cow<'_, str>, SignError> {
    if !value.bytes().all(|b| (b >= 32 && b != 127) || b == b'\t') {
        return Err(SignError::HeaderValue);
    }
    let trimmed = value.trim_matches(' ');
    if !trimmed.contains("  ") {
        return Ok(trimmed.into());
    }
    let mut collapsed = String::with_capacity(trimmed.len());
    let mut previous_space = false;
    for c in trimmed.chars() {
        let space = c == ' ';
        if !(space && previous_space) {
            collapsed.push(c);
        }
        previous_space = space;
    }
    Ok(collapsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_normalised_like_sigv4() {
        assert_eq!(header_value("  a   b  c ").unwrap(), "a b c");
        assert_eq!(header_value("\ta\t").unwrap(), "\ta\t");
        assert!(header_value("a\nb").is_err());
        assert!(lowercase("Content-MD5").is_ok_and(|n| n == "content-md5"));
        assert!(lowercase("bad name").is_err());
    }
}
