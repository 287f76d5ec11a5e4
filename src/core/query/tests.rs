//! The query parsed at the edge: a table of valid, invalid, repeated and
//! out-of-range parameters.

use std::num::NonZeroU16;
use std::time::Duration;

use http::Method;

use super::*;
use crate::core::grant::{LinkId, MethodsError};
use crate::core::units::UnitError;

fn parsed(raw: &str) -> Query {
    Query::parse(Some(raw)).unwrap_or_else(|bad| panic!("{raw}: {bad}"))
}

fn refused(raw: &str) -> Rejection {
    Query::parse(Some(raw)).expect_err(raw).reason
}

fn nonzero(n: u16) -> Option<NonZeroU16> {
    NonZeroU16::new(n)
}

#[test]
fn valid_parameters_are_typed() {
    assert_eq!(Query::parse(None).unwrap(), Query::default());
    assert_eq!(parsed(""), Query::default());
    let share = parsed("share&ttl=30d&methods=get,PUT&max_size=5MiB&v=1");
    assert!(share.share);
    assert_eq!(share.ttl.map(Ttl::duration), Some(Duration::from_secs(30 * 86_400)));
    assert_eq!(share.methods, Some(Methods::parse("GET,PUT").unwrap()));
    assert_eq!(share.max_size, Some(5 << 20));
    assert_eq!(parsed("ttl=2w").ttl.map(Ttl::duration), Some(Duration::from_secs(14 * 86_400)));
    assert_eq!(parsed("share&ttl=1h&max_uses=3").max_uses, Some(3));
    assert_eq!(parsed("links").links, Some(LinksParam::All));
    assert_eq!(parsed("links=").links, Some(LinksParam::All));
    let id = "0065f1a2b3c4d5e6f708192a3b4c5d6e";
    assert_eq!(parsed(&format!("links={id}")).links, Some(LinksParam::One(LinkId::parse(id).unwrap())));
    assert!(Query::parse(Some("links")).unwrap().reads_catalog());

    assert_eq!(parsed("download=a%20b").download.as_deref(), Some("a b"));
    assert_eq!(parsed("download").download.as_deref(), Some(""));
    assert_eq!(parsed("token=t.k").token.as_deref(), Some("t.k"));

    let part = parsed("partNumber=3&uploadId=abc");
    assert!(part.is_multipart() && parsed("uploads").is_multipart() && !parsed("limit=3").is_multipart());
    assert_eq!((part.part_number.map(PartNumber::get), part.upload_id), (Some(3), Some(UploadId::new("abc").unwrap())));
    let page = parsed("uploadId=u&max-parts=2&part-number-marker=10000");
    assert_eq!((page.max_parts, page.part_number_marker), (nonzero(2), Some(10_000)));
    assert_eq!(parsed("max-parts=5000").max_parts, nonzero(1000), "more is asked down to S3's page");
    assert_eq!(parsed("max-parts=4294967295").max_parts, nonzero(1000));

    let cases = [
        ("presign", Some(Presign::Same)),
        ("presign=", Some(Presign::Same)),
        ("presign=put", Some(Presign::As(Method::PUT))),
        ("presign=HEAD", Some(Presign::As(Method::HEAD))),
        ("presign=Delete", Some(Presign::As(Method::DELETE))),
        ("v=presign", None),
    ];
    for (raw, presign) in cases {
        assert_eq!(parsed(raw).presign, presign, "{raw}");
    }

    let listing = parsed("limit=1000&after=&metadata");
    assert_eq!((listing.limit, listing.after, listing.metadata), (nonzero(1000), None, true));
    let cursor = Cursor::Object("b.jpg".into());
    assert_eq!(parsed(&format!("after={}", cursor.token())).after, Some(cursor));
}

