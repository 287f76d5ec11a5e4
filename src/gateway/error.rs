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
    #[error("share links are not enabled on this gateway")]
    LinksDisabled,
    /// A link was asked for, but the gateway cannot tell its own URL.
    #[error("the gateway cannot tell its own URL for the link: set BASE_URL")]
    NoBaseUrl,
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
                Rejection::LinkCannotShare
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
                | Rejection::PartTooSmall(_) => StatusCode::BAD_REQUEST,
            },
            Self::Auth(error) if error.is_forbidden() => StatusCode::FORBIDDEN,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
            Self::Link(_) | Self::LinksDisabled => StatusCode::FORBIDDEN,
            Self::NoBaseUrl => StatusCode::INTERNAL_SERVER_ERROR,
            // Storage's own client errors (no such upload, precondition failed) are the client's;
            // a 401 or 403 is the gateway's own role failing, whose message names the account.
            Self::Storage(StorageError::Refused { status, .. })
                if (400..500).contains(status) && !matches!(status, 401 | 403) =>
            {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            Self::Storage(_) => StatusCode::BAD_GATEWAY,
            Self::Credentials(_) | Self::Signing(SignError::CredentialsExpired) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Signing(SignError::Signing(_) | SignError::Parameters(_) | SignError::NotAHeader(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status();
        let reason = if status.is_server_error() {
            tracing::error!(error = %ErrorChain(&self), "cannot answer");
            match (&self, status) {
                (Self::NoBaseUrl, _) => self.to_string(),
                (Self::Storage(_), _) => "storage failed; try again shortly".to_owned(),
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
