//! Every way a request can fail, mapped to its HTTP status in one place.
//! Client mistakes get a one-line reason; internal failures are logged with
//! their cause and answered without details. Storage's own refusals reach
//! the client only when the client caused them (no such upload, a failed
//! precondition); the gateway's role being refused never does. The reason
//! is plain text, except on the routes where the gateway speaks S3's API
//! (the multipart steps), which refuse as S3 does ([`ErrorForm`]).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::auth::AuthError;
use crate::catalog::CatalogError;
use crate::core::grant::LinkGone;
use crate::core::{ALLOWED_METHODS, Rejection};
use crate::keys::KeysError;
use crate::links::LinkError;
use crate::links::records::RecordError;
use crate::signing::{CredentialsUnavailable, SignError};
use crate::state::StateError;
use crate::storage::StorageError;
use crate::telemetry::ErrorChain;
use crate::wire::{self, s3};

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
    /// A genuine, unexpired link that its record ends: revoked or used up.
    #[error(transparent)]
    LinkGone(#[from] LinkGone),
    /// A link's record could not be read or written.
    #[error(transparent)]
    LinkRecords(#[from] RecordError),
    /// A link with a record, on a gateway with no state store to read it from.
    #[error("this share link's record is kept in a state store this gateway does not have")]
    NoLinkRecords,
    /// A revocation of a link the caller has not (or no longer: expired).
    #[error("you have no live share link with that id")]
    NoSuchLink,
    /// Share links are used or asked for, but none are configured.
    #[error("sharing is not turned on for this site")]
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
    /// A `Host` the gateway does not answer to: a rebinding website's, or
    /// a name the operator has not listed.
    #[error(
        "this gateway does not answer to that Host name; its operator can add it with --allowed-hosts / ALLOWED_HOSTS"
    )]
    MisdirectedHost,
    /// Request bodies in memory take all of `--max-body-memory`.
    #[error("the gateway holds as many request bodies as it may; try again shortly")]
    Busy,
    /// The tenant made more requests than `--rate-limit` allows: this long until the next.
    #[error("too many requests for this tenant (--rate-limit); try again in {} s", retry_after_seconds(*.0))]
    RateLimited(std::time::Duration),
    /// The upload log failed (the state store is unreachable: uploads wait).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The upload log is asked for, but there is none.
    #[error("the upload log is off: the gateway keeps it with --state-dir or --state-table")]
    CatalogOff,
    /// No record of the object: not stored, or not yet reported by storage.
    #[error("the upload log has no record of this object (yet)")]
    NoRecord,
    /// A rendition no preset names.
    #[error("no preset is called `{0}`: the renditions made here are those --renditions / RENDITIONS names")]
    UnknownRendition(String),
    /// A rendition still being made.
    #[error("the rendition is being made; try again shortly")]
    RenditionNotReady,
    /// A rendition that could not be made.
    #[error("the rendition could not be made: {0}")]
    RenditionFailed(String),
    /// Renditions of something else than an image.
    #[error("the object is not an image, so it has no renditions")]
    NotAnImage,
    /// API keys failed, or a key was refused.
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// API keys are used or managed, but this gateway has none.
    #[error("API keys are off on this gateway: {0}")]
    KeysOff(&'static str),
}