#[test]
fn invalid_values_are_refused_with_their_family_reason() {
    let cases = [
        ("ttl=soon", Rejection::Unit(UnitError::Duration("soon".into()))),
        ("ttl=", Rejection::Unit(UnitError::Duration(String::new()))),
        ("ttl=2y", Rejection::Unit(UnitError::Duration("2y".into()))),
        ("ttl=99999999999999999999d", Rejection::Unit(UnitError::Duration("99999999999999999999d".into()))),
        ("methods=GET,POST", Rejection::Methods(MethodsError("GET,POST".into()))),
        ("max_size=5XB", Rejection::Unit(UnitError::Size("5XB".into()))),
        ("max_size=99999999TiB", Rejection::Unit(UnitError::Size("99999999TiB".into()))),
        ("uploadId=", Rejection::UploadId),
        ("uploadId=a%20b", Rejection::UploadId),
        ("partNumber=0&uploadId=u", Rejection::PartNumber),
        ("partNumber=10001&uploadId=u", Rejection::PartNumber),
        ("partNumber=x", Rejection::PartNumber),
        ("max-parts=0", Rejection::PartPage),
        ("max-parts=-1", Rejection::PartPage),
        ("max-parts=99999999999", Rejection::PartPage),
        ("part-number-marker=10001", Rejection::PartPage),
        ("part-number-marker=x", Rejection::PartPage),
        ("presign=POST", Rejection::PresignMethod),
        ("presign=patch", Rejection::PresignMethod),
        ("limit=0", Rejection::Limit),
        ("limit=1001", Rejection::Limit),
        ("limit=65536", Rejection::Limit),
        ("limit=-1", Rejection::Limit),
        ("limit=x", Rejection::Limit),
        ("after=abc!", Rejection::Cursor),
        ("max_uses=0", Rejection::MaxUses),
        ("max_uses=-1", Rejection::MaxUses),
        ("max_uses=x", Rejection::MaxUses),
        ("max_uses=99999999999999999999", Rejection::MaxUses),
        ("links=abc", Rejection::LinkId),
        ("links=..%2F..%2Fx", Rejection::LinkId),
        ("links=0065F1A2B3C4D5E6F708192A3B4C5D6E", Rejection::LinkId),
        // The first bad value in the order of the fields is told.
        ("limit=0&ttl=soon", Rejection::Unit(UnitError::Duration("soon".into()))),
        ("partNumber=0&uploadId=a%20b", Rejection::UploadId),
    ];
    for (raw, reason) in cases {
        assert_eq!(refused(raw), reason, "{raw}");
    }
}

#[test]
fn repeated_parameters_are_refused() {
    for name in [
        "download",
        "ttl",
        "methods",
        "max_size",
        "max_uses",
        "links",
        "token",
        "uploadId",
        "partNumber",
        "max-parts",
        "presign",
        "after",
    ] {
        assert_eq!(refused(&format!("{name}=1&{name}=1")), Rejection::RepeatedParameter(name), "{name}");
    }
    for flag in ["share", "uploads", "metadata"] {
        assert_eq!(refused(&format!("{flag}&{flag}")), Rejection::RepeatedParameter(flag), "{flag}");
    }
    assert_eq!(refused("limit=1&limit=2&token=a&token=b"), Rejection::RepeatedParameter("limit"));
    // Repeating is refused before any value is read.
    assert_eq!(refused("limit=x&token=a&token=b"), Rejection::RepeatedParameter("token"));
    // Unknown parameters may repeat: cache busters do no harm.
    assert_eq!(parsed("v=1&v=2"), Query::default());
}

#[test]
fn a_refusal_tells_what_the_query_named() {
    let bad = Query::parse(Some("partNumber=0&uploadId=u")).unwrap_err();
    assert!(bad.multipart && !bad.link);
    let bad = Query::parse(Some("max-parts=0&uploadId=u")).unwrap_err();
    assert!(bad.multipart, "a name later in the query counts too");
    let bad = Query::parse(Some("uploads&uploads")).unwrap_err();
    assert!(bad.multipart);
    let bad = Query::parse(Some("token=a&limit=0")).unwrap_err();
    assert!(bad.link && !bad.multipart);
    assert_eq!(bad.to_string(), "limit must be a whole number from 1 to 1000");
}

#[test]
fn a_misspelt_key_term_is_refused_rather_than_ignored() {
    // `readonly=true` ignored would make a key with full access.
    assert_eq!(refused("keys&readonly=true"), Rejection::KeyTermUnknown("readonly".into()));
    assert_eq!(refused("keys&name=n&folder=backups"), Rejection::KeyTermUnknown("folder".into()));
    assert_eq!(refused("keys=0123456789abcdef&v=1"), Rejection::KeyTermUnknown("v".into()));
    assert!(parsed("keys&read_only=true&prefix=b&ttl=1d&name=n").key_terms.is_some());
    assert_eq!(parsed("keys").key_terms, None);
    // Elsewhere an unknown parameter stays ignored (a cache-buster, say).
    assert!(parsed("share&ttl=1d&v=1").share);
}
