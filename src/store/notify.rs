//! Upload events, delivered: one task per `--notify-url` reads the spool
//! (the index's, [`super::index::Spool`]) in order and POSTs each event as
//! S3's EventBridge JSON ([`crate::wire::events`]), retrying the same event
//! with exponential backoff and jitter until the receiver answers 2xx, then
//! moves its cursor on. An upload never waits for any of this: its commit
//! only spools the event and wakes the tasks.
//!
//! Delivery is at least once: a receiver may get an event again (after a
//! crash, or when its answer was lost), and deduplicates on `id`. With a
//! secret, each attempt is signed afresh: `t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>">`, so a receiver can refuse stale replays. Logs
//! name a receiver by its host only: its URL may carry a secret.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};
use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::bucket::Bucket;
use super::index::{EventKind, SpooledEvent, TenantFolder};
use crate::config::{NotifyConfig, NotifySecret, NotifyUrl};
use crate::wire::events::{
    DetailType, EventBucket, EventObject, GATEWAY_SOURCE, ObjectEvent, ObjectEventDetail, PERMANENTLY_DELETED, Reason,
    RenditionDetail, RenditionEvent, RenditionMade, SIGNATURE_HEADER, SOURCE,
};

/// The account the embedded store's events name: none, locally.
pub const ACCOUNT: &str = "000000000000";

/// Events read from the spool at a time.
const BATCH: usize = 64;
/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait after a failed attempt; it doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// After the first failure of an event, every this many attempts are logged.
const LOG_EVERY: u32 = 10;

/// A receiver in the same process (the catalog's processor), handed each
/// event as the URLs are: in order, again until it takes it.
#[async_trait::async_trait]
pub trait EventSink: Send + Sync {
    /// Takes one event; `Err` (with why, for the log) to be given it again later.
    async fn take(&self, event: &ObjectEvent) -> Result<(), String>;
}

/// The in-process receiver's key in the spool.
const IN_PROCESS: &str = "in-process:catalog";

/// The receivers, ready to be served once the store runs.
#[derive(Debug)]
pub struct Deliveries {
    receivers: Vec<(NotifyUrl, String, u64)>,
    /// The in-process receiver's cursor, when one is expected.
    in_process: Option<u64>,
    secret: Option<NotifySecret>,
    client: reqwest::Client,
    committed: watch::Receiver<u64>,
}

