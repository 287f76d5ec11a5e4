//! What the gateway answers with, rendered: a 307, a share link (text or
//! JSON), or a multipart step's result (S3's XML, or JSON when asked for).
//! Every body is a [`crate::wire`] message.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;

use super::access_log::Logged;
use super::multipart::MultipartDone;
use crate::core::checksum::Checksum;
use crate::core::grant::{Grant, LinkId};
use crate::core::{Delivery, ListOrder, MultipartOrder, PresignOrder};
use crate::links::records::LinkRecord;
use crate::signing::PresignedUrl;
use crate::wire::{self, S3Names, s3};

/// What a request was answered with, before rendering.
#[derive(Debug)]
pub enum Reply {
    /// A presigned URL: a 307, or JSON with `?presign`.
    Redirect(PresignOrder, PresignedUrl),
    /// One page of a folder.
    Listing(ListOrder, wire::FolderPage),
    /// A new share link.
    Shared {
        /// The link.
        url: String,
        /// What it allows.
        grant: Grant,
        /// How many uses it allows, when its record counts them.
        max_uses: Option<u64>,
    },
    /// The caller's live links, newest first, with their ids.
    Links(Vec<(LinkId, LinkRecord)>),
    /// A link revoked.
    Revoked,
    /// A multipart step done against storage, and what S3's XML names besides.
    Multipart(MultipartOrder, MultipartDone, S3Names),
    /// One page of the upload log.
    Log(wire::LogPage),
    /// One object's record.
    Status(wire::LogEntry),
    /// The keys family's answer.
    Keys(super::keys::KeysReply),
}

impl Reply {
    /// The response, in the form `request` asked for, marked for the access log.
    pub fn render(self, request: &HeaderMap) -> Response {
        let (mut response, logged) = match self {
            Self::Redirect(order, url) => {
                let response = presigned(&order, url);
                (response, Logged { key: order.key.into_string() })
            }
            Self::Listing(order, page) => {
                let logged = Logged { key: order.prefix.as_str().to_owned() };
                let no_store = [(header::CACHE_CONTROL, "no-store")];
                ((StatusCode::OK, no_store, axum::Json(page)).into_response(), logged)
            }
            Self::Shared { url, grant, max_uses } => {
                let logged = Logged { key: grant.target.as_str().to_owned() };
                (share_link(request, url, &grant, max_uses), logged)
            }
            Self::Links(links) => (no_store_json(&link_list(links)), Logged { key: String::new() }),
            Self::Revoked => (StatusCode::NO_CONTENT.into_response(), Logged { key: String::new() }),
            Self::Multipart(order, done, names) => {
                let logged = Logged { key: order.key.as_str().to_owned() };
                (multipart(request, &order, done, &names), logged)
            }
            Self::Log(page) => (no_store_json(&page), Logged { key: String::new() }),
            Self::Status(entry) => {
                let logged = Logged { key: entry.key.clone() };
                (no_store_json(&entry), logged)
            }
            Self::Keys(reply) => {
                let no_store = [(header::CACHE_CONTROL, "no-store")];
                let response = match reply {
                    super::keys::KeysReply::Listed(list) => no_store_json(&list),
                    super::keys::KeysReply::Created(new) => {
                        (StatusCode::CREATED, no_store, axum::Json(new)).into_response()
                    }
                    super::keys::KeysReply::Revoked => (StatusCode::NO_CONTENT, no_store).into_response(),
                };
                (response, Logged { key: String::new() })
            }
        };
        response.extensions_mut().insert(logged);
        response
    }
}

/// `200` with `body` as JSON, never cached: it changes as uploads are processed.
fn no_store_json(body: &impl Serialize) -> Response {
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// A 307 to the URL, or with `?presign` the request to make as JSON.
fn presigned(order: &PresignOrder, url: PresignedUrl) -> Response {
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if order.delivery == Delivery::Redirect {
        return (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, url.into_header_value()), no_store])
            .into_response();
    }
    let signed = order.signed_headers.iter().map(|(name, value)| ((*name).to_owned(), value.clone()));
    let metadata = order.metadata.iter().map(|(name, value)| (format!("x-amz-meta-{name}"), value.clone()));
    let request = wire::Presigned {
        url: url.as_str().to_owned(),
        method: order.operation.method().to_owned(),
        headers: signed.chain(metadata).collect(),
        expires_at: DateTime::from(url.expires_at()).fmt(Format::DateTime).unwrap_or_default(),
    };
    (StatusCode::OK, [no_store], axum::Json(request)).into_response()
}

