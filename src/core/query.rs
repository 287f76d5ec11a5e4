//! The query parameters the gateway understands, read once at the edge into
//! typed values that every family trusts. Others are ignored so that
//! cache-busting parameters do no harm; a known one given twice is refused
//! as ambiguous, and one whose value does not parse is refused with the
//! reason its family would give.

mod values;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::num::NonZeroU16;

pub use values::{LinksParam, MAX_PAGE, PartNumber, Presign, RenditionName, StatusFilter, UploadId};

use super::Rejection;
use super::api_key::{KeyTerms, KeysParam};
use super::cursor::Cursor;
use super::grant::Methods;
use super::units::{self, Ttl};

/// The parsed query string.
#[allow(clippy::struct_excessive_bools, reason = "each is a flag of the query string")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `download` or `download=name.ext`.
    pub download: Option<String>,
    /// `share`: create a share link (with POST).
    pub share: bool,
    /// `ttl=30d`: a share link's lifetime.
    pub ttl: Option<Ttl>,
    /// `methods=GET,PUT`: what a share link allows.
    pub methods: Option<Methods>,
    /// `max_size=5MiB`: the largest upload a share link allows, in bytes.
    pub max_size: Option<u64>,
    /// `max_uses=N`: how many times a share link may be used, 1 or more.
    pub max_uses: Option<u64>,
    /// `links` (the caller's links) or `links=ID` (one of them, to revoke).
    pub links: Option<LinksParam>,
    /// `token=…`: a share link's signed grant, verified by `crate::links`.
    pub token: Option<String>,
    /// `uploads`: start a multipart upload (with POST).
    pub uploads: bool,
    /// `uploadId=…`: the multipart upload acted on.
    pub upload_id: Option<UploadId>,
    /// `partNumber=N`: the part uploaded.
    pub part_number: Option<PartNumber>,
    /// `max-parts=N`: how many parts a part list's page holds (more is
    /// asked down to 1000, as S3 does).
    pub max_parts: Option<NonZeroU16>,
    /// `part-number-marker=N`: the part a part list's page starts after.
    pub part_number_marker: Option<u16>,
    /// `presign` or `presign=METHOD`: answer with the presigned request as
    /// JSON instead of a redirect, for the request's method or the one named.
    pub presign: Option<Presign>,
    /// `limit=N`: how many entries a listing page holds, 1 to [`MAX_PAGE`].
    pub limit: Option<NonZeroU16>,
    /// `after=CURSOR`: where a listing page starts (`after=` alone: the start).
    pub after: Option<Cursor>,
    /// `metadata`: a listing with each object's metadata.
    pub metadata: bool,
    /// `log`: the upload log, at the top level.
    pub log: bool,
    /// `status` alone: one object's record; `status=failed` with `log`: only failed uploads.
    pub status: Option<StatusFilter>,
    /// `rendition=NAME`: a rendition of the object, not the object.
    pub rendition: Option<RenditionName>,
    /// `renditions=thumb,large`: a listing with each object's renditions.
    pub renditions: Vec<RenditionName>,
    /// `keys` (list, create) or `keys=ID` (revoke): the caller's API keys.
    pub keys: Option<KeysParam>,
    /// With `keys`: a new key's `read_only`, `prefix`, `ttl` and `name`, if
    /// any is given (read only with `keys`, so they mean nothing elsewhere).
    pub key_terms: Option<KeyTerms>,
}

/// A query that does not parse, with what it showed of the request: a
/// refusal on S3's multipart routes is written as S3 writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct BadQuery {
    /// Why.
    pub reason: Rejection,
    /// It names a multipart upload (`uploads`, `uploadId`, `partNumber`).
    pub multipart: bool,
    /// It carries a share link's `token`.
    pub link: bool,
    /// It reads the upload log (`log`, `status`, `rendition`), manages keys
    /// (`keys`) or the caller's links (`links`), whose answers are JSON.
    pub catalog: bool,
}

impl From<BadQuery> for Rejection {
    fn from(bad: BadQuery) -> Self {
        bad.reason
    }
}

impl Query {
    /// Parses a raw query string (`application/x-www-form-urlencoded`).
    ///
    /// # Errors
    ///
    /// [`BadQuery`] when a known parameter is repeated or its value does not
    /// parse; the first in the order of [`Query`]'s fields is reported.
    pub fn parse(raw: Option<&str>) -> Result<Self, BadQuery> {
        let (text, repeated) = Text::read(raw.unwrap_or_default());
        let multipart = text.uploads || text.upload_id.is_some() || text.part_number.is_some();
        let catalog = text.log
            || text.status.is_some()
            || text.rendition.is_some()
            || text.keys.is_some()
            || text.links.is_some();
        let bad = |reason| BadQuery { reason, multipart, link: text.token.is_some(), catalog };
        if let Some(name) = repeated {
            return Err(bad(Rejection::RepeatedParameter(name)));
        }
        text.typed().map_err(bad)
    }

    /// Whether the query reads the upload log, manages keys or the caller's
    /// links, whose answers (refusals included) are JSON.
    #[must_use]
    pub fn reads_catalog(&self) -> bool {
        self.log || self.status.is_some() || self.rendition.is_some() || self.keys.is_some() || self.links.is_some()
    }

    /// Whether the query names a multipart upload, so the request is one of
    /// S3's multipart steps.
    #[must_use]
    pub fn is_multipart(&self) -> bool {
        self.uploads || self.upload_id.is_some() || self.part_number.is_some()
    }
}

