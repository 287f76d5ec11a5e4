//! The query parameters the gateway understands. Others are ignored so that
//! cache-busting parameters do no harm; a known one given twice is refused
//! as ambiguous.

use super::Rejection;

/// The parsed query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `download` or `download=name.ext`.
    pub download: Option<String>,
    /// `share`: create a share link (with POST).
    pub share: bool,
    /// `ttl=30d`: a share link's lifetime.
    pub ttl: Option<String>,
    /// `methods=GET,PUT`: what a share link allows.
    pub methods: Option<String>,
    /// `max_size=5MiB`: the largest upload a share link allows.
    pub max_size: Option<String>,
    /// `token=…`: a share link's signed grant.
    pub token: Option<String>,
    /// `uploads`: start a multipart upload (with POST).
    pub uploads: bool,
    /// `uploadId=…`: the multipart upload acted on.
    pub upload_id: Option<String>,
    /// `partNumber=N`: the part uploaded.
    pub part_number: Option<String>,
    /// `max-parts=N`: how many parts a part list's page holds.
    pub max_parts: Option<String>,
    /// `part-number-marker=N`: the part a part list's page starts after.
    pub part_number_marker: Option<String>,
    /// `presign` or `presign=METHOD`: answer with the presigned request as
    /// JSON instead of a redirect, for the request's method or the one named.
    pub presign: Option<String>,
    /// `limit=N`: how many entries a listing page holds.
    pub limit: Option<String>,
    /// `after=CURSOR`: where a listing page starts.
    pub after: Option<String>,
    /// `metadata`: a listing with each object's metadata.
    pub metadata: bool,
}

impl Query {
    /// Parses a raw query string (`application/x-www-form-urlencoded`).
    pub fn parse(raw: Option<&str>) -> Result<Self, Rejection> {
        let mut query = Self::default();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let (slot, name) = match name.as_ref() {
                "download" => (&mut query.download, "download"),
                "ttl" => (&mut query.ttl, "ttl"),
                "methods" => (&mut query.methods, "methods"),
                "max_size" => (&mut query.max_size, "max_size"),
                "token" => (&mut query.token, "token"),
                "uploadId" => (&mut query.upload_id, "uploadId"),
                "partNumber" => (&mut query.part_number, "partNumber"),
                "max-parts" => (&mut query.max_parts, "max-parts"),
                "part-number-marker" => (&mut query.part_number_marker, "part-number-marker"),
                "presign" => (&mut query.presign, "presign"),
                "limit" => (&mut query.limit, "limit"),
                "after" => (&mut query.after, "after"),
                "share" | "uploads" | "metadata" => {
                    let (flag, name) = match name.as_ref() {
                        "share" => (&mut query.share, "share"),
                        "uploads" => (&mut query.uploads, "uploads"),
                        _ => (&mut query.metadata, "metadata"),
                    };
                    if std::mem::replace(flag, true) {
                        return Err(Rejection::RepeatedParameter(name));
                    }
                    continue;
                }
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(Rejection::RepeatedParameter(name));
            }
        }
        Ok(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_once() {
        let query = Query::parse(Some("share&ttl=30d&methods=GET,PUT&max_size=5MiB&v=1")).unwrap();
        assert!(query.share);
        assert_eq!(query.ttl.as_deref(), Some("30d"));
        assert_eq!(query.methods.as_deref(), Some("GET,PUT"));
        assert_eq!(query.max_size.as_deref(), Some("5MiB"));
        assert_eq!(Query::parse(None).unwrap(), Query::default());
        assert_eq!(Query::parse(Some("download=a%20b")).unwrap().download.as_deref(), Some("a b"));
        assert_eq!(Query::parse(Some("token=a&token=b")), Err(Rejection::RepeatedParameter("token")));
        assert_eq!(Query::parse(Some("share&share")), Err(Rejection::RepeatedParameter("share")));
        let part = Query::parse(Some("partNumber=3&uploadId=abc")).unwrap();
        assert_eq!((part.part_number.as_deref(), part.upload_id.as_deref()), (Some("3"), Some("abc")));
        assert!(Query::parse(Some("uploads")).unwrap().uploads);
        assert_eq!(Query::parse(Some("uploads&uploads")), Err(Rejection::RepeatedParameter("uploads")));
        let page = Query::parse(Some("presign=PUT&limit=10&after=abc&metadata")).unwrap();
        assert_eq!(
            (page.presign.as_deref(), page.limit.as_deref(), page.after.as_deref()),
            (Some("PUT"), Some("10"), Some("abc"))
        );
        assert!(page.metadata);
        assert_eq!(Query::parse(Some("presign")).unwrap().presign.as_deref(), Some(""));
        assert_eq!(Query::parse(Some("metadata&metadata")), Err(Rejection::RepeatedParameter("metadata")));
    }
}
