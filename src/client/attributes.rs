//! What an uploaded object is created with besides its bytes: its type
//! (given, else its file's extension's, which a type rule then checks) and
//! its `x-amz-meta-*` metadata, percent-encoded where not plain ASCII as the
//! page's module does, so either reads what the other wrote.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName};

use super::upload::UploadOptions;
use super::{ClientError, header};
use crate::core::download::content_type_for;

impl UploadOptions {
    /// The object's own headers: its type (given, else its file's
    /// extension's), its metadata (percent-encoded where not plain ASCII, as
    /// the page's module does), and its SHA-256 when one was computed.
    pub(super) fn object_headers(&self, sha256: Option<&str>) -> Result<HeaderMap, ClientError> {
        let mut headers = HeaderMap::new();
        let file_name = || std::path::Path::new(&self.source).file_name()?.to_str();
        let from_extension = || (self.source != "-").then(|| content_type_for(file_name()?)).flatten();
        if let Some(content_type) = self.content_type.clone().or_else(from_extension) {
            headers.insert(CONTENT_TYPE, header(&content_type)?);
        }
        for (name, value) in &self.metadata {
            let name = HeaderName::try_from(format!("x-amz-meta-{}", name.to_ascii_lowercase()))
                .map_err(|_| ClientError::Usage(format!("--meta {name}: not a metadata name")))?;
            headers.insert(name, header(&encode_metadata(value))?);
        }
        if let Some(sha256) = sha256 {
            headers.insert("x-amz-meta-sha256", header(sha256)?);
        }
        Ok(headers)
    }
}

/// What `encodeURIComponent` leaves as it is.
const METADATA_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A metadata value as it travels: as it is when it is plain printable
/// ASCII, else percent-encoded (the module's rule, so either side decodes it).
fn encode_metadata(value: &str) -> String {
    let plain =
        value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') && !value.contains('%') && value.trim() == value;
    if plain { value.to_owned() } else { utf8_percent_encode(value, METADATA_ESCAPES).to_string() }
}
