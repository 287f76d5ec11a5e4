//! The catch-all handler. Nothing of a body is read before the caller is
//! authenticated (or its share link or API key verified) and the request
//! decided from its headers: a refused request is answered at once, after
//! reading at most a little of a body sent unasked, and its connection
//! closed. Then the completion's part list (or a new API key's terms) is
//! read, or the body drained, within the body
//! timeout, and only then is a URL signed, so its lifetime starts when it is
//! handed out.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::access_log::CarriedLink;
use super::body::NotKept;
use super::drain::{self, Bounds, Drained};
use super::error::ErrorForm;
use super::{CompletionBody, Gateway, GatewayError};
use crate::core::api_key::KeysOrder;
use crate::core::completion::BodyFormat;
use crate::core::query::{BadQuery, Query};
use crate::core::{ALLOWED_METHODS, Action, Incoming, MultipartStep, Rejection, page};

pub(super) async fn handle(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, [(header::ALLOW, ALLOWED_METHODS)]).into_response();
    }
    // The query is read once, here: the page, the core and the access log use what it gave.
    let query = Query::parse(parts.uri.query());
    let link = match &query {
        Ok(query) => query.token.is_some(),
        Err(bad) => bad.link,
    };
    let mut response = answer(&gateway, &parts, body, query).await;
    if link {
        response.extensions_mut().insert(CarriedLink);
    }
    response
}

async fn answer(gateway: &Gateway, parts: &Parts, body: Body, query: Result<Query, BadQuery>) -> Response {
    let path = Incoming::from_parts(parts).path;
    let raw = parts.uri.query().unwrap_or_default();
    if let Some(asset) = page::asset(&parts.method, path, raw, query.as_ref().ok(), &parts.headers) {
        return super::page::serve(gateway, &asset, parts);
    }
    let multipart = match &query {
        Ok(query) => query.is_multipart(),
        Err(bad) => bad.multipart,
    };
    // The upload log's routes are JSON, refusals included.
    let catalog = match &query {
        Ok(query) => query.reads_catalog(),
        Err(bad) => bad.catalog,
    };
    let form = if catalog { ErrorForm::Json } else { ErrorForm::of(&parts.headers, multipart) };
    if query.as_ref().is_ok_and(|query| query.token.is_none()) && gateway.authenticator().api_key(parts).is_none() {
        // A token naming a key the gateway does not hold yet waits for one fetch of the provider's keys.
        gateway.authenticator().fetch_keys_for(parts).await;
    }
    let decided = match query {
        Ok(query) => gateway.decide(parts, &query, SystemTime::now()).await,
        Err(bad) => Err(GatewayError::from(bad.reason)),
    };
    let decided = match decided {
        Ok(decided) => decided,
        Err(error) => return refused(&parts.method, &parts.headers, body, error.render(&form)).await,
    };
    let completes =
        matches!(&decided.action, Action::Multipart(order) if matches!(order.step, MultipartStep::Complete { .. }));
    let creates_key = matches!(&decided.action, Action::Keys(KeysOrder::Create(..)));
    let (completion, drained) = if completes || creates_key {
        match gateway.bodies().keep_part_list(&parts.headers, body).await {
            Ok(kept) => (Some(kept), Drained::Complete),
            Err(NotKept::Busy) => return close(GatewayError::Busy.render(&form)),
            Err(_) if creates_key => return close(GatewayError::from(Rejection::KeyBody).render(&form)),
            Err(not_kept) => return close(GatewayError::from(not_kept).render(&form)),
        }
    } else {
        let bounds = Bounds::accepted(gateway.bodies().pace());
        (None, drain::unless_continue_expected(&parts.method, &parts.headers, body, bounds).await)
    };
    let completion =
        completion.as_ref().map(|kept| CompletionBody { bytes: &kept.bytes, format: body_format(&parts.headers) });
    let response = match gateway.perform(parts, decided, completion).await {
        Ok(reply) => reply.render(&parts.headers),
        Err(error) => error.render(&form),
    };
    if drained == Drained::GaveUp { close(response) } else { response }
}

/// The answer to a request refused from its headers, after reading at most
/// a little of its body; the connection closes unless the body was read whole.
async fn refused(method: &Method, headers: &HeaderMap, body: Body, response: Response) -> Response {
    let drained = drain::unless_continue_expected(method, headers, body, Bounds::REFUSED).await;
    let sent_a_body = headers.contains_key(header::CONTENT_LENGTH) || headers.contains_key(header::TRANSFER_ENCODING);
    match drained {
        Drained::Complete => response,
        Drained::Untouched if !sent_a_body => response,
        Drained::Untouched | Drained::GaveUp => close(response),
    }
}

fn close(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// JSON when the body says so, else S3's XML.
fn body_format(headers: &HeaderMap) -> BodyFormat {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if json { BodyFormat::Json } else { BodyFormat::Xml }
}

impl From<NotKept> for GatewayError {
    fn from(not_kept: NotKept) -> Self {
        match not_kept {
            NotKept::Busy => Self::Busy,
            NotKept::TooLong | NotKept::CutOff => {
                Rejection::Completion("the part list is too long, too slow or was cut off").into()
            }
        }
    }
}
