//! The completion parser on arbitrary bodies, XML and JSON: it must never
//! panic, and whatever it accepts is a list of 1 to 10,000 parts with
//! ascending numbers in range and printable ETags without quotes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use presign_gateway::core::completion::{BodyFormat, parse_completion};

fuzz_target!(|input: (bool, &[u8])| {
    let (json, body) = input;
    let format = if json { BodyFormat::Json } else { BodyFormat::Xml };
    let Ok(parts) = parse_completion(body, format) else { return };
    assert!((1..=10_000).contains(&parts.len()));
    assert!(parts.windows(2).all(|pair| pair[0].number < pair[1].number));
    for part in &parts {
        assert!((1..=10_000).contains(&part.number));
        assert!(!part.etag.is_empty() && !part.etag.contains('"'));
        assert!(part.etag.bytes().all(|b| b.is_ascii_graphic()));
    }
});
