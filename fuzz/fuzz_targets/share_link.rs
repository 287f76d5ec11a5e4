//! Share links on a gateway whose callers are tenants (`--auth jwt`), through
//! the gateway's own `decide`: arbitrary tokens, methods and paths, and
//! tokens minted from arbitrary grants (with and without a tenant). Nothing
//! may panic; whatever a link is allowed to do stays inside its tenant's
//! folder, never outlives the link, and a link that names no tenant does
//! nothing at all.

#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use presign_gateway::auth::{Authenticator, JwtVerifier};
use presign_gateway::config::Links;
use presign_gateway::core::grant::{Grant, Methods, Shared};
use presign_gateway::core::key::ObjectKey;
use presign_gateway::core::query::Query;
use presign_gateway::core::tenant::TenantId;
use presign_gateway::core::{Action, Policy};
use presign_gateway::gateway::Gateway;
use presign_gateway::links::ShareKeys;
use presign_gateway::signing::{BucketEndpoint, CredentialsCache, Presigner};
use presign_gateway::storage::S3Storage;

const SHARE_KEYS: &str = "k1:fuzzing-share-key-0123456789abcdef0123";
const METHODS: [Method; 5] = [Method::GET, Method::HEAD, Method::PUT, Method::DELETE, Method::POST];

static GATEWAY: LazyLock<Gateway> = LazyLock::new(|| {
    let credentials = Credentials::new("AKIDFUZZ", "secret", None, None, "fuzz");
    let storage = S3Storage::new(
        SharedCredentialsProvider::new(credentials.clone()),
        "us-east-1",
        Some("http://127.0.0.1:9"),
        "files",
        Duration::from_secs(1),
    );
    let presigner =
        Presigner::new(BucketEndpoint::new("http://127.0.0.1:9/files", "us-east-1").unwrap());
    let verifier = JwtVerifier::new(Some("a fuzzing JWT secret of 32 bytes or more"), None, &[], None, None, "sub".into())
        .expect("a valid verifier");
    Gateway::new(Policy::new(Duration::from_secs(300)), presigner, CredentialsCache::new(credentials), Arc::new(storage))
        .with_auth(Authenticator::Jwt(verifier))
        .with_links(Some(Links { keys: ShareKeys::parse(SHARE_KEYS).expect("valid keys"), base_url: None }))
});

fuzz_target!(|input: (u8, &str, &str, Option<(Option<&str>, &str, u8, u16)>)| {
    let (method, path, token, grant) = input;
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let minted = grant.and_then(|(tenant, key, bits, ttl)| {
        let tenant = match tenant.map(TenantId::new) {
            Some(Ok(tenant)) => Some(tenant),
            Some(Err(_)) => return None,
            None => None,
        };
        let grant = Grant {
            tenant,
            target: Shared::Key(ObjectKey::new(key.to_owned()).ok()?),
            methods: Methods::from_bits(bits)?,
            expires_at: now + Duration::from_secs(u64::from(ttl)),
            max_size: None,
            id: None,
        };
        let keys = ShareKeys::parse(SHARE_KEYS).ok()?;
        Some((keys.mint(&grant), grant))
    });
    let token = minted.as_ref().map_or(token, |(token, _)| token.as_str());
    let query = Query { token: Some(token.to_owned()), ..Query::default() };
    let method = METHODS[usize::from(method) % METHODS.len()].clone();
    let Ok(request) = Request::builder().method(method).uri(format!("/{}", path.trim_start_matches('/'))).body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let Ok(action) = GATEWAY.decide(&parts, &query, now) else { return };
    let (_, grant) = minted.expect("only a minted token opens");
    let tenant = grant.tenant.expect("a link without a tenant opens nothing here");
    let Action::Presign(order) = action else { panic!("a link only presigns: {action:?}") };
    let folder = format!("tenants/{}/", tenant.folder());
    assert_eq!(order.key.as_str(), format!("{folder}{}", grant.target.as_str()));
    assert_eq!(order.valid_until, Some(grant.expires_at));
    assert!(grant.expires_at > now, "an expired link opened");
});