impl GatewayError {
    /// The status this error is answered with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Rejected(rejection) => rejection_status(rejection),
            Self::Auth(error) if error.is_forbidden() => StatusCode::FORBIDDEN,
            // A link that expires before a URL could live a second is an expired link.
            Self::Link(_) | Self::LinksDisabled | Self::Signing(SignError::OrderExpired) => StatusCode::FORBIDDEN,
            Self::NoHost | Self::BadHost | Self::UnknownRendition(_) => StatusCode::BAD_REQUEST,
            Self::LinkGone(_) => StatusCode::GONE,
            Self::LinkRecords(error) if error.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::CatalogOff
            | Self::NoSuchLink
            | Self::NoRecord
            | Self::RenditionNotReady
            | Self::RenditionFailed(_)
            | Self::NotAnImage
            | Self::KeysOff(_) => StatusCode::NOT_FOUND,
            Self::Keys(error) => keys_status(error),
            Self::Catalog(error) if error.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::MisdirectedHost => StatusCode::MISDIRECTED_REQUEST,
            // Storage's own client errors (no such upload, precondition failed) are the client's;
            // a 401 or 403 is the gateway's own role failing, whose message names the account.
            Self::Storage(StorageError::Refused { status, .. })
                if (400..500).contains(status) && !matches!(status, 401 | 403) =>
            {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            // Storage unreachable, slow or failing, or no credentials to sign
            // with (or sign-in keys to check tokens with) yet: worth trying again shortly.
            Self::Storage(StorageError::Unreachable(_) | StorageError::TimedOut(_))
            | Self::Auth(AuthError::KeysUnavailable)
            | Self::Credentials(_)
            | Self::Signing(SignError::CredentialsExpired)
            | Self::NoLinkRecords
            | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Storage(StorageError::Refused { status, .. }) if *status >= 500 => StatusCode::SERVICE_UNAVAILABLE,
            Self::Auth(_) => StatusCode::UNAUTHORIZED,
            Self::Storage(_) => StatusCode::BAD_GATEWAY,
            Self::Signing(
                SignError::Clock | SignError::HeaderName | SignError::HeaderValue | SignError::NotAHeader(_),
            )
            | Self::Catalog(_)
            | Self::LinkRecords(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// S3's error code for this refusal, as S3 clients read it from `<Code>`.
    #[must_use]
    pub fn s3_code(&self) -> &str {
        match self {
            Self::Storage(StorageError::Refused { code, status, .. }) if self.status().as_u16() == *status => code,
            Self::Rejected(
                Rejection::UploadId
                | Rejection::PartNumber
                | Rejection::PartPage
                | Rejection::Cursor
                | Rejection::RepeatedParameter(_),
            ) => "InvalidArgument",
            Self::Rejected(Rejection::Completion(_)) => "MalformedXML",
            Self::Rejected(Rejection::InvalidPart(_)) => "InvalidPart",
            Self::Rejected(Rejection::PartTooSmall(_)) => "EntityTooSmall",
            Self::Rejected(Rejection::Checksum(_) | Rejection::ContentMd5) => "InvalidDigest",
            Self::Busy | Self::RateLimited(_) => "SlowDown",
            Self::CatalogOff => "CatalogOff",
            Self::NoRecord => "NoSuchKey",
            Self::UnknownRendition(_) => "UnknownRendition",
            Self::RenditionNotReady => "RenditionNotReady",
            Self::RenditionFailed(_) => "RenditionFailed",
            Self::NotAnImage => "NotAnImage",
            Self::KeysOff(_) => "ApiKeysOff",
            Self::Keys(KeysError::NoSuchKey) => "NoSuchApiKey",
            Self::Keys(KeysError::TooMany) => "TooManyApiKeys",
            Self::LinkGone(LinkGone::Revoked) => "LinkRevoked",
            Self::LinkGone(LinkGone::UsedUp) => "LinkUsedUp",
            Self::NoSuchLink => "NoSuchLink",
            Self::Rejected(Rejection::LinkRecordsOff) => "LinkRecordsOff",
            _ => match self.status() {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "AccessDenied",
                StatusCode::NOT_FOUND => "NoSuchUpload",
                StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
                StatusCode::LENGTH_REQUIRED => "MissingContentLength",
                StatusCode::PRECONDITION_FAILED => "PreconditionFailed",
                StatusCode::PAYLOAD_TOO_LARGE => "EntityTooLarge",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
                StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
                status if status.is_server_error() => "InternalError",
                _ => "InvalidRequest",
            },
        }
    }

    /// The answer, its reason written in `form`.
    #[must_use]
    pub fn render(self, form: &ErrorForm) -> Response {
        let status = self.status();
        let reason = self.reason(status);
        let mut response = match form {
            ErrorForm::Text => (status, format!("{reason}\n")).into_response(),
            ErrorForm::S3 { json, request_id } => {
                let error =
                    s3::Error { code: self.s3_code().to_owned(), message: reason, request_id: request_id.clone() };
                if *json {
                    let error =
                        wire::ErrorMessage { code: error.code, message: error.message, request_id: error.request_id };
                    (status, axum::Json(error)).into_response()
                } else {
                    (status, [(header::CONTENT_TYPE, "application/xml")], s3::to_xml(&error)).into_response()
                }
            }
            ErrorForm::Json => {
                let status_of = match &self {
                    Self::RenditionNotReady => Some("processing"),
                    Self::RenditionFailed(_) => Some("failed"),
                    _ => None,
                };
                let mut error = serde_json::json!({ "error": self.s3_code(), "message": reason });
                if let Some(status) = status_of {
                    error["status"] = status.into();
                }
                (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(error)).into_response()
            }
        };
        self.add_headers(status, response.headers_mut());
        response
    }

    /// The one-line reason a client is told; server errors are logged here
    /// with their cause and told without it.
    fn reason(&self, status: StatusCode) -> String {
        if matches!(self, Self::Busy | Self::RateLimited(_)) {
            // Expected under load, and an attacker's to cause: counted, not logged.
            self.to_string()
        } else if status.is_server_error() {
            tracing::error!(error = %ErrorChain(self), "cannot answer");
            match (self, status) {
                (Self::Storage(_), StatusCode::SERVICE_UNAVAILABLE) => {
                    "storage is unreachable or slow; try again shortly".to_owned()
                }
                (Self::Storage(_), _) => "storage failed".to_owned(),
                (Self::Keys(_), StatusCode::SERVICE_UNAVAILABLE) => {
                    "the state store holding API keys is unreachable; try again shortly".to_owned()
                }
                (Self::LinkRecords(_) | Self::NoLinkRecords, StatusCode::SERVICE_UNAVAILABLE) => {
                    "the share link's record cannot be read right now; try again shortly".to_owned()
                }
                (Self::Auth(error), _) => error.to_string(),
                (Self::Catalog(_), StatusCode::SERVICE_UNAVAILABLE) => {
                    "the upload log is unreachable (an upload waits for it: nothing is signed without its record); try again shortly"
                        .to_owned()
                }
                (_, StatusCode::SERVICE_UNAVAILABLE) => {
                    "the gateway cannot sign URLs right now; try again shortly".to_owned()
                }
                _ => "internal error".to_owned(),
            }
        } else {
            // What the visitor is told is theirs; what the operator can do about it is logged.
            match self {
                Self::Auth(AuthError::Invalid(refusal)) => {
                    tracing::info!(detail = %refusal.detail, "a bearer token was refused");
                }
                Self::LinksDisabled => {
                    tracing::info!("a share link was asked for or used, but --share-keys / SHARE_KEYS is not set");
                }
                _ => {}
            }
            self.to_string()
        }
    }

    fn add_headers(&self, status: StatusCode, headers: &mut http::HeaderMap) {
        match self {
            Self::Rejected(Rejection::MethodNotAllowed(_)) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
            }
            Self::Auth(AuthError::Missing) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"presign-gateway\""));
            }
            Self::Auth(error) if !error.is_forbidden() && status != StatusCode::SERVICE_UNAVAILABLE => {
                let challenge = "Bearer realm=\"presign-gateway\", error=\"invalid_token\"";
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            Self::Keys(KeysError::Refused) => {
                let challenge = "Bearer realm=\"presign-gateway\", error=\"invalid_token\"";
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            Self::RenditionNotReady => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(super::catalog::RETRY_RENDITION_SECONDS));
            }
            Self::RateLimited(wait) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds(*wait)));
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
    }
}

