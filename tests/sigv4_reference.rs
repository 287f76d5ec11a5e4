//! The gateway's own SigV4 presigner (`src/signing/sigv4.rs`) against
//! `aws-sigv4`, the AWS SDK's signer, as the reference: for random keys
//! (any the gateway accepts, under any tenant and prefix), operations
//! (UploadPart with its part number and upload id included), download
//! overrides, signed upload headers and metadata, lifetimes (a share link's
//! expiry among them), times, endpoints and
//! credentials (with and without session tokens and expiries), the URL must
//! be byte for byte the one `aws-sigv4` makes, or both must refuse.
//!
//! One difference is deliberate and so left out here: the gateway signs
//! `x-amz-checksum-mode` when a download asks for it, which `aws-sigv4`
//! always leaves out of presigned URLs. s3s's own verifier checks those
//! URLs instead: the CLI downloads from a store in strict-signing mode,
//! which refuses the header unsigned (tests/transfers.rs).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use presign_gateway::core::key::{KeyPrefix, ObjectKey};
use presign_gateway::core::multipart::UploadId;
use presign_gateway::core::tenant::TenantId;
use presign_gateway::core::{Delivery, Operation, PartTarget, Policy, PresignOrder, ResponseOverrides};
use presign_gateway::signing::{BucketEndpoint, PresignedUrl, Presigner};
use proptest::prelude::*;
use sigv4_reference::reference;

#[path = "common/sigv4_reference.rs"]
mod sigv4_reference;

/// Text of any characters, ASCII more often than not, so that every
/// character that needs escaping is met.
fn text(max: usize) -> impl Strategy<Value = String> {
    let character = prop_oneof![3 => proptest::char::range(' ', '~'), 1 => any::<char>()];
    proptest::collection::vec(character, 0..=max).prop_map(|chars| chars.into_iter().collect())
}

fn object_key() -> impl Strategy<Value = ObjectKey> {
    proptest::collection::vec(text(12), 1..5)
        .prop_filter_map("not a key the gateway accepts", |segments| ObjectKey::new(segments.join("/")).ok())
}

fn tenant() -> impl Strategy<Value = Option<TenantId>> {
    proptest::option::of(text(20).prop_filter_map("not a tenant", |id| TenantId::new(&id).ok()))
}

fn prefix() -> impl Strategy<Value = KeyPrefix> {
    prop_oneof![Just(String::new()), Just("uploads/".to_owned()), Just("a b/ü".to_owned())]
        .prop_map(|prefix| KeyPrefix::new(&prefix).expect("a valid prefix"))
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        Just(Operation::Get),
        Just(Operation::Head),
        Just(Operation::Put),
        Just(Operation::Delete),
        Just(Operation::UploadPart)
    ]
}

fn part() -> impl Strategy<Value = PartTarget> {
    let id = proptest::collection::vec(proptest::char::range('!', '~'), 1..80)
        .prop_map(|chars| UploadId::new(&chars.into_iter().collect::<String>()).expect("printable ASCII"));
    (id, 1u16..=10_000).prop_map(|(upload, number)| PartTarget { upload, number })
}

/// A value as a client might send it: blanks around and inside, sometimes.
fn spaced(value: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (value, 0usize..3, 0usize..3, any::<bool>()).prop_map(|(value, before, after, doubled)| {
        let value = if doubled { value.replacen(' ', "   ", 1) } else { value };
        format!("{}{value}{}", " ".repeat(before), " ".repeat(after))
    })
}

/// Headers the upload rules may sign: the length, an MD5, `If-None-Match: *`,
/// metadata and checksums; values of any text a header carries.
fn signed_headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let base64 = "[A-Za-z0-9+/]{22}==";
    let header = prop_oneof![
        (0u64..=5 << 30).prop_map(|n| ("content-length", n.to_string())),
        spaced(base64.prop_map(String::from)).prop_map(|v| ("content-md5", v)),
        Just(("if-none-match", "*".to_owned())),
        spaced("[0-9a-f]{64}".prop_map(String::from)).prop_map(|v| ("x-amz-meta-sha256", v)),
        spaced(text(30)).prop_map(|v| ("x-amz-meta-note", v)),
        spaced("[A-Za-z0-9+/]{6}==".prop_map(String::from)).prop_map(|v| ("x-amz-checksum-crc32", v)),
        spaced("[A-Za-z0-9+/]{43}=".prop_map(String::from)).prop_map(|v| ("x-amz-checksum-sha256", v)),
        Just(("x-amz-checksum-algorithm", "CRC32".to_owned())),
        Just(("Content-Type", "text/plain;  charset=utf-8".to_owned())),
    ];
    proptest::collection::vec(header, 0..5)
}

/// `x-amz-meta-*` metadata as the upload rules pass it on: names without
/// the prefix (any case), values of printable ASCII with blanks.
fn metadata() -> impl Strategy<Value = Vec<(String, String)>> {
    let entry = ("[A-Za-z0-9-]{1,12}".prop_map(String::from), spaced("[ -~]{0,30}".prop_map(String::from)));
    proptest::collection::vec(entry, 0..3)
}

/// A share link's expiry, when the order comes from one: from already
/// past to well after the URL's own lifetime.
fn valid_until(now: SystemTime) -> impl Strategy<Value = Option<SystemTime>> {
    proptest::option::of(
        (0u64..2_000, 0u32..1_000_000_000)
            .prop_map(move |(s, n)| now.checked_sub(Duration::from_secs(2)).unwrap_or(now) + Duration::new(s, n)),
    )
}

