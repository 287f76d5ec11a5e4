//! The multipart family, in S3's own query conventions: `POST ?uploads`
//! starts an upload, `PUT ?partNumber=N&uploadId=ID` is redirected to a
//! presigned UploadPart, `GET ?uploadId=ID` lists the parts stored, `POST
//! ?uploadId=ID` completes from the client's part list ([`super::completion`]),
//! `DELETE ?uploadId=ID` aborts. For owners, and through a share link that
//! allows `PUT` on the key (a folder link: any key under its folder), within
//! the link's `max_size` as well as `--max-object-size`.

use std::num::NonZeroU16;

use super::checksum;
use super::download;
use super::key::ObjectKey;
use super::limits::MAX_PARTS_PER_PAGE;
use super::policy::{Caller, Policy};
use super::query::Query;
pub use super::query::{PartNumber, UploadId};
use super::rejection::Rejection;
use super::request::Incoming;
use super::tenant::TenantId;
use super::upload::{self, Upload};
use super::{
    Action, Delivery, MultipartOrder, MultipartStep, NewObject, Operation, Overwrite, PartTarget, PresignOrder,
    ResponseOverrides,
};

/// A page of a part list, as S3's ListParts pages it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPage {
    /// The page holds parts numbered above this (0: from the first).
    pub after: u16,
    /// At most this many parts, 1 to [`MAX_PARTS_PER_PAGE`].
    pub max_parts: u16,
}

impl PartPage {
    /// `max-parts` (default and ceiling 1000, as S3) and `part-number-marker` (default 0).
    #[must_use]
    pub fn from_query(query: &Query) -> Self {
        Self {
            after: query.part_number_marker.unwrap_or(0),
            max_parts: query.max_parts.map_or(MAX_PARTS_PER_PAGE, NonZeroU16::get),
        }
    }
}

