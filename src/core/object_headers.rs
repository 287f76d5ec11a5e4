//! Headers an upload stores with the object that shape every later answer
//! for it: `Cache-Control`, `Content-Disposition`, `Content-Encoding`,
//! `Content-Language` and `Expires`. Set unsigned by whoever holds an upload
//! URL, they would make the owner's downloads save as `Invoice.pdf.exe` or
//! sit a year in shared caches. So the gateway signs those the uploader sends
//! it (checked here), the embedded store refuses them unsigned, and every
//! download pins the two that matter most through response overrides
//! ([`super::presign`]), which also holds on AWS S3, where they need no
//! signature.

use http::HeaderMap;

/// The headers an object keeps, lower case, in the order they are signed.
pub const OBJECT_HEADERS: [&str; 5] =
    ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/// The longest value accepted: a `Content-Disposition` with a 255-byte name
/// in both its plain and its percent-encoded form fits with room to spare.
pub const MAX_OBJECT_HEADER_BYTES: usize = 1024;

/// A header refused, by name, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedHeader(pub &'static str, pub ObjectHeaderError);

/// Why such a header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ObjectHeaderError {
    /// Tabs and other controls: SigV4 implementations disagree on them, and
    /// browsers read them differently.
    #[error("must not contain control characters")]
    ControlCharacter,
    /// Bytes past ASCII, which header values cannot carry portably.
    #[error("must be ASCII text (use RFC 8187's `filename*=UTF-8''…` for other names)")]
    NotAscii,
    /// Longer than any sensible value.
    #[error("is longer than {MAX_OBJECT_HEADER_BYTES} bytes")]
    TooLong,
    /// Storage would keep one of several values.
    #[error("is sent more than once: send one value")]
    Repeated,
}

/// The headers a request carries for the object to keep.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObjectHeaders<'a>(Option<&'a HeaderMap>);

impl<'a> ObjectHeaders<'a> {
    /// Those among `headers`.
    #[must_use]
    pub fn of(headers: &'a HeaderMap) -> Self {
        Self(Some(headers))
    }

    /// Each one sent, checked, as `(name, value)` with the value trimmed.
    ///
    /// # Errors
    /// [`RefusedHeader`] for one sent twice or not fit to sign.
    pub fn declared(self) -> Result<Vec<(&'static str, String)>, RefusedHeader> {
        let Some(headers) = self.0 else { return Ok(Vec::new()) };
        let mut declared = Vec::new();
        for name in OBJECT_HEADERS {
            let mut values = headers.get_all(name).iter();
            let Some(value) = values.next() else { continue };
            let refused = |error| RefusedHeader(name, error);
            if values.next().is_some() {
                return Err(refused(ObjectHeaderError::Repeated));
            }
            declared.push((name, check(value.as_bytes()).map_err(refused)?));
        }
        Ok(declared)
    }
}

/// A value as it is signed and stored: trimmed, printable ASCII, short.
fn check(value: &[u8]) -> Result<String, ObjectHeaderError> {
    if value.iter().any(u8::is_ascii_control) {
        return Err(ObjectHeaderError::ControlCharacter);
    }
    let text = std::str::from_utf8(value).ok().filter(|text| text.is_ascii()).ok_or(ObjectHeaderError::NotAscii)?;
    let text = text.trim();
    if text.len() > MAX_OBJECT_HEADER_BYTES {
        return Err(ObjectHeaderError::TooLong);
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn declared(pairs: &[(&'static str, &[u8])]) -> Result<Vec<(&'static str, String)>, RefusedHeader> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        ObjectHeaders::of(&headers).declared()
    }

    #[test]
    fn object_headers_are_taken_in_order_and_trimmed() {
        assert_eq!(ObjectHeaders::default().declared(), Ok(vec![]));
        assert_eq!(declared(&[("content-type", b"text/plain")]), Ok(vec![]));
        let sent: [(&'static str, &[u8]); 5] = [
            ("expires", b"Wed, 21 Oct 2026 07:28:00 GMT"),
            ("content-disposition", b" attachment; filename=\"a.pdf\" "),
            ("cache-control", b"no-cache"),
            ("content-language", b"fr"),
            ("content-encoding", b"gzip"),
        ];
        assert_eq!(
            declared(&sent),
            Ok(vec![
                ("cache-control", "no-cache".into()),
                ("content-disposition", "attachment; filename=\"a.pdf\"".into()),
                ("content-encoding", "gzip".into()),
                ("content-language", "fr".into()),
                ("expires", "Wed, 21 Oct 2026 07:28:00 GMT".into()),
            ])
        );
    }

    #[test]
    fn object_headers_are_one_short_line_of_ascii() {
        let refused = |name, error| Err(RefusedHeader(name, error));
        let long = "a".repeat(MAX_OBJECT_HEADER_BYTES + 1);
        let cases: [(&'static str, &[u8], _); 4] = [
            (
                "content-disposition",
                b"attachment;\tfilename=x",
                refused("content-disposition", ObjectHeaderError::ControlCharacter),
            ),
            (
                "content-disposition",
                "attachment; filename=\"é\"".as_bytes(),
                refused("content-disposition", ObjectHeaderError::NotAscii),
            ),
            ("cache-control", long.as_bytes(), refused("cache-control", ObjectHeaderError::TooLong)),
            ("expires", &[b'x', 0xff], refused("expires", ObjectHeaderError::NotAscii)),
        ];
        for (name, value, expected) in cases {
            assert_eq!(declared(&[(name, value)]), expected, "{name}");
        }
        let at_limit = "a".repeat(MAX_OBJECT_HEADER_BYTES);
        assert!(declared(&[("cache-control", at_limit.as_bytes())]).is_ok());
        assert_eq!(
            declared(&[("cache-control", b"no-cache"), ("cache-control", b"public")]),
            refused("cache-control", ObjectHeaderError::Repeated)
        );
    }
}
