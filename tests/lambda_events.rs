//! Real Lambda event payloads (tests/data) played through `lambda_http`'s own
//! adapter and the gateway's Lambda handler: the same key must come out of
//! every front door for the same request, and each response must serialize
//! as a 307 the front door understands.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service};
use presign_gateway::auth::Authenticator;
use presign_gateway::core::Policy;
use presign_gateway::gateway::Gateway;
use presign_gateway::signing::{BucketEndpoint, CredentialsCache, Presigner};
use presign_gateway::transport::lambda::handler;
use serde_json::{Value, json};

const BUCKET_URL: &str = "https://files.s3.eu-west-1.amazonaws.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrontDoor {
    RestApi,
    HttpApi,
    FunctionUrl,
    Alb,
}

/// How the request reached the front door, beyond its path.
#[derive(Debug, Clone, Copy)]
enum Mount {
    /// The API's own URL: REST with stage `test`, HTTP API with `$default`.
    Plain,
    /// A named HTTP API stage, which `rawPath` then starts with.
    NamedStage,
    /// A custom domain with the base path `files` mapped to the API.
    BasePath,
}

/// A real payload for `door` describing `method` on `sent`, the path as the
/// client sent it (percent-encoded), filled in as that front door does.
fn event(door: FrontDoor, method: &str, sent: &str, mount: Mount) -> Value {
    let file = match door {
        FrontDoor::RestApi => "rest-api.json",
        FrontDoor::HttpApi => "http-api.json",
        FrontDoor::FunctionUrl => "function-url.json",
        FrontDoor::Alb => "alb.json",
    };
    let text = std::fs::read_to_string(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    let decoded = percent_encoding::percent_decode_str(sent).decode_utf8().unwrap().into_owned();
    let base = if matches!(mount, Mount::BasePath) { "/files" } else { "" };
    match door {
        FrontDoor::RestApi => {
            event["httpMethod"] = json!(method);
            event["requestContext"]["httpMethod"] = json!(method);
            event["path"] = json!(format!("{base}{sent}"));
            event["pathParameters"] = json!({ "proxy": &sent[1..] });
            event["requestContext"]["path"] = json!(format!("{}{sent}", if base.is_empty() { "/test" } else { base }));
        }
        FrontDoor::HttpApi => {
            let stage = if matches!(mount, Mount::NamedStage) { "prod" } else { "$default" };
            let prefix = if matches!(mount, Mount::NamedStage) { "/prod" } else { base };
            event["routeKey"] = json!("ANY /{proxy+}");
            event["requestContext"]["routeKey"] = json!("ANY /{proxy+}");
            event["requestContext"]["stage"] = json!(stage);
            event["requestContext"]["http"]["method"] = json!(method);
            event["rawPath"] = json!(format!("{prefix}{decoded}"));
            event["requestContext"]["http"]["path"] = json!(format!("{prefix}{decoded}"));
            event["pathParameters"] = json!({ "proxy": &decoded[1..] });
        }
        FrontDoor::FunctionUrl => {
            event["requestContext"]["http"]["method"] = json!(method);
            event["rawPath"] = json!(sent);
            event["requestContext"]["http"]["path"] = json!(sent);
        }
        FrontDoor::Alb => {
            event["httpMethod"] = json!(method);
            event["path"] = json!(sent);
        }
    }
    event
}

fn gateway() -> Arc<Gateway> {
    gateway_with(Authenticator::None)
}

fn gateway_with(auth: Authenticator) -> Arc<Gateway> {
    let policy = Policy::new(Duration::from_secs(300));
    let presigner = Presigner::new(BucketEndpoint::new(BUCKET_URL, "eu-west-1").unwrap());
    let credentials = CredentialsCache::new(Credentials::new("AKID", "secret", None, None, "test"));
    let storage = Arc::new(common::memory_storage::MemoryStorage::default());
    Arc::new(Gateway::new(policy, presigner, credentials, storage).with_auth(auth))
}

/// Plays `event` through `lambda_http`'s adapter, as the runtime does, and
/// returns the serialized response.
async fn invoke(event: &Value) -> Value {
    invoke_on(gateway(), event).await
}

async fn invoke_on(gateway: Arc<Gateway>, event: &Value) -> Value {
    let payload: LambdaRequest = serde_json::from_value(event.clone()).expect("a payload lambda_http accepts");
    let mut adapter: Adapter<'_, _, _> = Adapter::from(handler(gateway));
    let response = adapter.call(LambdaEvent::new(payload, Context::default())).await.expect("a response");
    serde_json::to_value(response).unwrap()
}

fn location(door: FrontDoor, response: &Value) -> String {
    let headers = &response["headers"];
    let multi = &response["multiValueHeaders"];
    let value = match door {
        FrontDoor::RestApi => &multi["location"][0],
        FrontDoor::HttpApi | FrontDoor::FunctionUrl => &headers["location"],
        FrontDoor::Alb => {
            if headers["location"].is_string() {
                &headers["location"]
            } else {
                &multi["location"][0]
            }
        }
    };
    value.as_str().unwrap_or_else(|| panic!("{door:?}: no Location in {response:#}")).to_owned()
}

/// The storage key a presigned URL names.
fn key_of(location: &str) -> String {
    let path = location.strip_prefix(BUCKET_URL).unwrap().split('?').next().unwrap();
    percent_encoding::percent_decode_str(&path[1..]).decode_utf8().unwrap().into_owned()
}

const DOORS: [FrontDoor; 4] = [FrontDoor::RestApi, FrontDoor::HttpApi, FrontDoor::FunctionUrl, FrontDoor::Alb];

#[tokio::test]
async fn every_front_door_yields_the_same_key() {
    let cases = [
        ("/a.txt", "a.txt"),
        ("/dir/with%20space.txt", "dir/with space.txt"),
        ("/plus+sign.txt", "plus+sign.txt"),
        ("/a%2Fb.txt", "a/b.txt"),
        ("/caf%C3%A9/%E6%97%A5%E6%9C%AC.txt", "café/日本.txt"),
        ("/deep/er/path/report%20(final).pdf", "deep/er/path/report (final).pdf"),
        ("/b%2520c.txt", "b%20c.txt"),
        ("/q%3Fmark.txt", "q?mark.txt"),
        ("/hash%23tag.txt", "hash#tag.txt"),
    ];
    for (sent, key) in cases {
        for door in DOORS {
            for method in ["GET", "HEAD", "PUT", "DELETE"] {
                let response = invoke(&event(door, method, sent, Mount::Plain)).await;
                assert_eq!(response["statusCode"], 307, "{door:?} {method} {sent}: {response:#}");
                assert_eq!(key_of(&location(door, &response)), key, "{door:?} {method} {sent}");
            }
        }
    }
}

#[tokio::test]
async fn stages_and_base_path_mappings_stay_out_of_keys() {
    let cases = [
        (FrontDoor::RestApi, Mount::Plain),
        (FrontDoor::RestApi, Mount::BasePath),
        (FrontDoor::HttpApi, Mount::NamedStage),
        (FrontDoor::HttpApi, Mount::BasePath),
    ];
    for (door, mount) in cases {
        let response = invoke(&event(door, "GET", "/reports/q%203.pdf", mount)).await;
        assert_eq!(key_of(&location(door, &response)), "reports/q 3.pdf", "{door:?} {mount:?}");
    }
}

#[tokio::test]
async fn responses_serialize_as_each_front_door_expects() {
    for door in DOORS {
        let response = invoke(&event(door, "GET", "/f.txt", Mount::Plain)).await;
        assert_eq!(response["statusCode"], 307, "{door:?}");
        assert!(location(door, &response).starts_with(&format!("{BUCKET_URL}/f.txt?")), "{door:?}");
        if door == FrontDoor::Alb {
            assert_eq!(response["statusDescription"], "307 Temporary Redirect");
        }
    }
}

#[tokio::test]
async fn bad_keys_and_methods_are_refused_at_every_front_door() {
    for door in DOORS {
        let response = invoke(&event(door, "GET", "/a/%2e%2e/b", Mount::Plain)).await;
        assert_eq!(response["statusCode"], 400, "{door:?}: {response:#}");
        let response = invoke(&event(door, "PATCH", "/f.txt", Mount::Plain)).await;
        assert_eq!(response["statusCode"], 405, "{door:?}: {response:#}");
    }
}

/// The root route carries no key: a GET there lists the top level (or, for
/// a browser, is the page), and every other method is refused.
#[tokio::test]
async fn the_root_route_lists_and_holds_no_key() {
    for method in ["GET", "PUT"] {
        let expected = if method == "GET" { 200 } else { 400 };
        let mut rest = event(FrontDoor::RestApi, method, "/x", Mount::Plain);
        rest["path"] = json!("/");
        rest["resource"] = json!("/");
        rest["pathParameters"] = Value::Null;
        assert_eq!(invoke(&rest).await["statusCode"], expected, "REST {method}");

        let mut http = event(FrontDoor::HttpApi, method, "/x", Mount::NamedStage);
        http["routeKey"] = json!("ANY /");
        http["rawPath"] = json!("/prod");
        http["pathParameters"] = Value::Null;
        assert_eq!(invoke(&http).await["statusCode"], expected, "HTTP API {method}");
    }
}

#[tokio::test]
async fn authorizer_claims_name_the_tenant() {
    let by = |claim: &str| gateway_with(Authenticator::Authorizer { claim: claim.to_owned() });
    let with_authorizer = |door: FrontDoor, authorizer: Value| {
        let mut event = event(door, "GET", "/docs/q3.pdf", Mount::Plain);
        event["requestContext"]["authorizer"] = authorizer;
        event
    };
    let cases = [
        (
            "HTTP API JWT authorizer",
            FrontDoor::HttpApi,
            json!({ "jwt": { "claims": { "sub": "acme" }, "scopes": null } }),
            "sub",
        ),
        ("HTTP API Lambda authorizer", FrontDoor::HttpApi, json!({ "lambda": { "tenant": "acme" } }), "tenant"),
        (
            "REST Cognito authorizer",
            FrontDoor::RestApi,
            json!({ "claims": { "sub": "acme", "email": "a@example.com" } }),
            "sub",
        ),
        ("REST Lambda authorizer", FrontDoor::RestApi, json!({ "principalId": "user-1", "tenant": "acme" }), "tenant"),
    ];
    for (what, door, authorizer, claim) in cases {
        let response = invoke_on(by(claim), &with_authorizer(door, authorizer)).await;
        assert_eq!(response["statusCode"], 307, "{what}: {response:#}");
        assert_eq!(key_of(&location(door, &response)), "tenants/acme/docs/q3.pdf", "{what}");
    }

    // No authorizer: 401. An authorizer without the claim: 403.
    let mut bare = event(FrontDoor::HttpApi, "GET", "/docs/q3.pdf", Mount::Plain);
    bare["requestContext"].as_object_mut().unwrap().remove("authorizer");
    assert_eq!(invoke_on(by("sub"), &bare).await["statusCode"], 401);
    let other_claim = with_authorizer(FrontDoor::HttpApi, json!({ "jwt": { "claims": { "email": "a@example.com" } } }));
    assert_eq!(invoke_on(by("sub"), &other_claim).await["statusCode"], 403);
    let climbing = with_authorizer(FrontDoor::HttpApi, json!({ "jwt": { "claims": { "sub": ".." } } }));
    assert_eq!(invoke_on(by("sub"), &climbing).await["statusCode"], 403);
}

#[tokio::test]
async fn with_allowed_hosts_set_only_those_hosts_are_answered() {
    use presign_gateway::config::AllowedHosts;
    let door = FrontDoor::Alb;
    let status = |response: &Value| response["statusCode"].as_u64().unwrap();
    // Without ALLOWED_HOSTS every Host is answered: an ALB forwards any.
    let real = event(door, "GET", "/a.txt", Mount::Plain);
    assert_eq!(status(&invoke(&real).await), 307);
    let listed = AllowedHosts::new(&["lambda-846800462-us-east-2.elb.amazonaws.com".into()], None).unwrap();
    let gateway = Arc::new(Arc::try_unwrap(gateway()).unwrap().with_allowed_hosts(Some(listed)));
    assert_eq!(status(&invoke_on(gateway.clone(), &real).await), 307);
    let mut rebound = real.clone();
    rebound["headers"]["host"] = json!("evil.example");
    assert_eq!(status(&invoke_on(gateway, &rebound).await), 421);
}