/// `POST ?uploads` and `POST ?uploadId=ID`.
pub fn post(
    request: &Incoming<'_>,
    key: ObjectKey,
    query: &Query,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<Action, Rejection> {
    let (tenant, max_size) = uploader(caller, &key, policy)?;
    let step = match (query.uploads, &query.upload_id, &query.part_number) {
        (true, None, None) => {
            let object = upload::new_object(request.upload, &policy.allowed_types)?;
            MultipartStep::Create(NewObject {
                content_type: object.content_type.or_else(|| download::content_type_for(key.file_name())),
                ..object
            })
        }
        (false, Some(_), None) => {
            let headers = &request.upload;
            let overwrite = match (headers.if_none_match.map(str::trim), headers.if_match) {
                (None, None) => Overwrite::Allowed,
                (Some("*"), None) => Overwrite::Refused,
                (Some(_), None) => return Err(Rejection::IfNoneMatch),
                (None, Some(etag)) => Overwrite::IfMatches(upload::if_match(etag)?),
                (Some(_), Some(_)) => return Err(Rejection::ConflictingConditions),
            };
            MultipartStep::Complete {
                upload: upload_id(query)?,
                overwrite,
                checksum: checksum::declared(headers)?,
                checksum_type: checksum::checksum_type(headers)?,
            }
        }
        _ => {
            return Err(Rejection::MultipartUsage(
                "POST takes ?uploads to start an upload, or ?uploadId=ID to complete it",
            ));
        }
    };
    Ok(Action::Multipart(MultipartOrder { key: policy.scope(tenant).storage_key(&key)?, object: key, step, max_size }))
}

/// `PUT ?partNumber=N&uploadId=ID`, `GET ?uploadId=ID`, `DELETE ?uploadId=ID`.
pub fn on_upload(
    request: &Incoming<'_>,
    operation: Operation,
    key: ObjectKey,
    query: &Query,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<Action, Rejection> {
    let (tenant, max_size) = uploader(caller, &key, policy)?;
    if query.uploads {
        return Err(Rejection::MultipartUsage("start a multipart upload with POST ?uploads"));
    }
    let upload = upload_id(query)?;
    let object = key;
    let key = policy.scope(tenant).storage_key(&object)?;
    let step = match (operation, &query.part_number) {
        (Operation::Put, Some(number)) => {
            let signed_headers = upload::signed_headers(request, max_size, Upload::Part, &policy.allowed_types)?;
            return Ok(Action::Presign(PresignOrder {
                operation: Operation::UploadPart,
                key,
                expires_in: policy.expires_in,
                valid_until: None,
                response: ResponseOverrides::default(),
                signed_headers,
                metadata: Vec::new(),
                delivery: Delivery::Redirect,
                part: Some(PartTarget { upload, number: number.get() }),
            }));
        }
        (Operation::Get, None) => MultipartStep::ListParts(upload, PartPage::from_query(query)),
        (Operation::Delete, None) => MultipartStep::Abort(upload),
        _ => {
            return Err(Rejection::MultipartUsage(
                "with uploadId: PUT ?partNumber=N uploads a part, GET lists the parts, DELETE aborts",
            ));
        }
    };
    Ok(Action::Multipart(MultipartOrder { object, key, step, max_size }))
}

/// Whose upload it is, and the largest object it may make: an owner's, up
/// to `--max-object-size`; a link's that allows `PUT` on `key`, up to its
/// `max_size` too.
fn uploader<'a>(
    caller: Caller<'a>,
    key: &ObjectKey,
    policy: &Policy,
) -> Result<(Option<&'a TenantId>, Option<u64>), Rejection> {
    match caller {
        Caller::Owner(tenant) => Ok((tenant, policy.max_object_size)),
        Caller::Link(grant) if !grant.methods.allows_put() => Err(Rejection::LinkMultipart),
        Caller::Link(grant) if !grant.target.covers(key) => Err(Rejection::LinkForAnotherKey),
        Caller::Link(grant) => Ok((grant.tenant.as_ref(), upload::limit(policy.max_object_size, grant.max_size))),
    }
}

fn upload_id(query: &Query) -> Result<UploadId, Rejection> {
    query.upload_id.clone().ok_or(Rejection::MultipartUsage("add uploadId"))
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::super::testing::{grant, request, with_max};
    use super::super::{BodySize, decide};
    use super::*;
    use crate::core::grant::Grant;
    use crate::core::tenant::TenantId;

    fn multipart(method: &Method, query: &str, body: BodySize, caller: Caller<'_>) -> Result<Action, Rejection> {
        let incoming = Incoming { body, ..request(method, "/films/big.mkv") };
        decide(&incoming, &Query::parse(Some(query))?, caller, &with_max(Some(10 << 30)))
    }

    #[test]
    fn multipart_steps() {
        let acme = TenantId::new("acme").unwrap();
        let owner = Caller::Owner(Some(&acme));
        let step = |method: &Method, query: &str| match multipart(method, query, BodySize::Absent, owner) {
            Ok(Action::Multipart(order)) => {
                assert_eq!(order.key.as_str(), "tenants/acme/films/big.mkv");
                assert_eq!(order.object.as_str(), "films/big.mkv");
                order.step
            }
            other => panic!("{method} {query}: {other:?}"),
        };
        let id = UploadId::new("u-1").unwrap();
        assert_eq!(
            step(&Method::POST, "uploads"),
            MultipartStep::Create(NewObject { content_type: Some("video/x-matroska".into()), ..NewObject::default() })
        );
        let first_page = PartPage { after: 0, max_parts: 1000 };
        assert_eq!(step(&Method::GET, "uploadId=u-1"), MultipartStep::ListParts(id.clone(), first_page));
        let pages = [
            ("max-parts=2&part-number-marker=4", PartPage { after: 4, max_parts: 2 }),
            ("max-parts=5000", first_page),
            ("part-number-marker=10000", PartPage { after: 10_000, max_parts: 1000 }),
        ];
        for (query, page) in pages {
            let query = format!("uploadId=u-1&{query}");
            assert_eq!(step(&Method::GET, &query), MultipartStep::ListParts(id.clone(), page), "{query}");
        }
        for bad in ["max-parts=0", "max-parts=-1", "max-parts=x", "part-number-marker=10001", "part-number-marker=-1"] {
            let query = format!("uploadId=u-1&{bad}");
            assert_eq!(multipart(&Method::GET, &query, BodySize::Absent, owner), Err(Rejection::PartPage), "{bad}");
        }
        assert_eq!(step(&Method::DELETE, "uploadId=u-1"), MultipartStep::Abort(id.clone()));
        assert_eq!(
            step(&Method::POST, "uploadId=u-1"),
            MultipartStep::Complete {
                upload: id.clone(),
                overwrite: Overwrite::Allowed,
                checksum: None,
                checksum_type: None
            }
        );

        let Ok(Action::Presign(part)) =
            multipart(&Method::PUT, "partNumber=7&uploadId=u-1", BodySize::Known(5 << 20), owner)
        else {
            panic!()
        };
        assert_eq!((part.operation, part.part), (Operation::UploadPart, Some(PartTarget { upload: id, number: 7 })));
        assert_eq!(part.key.as_str(), "tenants/acme/films/big.mkv");
        assert_eq!(part.signed_headers, vec![("content-length", (5u64 << 20).to_string())]);
    }

    #[test]
    fn multipart_misuse_is_refused() {
        let owner = Caller::Owner(None);
        let cases = [
            (Method::HEAD, "uploadId=u-1", "with uploadId"),
            (Method::PUT, "uploadId=u-1", "with uploadId"),
            (Method::GET, "partNumber=1", "add uploadId"),
            (Method::POST, "uploads&uploadId=u-1", "POST takes"),
            (Method::PUT, "uploads", "start a multipart"),
        ];
        for (method, query, reason) in cases {
            let error = multipart(&method, query, BodySize::Absent, owner).unwrap_err();
            assert!(error.to_string().contains(reason), "{method} {query}: {error}");
        }
        assert_eq!(
            multipart(&Method::PUT, "partNumber=0&uploadId=u", BodySize::Known(1), owner),
            Err(Rejection::PartNumber)
        );
        assert_eq!(multipart(&Method::GET, "uploadId=a%20b", BodySize::Absent, owner), Err(Rejection::UploadId));
        assert_eq!(
            multipart(&Method::PUT, "partNumber=1&uploadId=u", BodySize::Known(6 << 30), owner),
            Err(Rejection::TooLarge(5 << 30))
        );
        let link = grant("films/big.mkv", "GET", None, None);
        assert_eq!(
            multipart(&Method::POST, "uploads", BodySize::Absent, Caller::Link(&link)),
            Err(Rejection::LinkMultipart)
        );
        let elsewhere = grant("films/small.mkv", "PUT", None, None);
        assert_eq!(
            multipart(&Method::POST, "uploads", BodySize::Absent, Caller::Link(&elsewhere)),
            Err(Rejection::LinkForAnotherKey)
        );
    }

    /// A link that allows PUT runs every step on the keys it covers (a
    /// folder link: under its folder), within its own size limit.
    #[test]
    fn upload_links_run_multipart_within_their_folder_and_size() {
        use crate::core::grant::Shared;
        use crate::core::key::Folder;
        let acme = TenantId::new("acme").unwrap();
        let folder = Shared::Folder(Folder::new("films/".into()).unwrap());
        let link = Grant { target: folder, ..grant("x", "PUT", Some(8 << 20), Some(&acme)) };
        let caller = Caller::Link(&link);
        let Ok(Action::Multipart(order)) = multipart(&Method::POST, "uploads", BodySize::Absent, caller) else {
            panic!()
        };
        assert_eq!((order.key.as_str(), order.max_size), ("tenants/acme/films/big.mkv", Some(8 << 20)));
        let part = multipart(&Method::PUT, "partNumber=1&uploadId=u", BodySize::Known(5 << 20), caller);
        assert!(matches!(part, Ok(Action::Presign(_))), "{part:?}");
        let big = multipart(&Method::PUT, "partNumber=1&uploadId=u", BodySize::Known(9 << 20), caller);
        assert_eq!(big, Err(Rejection::TooLarge(8 << 20)));
        assert!(multipart(&Method::POST, "uploadId=u", BodySize::Known(10), caller).is_ok());
        let outside = Incoming { body: BodySize::Absent, ..request(&Method::POST, "/films-old/big.mkv") };
        let refused = decide(&outside, &Query::parse(Some("uploads")).unwrap(), caller, &with_max(None));
        assert_eq!(refused, Err(Rejection::LinkForAnotherKey));
    }

    #[test]
    fn ids_and_numbers() {
        assert!(UploadId::new("2f1c-abc.DEF_~").is_ok());
        assert_eq!(UploadId::new(""), Err(Rejection::UploadId));
        assert_eq!(UploadId::new("a b"), Err(Rejection::UploadId));
        assert_eq!(PartNumber::parse("1").map(PartNumber::get), Ok(1));
        assert_eq!(PartNumber::parse("10000").map(PartNumber::get), Ok(10_000));
        for bad in ["0", "10001", "-1", "x", ""] {
            assert_eq!(PartNumber::parse(bad), Err(Rejection::PartNumber), "{bad}");
        }
    }
}