/// Turns events on in `bucket` (before it serves) and registers the
/// receivers: the URLs, and an in-process one if `quiet` (the prefix whose
/// keys spool no event) is given; `None` when there are none.
pub fn prepare(bucket: &mut Bucket, config: &NotifyConfig, quiet: Option<&str>) -> anyhow::Result<Option<Deliveries>> {
    if config.urls.is_empty() && quiet.is_none() {
        return Ok(None);
    }
    bucket.spool_events(config.spool_limit, TenantFolder::new(config.tenants.clone()), quiet.map(str::to_owned));
    let mut ids: Vec<String> = config.urls.iter().map(receiver_id).collect();
    if quiet.is_some() {
        ids.push(IN_PROCESS.to_owned());
    }
    let subscribed = bucket.index().subscribe(&ids)?;
    let mut cursors = subscribed.cursors;
    let in_process = if quiet.is_some() { cursors.pop() } else { None };
    if subscribed.abandoned > 0 {
        tracing::warn!(
            events = subscribed.abandoned,
            "upload events waiting for receivers no longer in --notify-url / NOTIFY_URL were dropped"
        );
    }
    let (waiting, dropped) = bucket.index().spool_counts()?;
    let hosts: Vec<&str> = config.urls.iter().map(NotifyUrl::host).collect();
    tracing::info!(?hosts, waiting, dropped_ever = dropped, "upload events on");
    let client = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("presign-gateway/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let receivers = config.urls.iter().cloned().zip(ids).zip(cursors).map(|((u, i), c)| (u, i, c));
    let committed = bucket.index().watch_events().ok_or_else(|| anyhow::anyhow!("the spool is off"))?;
    let secret = config.secret.clone();
    Ok(Some(Deliveries { receivers: receivers.collect(), in_process, secret, client, committed }))
}

impl Deliveries {
    /// Starts one delivery task per receiver, `sink` being the in-process one.
    pub fn spawn(self, bucket: &Arc<Bucket>, sink: Option<Arc<dyn EventSink>>) -> Vec<JoinHandle<()>> {
        let urls = self.receivers.into_iter().map(|(url, id, cursor)| {
            let target = Target::Url { url, secret: self.secret.clone(), client: self.client.clone() };
            Receiver { bucket: bucket.clone(), target, id, cursor }
        });
        let in_process = self.in_process.zip(sink).map(|(cursor, sink)| Receiver {
            bucket: bucket.clone(),
            target: Target::InProcess(sink),
            id: IN_PROCESS.to_owned(),
            cursor,
        });
        urls.chain(in_process).map(|receiver| tokio::spawn(receiver.run(self.committed.clone()))).collect()
    }
}

/// A receiver's key in the spool: the SHA-256 of its URL, so no secret in it reaches the disk.
fn receiver_id(url: &NotifyUrl) -> String {
    hex::encode(digest::digest(&digest::SHA256, url.as_str().as_bytes()))
}

struct Receiver {
    bucket: Arc<Bucket>,
    target: Target,
    id: String,
    cursor: u64,
}

/// Where a receiver's events go.
enum Target {
    /// POSTed to a URL.
    Url { url: NotifyUrl, secret: Option<NotifySecret>, client: reqwest::Client },
    /// Handed to the catalog in this process.
    InProcess(Arc<dyn EventSink>),
}

impl Target {
    /// How logs name it: a URL by its host only (the URL may carry a secret).
    fn name(&self) -> &str {
        match self {
            Self::Url { url, .. } => url.host(),
            Self::InProcess(_) => "the catalog",
        }
    }
}

impl Receiver {
    async fn run(mut self, mut committed: watch::Receiver<u64>) {
        loop {
            committed.borrow_and_update();
            let after = self.cursor;
            let batch = match self.bucket.blocking(move |b| b.index().events_after(after, BATCH)).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!(error = %crate::telemetry::ErrorChain(&error), "cannot read the upload event spool");
                    tokio::time::sleep(MAX_WAIT).await;
                    continue;
                }
            };
            if batch.is_empty() {
                if committed.changed().await.is_err() {
                    return;
                }
                continue;
            }
            for (seq, event) in batch {
                if seq > self.cursor + 1 {
                    tracing::warn!(
                        host = self.target.name(),
                        events = seq - self.cursor - 1,
                        "upload events dropped from the full spool never reached this receiver"
                    );
                }
                self.deliver(&render(self.bucket.name(), seq, &event)).await;
                self.cursor = seq;
                let id = self.id.clone();
                if let Err(error) = self.bucket.blocking(move |b| b.index().delivered(&id, seq)).await {
                    tracing::error!(error = %crate::telemetry::ErrorChain(&error), "cannot record a delivered upload event");
                }
            }
        }
    }

    /// POSTs `event` until the receiver takes it (the in-process receiver
    /// takes storage's events only: a rendition's is the processor's own).
    async fn deliver(&self, event: &Outgoing) {
        // Plain structs of strings and numbers always serialize.
        let body = Bytes::from(event.body());
        let mut waits = retry_waits();
        let mut attempt: u32 = 1;
        loop {
            let outcome = match (&self.target, event) {
                (Target::Url { .. }, _) => self.post(body.clone()).await,
                (Target::InProcess(sink), Outgoing::Object(event)) => sink.take(event).await,
                (Target::InProcess(_), Outgoing::Rendition(_)) => Ok(()),
            };
            match outcome {
                Ok(()) if attempt > 1 => {
                    tracing::info!(
                        host = self.target.name(),
                        event = event.id(),
                        attempts = attempt,
                        "upload event delivered"
                    );
                    return;
                }
                Ok(()) => return,
                Err(failure) => {
                    let wait = waits.next().unwrap_or(MAX_WAIT);
                    if attempt == 1 || attempt.is_multiple_of(LOG_EVERY) {
                        tracing::warn!(
                            host = self.target.name(),
                            event = event.id(),
                            attempt,
                            "cannot deliver an upload event ({failure}); trying again in {:.1} s",
                            wait.as_secs_f64()
                        );
                    }
                    tokio::time::sleep(wait).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    async fn post(&self, body: Bytes) -> Result<(), String> {
        let Target::Url { url, secret, client } = &self.target else { return Ok(()) };
        let mut request = client.post(url.as_str()).header(http::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, unix_now(), &body));
        }
        let response = request.body(body).send().await.map_err(|error| {
            let error = error.without_url();
            crate::telemetry::ErrorChain(&error).to_string()
        })?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("answered {status}")) }
    }
}

