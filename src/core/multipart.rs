//! Multipart uploads through the gateway, in S3's own query conventions:
//! `POST ?uploads` starts one, `PUT ?partNumber=N&uploadId=ID` is redirected
//! to a presigned UploadPart, `GET ?uploadId=ID` lists the parts stored,
//! `POST ?uploadId=ID` completes from the client's part list, `DELETE
//! ?uploadId=ID` aborts. This module holds the pure rules: ids, part
//! numbers, the completion list, and S3's size rules.

use quick_xml::events::Event;

use super::Rejection;

/// S3's limit on parts per upload.
pub const MAX_PARTS: u16 = 10_000;

/// S3's smallest part, except the last.
pub const MIN_PART_BYTES: u64 = 5 << 20;

/// S3's largest part, and largest single PUT.
pub const MAX_PART_BYTES: u64 = 5 << 30;

/// The longest completion body read, in bytes (10,000 parts fit easily).
pub const MAX_COMPLETION_BYTES: usize = 2 << 20;

/// An upload id as storage issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadId(String);

impl UploadId {
    /// Accepts 1 to 1024 printable ASCII characters.
    pub fn new(id: &str) -> Result<Self, Rejection> {
        let valid = (1..=1024).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
        if valid { Ok(Self(id.to_owned())) } else { Err(Rejection::UploadId) }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses `partNumber`: 1 to 10,000.
pub fn part_number(text: &str) -> Result<u16, Rejection> {
    text.parse::<u16>().ok().filter(|n| (1..=MAX_PARTS).contains(n)).ok_or(Rejection::PartNumber)
}

/// A part as the client lists it for completion, or as storage lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1 to 10,000.
    pub number: u16,
    /// The ETag storage gave the part, without quotes.
    pub etag: String,
    /// The size in bytes (storage's list only; 0 in the client's).
    pub size: u64,
}

/// Parses a completion body: S3's `<CompleteMultipartUpload>` XML, or
/// `{"parts":[{"part_number":1,"etag":"…"}]}`. Part numbers must ascend.
pub fn parse_completion(body: &[u8], json: bool) -> Result<Vec<Part>, Rejection> {
    let parts = if json { parse_json(body)? } else { parse_xml(body)? };
    if parts.is_empty() || parts.len() > usize::from(MAX_PARTS) {
        return Err(Rejection::Completion("list between 1 and 10000 parts"));
    }
    if parts.windows(2).any(|pair| pair[0].number >= pair[1].number) {
        return Err(Rejection::Completion("part numbers must ascend"));
    }
    Ok(parts)
}

fn parse_json(body: &[u8]) -> Result<Vec<Part>, Rejection> {
    #[derive(serde::Deserialize)]
    struct Completion {
        parts: Vec<JsonPart>,
    }
    #[derive(serde::Deserialize)]
    struct JsonPart {
        part_number: u16,
        etag: String,
    }
    let completion: Completion = serde_json::from_slice(body).map_err(|_| Rejection::Completion("not a part list"))?;
    completion.parts.into_iter().map(|p| new_part(p.part_number, &p.etag)).collect()
}

fn parse_xml(body: &[u8]) -> Result<Vec<Part>, Rejection> {
    let malformed = || Rejection::Completion("not a CompleteMultipartUpload document");
    let mut reader = quick_xml::Reader::from_reader(body);
    let config = reader.config_mut();
    config.trim_text(true);
    config.expand_empty_elements = true;
    let (mut parts, mut field, mut number, mut etag) = (Vec::new(), None::<Vec<u8>>, None, None);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|_| malformed())? {
            Event::Start(start) => field = Some(start.local_name().as_ref().to_vec()),
            Event::Text(text) => {
                let text = text.decode().map_err(|_| malformed())?;
                let text = quick_xml::escape::unescape(&text).map_err(|_| malformed())?.into_owned();
                match field.as_deref() {
                    Some(b"PartNumber") => number = Some(part_number(text.trim())?),
                    Some(b"ETag") => etag = Some(text),
                    _ => {}
                }
            }
            Event::End(end) => {
                if end.local_name().as_ref() == b"Part" {
                    parts.push(new_part(number.take().ok_or_else(malformed)?, &etag.take().ok_or_else(malformed)?)?);
                }
                field = None;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(parts)
}

fn new_part(number: u16, etag: &str) -> Result<Part, Rejection> {
    if !(1..=MAX_PARTS).contains(&number) {
        return Err(Rejection::PartNumber);
    }
    let etag = etag.trim().trim_matches('"');
    if etag.is_empty() || !etag.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Rejection::Completion("every part needs its ETag"));
    }
    Ok(Part { number, etag: etag.to_owned(), size: 0 })
}

