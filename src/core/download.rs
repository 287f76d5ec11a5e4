//! What a download looks like to a browser: its `Content-Type` and, when asked
//! for, an RFC 6266 `Content-Disposition`. Both travel as S3's `response-*`
//! overrides in the presigned URL, so storage sends them itself.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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

/// The type a browser should see for `file_name`, or `None` when its extension
/// says nothing, so storage answers with the type the uploader gave (or its
/// own default).
#[must_use]
pub fn content_type_for(file_name: &str) -> Option<String> {
    // The table's own string, lowercased as `Mime` would have it, without
    // parsing it into one, and the extension found as `Path` finds it.
    mime_guess::from_ext(extension(file_name)?).first_raw().map(str::to_ascii_lowercase)
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
        assert_eq!(content_type_for("index.html").as_deref(), Some("text/html"));
        assert_eq!(content_type_for("notes.txt").as_deref(), Some("text/plain"));
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
