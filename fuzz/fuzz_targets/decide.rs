//! The request-to-decision step on arbitrary methods, paths, queries, body
//! sizes, upload headers and tenant claims: it must never panic, and
//! whatever it accepts (a URL, a multipart step, a listing) must stay inside
//! the caller's tenant folder.

#![no_main]

use std::time::Duration;

use http::Method;
use libfuzzer_sys::fuzz_target;
use presign_gateway::core::query::Query;
use presign_gateway::core::tenant::TenantId;
use presign_gateway::core::{Action, BodySize, Caller, Incoming, KeyPath, Policy, UploadHeaders, decide};

const METHODS: [Method; 6] = [Method::GET, Method::HEAD, Method::PUT, Method::DELETE, Method::POST, Method::PATCH];

fuzz_target!(|input: (u8, &str, &str, &str, Option<u64>, bool, [Option<&str>; 8])| {
    let (method, path, query, tenant, length, decoded, headers) = input;
    let [upload_length, content_md5, if_none_match, if_match, sha256, content_type, checksum_algorithm, checksum_type] =
        headers;
    let method = &METHODS[usize::from(method) % METHODS.len()];
    let policy = Policy::new(Duration::from_secs(300));
    let Ok(tenant) = TenantId::new(tenant) else { return };
    let path = if decoded { KeyPath::Decoded(path) } else { KeyPath::Encoded(path) };
    let body = length.map_or(BodySize::Unknown, BodySize::Known);
    let Ok(query) = Query::parse(Some(query)) else { return };
    let upload = UploadHeaders {
        upload_length,
        content_md5,
        if_none_match,
        if_match,
        sha256,
        content_type,
        checksum_algorithm,
        checksum_type,
        ..UploadHeaders::default()
    };
    let incoming = Incoming { method, path, body, upload };
    let key = match decide(&incoming, &query, Caller::Owner(Some(&tenant)), &policy) {
        Ok(Action::Presign(order)) => order.key,
        Ok(Action::Multipart(order)) => order.key,
        Ok(Action::List(order)) => {
            let prefix = order.prefix.as_str();
            assert!(prefix.starts_with(&format!("tenants/{}/", tenant.folder())), "{prefix}");
            return;
        }
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
