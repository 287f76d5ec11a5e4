//! The share-link token parser on arbitrary input: it must never panic, never
//! accept a token the configured key did not sign, and give back exactly the
//! grant of every token it minted.

#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use presign_gateway::core::grant::{Grant, Methods, Shared};
use presign_gateway::core::key::ObjectKey;
use presign_gateway::core::tenant::TenantId;
use presign_gateway::links::ShareKeys;

fuzz_target!(|input: (&str, &str, Option<&str>, u8, u32, Option<u64>)| {
    let (token, key, tenant, bits, ttl, max_size) = input;
    let keys = ShareKeys::parse("k1:fuzzing-share-key-0123456789abcdef0123").expect("a valid key");
    let other = ShareKeys::parse("k1:a-different-key-0123456789abcdef012345").expect("a valid key");
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);

    if keys.verify(token, SystemTime::UNIX_EPOCH).is_ok() {
        assert!(other.verify(token, SystemTime::UNIX_EPOCH).is_err(), "a token verified under two keys");
    }

    let (Ok(key), Some(methods)) = (ObjectKey::new(key.to_owned()), Methods::from_bits(bits)) else { return };
    let tenant = match tenant.map(TenantId::new) {
        Some(Ok(tenant)) => Some(tenant),
        Some(Err(_)) => return,
        None => None,
    };
    let expires_at = now + Duration::from_secs(u64::from(ttl) + 1);
    let grant = Grant { tenant, target: Shared::Key(key), methods, expires_at, max_size, id: None };
    let minted = keys.mint(&grant);
    assert_eq!(keys.verify(&minted, now), Ok(grant));
    assert!(other.verify(&minted, now).is_err());
});
