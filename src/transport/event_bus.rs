//! Where the processor function tells of renditions: an EventBridge bus
//! (the default bus, where S3's own events arrive, unless `EVENT_BUS` names
//! another), one `PutEvents` entry per event, in the shape the embedded
//! store's `--notify-url` receivers get. EventBridge fills in the envelope
//! (id, time, account, region); the rule that sends the bucket's events to
//! `UploadEventsTarget` takes these too.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::config::retry::RetryConfig;
use aws_sdk_eventbridge::config::timeout::TimeoutConfig;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::catalog::RenditionRecord;
use crate::catalog::processor::Announce;
use crate::telemetry::ErrorChain;
use crate::wire::events::{GATEWAY_SOURCE, RenditionDetail, RenditionMade};

/// Sends rendition events to one bus about one bucket's objects.
#[derive(Debug, Clone)]
pub struct EventBusAnnounce {
    client: Client,
    bus: String,
    bucket: String,
    /// The bucket's ARN, which the events name as their resource, as S3's do.
    resource: String,
}

impl EventBusAnnounce {
    /// Events about `bucket` on `bus` (a name or an ARN), reached with the
    /// AWS chain in `sdk`. A call gives up after 5 s in all, as the state
    /// table's do: an event that cannot be sent is logged, not retried by
    /// failing the object's event (its record is already `ready`).
    #[must_use]
    pub fn new(sdk: &SdkConfig, bus: &str, bucket: &str) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(5))
            .build();
        let retries = RetryConfig::standard().with_max_attempts(3);
        let config = aws_sdk_eventbridge::config::Builder::from(sdk).timeout_config(timeouts).retry_config(retries);
        let partition = partition(sdk.region().map(aws_config::Region::as_ref).unwrap_or_default());
        Self {
            client: Client::from_conf(config.build()),
            bus: bus.to_owned(),
            bucket: bucket.to_owned(),
            resource: format!("arn:{partition}:s3:::{bucket}"),
        }
    }

    async fn put(&self, detail: &RenditionDetail) -> Result<(), String> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(GATEWAY_SOURCE)
            .detail_type(detail.detail_type().as_str())
            .detail(serde_json::to_string(detail).map_err(|error| error.to_string())?)
            .resources(&self.resource)
            .build();
        let sent =
            self.client.put_events().entries(entry).send().await.map_err(|error| ErrorChain(&error).to_string())?;
        match sent.entries().iter().find(|entry| entry.error_code().is_some()) {
            Some(refused) if sent.failed_entry_count() > 0 => Err(format!(
                "EventBridge refused the event: {}: {}",
                refused.error_code().unwrap_or_default(),
                refused.error_message().unwrap_or_default()
            )),
            _ => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Announce for EventBusAnnounce {
    async fn ready(&self, key: &str, etag: &str, name: &str, rendition: &RenditionRecord) -> Result<(), String> {
        let made = RenditionMade {
            name: name.to_owned(),
            key: rendition.key.clone(),
            width: rendition.width,
            height: rendition.height,
        };
        self.put(&RenditionDetail::new(&self.bucket, key, etag, Ok(made))).await
    }

    async fn failed(&self, key: &str, etag: &str, reason: &str) -> Result<(), String> {
        self.put(&RenditionDetail::new(&self.bucket, key, etag, Err(reason.to_owned()))).await
    }
}

/// The ARN partition of `region`: a bucket's ARN names it.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_named_in_their_regions_partition() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition(""), "aws");
    }
}
