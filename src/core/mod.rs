//! The pure core: a request's method, path, query and declared body size,
//! and who it acts for, in; an [`Action`] out (a URL to presign, a share
//! link to mint, or a multipart step to run) or a [`Rejection`]. Nothing
//! here does I/O, so every rule is a unit test away.
//!
//! [`decide`] only dispatches, as Garage's S3 router does: the request side
//! is [`request`], the rules live one family to a file ([`presign`],
//! [`share`], [`multipart`] with [`completion`], [`listing`]), with what
//! uploads sign in [`upload`], S3's checksum headers in [`checksum`] and the
//! headers an object keeps for its downloads in [`object_headers`]; API
//! keys and what they may do in [`api_key`];
//! [`tenant`] is the only way to a storage key.

pub mod action;
pub mod api_key;
pub mod checksum;
pub mod completion;
pub mod cursor;
pub mod download;
pub mod grant;
pub mod key;
pub mod limits;
pub mod listing;
pub mod media;
pub mod multipart;
pub mod object_headers;
pub mod page;
pub mod policy;
pub mod presign;
pub mod query;
pub mod rejection;
pub mod request;
pub mod share;
pub mod tenant;
pub mod units;
pub mod upload;

#[cfg(test)]
mod testing;

use std::borrow::Cow;

use http::Method;

pub use action::{
    Action, Delivery, GET_OBJECT_STATUS, GET_RENDITION, GET_UPLOAD_LOG, LIST_SHARE_LINKS, LinksOrder, LinksStep,
    ListOrder, LogOrder, MultipartOrder, MultipartStep, NewObject, Operation, Overwrite, PartTarget, PresignOrder,
    REVOKE_SHARE_LINK, ResponseOverrides, ShareOrder,
};
pub use policy::{Caller, Policy};
pub use rejection::Rejection;
pub use request::{BodySize, FrontDoorPath, Incoming, KeyPath, Metadata, UploadHeaders};

use key::{Folder, KeyError, ObjectKey};
use query::{Presign, Query, StatusFilter};

/// What the `Allow` header lists.
pub const ALLOWED_METHODS: &str = "GET, HEAD, PUT, DELETE, OPTIONS";

/// Maps a request to an action, or says why not.
pub fn decide(request: &Incoming<'_>, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<Action, Rejection> {
    let method = asked_method(request.method, query)?;
    // With `?presign` the body to upload is not this request's: its size comes
    // from `Upload-Length` alone. A `Content-Length: 0` that a front door or
    // `fetch` adds to the asking request must not sign an empty upload.
    let request = match query.presign {
        Some(_) => &Incoming { body: BodySize::Absent, ..*request },
        None => request,
    };
    let mut action = dispatch(request, &method, query, caller, policy)?;
    match (&mut action, &query.presign) {
        (Action::Presign(order) | Action::Rendition(order, _), Some(_)) => order.delivery = Delivery::Json,
        (_, Some(_)) => return Err(Rejection::PresignWithoutRedirect),
        (_, None) => {}
    }
    Ok(action)
}

/// Hands the request to its family.
fn dispatch(
    request: &Incoming<'_>,
    method: &Method,
    query: &Query,
    caller: Caller<'_>,
    policy: &Policy,
) -> Result<Action, Rejection> {
    if let Some(keys) = &query.keys {
        return api_key::manage(method, request.path, keys, query.key_terms.as_ref(), caller).map(Action::Keys);
    }
    let multipart = query.is_multipart();
    if let Some(asked) = &query.links {
        return share::manage(method, &decoded(request.path)?, asked, caller, policy).map(Action::Links);
    }
    if *method == Method::POST {
        if query.share {
            let target = share::target(decoded(request.path)?)?;
            return share::share(target, &share::Terms::of(query), caller, policy).map(Action::Share);
        }
        let key = ObjectKey::new(decoded(request.path)?)?;
        if multipart {
            return multipart::post(request, key, query, caller, policy);
        }
        return Err(Rejection::MethodNotAllowed(method.clone()));
    }
    let operation = Operation::from_method(method).ok_or_else(|| Rejection::MethodNotAllowed(method.clone()))?;
    if query.share {
        return Err(Rejection::ShareNeedsPost);
    }
    let path = decoded(request.path)?;
    if operation == Operation::Get && !multipart && Folder::is_folder(&path) {
        let folder = Folder::new(path)?;
        if query.log {
            return listing::log(&folder, query, caller, policy).map(Action::Log);
        }
        return listing::list(folder, query, caller, policy).map(Action::List);
    }
    let key = ObjectKey::new(path)?;
    if multipart {
        return multipart::on_upload(request, operation, key, query, caller, policy);
    }
    if query.log {
        return Err(Rejection::LogAtTop);
    }
    // A record or a rendition is read by whoever may download the object.
    let reads_record = query.status == Some(StatusFilter::Record);
    if reads_record || query.rendition.is_some() {
        if operation != Operation::Get {
            return Err(Rejection::ReadWithGet);
        }
        // A record names who uploaded the file: its owner's to read, not a link holder's.
        if reads_record && matches!(caller, Caller::Link(_)) {
            return Err(Rejection::LinkCannotReadLog);
        }
        let original = presign::presign(request, Operation::Get, &key, query, caller, policy)?;
        return Ok(match &query.rendition {
            Some(name) => Action::Rendition(original, name.clone()),
            None => Action::Status(original),
        });
    }
    if query.status.is_some() {
        return Err(Rejection::StatusFilter);
    }
    presign::presign(request, operation, &key, query, caller, policy).map(Action::Presign)
}

