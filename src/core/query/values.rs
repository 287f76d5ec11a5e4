//! The typed values of the query parameters that are not the families' own
//! types: multipart's upload id and part numbers, listing's page size, and
//! `presign`'s method.

use std::num::NonZeroU16;

use http::Method;

use super::super::Rejection;
use super::super::grant::LinkId;
use super::super::limits::{MAX_PARTS, MAX_PARTS_PER_PAGE};

/// The most entries a listing page holds.
pub const MAX_PAGE: u16 = 1000;

/// An upload id as storage issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadId(String);

impl UploadId {
    /// Accepts 1 to 1024 printable ASCII characters.
    ///
    /// # Errors
    ///
    /// [`Rejection::UploadId`] for anything else.
    pub fn new(id: &str) -> Result<Self, Rejection> {
        let valid = (1..=1024).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
        if valid { Ok(Self(id.to_owned())) } else { Err(Rejection::UploadId) }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A part's number: 1 to 10,000, as S3 numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartNumber(u16);

impl PartNumber {
    /// The number if it is 1 to 10,000.
    ///
    /// # Errors
    ///
    /// [`Rejection::PartNumber`] otherwise.
    pub fn new(number: u32) -> Result<Self, Rejection> {
        u16::try_from(number).ok().filter(|n| (1..=MAX_PARTS).contains(n)).map(Self).ok_or(Rejection::PartNumber)
    }

    /// Parses `partNumber`'s value.
    ///
    /// # Errors
    ///
    /// [`Rejection::PartNumber`] for anything but a whole number from 1 to 10,000.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        text.parse::<u32>().map_or(Err(Rejection::PartNumber), Self::new)
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u16 {
        self.0
    }
}

/// What `presign` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presign {
    /// `presign` alone: for the request's own method.
    Same,
    /// `presign=METHOD`: for GET, HEAD, PUT or DELETE (any case).
    As(Method),
}

impl Presign {
    /// Parses `presign`'s value.
    ///
    /// # Errors
    ///
    /// [`Rejection::PresignMethod`] for a method other than GET, HEAD, PUT or DELETE.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let method = match text.to_ascii_uppercase().as_str() {
            "" => return Ok(Self::Same),
            "GET" => Method::GET,
            "HEAD" => Method::HEAD,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            _ => return Err(Rejection::PresignMethod),
        };
        Ok(Self::As(method))
    }
}

/// `max-parts`: from 1, more asked down to S3's page of 1000.
pub(super) fn max_parts(text: &str) -> Result<NonZeroU16, Rejection> {
    let asked = text.parse::<u32>().map_err(|_| Rejection::PartPage)?;
    let clamped = u16::try_from(asked.min(u32::from(MAX_PARTS_PER_PAGE))).unwrap_or(MAX_PARTS_PER_PAGE);
    NonZeroU16::new(clamped).ok_or(Rejection::PartPage)
}

/// `part-number-marker`: 0 to 10,000.
pub(super) fn part_number_marker(text: &str) -> Result<u16, Rejection> {
    text.parse::<u16>().ok().filter(|n| *n <= MAX_PARTS).ok_or(Rejection::PartPage)
}

/// `limit`: 1 to [`MAX_PAGE`].
pub(super) fn limit(text: &str) -> Result<NonZeroU16, Rejection> {
    text.parse::<NonZeroU16>().ok().filter(|n| n.get() <= MAX_PAGE).ok_or(Rejection::Limit)
}

/// A rendition preset's name: `[a-z0-9][a-z0-9-]{0,31}`, as `--renditions` names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RenditionName(String);

impl RenditionName {
    /// The most names one listing asks for.
    pub const MOST_PER_LISTING: usize = 4;

    /// Parses a preset's name.
    ///
    /// # Errors
    ///
    /// [`Rejection::RenditionName`] for anything else.
    pub fn parse(name: &str) -> Result<Self, Rejection> {
        let valid = (1..=32).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if valid { Ok(Self(name.to_owned())) } else { Err(Rejection::RenditionName) }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `renditions=a,b`: distinct names, at most [`RenditionName::MOST_PER_LISTING`].
pub(super) fn rendition_names(list: &str) -> Result<Vec<RenditionName>, Rejection> {
    let mut names = Vec::new();
    for name in list.split(',') {
        let name = RenditionName::parse(name.trim())?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.len() > RenditionName::MOST_PER_LISTING { Err(Rejection::RenditionName) } else { Ok(names) }
}

/// `status`'s value: empty asks for one object's record; `failed` filters the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// `status` alone.
    Record,
    /// `status=failed`.
    Failed,
}

impl StatusFilter {
    /// Parses `status`'s value.
    ///
    /// # Errors
    ///
    /// [`Rejection::StatusFilter`] for anything but nothing or `failed`.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        match value {
            "" => Ok(Self::Record),
            "failed" => Ok(Self::Failed),
            _ => Err(Rejection::StatusFilter),
        }
    }
}

/// `max_uses`: a whole number from 1.
pub(super) fn max_uses(text: &str) -> Result<u64, Rejection> {
    text.parse::<u64>().ok().filter(|n| *n >= 1).ok_or(Rejection::MaxUses)
}

/// `links`' value: nothing for the caller's links, or one link's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinksParam {
    /// `links` alone.
    All,
    /// `links=ID`.
    One(LinkId),
}

impl LinksParam {
    /// Parses `links`' value.
    ///
    /// # Errors
    ///
    /// [`Rejection::LinkId`] for anything but nothing or a link's id.
    pub fn parse(value: &str) -> Result<Self, Rejection> {
        if value.is_empty() {
            return Ok(Self::All);
        }
        LinkId::parse(value).map(Self::One).ok_or(Rejection::LinkId)
    }
}