/// The link as a line of text, or as JSON when the client asks for it.
fn share_link(request: &HeaderMap, url: String, grant: &Grant, max_uses: Option<u64>) -> Response {
    let cache = (header::CACHE_CONTROL, "no-store");
    if !wants_json(request) {
        return (StatusCode::CREATED, [cache], format!("{url}\n")).into_response();
    }
    let link = wire::ShareLink {
        url,
        key: grant.target.as_str().to_owned(),
        methods: grant.methods.to_string(),
        expires_at: DateTime::from(grant.expires_at).fmt(Format::DateTime).unwrap_or_default(),
        max_size: grant.max_size,
        id: grant.id.as_ref().map(|id| id.as_str().to_owned()),
        max_uses,
    };
    (StatusCode::CREATED, [cache], axum::Json(link)).into_response()
}

/// RFC 3339 of `seconds` since the epoch.
fn rfc3339(seconds: u64) -> String {
    DateTime::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX)).fmt(Format::DateTime).unwrap_or_default()
}

/// The owner's view of their links: every field of a record, never a token.
fn link_list(links: Vec<(LinkId, LinkRecord)>) -> wire::LinkList {
    let links = links
        .into_iter()
        .map(|(id, record)| wire::LinkEntry {
            id: id.as_str().to_owned(),
            key: record.key,
            methods: record.methods,
            max_size: record.max_size,
            created_by: record.created_by,
            created_at: rfc3339(record.created_at),
            expires_at: rfc3339(record.expires_at),
            max_uses: record.max_uses,
            uses: record.uses,
            last_use: record.last_use.map(rfc3339),
        })
        .collect();
    wire::LinkList { links }
}

fn multipart(request: &HeaderMap, order: &MultipartOrder, done: MultipartDone, names: &S3Names) -> Response {
    let key = order.object.as_str().to_owned();
    let json = wants_json(request);
    match done {
        MultipartDone::Aborted => StatusCode::NO_CONTENT.into_response(),
        MultipartDone::Created(upload) => {
            let started = wire::UploadStarted { key, upload_id: upload.as_str().to_owned() };
            message(json, &started, &s3::InitiateMultipartUploadResult::new(&started, names))
        }
        MultipartDone::Parts { upload, parts, page, truncated } => {
            let next_part_number_marker = parts.last().map(|p| p.number).filter(|_| truncated);
            let parts = parts
                .into_iter()
                .map(|p| wire::StoredPart {
                    part_number: p.number,
                    etag: p.etag,
                    size: p.size,
                    checksums: checksums(p.checksum.as_ref()),
                })
                .collect();
            let upload_id = upload.as_str().to_owned();
            let list = wire::PartList { key, upload_id, parts, is_truncated: truncated, next_part_number_marker };
            message(json, &list, &s3::ListPartsResult::new(&list, names, page.after, page.max_parts))
        }
        MultipartDone::Completed { etag, size, checksum, checksum_type } => {
            let done = wire::UploadCompleted {
                key,
                etag,
                size,
                checksums: checksums(checksum.as_ref()),
                checksum_type: checksum.and(checksum_type).map(|t| t.name().to_owned()),
            };
            message(json, &done, &s3::CompleteMultipartUploadResult::new(&done, names))
        }
    }
}

/// A checksum in the wire's fields.
fn checksums(checksum: Option<&Checksum>) -> wire::Checksums {
    checksum.map(|c| wire::Checksums::with(c.algorithm, c.value.clone())).unwrap_or_default()
}

/// `200` with `json` as JSON when asked for, else with `xml` as S3's XML.
fn message(json: bool, as_json: &impl Serialize, as_xml: &impl Serialize) -> Response {
    if json {
        (StatusCode::OK, axum::Json(as_json)).into_response()
    } else {
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml")], s3::to_xml(as_xml)).into_response()
    }
}

/// Whether the client asked for JSON (`Accept: application/json`) rather than the default.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}
