//! Percent-encoding as SigV4 (and `aws-smithy-http`, and so `aws-sigv4`)
//! writes it: everything but RFC 3986's unreserved characters.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// What stays unencoded in a query value: RFC 3986's unreserved characters,
/// as `aws-smithy-http`'s query encoding (and so `aws-sigv4`) has it.
pub const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The same for the path, which keeps its `/` (a "greedy" label).
pub const PATH: &AsciiSet = &QUERY.remove(b'/');

#[cfg(test)]
mod tests {
    use percent_encoding::utf8_percent_encode;

    use super::*;

    #[test]
    fn the_encodings_are_aws_smithy_https() {
        let mut every_ascii: String = (0u8..128).map(char::from).collect();
        every_ascii.push_str("é✓\u{10348}");
        assert_eq!(
            utf8_percent_encode(&every_ascii, QUERY).to_string(),
            aws_smithy_http::query::fmt_string(&every_ascii)
        );
        let greedy = aws_smithy_http::label::fmt_string(&every_ascii, aws_smithy_http::label::EncodingStrategy::Greedy);
        assert_eq!(utf8_percent_encode(&every_ascii, PATH).to_string(), greedy);
    }
}
