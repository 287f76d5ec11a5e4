//! Object keys: the one place where a request path becomes a storage key.
//!
//! Validation here is also what keeps the embedded store's disk safe: it maps
//! keys to files, so a `..` segment that got through would write outside the
//! bucket's folder.

use std::fmt;

/// S3's limit on the length of a key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Why a path cannot be an object key. Each message is one line a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Nothing after the leading `/`.
    #[error("the key is empty: name a file, as in /reports/2024.pdf")]
    Empty,
    /// A `%` not followed by two hex digits.
    #[error("the path has a malformed percent-escape: send a literal % as %25")]
    MalformedEscape,
    /// The bytes after decoding are not UTF-8.
    #[error("the key is not valid UTF-8 once percent-decoded")]
    InvalidUtf8,
    /// `a//b`, a leading or a trailing `/`.
    #[error("the key has an empty path segment (`//`, or a `/` at the start or end)")]
    EmptySegment,
    /// `.` or `..`, raw or encoded.
    #[error("the key has a `.` or `..` segment")]
    DotSegment,
    /// Windows separators are refused so no store can read them as one.
    #[error("the key contains a backslash")]
    Backslash,
    /// NUL, DEL and every other control character.
    #[error("the key contains a control character")]
    ControlCharacter,
    /// Under `--auth none`, a key in the tenants' folder, which holds the
    /// files of the tenants a signed-in gateway on the same bucket serves.
    #[error("`{0}` holds the files of signed-in tenants, which a gateway with --auth none does not reach")]
    TenantsFolder(String),
    /// A key in the folder where the gateway keeps renditions.
    #[error("`_renditions/` is where the gateway keeps renditions: choose another name")]
    Reserved,
    /// Over [`MAX_KEY_BYTES`], the prefix included.
    #[error("the key is {0} bytes long; the limit is {MAX_KEY_BYTES}")]
    TooLong(usize),
}

/// A validated object key: UTF-8, 1 to 1024 bytes, made of non-empty segments
/// that are neither `.` nor `..`, free of backslashes and control characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

/// The first segment no key may have: renditions live there (in `--auth
/// none`'s scope it is the renditions' own folder; for tenants it is refused
/// alike, so one rule holds everywhere).
pub const RESERVED: &str = "_renditions";

/// Decodes a path as it travels on the wire (percent-encoded) exactly once,
/// dropping one leading `/`, so `/a/b` names `a/b`.
pub fn decode_path(path: &str) -> Result<String, KeyError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    check_escapes(path)?;
    let bytes = percent_encoding::percent_decode_str(path).collect::<Vec<u8>>();
    String::from_utf8(bytes).map_err(|_| KeyError::InvalidUtf8)
}

impl ObjectKey {
    /// Decodes a path as it travels on the wire (percent-encoded) exactly once.
    /// One leading `/` is dropped, so `/a/b` names the key `a/b`.
    pub fn from_encoded_path(path: &str) -> Result<Self, KeyError> {
        Self::new(decode_path(path)?)
    }

    /// Takes a key that a front door has already decoded (for example an API
    /// Gateway path parameter), so it must not be decoded again.
    pub fn from_decoded_path(path: &str) -> Result<Self, KeyError> {
        Self::new(path.strip_prefix('/').unwrap_or(path).to_owned())
    }

    /// Validates a decoded key.
    pub fn new(key: String) -> Result<Self, KeyError> {
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        check_segments(&key)?;
        if key.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong(key.len()));
        }
        Ok(Self(key))
    }

    /// The key as S3 stores it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment: what a browser should call the file it saves.
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A folder as the client names it, to list: the top level (empty), or valid
/// segments ending in `/`, such as `photos/2024/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder(String);

impl Folder {
    /// Whether a decoded path names a folder rather than a key: it is empty
    /// (the top level) or ends in `/`.
    #[must_use]
    pub fn is_folder(path: &str) -> bool {
        path.is_empty() || path.ends_with('/')
    }

