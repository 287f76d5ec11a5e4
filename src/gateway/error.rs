//! Every way a request can fail, mapped to its HTTP status in one place.
//! Client mistakes get a one-line reason; internal failures are logged with
//! their cause and answered without details.

use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::core::{ALLOWED_METHODS, Rejection};
use crate::signing::{CredentialsUnavailable, SignError};

/// Why the gateway gave no redirect.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request itself is wrong.
    #[error(transparent)]
    Rejected(#[from] Rejection),
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
                Rejection::LengthRequired => StatusCode::LENGTH_REQUIRED,
                Rejection::Key(_)
                | Rejection::FileName(_)
                | Rejection::DownloadOnWrite
                | Rejection::RepeatedParameter(_) => StatusCode::BAD_REQUEST,
            },
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
            tracing::error!(error = %ErrorChain(&self), "cannot presign");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "the gateway cannot sign URLs right now; try again shortly".to_owned()
                }
                _ => "internal error".to_owned(),
            }
        } else {
            self.to_string()
        };
        let mut response = (status, format!("{reason}\n")).into_response();
        if status == StatusCode::METHOD_NOT_ALLOWED {
            response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(ALLOWED_METHODS));
        }
        response
    }
}

/// Shows an error with all its sources, `a: b: c`.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
