//! The request-to-decision step on arbitrary methods, paths, queries, body
//! sizes and tenant claims: it must never panic, and whatever it accepts must
//! stay inside the caller's tenant folder.

#![no_main]

use std::time::Duration;

use http::Method;
use libfuzzer_sys::fuzz_target;
use presign_gateway::core::query::Query;
use presign_gateway::core::tenant::TenantId;
use presign_gateway::core::{Action, BodySize, Caller, Incoming, KeyPath, Policy, UploadHeaders, decide};

const METHODS: [Method; 6] = [Method::GET, Method::HEAD, Method::PUT, Method::DELETE, Method::POST, Method::PATCH];

fuzz_target!(|input: (u8, &str, &str, &str, Option<u64>, bool, [Option<&str>; 4])| {
    let (method, path, query, tenant, length, decoded, [upload_length, content_md5, if_none_match, sha256]) = input;
    let method = &METHODS[usize::from(method) % METHODS.len()];
    let policy = Policy::new(Duration::from_secs(300));
    let Ok(tenant) = TenantId::new(tenant) else { return };
    let path = if decoded { KeyPath::Decoded(path) } else { KeyPath::Encoded(path) };
    let body = length.map_or(BodySize::Unknown, BodySize::Known);
    let Ok(query) = Query::parse(Some(query)) else { return };
    let upload = UploadHeaders { upload_length, content_md5, if_none_match, sha256 };
    let incoming = Incoming { method, path, body, upload };
    let key = match decide(&incoming, &query, Caller::Owner(Some(&tenant)), &policy) {
        Ok(Action::Presign(order)) => order.key,
        Ok(Action::Multipart(order)) => order.key,
        _ => return,
    };
    {
        let folder = format!("tenants/{}/", tenant.folder());
        let key = key.as_str();
        assert!(key.starts_with(&folder), "{key} is outside {folder}");
        assert!(key[folder.len()..].split('/').all(|s| !matches!(s, "" | "." | "..")), "{key}");
        assert!(!tenant.folder().contains('/'));
        assert!(key.len() <= 1024);
    }
});