    /// Validates a decoded folder path. `/` alone is the top level too: the
    /// spelling `/%2F` reaches it through routes that only match a path with
    /// something after the `/` (API Gateway's `{proxy+}`).
    pub fn new(path: String) -> Result<Self, KeyError> {
        if path == "/" {
            return Ok(Self::default());
        }
        if let Some(segments) = path.strip_suffix('/') {
            check_segments(segments)?;
        } else if !path.is_empty() {
            return Err(KeyError::EmptySegment);
        }
        if path.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong(path.len()));
        }
        Ok(Self(path))
    }

    /// The folder, with its trailing `/`, or the empty string for the top level.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A folder every key is placed under, from configuration: empty, or valid
/// segments ending in `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Accepts `uploads`, `uploads/` or `a/b/`; the empty string means no prefix.
    pub fn new(prefix: &str) -> Result<Self, KeyError> {
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        if trimmed.is_empty() {
            return Ok(Self::default());
        }
        check_segments(trimmed)?;
        Ok(Self(format!("{trimmed}/")))
    }

    /// Places `key` under this prefix; fails when the result is too long.
    pub fn apply(&self, key: &ObjectKey) -> Result<ObjectKey, KeyError> {
        if self.0.is_empty() {
            return Ok(key.clone());
        }
        let full = format!("{}{}", self.0, key.0);
        if full.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong(full.len()));
        }
        Ok(ObjectKey(full))
    }

    /// The prefix with its trailing `/`, or the empty string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Written here because `percent-encoding` decodes a malformed `%` as a
/// literal, where a key must be refused rather than guessed at.
fn check_escapes(path: &str) -> Result<(), KeyError> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'%') {
        let at = i + offset;
        let well_formed = bytes.get(at + 1..at + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        if !well_formed {
            return Err(KeyError::MalformedEscape);
        }
        i = at + 3;
    }
    Ok(())
}

