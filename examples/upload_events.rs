//! The README's consumer of upload events (After the upload: events), kept
//! here so it compiles: a Lambda function, the target of `UploadEventsTarget`,
//! that reads the key and the tenant from each event and calls `HEAD` for the
//! object's metadata. The same JSON reaches a local receiver of `--notify-url`.
//!
//! `cargo lambda build --release --example upload_events`

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let s3 = aws_sdk_s3::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent<Value>>| {
        let s3 = s3.clone();
        async move { handle(&s3, event).await }
    }))
    .await
}

async fn handle(s3: &aws_sdk_s3::Client, event: LambdaEvent<EventBridgeEvent<Value>>) -> Result<(), Error> {
    let detail = &event.payload.detail;
    let bucket = detail["bucket"]["name"].as_str().unwrap_or_default();
    let key = detail["object"]["key"].as_str().unwrap_or_default();
    // KEY_PREFIX + TENANT_FOLDER + "/<tenant>/...": here "tenants/<tenant>/...".
    let tenant = key.strip_prefix("tenants/").and_then(|rest| rest.split_once('/')).map(|(tenant, _)| tenant);
    if event.payload.detail_type == "Object Created" {
        let head = s3.head_object().bucket(bucket).key(key).send().await?;
        println!("{tenant:?} stored {key}: {:?} {:?}", head.content_type(), head.metadata());
    } else {
        println!("{tenant:?} deleted {key}");
    }
    Ok(())
}