/// The status a request refused by the core is answered with.
fn rejection_status(rejection: &Rejection) -> StatusCode {
    match rejection {
        Rejection::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        Rejection::LengthRequired | Rejection::SizeRequired => StatusCode::LENGTH_REQUIRED,
        Rejection::TooLarge(_) | Rejection::UseMultipart => StatusCode::PAYLOAD_TOO_LARGE,
        Rejection::TypeRequired(_) | Rejection::TypeNotAllowed(..) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Rejection::LinkCannotShare
        | Rejection::LinkCannotList
        | Rejection::LinkCannotReadLog
        | Rejection::LinkForAnotherKey
        | Rejection::LinkMethod(_)
        | Rejection::LinkMultipart
        | Rejection::LinkCannotManageKeys
        | Rejection::KeysNeedTenants
        | Rejection::ApiKeyCannotManageKeys
        | Rejection::ApiKeyCannotShare
        | Rejection::ApiKeyReadOnly
        | Rejection::KeyOutsidePrefix(_)
        | Rejection::LinkCannotManageLinks
        | Rejection::LinkMetadata => StatusCode::FORBIDDEN,
        Rejection::LinkRecordsOff => StatusCode::NOT_FOUND,
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
        | Rejection::PartPage
        | Rejection::Cursor
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
        | Rejection::ObjectHeader(..)
        | Rejection::MetadataTooLarge
        | Rejection::RenditionName
        | Rejection::StatusFilter
        | Rejection::LogAtTop
        | Rejection::ReadWithGet
        | Rejection::KeyId
        | Rejection::KeyTerm(_)
        | Rejection::KeyTermUnknown(_)
        | Rejection::KeyBody
        | Rejection::KeyTermsTwice
        | Rejection::KeyPrefix(_)
        | Rejection::KeysAtTop
        | Rejection::KeysUsage
        | Rejection::MaxUses
        | Rejection::MaxUsesWithoutRecords
        | Rejection::LinkId
        | Rejection::LinksUsage
        | Rejection::ShareTopLevel => StatusCode::BAD_REQUEST,
    }
}

