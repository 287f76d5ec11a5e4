//! The processor function: the same binary, started with
//! `FUNCTION_ROLE=processor`, takes the bucket's S3 events from EventBridge
//! (`aws_lambda_events`' `EventBridgeEvent`) through `lambda_runtime` and
//! hands each to the catalog's [`Processor`], as the embedded store's
//! spool does locally, and tells of renditions on the `EVENT_BUS`
//! ([`EventBusAnnounce`]) as the spool does. An error makes Lambda try the event again (and
//! then the dead-letter queue take it); an image that cannot be rendered is
//! a `failed` record, not an error.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use std::sync::Arc;

use anyhow::Context as _;

use super::catalog;
use super::event_bus::EventBusAnnounce;
use crate::aws;
use crate::catalog::processor::{ProcessError, Processor, Synced};
use crate::config::{Config, StateConfig, StoreConfig};
use crate::wire::events::{DetailType, ObjectEvent, ObjectEventDetail};

/// The environment variable that makes the binary the processor function.
pub const FUNCTION_ROLE: &str = "FUNCTION_ROLE";

/// Builds the processor from the function's configuration (its bucket,
/// `STATE_TABLE`, the key layout and `RENDITIONS`) and runs it.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    run(build(config).await?).await.map_err(|error| anyhow::anyhow!(error))
}

/// `presign-gateway catalog sync`: lists the bucket into the log in the
/// state table, as the processor function would file each object (and with
/// `render`, renders images that lack a preset), then says what it did.
pub async fn sync(config: Config, render: bool) -> anyhow::Result<Synced> {
    let processor = build(config).await?;
    let synced = processor.sync(render).await?;
    processor.catalog().note_sync(crate::state::now_seconds()).await?;
    Ok(synced)
}

/// The processor of a bucket and a state table, configured as the function is.
async fn build(config: Config) -> anyhow::Result<Processor> {
    let Config { store, state, catalog: settings, storage_timeout, gateway, .. } = config;
    let StoreConfig::External { endpoint, public_url, bucket, region } = &store else {
        anyhow::bail!("the upload log's processor works on a bucket: set --bucket / BUCKET_NAME");
    };
    if !matches!(state, StateConfig::Dynamo { .. }) {
        anyhow::bail!(
            "the upload log's processor works on a DynamoDB state table: set --state-table / STATE_TABLE (a local state file is kept in step by the `serve` that holds it)"
        );
    }
    let sdk = aws::sdk_config(region.as_deref()).await;
    let found = aws::bucket(&sdk, endpoint.as_deref(), public_url.as_deref(), bucket, storage_timeout)?;
    let state = crate::state::open(&state, Some(&sdk)).await?.context("the state table")?;
    let layout = catalog::layout(&gateway.policy, gateway.auth.has_tenants());
    let processor = catalog::wire(state, layout, found.storage, &settings).processor;
    Ok(match &settings.event_bus {
        Some(bus) => processor.announcing(Arc::new(EventBusAnnounce::new(&sdk, bus, bucket))),
        None => processor,
    })
}

/// Runs the event loop until the runtime stops it.
pub async fn run(processor: Processor) -> Result<(), lambda_runtime::Error> {
    let processor = &processor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handle(processor, event.payload).await.map_err(|error| lambda_runtime::Diagnostic {
            error_type: "ProcessError".to_owned(),
            error_message: crate::telemetry::ErrorChain(&error).to_string(),
        })
    }))
    .await
}

/// Applies one event as EventBridge delivers it. Events of other kinds
/// (another source, another detail type) are acknowledged and ignored.
pub async fn handle(processor: &Processor, payload: serde_json::Value) -> Result<(), ProcessError> {
    let Some(event) = object_event(payload) else {
        tracing::warn!("an event that is not an S3 object event was ignored");
        return Ok(());
    };
    processor.handle(&event).await
}

/// The S3 event in `payload`, in the shape the embedded store sends.
#[must_use]
pub fn object_event(payload: serde_json::Value) -> Option<ObjectEvent> {
    let event: EventBridgeEvent<ObjectEventDetail> = serde_json::from_value(payload).ok()?;
    let detail_type = serde_json::from_value::<DetailType>(serde_json::Value::String(event.detail_type)).ok()?;
    Some(ObjectEvent {
        version: event.version.unwrap_or_default(),
        id: event.id.unwrap_or_default(),
        detail_type,
        source: event.source,
        account: event.account.unwrap_or_default(),
        time: event.time.and_then(|time| rfc3339(time.timestamp())).unwrap_or_default(),
        region: event.region.unwrap_or_default(),
        resources: event.resources.unwrap_or_default(),
        detail: event.detail,
    })
}

/// Seconds since the epoch as RFC 3339 in UTC, as S3 writes event times.
fn rfc3339(seconds: i64) -> Option<String> {
    aws_smithy_types::DateTime::from_secs(seconds).fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}