/// Checks a completion against the parts storage holds (in part-number
/// order, as storage lists them): each listed part exists with that ETag, all
/// but the last are at least 5 MiB, and the total is within `max_size`.
/// Returns the total size.
pub fn check_completion(wanted: &[Part], stored: &[Part], max_size: Option<u64>) -> Result<u64, Rejection> {
    let mut total = 0u64;
    for (index, part) in wanted.iter().enumerate() {
        let found = stored.binary_search_by_key(&part.number, |s| s.number).ok().and_then(|at| stored.get(at));
        let Some(found) = found.filter(|s| s.etag == part.etag) else {
            return Err(Rejection::InvalidPart(part.number));
        };
        if index + 1 < wanted.len() && found.size < MIN_PART_BYTES {
            return Err(Rejection::PartTooSmall(part.number));
        }
        total = total.saturating_add(found.size);
    }
    match max_size {
        Some(max) if total > max => Err(Rejection::TooLarge(max)),
        _ => Ok(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u16, etag: &str, size: u64) -> Part {
        Part { number, etag: etag.into(), size }
    }

    #[test]
    fn completion_documents_parse() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Part><ETag>"aaa"</ETag><PartNumber>1</PartNumber></Part>
              <Part><PartNumber>2</PartNumber><ETag>&quot;bbb&quot;</ETag></Part>
            </CompleteMultipartUpload>"#;
        assert_eq!(parse_completion(xml, false).unwrap(), vec![part(1, "aaa", 0), part(2, "bbb", 0)]);
        let json = br#"{"parts":[{"part_number":1,"etag":"\"aaa\""},{"part_number":3,"etag":"ccc"}]}"#;
        assert_eq!(parse_completion(json, true).unwrap(), vec![part(1, "aaa", 0), part(3, "ccc", 0)]);
    }

    #[test]
    fn bad_completions_are_refused() {
        let cases: [(&[u8], bool); 7] = [
            (b"<CompleteMultipartUpload></CompleteMultipartUpload>", false),
            (b"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>", false),
            (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>", false),
            (b"<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>", false),
            (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a", false),
            (br#"{"parts":[{"part_number":1,"etag":"a"},{"part_number":1,"etag":"b"}]}"#, true),
            (b"not json", true),
        ];
        for (body, json) in cases {
            assert!(parse_completion(body, json).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn completions_are_checked_against_storage() {
        let stored = [part(1, "a", MIN_PART_BYTES), part(2, "b", MIN_PART_BYTES - 1), part(3, "c", 10)];
        assert_eq!(check_completion(&[part(1, "a", 0), part(3, "c", 0)], &stored, None), Ok(MIN_PART_BYTES + 10));
        assert_eq!(check_completion(&[part(1, "x", 0)], &stored, None), Err(Rejection::InvalidPart(1)));
        assert_eq!(check_completion(&[part(4, "d", 0)], &stored, None), Err(Rejection::InvalidPart(4)));
        assert_eq!(
            check_completion(&[part(2, "b", 0), part(3, "c", 0)], &stored, None),
            Err(Rejection::PartTooSmall(2))
        );
        assert_eq!(check_completion(&[part(1, "a", 0)], &stored, Some(100)), Err(Rejection::TooLarge(100)));
    }

    #[test]
    fn ids_and_numbers() {
        assert!(UploadId::new("2f1c-abc.DEF_~").is_ok());
        assert_eq!(UploadId::new(""), Err(Rejection::UploadId));
        assert_eq!(UploadId::new("a b"), Err(Rejection::UploadId));
        assert_eq!(part_number("1"), Ok(1));
        assert_eq!(part_number("10000"), Ok(10_000));
        for bad in ["0", "10001", "-1", "x", ""] {
            assert_eq!(part_number(bad), Err(Rejection::PartNumber), "{bad}");
        }
    }
}