fn endpoint() -> impl Strategy<Value = BucketEndpoint> {
    let endpoint = |url: &str, region: &str| BucketEndpoint::new(url, region).unwrap();
    prop_oneof![
        Just(endpoint("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1")),
        Just(endpoint("https://s3.us-east-1.amazonaws.com/my.files", "us-east-1")),
        Just(endpoint("http://127.0.0.1:9000/presign-gateway", "us-east-1")),
        Just(endpoint("http://minio:80/bucket", "garage")),
        Just(endpoint("https://store.example:443/b", "auto")),
        Just(endpoint("https://store.example:8443/nested/path/b", "eu-central-2")),
    ]
}

/// Credentials of any key and secret, temporary or not, expiring or not,
/// and a time from 1970 to 2200.
fn credentials_and_time() -> impl Strategy<Value = (Credentials, SystemTime)> {
    let key_id = prop_oneof![3 => "[A-Z0-9]{16,20}".prop_map(String::from), 1 => text(24)];
    let token = proptest::option::of(prop_oneof![3 => "[A-Za-z0-9+/=]{16,600}".prop_map(String::from), 1 => text(40)]);
    let now = (0u64..7_258_118_400, 0u32..1_000_000_000).prop_map(|(s, n)| UNIX_EPOCH + Duration::new(s, n));
    let expiry = proptest::option::of(-120i64..700_000);
    (key_id, text(40), token, now, expiry).prop_map(|(key_id, secret, token, now, expiry)| {
        let expiry = expiry.map(|secs| {
            let at = if secs >= 0 {
                now + Duration::from_secs(secs.unsigned_abs())
            } else {
                now - Duration::from_secs(secs.unsigned_abs())
            };
            at + Duration::from_millis(250)
        });
        (Credentials::new(key_id, secret, token, expiry, "proptest"), now)
    })
}

#[derive(Debug)]
struct Case {
    endpoint: BucketEndpoint,
    order: PresignOrder,
    credentials: Credentials,
    now: SystemTime,
}

fn case() -> impl Strategy<Value = Case> {
    let overrides = (proptest::option::of(text(30)), proptest::option::of(text(60)), proptest::option::of(text(80)))
        .prop_map(|(cache_control, content_type, content_disposition)| ResponseOverrides {
            cache_control,
            content_type,
            content_disposition,
        });
    (
        endpoint(),
        (object_key(), tenant(), prefix()),
        operation(),
        part(),
        overrides,
        (signed_headers(), metadata()),
        1u64..=800_000,
        credentials_and_time().prop_flat_map(|(credentials, now)| (Just((credentials, now)), valid_until(now))),
    )
        .prop_filter_map(
            "the key is too long with its prefix",
            |(
                endpoint,
                (key, tenant, prefix),
                operation,
                part,
                response,
                (signed_headers, metadata),
                expires,
                ((credentials, now), valid_until),
            )| {
                let mut policy = Policy::new(Duration::from_secs(expires));
                policy.prefix = prefix;
                let order = PresignOrder {
                    operation,
                    key: policy.scope(tenant.as_ref()).storage_key(&key).ok()?,
                    expires_in: policy.expires_in,
                    valid_until,
                    response,
                    signed_headers,
                    metadata,
                    delivery: Delivery::Redirect,
                    part: (operation == Operation::UploadPart).then_some(part),
                };
                Some(Case { endpoint, order, credentials, now })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn urls_are_byte_for_byte_those_of_aws_sigv4(case in case()) {
        let presigner = Presigner::new(case.endpoint.clone());
        let ours = presigner.presign(&case.order, &case.credentials, case.now).ok();
        let theirs = reference(&case.endpoint, &case.order, &case.credentials, case.now);
        prop_assert_eq!(ours.as_ref().map(PresignedUrl::as_str), theirs.as_deref());
        // Signed again with the day's key now cached: the same URL.
        let again = presigner.presign(&case.order, &case.credentials, case.now).ok();
        prop_assert_eq!(again, ours);
    }
}

/// One presigner across days and rotating credentials: the cached key must
/// follow both.
#[test]
fn the_cached_key_follows_days_and_credentials() {
    let endpoint = BucketEndpoint::new("http://127.0.0.1:9000/b", "us-east-1").unwrap();
    let presigner = Presigner::new(endpoint.clone());
    let policy = Policy::new(Duration::from_secs(300));
    let key = policy.scope(None).storage_key(&ObjectKey::new("a b/c.txt".into()).unwrap()).unwrap();
    let order = PresignOrder {
        operation: Operation::Get,
        key,
        expires_in: policy.expires_in,
        valid_until: None,
        response: ResponseOverrides::default(),
        signed_headers: Vec::new(),
        metadata: Vec::new(),
        delivery: Delivery::Redirect,
        part: None,
    };
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000 - 1_700_000_000 % 86_400 + 86_399);
    let credentials = [
        Credentials::new("AK1", "one", None, None, "t"),
        Credentials::new("AK2", "two", Some("token".into()), None, "t"),
        Credentials::new("AK2", "other secret", Some("token".into()), None, "t"),
        Credentials::new("AK2", "other secret", Some("another token".into()), None, "t"),
    ];
    for step in 0..12u32 {
        let now = start + Duration::from_secs(u64::from(step / 4) * 86_400 / 2);
        let credentials = &credentials[(step % 4) as usize];
        let ours = presigner.presign(&order, credentials, now).unwrap();
        assert_eq!(Some(ours.as_str()), reference(&endpoint, &order, credentials, now).as_deref(), "step {step}");
    }
}