/// The waits between attempts at one event: [`FIRST_WAIT`] doubling up to
/// [`MAX_WAIT`], each plus a random jitter of up to as much again, so
/// receivers that come back are not hit by every gateway at once; endless.
fn retry_waits() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(FIRST_WAIT)
        .with_max_delay(MAX_WAIT)
        .with_jitter()
        .without_max_times()
        .build()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
fn signature(secret: &NotifySecret, t: u64, body: &[u8]) -> String {
    let mut context = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()));
    context.update(t.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("t={t},v1={}", hex::encode(context.sign().as_ref()))
}

/// An event on its way: storage's, or the gateway's own about a rendition.
#[derive(Debug)]
enum Outgoing {
    Object(ObjectEvent),
    Rendition(RenditionEvent),
}

impl Outgoing {
    fn id(&self) -> &str {
        match self {
            Self::Object(event) => &event.id,
            Self::Rendition(event) => &event.id,
        }
    }

    fn body(&self) -> Vec<u8> {
        match self {
            Self::Object(event) => serde_json::to_vec(event),
            Self::Rendition(event) => serde_json::to_vec(event),
        }
        .unwrap_or_default()
    }
}

/// The event as S3 sends it to EventBridge, or the gateway's own in the same envelope.
fn render(bucket: &str, seq: u64, event: &SpooledEvent) -> Outgoing {
    let (detail_type, reason) = match event.kind {
        EventKind::Put => (DetailType::ObjectCreated, Reason::PutObject),
        EventKind::Complete => (DetailType::ObjectCreated, Reason::CompleteMultipartUpload),
        EventKind::Delete => (DetailType::ObjectDeleted, Reason::DeleteObject),
        EventKind::RenditionReady | EventKind::RenditionFailed => return Outgoing::Rendition(rendition(bucket, event)),
    };
    let deleted = event.kind == EventKind::Delete;
    let id = event.id.to_string();
    Outgoing::Object(ObjectEvent {
        version: "0".into(),
        detail_type,
        source: SOURCE.into(),
        account: ACCOUNT.into(),
        region: super::REGION.into(),
        resources: vec![format!("arn:aws:s3:::{bucket}")],
        detail: ObjectEventDetail {
            version: "0".into(),
            bucket: EventBucket { name: bucket.into() },
            object: EventObject {
                key: event.key.clone(),
                size: (!deleted).then_some(event.size),
                etag: Some(event.etag.clone()),
                version_id: None,
                sequencer: format!("{seq:016X}"),
            },
            request_id: event.id.simple().to_string()[..16].to_ascii_uppercase(),
            requester: ACCOUNT.into(),
            source_ip_address: None,
            reason,
            deletion_type: deleted.then(|| PERMANENTLY_DELETED.to_owned()),
        },
        time: event_time(event),
        id,
    })
}

