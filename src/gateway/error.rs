//! Every way a request can fail, mapped to its HTTP status in one place.
//! Client mistakes get a one-line reason; internal failures are logged with
//! their cause and answered without details. Storage's own refusals reach
//! the client only when the client caused them (no such upload, a failed
//! precondition); the gateway's role being refused never does.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::auth::AuthError;
use crate::core::{ALLOWED_METHODS, Rejection};
use crate::links::LinkError;
use crate::signing::{CredentialsUnavailable, SignError};
use crate::storage::StorageError;
use crate::telemetry::ErrorChain;

/// What a `503` asks the client to wait, in seconds, before trying again.
const RETRY_AFTER_SECONDS: &str = "2";

/// Why the gateway gave no redirect.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request itself is wrong.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The caller is not authenticated, or not allowed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A share link that does not open.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Share links are used or asked for, but none are configured.
    #[error("share links are not enabled on this gateway (it starts with --share-keys / SHARE_KEYS to enable them)")]
    LinksDisabled,
    /// A link was asked for without `--base-url`, and the request has no `Host` to say where it leads.
    #[error("the request has no Host header to build the link from: send one (or the gateway sets --base-url)")]
    NoHost,
    /// A link was asked for without `--base-url`, and the `Host` header is not a host.
    #[error("the Host header must be a host name or address and an optional port, nothing else")]
    BadHost,
    /// Storage refused or failed a server-side call.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The credential chain gave nothing to sign with.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SignError),
}

impl GatewayError {
    /// The status this error is answered with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Rejected(rejection) => match rejection {
                Rejection::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
                Rejection::LengthRequired | Rejection::SizeRequired => StatusCode::LENGTH_REQUIRED,
                Rejection::TooLarge(_) | Rejection::UseMultipart => StatusCode::PAYLOAD_TOO_LARGE,
                Rejection::TypeRequired(_) | Rejection::TypeNotAllowed(..) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Rejection::LinkCannotShare
                | Rejection::LinkCannotList
                | Rejection::LinkForAnotherKey
                | Rejection::LinkMethod(_)
                | Rejection::LinkMultipart => StatusCode::FORBIDDEN,
                Rejection::Key(_)
                | Rejection::FileName(_)
                | Rejection::DownloadOnWrite
                | Rejection::RepeatedParameter(_)
                | Rejection::ShareNeedsPost
                | Rejection::TtlRequired
                | Rejection::Unit(_)
                | Rejection::TtlOutOfRange(_)
                | Rejection::Methods(_)
                | Rejection::MaxSizeWithoutPut
                | Rejection::UploadLength
                | Rejection::ContentMd5
                | Rejection::IfNoneMatch
                | Rejection::IfMatch
                | Rejection::ConflictingConditions
                | Rejection::Checksum(_)
                | Rejection::ChecksumCount
                | Rejection::ChecksumAlgorithm
                | Rejection::ChecksumType
                | Rejection::ChecksumTypeWithoutAlgorithm
                | Rejection::ChecksumCombination(..)
                | Rejection::ChecksumMode
                | Rejection::Sha256
                | Rejection::UploadId
                | Rejection::PartNumber
                | Rejection::MultipartUsage(_)
                | Rejection::Completion(_)
                | Rejection::InvalidPart(_)
                | Rejection::PartTooSmall(_)
                | Rejection::PresignMethod
                | Rejection::PresignWithoutRedirect
                | Rejection::Limit
                | Rejection::MetadataValue(_)
                | Rejection::MetadataRepeated(_)
                | Rejection::TabInHeader(_)
                | Rejection::MetadataTooLarge => StatusCode::BAD_REQUEST,
            },
            Self::Auth(error) if error.is_forbidden() => StatusCode::FORBIDDEN,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
            // A link that expires before a URL could live a second is an expired link.
            Self::Link(_) | Self::LinksDisabled | Self::Signing(SignError::OrderExpired) => StatusCode::FORBIDDEN,
            Self::NoHost | Self::BadHost => StatusCode::BAD_REQUEST,
            // Storage's own client errors (no such upload, precondition failed) are the client's;
            // a 401 or 403 is the gateway's own role failing, whose message names the account.
            Self::Storage(StorageError::Refused { status, .. })
                if (400..500).contains(status) && !matches!(status, 401 | 403) =>
            {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            // Storage unreachable, slow or failing, or no credentials to sign
            // with yet: worth trying again shortly.
            Self::Storage(StorageError::Unreachable(_) | StorageError::TimedOut(_))
            | Self::Credentials(_)
            | Self::Signing(SignError::CredentialsExpired) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Storage(StorageError::Refused { status, .. }) if *status >= 500 => StatusCode::SERVICE_UNAVAILABLE,
            Self::Storage(_) => StatusCode::BAD_GATEWAY,
            Self::Signing(
                SignError::Clock | SignError::HeaderName | SignError::HeaderValue | SignError::NotAHeader(_),
            ) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status();
        let reason = if status.is_server_error() {
            tracing::error!(error = %ErrorChain(&self), "cannot answer");
            match (&self, status) {
                (Self::Storage(_), StatusCode::SERVICE_UNAVAILABLE) => {
                    "storage is unreachable or slow; try again shortly".to_owned()
                }
                (Self::Storage(_), _) => "storage failed".to_owned(),
                (_, StatusCode::SERVICE_UNAVAILABLE) => {
                    "the gateway cannot sign URLs right now; try again shortly".to_owned()
                }
                _ => "internal error".to_owned(),
            }
        } else {
            self.to_string()
        };
        let mut response = (status, format!("{reason}\n")).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Rejected(Rejection::MethodNotAllowed(_)) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
            }
            Self::Auth(AuthError::Missing) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"presign-gateway\""));
            }
            Self::Auth(error) if !error.is_forbidden() => {
                let challenge = "Bearer realm=\"presign-gateway\", error=\"invalid_token\"";
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_storage_refusals_caused_by_the_client_reach_it() {
        let refused = |status| {
            let message = "User: arn:aws:sts::123456789012:assumed-role/gateway is not authorized".to_owned();
            GatewayError::Storage(StorageError::Refused { status, code: "Code".into(), message })
        };
        assert_eq!(refused(404).status(), StatusCode::NOT_FOUND);
        assert_eq!(refused(412).status(), StatusCode::PRECONDITION_FAILED);
        // The gateway's own role was refused: logged, and answered without the account in it.
        assert_eq!(refused(403).status(), StatusCode::BAD_GATEWAY);
        assert_eq!(refused(401).status(), StatusCode::BAD_GATEWAY);
    }
}
