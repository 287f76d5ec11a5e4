//! The reference the gateway's signer is checked against (tests/sigv4_reference.rs)
//! and measured against (benches/presign.rs): the AWS SDK's own SigV4 code.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_http::label::{EncodingStrategy, fmt_string};
use aws_smithy_http::query::fmt_string as fmt_query;
use aws_smithy_runtime_api::client::identity::Identity;
use presign_gateway::core::PresignOrder;
use presign_gateway::signing::{BucketEndpoint, asked_lifetime, lifetime};

/// The gateway's signer before it was written by hand: `aws-sigv4` called
/// directly, as `src/signing/mod.rs` did until issue 13. `None` when it refuses.
pub fn reference(
    endpoint: &BucketEndpoint,
    order: &PresignOrder,
    credentials: &Credentials,
    now: SystemTime,
) -> Option<String> {
    let mut url = format!("{}/{}", endpoint.url(), fmt_string(order.key.as_str(), EncodingStrategy::Greedy));
    let mut separator = '?';
    let mut push = |url: &mut String, name: &str, value: &str| {
        url.push(separator);
        url.push_str(name);
        url.push('=');
        url.push_str(&fmt_query(value));
        separator = '&';
    };
    if let Some(part) = &order.part {
        push(&mut url, "partNumber", &part.number.to_string());
        push(&mut url, "uploadId", part.upload.as_str());
    }
    if let Some(value) = &order.response.cache_control {
        push(&mut url, "response-cache-control", value);
    }
    if let Some(value) = &order.response.content_disposition {
        push(&mut url, "response-content-disposition", value);
    }
    if let Some(value) = &order.response.content_type {
        push(&mut url, "response-content-type", value);
    }
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.expires_in = Some(lifetime(asked_lifetime(order, now).ok()?, credentials, now).ok()?);
    let identity = Identity::from(credentials.clone());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(endpoint.signing_region())
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .ok()?
        .into();
    let metadata: Vec<(String, &str)> =
        order.metadata.iter().map(|(name, value)| (format!("x-amz-meta-{name}"), value.as_str())).collect();
    let headers = order
        .signed_headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .chain(metadata.iter().map(|(name, value)| (name.as_str(), *value)));
    let request =
        SignableRequest::new(order.operation.method(), url.as_str(), headers, SignableBody::UnsignedPayload).ok()?;
    let (instructions, _) = sign(request, &params).ok()?.into_parts();
    for (name, value) in instructions.into_parts().1 {
        push(&mut url, name, &value);
    }
    Some(url)
}
