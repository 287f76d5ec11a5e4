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

    /// Whether `media_type` is one RFC 9110 media type whose essence
    /// (parameters such as `; charset=` do not count) is listed, itself or
    /// by its `type/*`. Anything else is not: `image/png, text/html`,
    /// `image/../text/html` and `image/` name no listed type.
    #[must_use]
    pub fn contains(&self, media_type: &str) -> bool {
        let Some(essence) = parsed_essence(media_type) else { return false };
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

/// The essence of `declared` if it is one RFC 9110 media type: `type "/"
/// subtype`, both tokens, then `*( OWS ";" OWS [ token "=" ( token /
/// quoted-string ) ] )`.
#[must_use]
pub fn parsed_essence(declared: &str) -> Option<String> {
    let end = declared.find(';').unwrap_or(declared.len());
    let (kind, subtype) = declared[..end].trim_start().trim_end_matches([' ', '\t']).split_once('/')?;
    (is_token(kind) && is_token(subtype) && parameters(&declared[end..])).then(|| essence(declared))
}

/// Whether `text` is RFC 9110 `parameters`, from the first `;` on.
fn parameters(text: &str) -> bool {
    let ows = |rest: &str| rest.trim_start_matches([' ', '\t']).to_owned();
    let mut rest = text.to_owned();
    loop {
        rest = ows(&rest);
        let Some(after) = rest.strip_prefix(';') else { return rest.is_empty() };
        rest = ows(after);
        if rest.is_empty() || rest.starts_with(';') {
            continue;
        }
        let Some((name, value)) = rest.split_once('=') else { return false };
        if !is_token(name) {
            return false;
        }
        let Some(after_value) = parameter_value(value) else { return false };
        rest = after_value.to_owned();
    }
}

/// What follows a parameter's value (a token or a quoted string), if it is one.
fn parameter_value(text: &str) -> Option<&str> {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut escaped = false;
        for (at, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some(&quoted[at + 1..]),
                c if c.is_control() && c != '\t' => return None,
                _ => {}
            }
        }
        return None;
    }
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))).unwrap_or(text.len());
    (end > 0).then(|| &text[end..])
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

    #[test]
    fn a_declared_type_is_one_media_type_or_none() {
        let images = types(&["image/*"]).unwrap();
        let good = [
            "image/png",
            " image/png ",
            "image/svg+xml; charset=utf-8",
            "image/png;q=1;x=\"a;b, c\"",
            "image/png ; a=\"\\\"\"",
            "image/png;",
        ];
        for declared in good {
            assert!(images.contains(declared), "{declared:?}");
        }
        let bad = [
            "image/png, text/html",
            "image/../../text/html",
            "image/",
            "image",
            "image/png text/html",
            "image/png; x",
            "image/png; x=",
            "image/png; x=\"open",
            "image/png; x=a b",
            "image/p\u{e9}ng",
            "image /png",
        ];
        for declared in bad {
            assert!(!images.contains(declared), "{declared:?}");
        }
    }
}