/// Whole seconds to wait, rounded up: `Retry-After` takes no fraction.
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The status of the API keys' failures.
fn keys_status(error: &KeysError) -> StatusCode {
    match error {
        KeysError::Refused => StatusCode::UNAUTHORIZED,
        KeysError::NoSuchKey => StatusCode::NOT_FOUND,
        KeysError::TooMany => StatusCode::CONFLICT,
        KeysError::State(StateError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        KeysError::State(_) | KeysError::Corrupt(_) | KeysError::Random => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        self.render(&ErrorForm::Text)
    }
}

/// How a refusal's reason is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorForm {
    /// One line of text: the gateway's own routes.
    Text,
    /// S3's `<Error>` (or with `Accept: application/json`, the same fields
    /// as JSON): the routes where the gateway speaks S3's API, so S3 clients
    /// such as Uppy show the reason.
    S3 {
        /// JSON rather than XML.
        json: bool,
        /// The request's id, for `<RequestId>`.
        request_id: String,
    },
    /// `{"error", "message", "status"}`: the upload log's routes, read by scripts and the page.
    Json,
}

impl ErrorForm {
    /// The form for a request: S3's on the multipart routes (a query that
    /// names an upload, [`crate::core::query::Query::is_multipart`]), text elsewhere.
    #[must_use]
    pub fn of(headers: &http::HeaderMap, multipart: bool) -> Self {
        if !multipart {
            return Self::Text;
        }
        let request_id = headers.get(super::REQUEST_ID).and_then(|id| id.to_str().ok()).unwrap_or_default();
        Self::S3 { json: super::reply::wants_json(headers), request_id: request_id.to_owned() }
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
