//! The pure core: a request's method, path, query and declared body size,
//! and who it acts for, in; an [`Action`] out (a URL to presign, a share
//! link to mint, or a multipart step to run) or a [`Rejection`]. Nothing
//! here does I/O, so every rule is a unit test away.
//!
//! [`decide`] only dispatches, as Garage's S3 router does: the request side
//! is [`request`], the rules live one family to a file ([`presign`],
//! [`share`], [`multipart`] with [`completion`]), with what uploads sign in
//! [`upload`] and S3's checksum headers in [`checksum`]; [`tenant`] is the
//! only way to a storage key.

pub mod action;
pub mod checksum;
pub mod completion;
pub mod download;
pub mod grant;
pub mod key;
pub mod limits;
pub mod multipart;
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

use http::Method;

pub use action::{
    Action, MultipartOrder, MultipartStep, NewObject, Operation, Overwrite, PartTarget, PresignOrder,
    ResponseOverrides, ShareOrder,
};
pub use policy::{Caller, Policy};
pub use rejection::Rejection;
pub use request::{BodySize, FrontDoorPath, Incoming, KeyPath, UploadHeaders};

use key::{KeyError, ObjectKey};
use query::Query;

/// What the `Allow` header lists.
pub const ALLOWED_METHODS: &str = "GET, HEAD, PUT, DELETE, OPTIONS";

/// Maps a request to an action, or says why not.
pub fn decide(request: &Incoming<'_>, query: &Query, caller: Caller<'_>, policy: &Policy) -> Result<Action, Rejection> {
    let method = request.method;
    let multipart = query.uploads || query.upload_id.is_some() || query.part_number.is_some();
    if *method == Method::POST {
        let key = object_key(request.path)?;
        if query.share {
            return share::share(key, query, caller, policy).map(Action::Share);
        }
        if multipart {
            return multipart::post(request, key, query, caller, policy);
        }
        return Err(Rejection::MethodNotAllowed(method.clone()));
    }
    let operation = Operation::from_method(method).ok_or_else(|| Rejection::MethodNotAllowed(method.clone()))?;
    if query.share {
        return Err(Rejection::ShareNeedsPost);
    }
    let key = object_key(request.path)?;
    if multipart {
        return multipart::on_upload(request, operation, key, query, caller, policy);
    }
    presign::presign(request, operation, &key, query, caller, policy).map(Action::Presign)
}

fn object_key(path: KeyPath<'_>) -> Result<ObjectKey, KeyError> {
    match path {
        KeyPath::Encoded(path) => ObjectKey::from_encoded_path(path),
        KeyPath::Decoded(path) => ObjectKey::from_decoded_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::decided;
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

    #[test]
    fn the_method_is_checked_before_the_key() {
        assert_eq!(decided(&Method::PATCH, "/../x", None), Err(Rejection::MethodNotAllowed(Method::PATCH)));
    }
}
