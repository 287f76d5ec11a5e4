//! Helpers for the core's table tests: a policy, a request, and `decide`
//! with the parts each family's tests vary.

use std::time::{Duration, SystemTime};

use http::Method;

use super::grant::{Grant, Methods};
use super::key::{KeyPrefix, ObjectKey};
use super::query::Query;
use super::request::{BodySize, Incoming, KeyPath, UploadHeaders};
use super::tenant::TenantId;
use super::{Action, Caller, Policy, PresignOrder, Rejection, ShareOrder, decide};

pub const DAY: Duration = Duration::from_secs(86_400);

pub fn policy(prefix: &str) -> Policy {
    Policy {
        prefix: KeyPrefix::new(prefix).unwrap(),
        tenants: KeyPrefix::new("tenants").unwrap(),
        expires_in: Duration::from_secs(300),
        max_share_ttl: DAY * 365,
        max_object_size: None,
        inline_types: super::download::InlineTypes::default(),
        allowed_types: super::media::MediaTypes::default(),
        catalog: false,
        link_records: false,
    }
}

pub fn request<'a>(method: &'a Method, path: &'a str) -> Incoming<'a> {
    Incoming { method, path: KeyPath::Encoded(path), body: BodySize::Absent, upload: UploadHeaders::default() }
}

pub fn act(request: &Incoming<'_>, query: Option<&str>, caller: Caller<'_>, prefix: &str) -> Result<Action, Rejection> {
    decide(request, &Query::parse(query)?, caller, &policy(prefix))
}

pub fn decided(method: &Method, path: &str, query: Option<&str>) -> Result<PresignOrder, Rejection> {
    match act(&request(method, path), query, Caller::Owner(None), "")? {
        Action::Presign(order) => Ok(order),
        other => panic!("unexpected {other:?}"),
    }
}

pub fn shared(path: &str, query: &str, caller: Caller<'_>) -> Result<ShareOrder, Rejection> {
    match act(&request(&Method::POST, path), Some(query), caller, "")? {
        Action::Share(order) => Ok(order),
        other => panic!("unexpected {other:?}"),
    }
}

pub fn grant(key: &str, methods: &str, max_size: Option<u64>, tenant: Option<&TenantId>) -> Grant {
    Grant {
        tenant: tenant.cloned(),
        target: super::grant::Shared::Key(ObjectKey::new(key.into()).unwrap()),
        methods: Methods::parse(methods).unwrap(),
        expires_at: SystemTime::now() + DAY,
        max_size,
        id: None,
    }
}

pub fn with_max(max: Option<u64>) -> Policy {
    Policy { max_object_size: max, ..policy("") }
}