/// The method a request acts as: its own, or with `GET ?presign=METHOD`
/// the one it names (a `HEAD` cannot carry a body to read, and some clients
/// cannot send a `PUT` without one).
fn asked_method<'a>(method: &'a Method, query: &Query) -> Result<Cow<'a, Method>, Rejection> {
    match &query.presign {
        None | Some(Presign::Same) => Ok(Cow::Borrowed(method)),
        Some(Presign::As(named)) if *method == Method::GET => Ok(Cow::Owned(named.clone())),
        Some(Presign::As(_)) => Err(Rejection::PresignMethod),
    }
}

/// The path, decoded exactly once unless the front door already did.
fn decoded(path: KeyPath<'_>) -> Result<String, KeyError> {
    match path {
        KeyPath::Encoded(path) => key::decode_path(path),
        KeyPath::Decoded(path) => Ok(path.strip_prefix('/').unwrap_or(path).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{self, decided};
    use super::*;

    #[test]
    fn methods_map_to_operations() {
        let cases = [
            (Method::GET, Ok(Operation::Get)),
            (Method::HEAD, Ok(Operation::Head)),
            (Method::PUT, Ok(Operation::Put)),
            (Method::DELETE, Ok(Operation::Delete)),
            (Method::PATCH, Err(Rejection::MethodNotAllowed(Method::PATCH))),
            (Method::POST, Err(Rejection::MethodNotAllowed(Method::POST))),
            (Method::OPTIONS, Err(Rejection::MethodNotAllowed(Method::OPTIONS))),
        ];
        for (method, expected) in cases {
            assert_eq!(decided(&method, "/f.txt", None).map(|d| d.operation), expected, "{method}");
        }
    }

    /// With `?presign` only `Upload-Length` sizes an upload: the asking
    /// request's own `Content-Length` (a bodiless GET's `0`) never counts.
    #[test]
    fn presigned_uploads_take_their_size_from_upload_length_only() {
        use super::testing::act;
        let headers = |upload_length| UploadHeaders { upload_length, ..UploadHeaders::default() };
        let cases = [
            (Method::GET, "presign=PUT", BodySize::Known(0), None, Ok(None)),
            (Method::GET, "presign=PUT", BodySize::Unknown, None, Ok(None)),
            (Method::PUT, "presign", BodySize::Known(0), None, Ok(None)),
            (Method::PUT, "presign", BodySize::Absent, None, Ok(None)),
            (Method::GET, "presign=PUT", BodySize::Known(0), Some("0"), Ok(Some("0"))),
            (Method::GET, "presign=PUT", BodySize::Known(0), Some("7"), Ok(Some("7"))),
            (Method::PUT, "presign", BodySize::Known(3), Some("7"), Ok(Some("7"))),
            (Method::GET, "partNumber=2&uploadId=u1&presign=PUT", BodySize::Known(0), None, Ok(None)),
            (Method::GET, "partNumber=2&uploadId=u1&presign=PUT", BodySize::Known(0), Some("9"), Ok(Some("9"))),
            (Method::GET, "presign=PUT", BodySize::Known(0), Some("x"), Err(Rejection::UploadLength)),
            // Without `?presign` the body is the upload, as the 307 path always had it.
            (Method::PUT, "", BodySize::Known(0), None, Ok(Some("0"))),
            (Method::PUT, "", BodySize::Unknown, None, Err(Rejection::LengthRequired)),
            (Method::PUT, "partNumber=2&uploadId=u1", BodySize::Known(5), None, Ok(Some("5"))),
        ];
        for (method, query, body, upload_length, expected) in cases {
            let incoming = Incoming { body, upload: headers(upload_length), ..testing::request(&method, "/f.bin") };
            let signed = act(&incoming, Some(query), Caller::Owner(None), "").map(|action| match action {
                Action::Presign(order) => order.signed_headers,
                other => panic!("unexpected {other:?}"),
            });
            let length = signed
                .map(|headers| headers.into_iter().find(|(name, _)| *name == "content-length").map(|(_, value)| value));
            assert_eq!(length, expected.map(|v| v.map(str::to_owned)), "{method} ?{query} {body:?} {upload_length:?}");
        }
    }

    #[test]
    fn the_method_is_checked_before_the_key() {
        assert_eq!(decided(&Method::PATCH, "/../x", None), Err(Rejection::MethodNotAllowed(Method::PATCH)));
    }
}
