//! What a download looks like to a browser: its `Content-Type`, an RFC 6266
//! `Content-Disposition` (an attachment when asked for or when the type
//! could run script, else [`INLINE`]) and [`CACHE_CONTROL`]. They travel as
//! S3's `response-*` overrides in the presigned URL, so storage sends them
//! itself, whatever the uploader stored with the object.
//!
//! Storage serves every tenant's files from one origin, so a file a browser
//! renders there could script against all of them (stored cross-site
//! scripting). Only types that cannot run script open in place: images but
//! SVG, audio, video, PDF and plain text, and what the operator adds
//! ([`InlineTypes`]). Everything else, and every key whose extension names no
//! type (storage would answer with whatever type the uploader claimed), is
//! saved as an attachment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::media::{self, MediaTypes};

/// The `Content-Disposition` of a download that may open in place: no name
/// an uploader chose (`Invoice.pdf.exe`) reaches the browser.
pub const INLINE: &str = "inline";

/// The `Cache-Control` of every download: a browser may keep it but asks
/// storage again before each use (a key can be overwritten), and no shared
/// cache keeps it, whatever the uploader stored (`public, max-age=31536000,
/// immutable`). Each presigned URL is new anyway, so no cache hit is lost.
pub const CACHE_CONTROL: &str = "private, no-cache";

/// Longest file name a `?download=` may ask for, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Why a `?download=` name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// `/` or `\` would make browsers drop or rewrite part of the name.
    #[error("the download name must not contain `/` or `\\`")]
    Separator,
    /// Control characters cannot be shown or saved portably.
    #[error("the download name contains a control character")]
    ControlCharacter,
    /// Longer than file systems allow.
    #[error("the download name is longer than {MAX_FILE_NAME_BYTES} bytes")]
    TooLong,
}

/// Media types that may open in the browser: the safe defaults, and the
/// operator's additions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InlineTypes(MediaTypes);

impl InlineTypes {
    /// The operator's additions to the safe defaults.
    #[must_use]
    pub fn with(additions: MediaTypes) -> Self {
        Self(additions)
    }

    /// Whether `media_type` may open in the browser.
    #[must_use]
    pub fn allows(&self, media_type: &str) -> bool {
        let essence = media::essence(media_type);
        let (kind, sub) = essence.split_once('/').unwrap_or((&essence, ""));
        let safe = match kind {
            "image" => !sub.contains("svg"),
            "audio" | "video" => true,
            _ => matches!(essence.as_str(), "application/pdf" | "text/plain"),
        };
        safe || self.0.contains(&essence)
    }
}

/// The type a browser should see for `file_name`, or `None` when its extension
/// says nothing, so storage answers with the type the uploader gave (or its
/// own default). Text is said to be UTF-8, which it nearly always is: without
/// a charset a browser reads `café` as `cafÃ©`.
#[must_use]
pub fn content_type_for(file_name: &str) -> Option<String> {
    // The table's own string, lowercased as `Mime` would have it, without
    // parsing it into one, and the extension found as `Path` finds it.
    let essence = mime_guess::from_ext(extension(file_name)?).first_raw()?.to_ascii_lowercase();
    Some(if essence.starts_with("text/") { essence + "; charset=utf-8" } else { essence })
}

/// What follows a file name's last `.`, unless the name only starts with one
/// (`.bashrc`): `Path::extension` for a single path segment.
fn extension(file_name: &str) -> Option<&str> {
    let (stem, extension) = file_name.rsplit_once('.')?;
    (!stem.is_empty()).then_some(extension)
}

/// Checks a file name the client asked the download to be saved as.
pub fn check_file_name(name: &str) -> Result<(), FileNameError> {
    if name.contains(['/', '\\']) {
        return Err(FileNameError::Separator);
    }
    if name.chars().any(char::is_control) {
        return Err(FileNameError::ControlCharacter);
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(FileNameError::TooLong);
    }
    Ok(())
}

/// RFC 8187 `attr-char`: everything else is percent-encoded in `filename*`.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="…"`, with `filename*=UTF-8''…` when the name is not
/// plain printable ASCII (RFC 6266 §4.3: old clients read the first, new
/// ones prefer the second).
#[must_use]
pub fn attachment(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    if fallback == file_name {
        format!("attachment; filename=\"{fallback}\"")
    } else {
        let encoded = utf8_percent_encode(file_name, ATTR_CHAR_ESCAPES);
        format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_extension() {
        assert_eq!(content_type_for("photo.JPG").as_deref(), Some("image/jpeg"));
        assert_eq!(content_type_for("index.html").as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(content_type_for("notes.txt").as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(content_type_for("archive.tar.gz").as_deref(), Some("application/gzip"));
        assert_eq!(content_type_for("README"), None);
        assert_eq!(content_type_for("blob.qqqzz"), None);
        for name in ["a.txt", "a.tar.gz", ".bashrc", "..x", "file.", "noext", ".", "a.b.", "é.PDF", ".a.b"] {
            assert_eq!(extension(name), std::path::Path::new(name).extension().and_then(|e| e.to_str()), "{name}");
        }
        // Mixed case in the table is lowered as a parsed `Mime` would be.
        for name in ["a.xlam", "a.docm", "a.xlsb", "a.pdf", "a.svg", "a.webp", "a.mp4", "a.json", "a.7z", "a.wasm"] {
            let parsed = mime_guess::from_path(name).first().map(|mime| mime.essence_str().to_owned());
            assert_eq!(content_type_for(name), parsed, "{name}");
        }
    }

    #[test]
    fn only_types_that_run_no_script_open_in_place() {
        let defaults = InlineTypes::default();
        for safe in ["image/jpeg", "image/png", "IMAGE/GIF", "audio/mpeg", "video/mp4", "application/pdf", "text/plain"]
        {
            assert!(defaults.allows(safe), "{safe}");
        }
        let active = [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "application/xml",
            "text/javascript",
            "application/javascript",
            "application/json",
            "text/css",
            "application/octet-stream",
        ];
        for active in active {
            assert!(!defaults.allows(active), "{active}");
        }
        let operator = InlineTypes::with(MediaTypes::parse(&["application/json".into(), " text/* ".into()]).unwrap());
        assert!(
            operator.allows("application/json") && operator.allows("text/html") && !operator.allows("image/svg+xml")
        );
        assert!(defaults.allows("text/plain; charset=utf-8"));
    }

    #[test]
    fn ascii_names_need_no_extended_form() {
        assert_eq!(attachment("report 2024.pdf"), "attachment; filename=\"report 2024.pdf\"");
    }

    #[test]
    fn other_names_get_a_fallback_and_an_encoded_form() {
        assert_eq!(
            attachment("café \"menu\".pdf"),
            "attachment; filename=\"caf_ _menu_.pdf\"; filename*=UTF-8''caf%C3%A9%20%22menu%22.pdf"
        );
        assert_eq!(attachment("日本.txt"), "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt");
        assert_eq!(attachment("a;b.txt"), "attachment; filename=\"a;b.txt\"");
    }

    #[test]
    fn download_names_are_checked() {
        assert_eq!(check_file_name("ok name.txt"), Ok(()));
        assert_eq!(check_file_name("../x"), Err(FileNameError::Separator));
        assert_eq!(check_file_name("a\\b"), Err(FileNameError::Separator));
        assert_eq!(check_file_name("a\nb"), Err(FileNameError::ControlCharacter));
        assert_eq!(check_file_name(&"n".repeat(256)), Err(FileNameError::TooLong));
    }
}
