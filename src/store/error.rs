//! Every way a store operation fails, mapped to S3's error codes and
//! statuses in one place. A full disk is `507 InsufficientStorage` with a
//! plain reason; internal failures are logged with their cause and answered
//! `500 InternalError` without details.

use std::io;

use http::StatusCode;
use s3s::{S3Error, S3ErrorCode};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No object under the key.
    #[error("The specified key does not exist.")]
    NoSuchKey,
    /// No such multipart upload, or not for this key.
    #[error("The specified upload does not exist.")]
    NoSuchUpload,
    /// The store serves one bucket.
    #[error("The specified bucket does not exist.")]
    NoSuchBucket,
    /// `If-None-Match` or `If-Match` did not hold.
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    /// The body does not match a digest the request named.
    #[error("The {0} you specified did not match the calculated checksum.")]
    BadDigest(&'static str),
    /// A digest header that is not one.
    #[error("The {0} you specified is not valid.")]
    InvalidDigest(&'static str),
    /// Longer than S3's 1024 bytes.
    #[error("Your key is too long: S3 keys are at most 1024 bytes.")]
    KeyTooLong,
    /// A PUT without `Content-Length`.
    #[error("You must provide the Content-Length HTTP header.")]
    MissingContentLength,
    /// The body ended before `Content-Length`, or the client went away.
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody,
    /// A completion names a part that is not stored as listed.
    #[error("{0}")]
    InvalidPart(String),
    /// A completion's parts are not ascending.
    #[error("The list of parts was not in ascending order.")]
    InvalidPartOrder,
    /// A part but the last under 5 MiB.
    #[error("Each part but the last must be at least 5 MiB.")]
    EntityTooSmall,
    /// A request the store understands but refuses, with why.
    #[error("{0}")]
    InvalidRequest(String),
    /// A request the store does not implement.
    #[error("{0}")]
    NotImplemented(&'static str),
    /// The disk is full (or over quota): nothing was written.
    #[error("the embedded store's disk is full; nothing was written")]
    DiskFull(#[source] io::Error),
    /// The disk failed otherwise.
    #[error("{0}")]
    Io(&'static str, #[source] io::Error),
    /// Another process holds the index: a second server on the same folder.
    #[error(
        "{} is open in another process (a running `serve` or `store`?): stop it, or give this one \
         a folder of its own with --data-dir / DATA_DIR", .0.display()
    )]
    IndexInUse(std::path::PathBuf),
    /// The index failed.
    #[error("the store's index failed")]
    Index(#[from] redb::Error),
}

impl StoreError {
    /// A disk failure while doing `what`, told apart from a full disk.
    pub fn io(what: &'static str, error: io::Error) -> Self {
        if matches!(
            error.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
        ) {
            Self::DiskFull(error)
        } else {
            Self::Io(what, error)
        }
    }

    fn code(&self) -> (S3ErrorCode, Option<StatusCode>) {
        let code = match self {
            Self::NoSuchKey => S3ErrorCode::NoSuchKey,
            Self::NoSuchUpload => S3ErrorCode::NoSuchUpload,
            Self::NoSuchBucket => S3ErrorCode::NoSuchBucket,
            Self::PreconditionFailed => S3ErrorCode::PreconditionFailed,
            Self::BadDigest(_) => S3ErrorCode::BadDigest,
            Self::InvalidDigest(_) => S3ErrorCode::InvalidDigest,
            Self::KeyTooLong => S3ErrorCode::KeyTooLongError,
            Self::MissingContentLength => S3ErrorCode::MissingContentLength,
            Self::IncompleteBody => S3ErrorCode::IncompleteBody,
            Self::InvalidPart(_) => S3ErrorCode::InvalidPart,
            Self::InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
            Self::EntityTooSmall => S3ErrorCode::EntityTooSmall,
            Self::InvalidRequest(_) => S3ErrorCode::InvalidRequest,
            Self::NotImplemented(_) => S3ErrorCode::NotImplemented,
            Self::DiskFull(_) => {
                return (S3ErrorCode::Custom("InsufficientStorage".into()), Some(StatusCode::INSUFFICIENT_STORAGE));
            }
            Self::Io(..) | Self::Index(_) | Self::IndexInUse(_) => S3ErrorCode::InternalError,
        };
        (code, None)
    }
}

impl From<StoreError> for S3Error {
    fn from(error: StoreError) -> Self {
        let (code, status) = error.code();
        if matches!(
            error,
            StoreError::Io(..) | StoreError::Index(_) | StoreError::IndexInUse(_) | StoreError::DiskFull(_)
        ) {
            tracing::error!(error = %crate::telemetry::ErrorChain(&error), "the embedded store failed");
        }
        let message = match &error {
            StoreError::Io(..) | StoreError::Index(_) | StoreError::IndexInUse(_) => {
                "We encountered an internal error. Please try again.".into()
            }
            other => other.to_string(),
        };
        let mut s3 = S3Error::with_message(code, message);
        if let Some(status) = status {
            s3.set_status_code(status);
        }
        s3
    }
}

/// Each of redb's error types, as a store error.
macro_rules! from_redb {
    ($($error:ty),*) => {$(
        impl From<$error> for StoreError {
            fn from(error: $error) -> Self {
                Self::Index(error.into())
            }
        }
    )*};
}

from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError
);