/// The known parameters as written, each at most once.
#[allow(clippy::struct_excessive_bools, reason = "each is a flag of the query string")]
#[derive(Default)]
struct Text<'a> {
    download: Option<Cow<'a, str>>,
    share: bool,
    ttl: Option<Cow<'a, str>>,
    methods: Option<Cow<'a, str>>,
    max_size: Option<Cow<'a, str>>,
    max_uses: Option<Cow<'a, str>>,
    links: Option<Cow<'a, str>>,
    token: Option<Cow<'a, str>>,
    uploads: bool,
    upload_id: Option<Cow<'a, str>>,
    part_number: Option<Cow<'a, str>>,
    max_parts: Option<Cow<'a, str>>,
    part_number_marker: Option<Cow<'a, str>>,
    presign: Option<Cow<'a, str>>,
    limit: Option<Cow<'a, str>>,
    after: Option<Cow<'a, str>>,
    metadata: bool,
    log: bool,
    status: Option<Cow<'a, str>>,
    rendition: Option<Cow<'a, str>>,
    renditions: Option<Cow<'a, str>>,
    keys: Option<Cow<'a, str>>,
    read_only: Option<Cow<'a, str>>,
    prefix: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    /// The first parameter of no known name, refused beside `keys` only.
    unknown: Option<Cow<'a, str>>,
}

impl<'a> Text<'a> {
    /// The known parameters, and the first one repeated, if any.
    fn read(raw: &'a str) -> (Self, Option<&'static str>) {
        let mut text = Self::default();
        let mut repeated = None;
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            let (slot, name) = match name.as_ref() {
                "download" => (&mut text.download, "download"),
                "ttl" => (&mut text.ttl, "ttl"),
                "methods" => (&mut text.methods, "methods"),
                "max_size" => (&mut text.max_size, "max_size"),
                "max_uses" => (&mut text.max_uses, "max_uses"),
                "links" => (&mut text.links, "links"),
                "token" => (&mut text.token, "token"),
                "uploadId" => (&mut text.upload_id, "uploadId"),
                "partNumber" => (&mut text.part_number, "partNumber"),
                "max-parts" => (&mut text.max_parts, "max-parts"),
                "part-number-marker" => (&mut text.part_number_marker, "part-number-marker"),
                "presign" => (&mut text.presign, "presign"),
                "limit" => (&mut text.limit, "limit"),
                "after" => (&mut text.after, "after"),
                "status" => (&mut text.status, "status"),
                "rendition" => (&mut text.rendition, "rendition"),
                "renditions" => (&mut text.renditions, "renditions"),
                "keys" => (&mut text.keys, "keys"),
                "read_only" => (&mut text.read_only, "read_only"),
                "prefix" => (&mut text.prefix, "prefix"),
                "name" => (&mut text.name, "name"),
                "share" | "uploads" | "metadata" | "log" => {
                    let (flag, name) = match name.as_ref() {
                        "share" => (&mut text.share, "share"),
                        "uploads" => (&mut text.uploads, "uploads"),
                        "log" => (&mut text.log, "log"),
                        _ => (&mut text.metadata, "metadata"),
                    };
                    if std::mem::replace(flag, true) {
                        repeated = repeated.or(Some(name));
                    }
                    continue;
                }
                _ => {
                    text.unknown = text.unknown.take().or(Some(name));
                    continue;
                }
            };
            if slot.replace(value).is_some() {
                repeated = repeated.or(Some(name));
            }
        }
        (text, repeated)
    }

    /// Each value parsed, in the order of [`Query`]'s fields.
    fn typed(&self) -> Result<Query, Rejection> {
        Ok(Query {
            download: self.download.as_ref().map(|name| name.as_ref().to_owned()),
            share: self.share,
            ttl: self.ttl.as_deref().map(Ttl::parse).transpose()?,
            methods: self.methods.as_deref().map(Methods::parse).transpose()?,
            max_size: self.max_size.as_deref().map(units::parse_size).transpose()?,
            max_uses: self.max_uses.as_deref().map(values::max_uses).transpose()?,
            links: self.links.as_deref().map(LinksParam::parse).transpose()?,
            token: self.token.as_ref().map(|token| token.as_ref().to_owned()),
            uploads: self.uploads,
            upload_id: self.upload_id.as_deref().map(UploadId::new).transpose()?,
            part_number: self.part_number.as_deref().map(PartNumber::parse).transpose()?,
            max_parts: self.max_parts.as_deref().map(values::max_parts).transpose()?,
            part_number_marker: self.part_number_marker.as_deref().map(values::part_number_marker).transpose()?,
            presign: self.presign.as_deref().map(Presign::parse).transpose()?,
            limit: self.limit.as_deref().map(values::limit).transpose()?,
            after: self.after.as_deref().filter(|cursor| !cursor.is_empty()).map(Cursor::parse).transpose()?,
            metadata: self.metadata,
            log: self.log,
            status: self.status.as_deref().map(StatusFilter::parse).transpose()?,
            rendition: self.rendition.as_deref().map(RenditionName::parse).transpose()?,
            renditions: self.renditions.as_deref().map(values::rendition_names).transpose()?.unwrap_or_default(),
            keys: self.keys.as_deref().map(KeysParam::parse).transpose()?,
            key_terms: self.key_terms()?,
        })
    }

    /// A new key's terms, read only with `keys` and only if one is given.
    fn key_terms(&self) -> Result<Option<KeyTerms>, Rejection> {
        let given = self.read_only.is_some() || self.prefix.is_some() || self.ttl.is_some() || self.name.is_some();
        if self.keys.is_none() {
            return Ok(None);
        }
        if let Some(unknown) = &self.unknown {
            return Err(Rejection::KeyTermUnknown(unknown.as_ref().to_owned()));
        }
        if !given {
            return Ok(None);
        }
        let ttl = self.ttl.as_deref().map(Ttl::parse).transpose()?;
        KeyTerms::parse(self.read_only.as_deref(), self.prefix.as_deref(), ttl, self.name.as_deref()).map(Some)
    }
}