fn check_segments(key: &str) -> Result<(), KeyError> {
    if key.contains('\\') {
        return Err(KeyError::Backslash);
    }
    if key.chars().any(char::is_control) {
        return Err(KeyError::ControlCharacter);
    }
    if key.split('/').next() == Some(RESERVED) {
        return Err(KeyError::Reserved);
    }
    for segment in key.split('/') {
        match segment {
            "" => return Err(KeyError::EmptySegment),
            "." | ".." => return Err(KeyError::DotSegment),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table the browser module's `checkKey` runs too (tests/web), so
    /// both refuse the same keys with the same words.
    #[test]
    fn the_shared_key_rules_hold() {
        let table: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/key-rules.json")).expect("tests/data/key-rules.json");
        let cases = table["cases"].as_array().expect("cases");
        assert!(cases.len() > 20);
        for case in cases {
            let key = case["key"].as_str().expect("key");
            let refused = ObjectKey::new(key.to_owned()).err().map(|e| e.to_string());
            assert_eq!(refused.as_deref(), case["refused"].as_str(), "{key:?}");
        }
    }

    fn encoded(path: &str) -> Result<String, KeyError> {
        ObjectKey::from_encoded_path(path).map(|k| k.0)
    }

    #[test]
    fn decodes_exactly_once() {
        let cases = [
            ("/a.txt", "a.txt"),
            ("/deep/er/path/f.bin", "deep/er/path/f.bin"),
            ("/with%20space.txt", "with space.txt"),
            ("/plus+sign.txt", "plus+sign.txt"),
            ("/percent%25.txt", "percent%.txt"),
            ("/hash%23tag", "hash#tag"),
            ("/q%3Fmark", "q?mark"),
            ("/caf%C3%A9/%E6%97%A5%E6%9C%AC.txt", "café/日本.txt"),
            ("/b%2520c.txt", "b%20c.txt"),
            ("/%252e%252e/x", "%2e%2e/x"),
            ("/a%2Fb", "a/b"),
            ("/~tilde", "~tilde"),
            ("/..a/b..", "..a/b.."),
            ("/\u{ff0e}\u{ff0e}/x", "\u{ff0e}\u{ff0e}/x"),
        ];
        for (path, key) in cases {
            assert_eq!(encoded(path).as_deref(), Ok(key), "{path}");
        }
    }

    #[test]
    fn refuses_bad_paths() {
        let long = format!("/{}", "k".repeat(MAX_KEY_BYTES + 1));
        let cases = [
            ("/", KeyError::Empty),
            ("", KeyError::Empty),
            ("/a//b", KeyError::EmptySegment),
            ("//a", KeyError::EmptySegment),
            ("/a/", KeyError::EmptySegment),
            ("/a%2F%2Fb", KeyError::EmptySegment),
            ("/a/./b", KeyError::DotSegment),
            ("/../etc/passwd", KeyError::DotSegment),
            ("/a/%2e%2e/b", KeyError::DotSegment),
            ("/a/%2E%2e", KeyError::DotSegment),
            ("/..%2f..%2fetc", KeyError::DotSegment),
            ("/%2e", KeyError::DotSegment),
            ("/a%5cb", KeyError::Backslash),
            ("/a\\b", KeyError::Backslash),
            ("/nul%00", KeyError::ControlCharacter),
            ("/tab%09", KeyError::ControlCharacter),
            ("/del%7f", KeyError::ControlCharacter),
            ("/c1%C2%85", KeyError::ControlCharacter),
            ("/bad%ff", KeyError::InvalidUtf8),
            ("/half%C3", KeyError::InvalidUtf8),
            ("/100%", KeyError::MalformedEscape),
            ("/%zz", KeyError::MalformedEscape),
            ("/%4", KeyError::MalformedEscape),
            (long.as_str(), KeyError::TooLong(MAX_KEY_BYTES + 1)),
        ];
        for (path, error) in cases {
            assert_eq!(encoded(path), Err(error), "{path:?}");
        }
    }

    #[test]
    fn longest_key_is_accepted() {
        let path = format!("/{}", "k".repeat(MAX_KEY_BYTES));
        assert!(encoded(&path).is_ok());
    }

    #[test]
    fn decoded_paths_are_not_decoded_again() {
        let key = ObjectKey::from_decoded_path("/b%20c.txt").unwrap();
        assert_eq!(key.as_str(), "b%20c.txt");
        assert_eq!(ObjectKey::from_decoded_path("a/../b"), Err(KeyError::DotSegment));
    }

    #[test]
    fn file_name_is_the_last_segment() {
        assert_eq!(encoded("/a/b/report.pdf").map(|k| ObjectKey(k).file_name().to_owned()).unwrap(), "report.pdf");
    }

    #[test]
    fn folders_are_the_top_level_or_end_in_a_slash() {
        assert!(Folder::is_folder("") && Folder::is_folder("a/") && !Folder::is_folder("a"));
        assert_eq!(Folder::new(String::new()).unwrap().as_str(), "");
        assert_eq!(Folder::new("photos/2024/".into()).unwrap().as_str(), "photos/2024/");
        assert_eq!(Folder::new("a//".into()), Err(KeyError::EmptySegment));
        assert_eq!(Folder::new("../".into()), Err(KeyError::DotSegment));
        assert_eq!(Folder::new("a".into()), Err(KeyError::EmptySegment));
        assert_eq!(Folder::new("/".into()).unwrap().as_str(), "", "/%2F spells the top level");
    }

    #[test]
    fn prefix_is_normalised_and_applied() {
        let key = ObjectKey::from_encoded_path("/f.txt").unwrap();
        assert_eq!(KeyPrefix::new("").unwrap().apply(&key).unwrap().as_str(), "f.txt");
        assert_eq!(KeyPrefix::new("up").unwrap().apply(&key).unwrap().as_str(), "up/f.txt");
        assert_eq!(KeyPrefix::new("up/loads/").unwrap().apply(&key).unwrap().as_str(), "up/loads/f.txt");
        assert_eq!(KeyPrefix::new("../x"), Err(KeyError::DotSegment));
        assert_eq!(KeyPrefix::new("a//b"), Err(KeyError::EmptySegment));
        let long = ObjectKey::new("k".repeat(MAX_KEY_BYTES)).unwrap();
        assert_eq!(KeyPrefix::new("p").unwrap().apply(&long), Err(KeyError::TooLong(MAX_KEY_BYTES + 2)));
    }
}
