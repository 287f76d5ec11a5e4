//! Media types as operators list them (`image/png`, `image/*`): which types
//! open in the browser, which an upload may declare.

use std::fmt;

/// A list of media types and `type/*` wildcards, lowercase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaTypes(Vec<String>);

impl MediaTypes {
    /// Validates a list of `type/subtype` or `type/*` entries (blank ones
    /// are skipped); an entry that is not one is returned.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut types = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let valid = entry
                .split_once('/')
                .is_some_and(|(kind, sub)| is_token(kind) && !kind.contains('*') && (sub == "*" || is_token(sub)));
            if !valid {
                return Err(entry.to_owned());
            }
            types.push(entry.to_ascii_lowercase());
        }
        Ok(Self(types))
    }

    /// Whether nothing is listed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `media_type` (its essence: parameters such as `; charset=` do
    /// not count) is listed, itself or by its `type/*`.
    #[must_use]
    pub fn contains(&self, media_type: &str) -> bool {
        let essence = essence(media_type);
        let Some((kind, _)) = essence.split_once('/') else { return false };
        self.0.iter().any(|listed| match listed.strip_suffix("/*") {
            Some(listed_kind) => listed_kind == kind,
            None => *listed == essence,
        })
    }
}

impl fmt::Display for MediaTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

/// `type/subtype`, lowercase, without parameters.
#[must_use]
pub fn essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// RFC 9110 `token` characters.
fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(list: &[&str]) -> Result<MediaTypes, String> {
        MediaTypes::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn types_and_wildcards() {
        let images = types(&["image/*", " application/PDF ", ""]).unwrap();
        assert!(
            images.contains("image/png") && images.contains("IMAGE/JPEG; q=1") && images.contains("application/pdf")
        );
        assert!(!images.contains("text/plain") && !images.contains("imagex/png") && !images.contains("image"));
        assert_eq!(images.to_string(), "image/*, application/pdf");
        assert!(MediaTypes::default().is_empty() && !MediaTypes::default().contains("image/png"));
        for bad in ["html", "text/ html", "*/png", "/png", "text/"] {
            assert_eq!(types(&[bad]), Err(bad.to_owned()), "{bad}");
        }
    }
}
