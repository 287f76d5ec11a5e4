//! S3's size limits, which the gateway checks before storage would.

/// S3's limit on parts per upload.
pub const MAX_PARTS: u16 = 10_000;

/// S3's page size for ListParts, and the most a page holds whatever is asked.
pub const MAX_PARTS_PER_PAGE: u16 = 1000;

/// S3's smallest part, except the last.
pub const MIN_PART_BYTES: u64 = 5 << 20;

/// S3's largest part, and largest single PUT.
pub const MAX_PART_BYTES: u64 = 5 << 30;

/// S3's limit on an object's user-defined metadata: names and values, in bytes.
pub const MAX_METADATA_BYTES: usize = 2 << 10;
