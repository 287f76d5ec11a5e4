//! The multipart steps the gateway performs against storage, and their
//! answers: S3's XML by default, JSON when the client asks for it.

use std::fmt::Write;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use quick_xml::escape::escape;

use super::GatewayError;
use crate::core::multipart::{self, Part};
use crate::core::{MultipartOrder, MultipartStep, Policy};
use crate::storage::{Completed, Storage};

/// What a multipart step produced.
#[derive(Debug)]
pub enum Outcome {
    /// A new upload's id.
    Created(String),
    /// The parts stored so far.
    Parts(Vec<Part>),
    /// The finished object.
    Completed(Completed),
    /// The upload is gone.
    Aborted,
}

/// Performs `order`; `body` is the completion's part list.
pub async fn perform(
    storage: &Storage,
    order: &MultipartOrder,
    body: Option<(&[u8], bool)>,
    policy: &Policy,
) -> Result<Outcome, GatewayError> {
    let key = &order.key;
    Ok(match &order.step {
        MultipartStep::Create { content_type, sha256 } => {
            Outcome::Created(storage.create(key, content_type.as_deref(), sha256.as_deref()).await?.as_str().to_owned())
        }
        MultipartStep::ListParts(upload) => Outcome::Parts(storage.list_parts(key, upload).await?),
        MultipartStep::Complete { upload, if_none_match } => {
            let (body, json) = body.unwrap_or((&[], false));
            let wanted = multipart::parse_completion(body, json)?;
            let stored = storage.list_parts(key, upload).await?;
            let size = multipart::check_completion(&wanted, &stored, policy.max_object_size)?;
            Outcome::Completed(storage.complete(key, upload, &wanted, size, *if_none_match).await?)
        }
        MultipartStep::Abort(upload) => {
            storage.abort(key, upload).await?;
            Outcome::Aborted
        }
    })
}

/// Renders `outcome` for the client.
pub fn respond(headers: &HeaderMap, order: &MultipartOrder, outcome: Outcome) -> Response {
    let json = super::handler::wants_json(headers);
    let key = order.object.as_str();
    let (status, xml, value) = match outcome {
        Outcome::Aborted => return StatusCode::NO_CONTENT.into_response(),
        Outcome::Created(upload) => (
            StatusCode::OK,
            format!(
                "<InitiateMultipartUploadResult><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
                escape(key),
                escape(&upload)
            ),
            serde_json::json!({ "key": key, "upload_id": upload }),
        ),
        Outcome::Parts(parts) => {
            let mut xml_parts = String::new();
            for p in &parts {
                let _ = write!(
                    xml_parts,
                    "<Part><PartNumber>{}</PartNumber><ETag>&quot;{}&quot;</ETag><Size>{}</Size></Part>",
                    p.number,
                    escape(&p.etag),
                    p.size
                );
            }
            let json_parts: Vec<_> = parts
                .iter()
                .map(|p| serde_json::json!({ "part_number": p.number, "etag": p.etag, "size": p.size }))
                .collect();
            (
                StatusCode::OK,
                format!("<ListPartsResult><Key>{}</Key>{xml_parts}</ListPartsResult>", escape(key)),
                serde_json::json!({ "key": key, "parts": json_parts }),
            )
        }
        Outcome::Completed(done) => (
            StatusCode::OK,
            format!(
                "<CompleteMultipartUploadResult><Key>{}</Key><ETag>&quot;{}&quot;</ETag></CompleteMultipartUploadResult>",
                escape(key),
                escape(&done.etag)
            ),
            serde_json::json!({ "key": key, "etag": done.etag, "size": done.size }),
        ),
    };
    if json {
        (status, axum::Json(value)).into_response()
    } else {
        let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{xml}\n");
        (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
    }
}