/// A rendition's event: the original, and what was made of it or why not.
fn rendition(bucket: &str, event: &SpooledEvent) -> RenditionEvent {
    let spooled = event.rendition.clone().unwrap_or_default();
    let outcome = match (spooled.name, spooled.key) {
        (Some(name), Some(key)) => Ok(RenditionMade { name, key, width: spooled.width, height: spooled.height }),
        _ => Err(spooled.reason.unwrap_or_default()),
    };
    let detail = RenditionDetail::new(bucket, &event.key, &event.etag, outcome);
    RenditionEvent {
        version: "0".into(),
        id: event.id.to_string(),
        detail_type: detail.detail_type(),
        source: GATEWAY_SOURCE.into(),
        account: ACCOUNT.into(),
        time: event_time(event),
        region: super::REGION.into(),
        resources: vec![format!("arn:aws:s3:::{bucket}")],
        detail,
    }
}

/// The event's time, RFC 3339 to the second.
fn event_time(event: &SpooledEvent) -> String {
    let seconds = i64::try_from(event.time_ns / 1_000_000_000).unwrap_or(i64::MAX);
    aws_smithy_types::DateTime::from_secs(seconds)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn spooled(kind: EventKind) -> SpooledEvent {
        SpooledEvent {
            id: Uuid::nil(),
            kind,
            key: "tenants/acme/q3 report.pdf".into(),
            size: 7,
            etag: "0f343b0931126a20f133d67c2b018a3b".into(),
            time_ns: 1_780_000_000_123_456_789,
            rendition: None,
        }
    }

    #[test]
    fn events_render_in_s3s_eventbridge_shape() {
        let body = |event: Outgoing| serde_json::from_slice::<serde_json::Value>(&event.body()).unwrap();
        let created = body(render("files", 42, &spooled(EventKind::Complete)));
        assert_eq!(created["detail-type"], "Object Created");
        assert_eq!(created["source"], "aws.s3");
        assert_eq!(created["time"], "2026-05-28T20:26:40Z");
        assert_eq!(created["resources"][0], "arn:aws:s3:::files");
        assert_eq!(created["detail"]["reason"], "CompleteMultipartUpload");
        assert_eq!(created["detail"]["object"]["sequencer"], "000000000000002A");
        assert_eq!(created["detail"]["object"]["size"], 7);
        assert!(created["detail"].get("deletion-type").is_none());

        let deleted = body(render("files", 43, &spooled(EventKind::Delete)));
        assert_eq!(deleted["detail-type"], "Object Deleted");
        assert_eq!(deleted["detail"]["reason"], "DeleteObject");
        assert_eq!(deleted["detail"]["deletion-type"], "Permanently Deleted");
        assert!(deleted["detail"]["object"].get("size").is_none());
    }

    #[test]
    fn waits_double_from_a_quarter_second_to_thirty_with_jitter() {
        let base = |n: u32| FIRST_WAIT.saturating_mul(2u32.saturating_pow(n)).min(MAX_WAIT);
        let first: Vec<Duration> = retry_waits().take(40).collect();
        for (n, wait) in (0u32..).zip(&first) {
            assert!(base(n) <= *wait && *wait <= base(n) * 2, "wait {n}: {wait:?}, base {:?}", base(n));
        }
        assert_eq!(base(7), MAX_WAIT, "the eighth wait reaches the cap");
        let second: Vec<Duration> = retry_waits().take(40).collect();
        assert_ne!(first, second, "two schedules with the same waits: no jitter");
    }

    #[test]
    fn the_signature_is_an_hmac_of_the_time_and_the_body() {
        let args = crate::cli::NotifyArgs {
            urls: Vec::new(),
            secret: Some("a-notify-secret-of-32-bytes-or-more".into()),
            spool_limit: 1,
        };
        let secret = NotifyConfig::from_args(&args, None).unwrap().secret.unwrap();
        // Python: hmac.new(secret, b'1780000000.{"hello":"world"}', hashlib.sha256).hexdigest()
        assert_eq!(
            signature(&secret, 1_780_000_000, br#"{"hello":"world"}"#),
            "t=1780000000,v1=2d8326417d23861c525c946f259c1979e3bbf9881f55b6cab23a23ff7beb2ba9"
        );
    }
}
