//! CloudWatch Embedded Metric Format: in Lambda, the access log line is a
//! JSON object that also carries its own counts and an `_aws` directive
//! naming them, so CloudWatch Logs turns every line into metrics (requests,
//! latency, share links, storage calls) with no API call and no agent.
//! Dimensions: operation and status class (`2xx`…`5xx`), bounded sets; each
//! metric is also published by status class alone and with no dimension, so
//! an alarm can take the 5xx rate over every operation (`template.yaml`).
//!
//! The line is written whatever the log level: it is the metrics, not only a log.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::Serialize;

use super::{Served, StorageTally};

/// A CloudWatch namespace: 1 to 255 of letters, digits and `. - _ / # :`,
/// not starting with `AWS/` (reserved for AWS's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

/// A namespace CloudWatch would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a CloudWatch namespace: 1 to 255 of letters, digits and . - _ / # :, not starting with AWS/")]
pub struct BadNamespace(pub String);

impl Namespace {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, BadNamespace> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#:".contains(c);
        if name.is_empty() || name.len() > 255 || !name.chars().all(allowed) || name.starts_with("AWS/") {
            return Err(BadNamespace(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the line says beyond the counts.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The counted request.
    pub served: Served<'a>,
    /// Its key, as the access log shows it.
    pub key: Option<&'a str>,
    /// Its request id.
    pub request_id: &'a str,
    /// The storage calls it made.
    pub storage: StorageTally,
}

#[derive(Serialize)]
struct Line<'a> {
    timestamp: String,
    level: &'static str,
    target: &'static str,
    message: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    operation: &'static str,
    status: u16,
    status_class: &'static str,
    latency_us: u64,
    request_id: &'a str,
    requests: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_links_minted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_links_opened: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_links_refused: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_calls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_latency_us: Option<u64>,
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Aws<'a> {
    timestamp: u64,
    cloud_watch_metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'a str,
    dimensions: &'static [&'static [&'static str]],
    metrics: Vec<Metric>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    name: &'static str,
    unit: &'static str,
}

/// Per operation and status class; per status class; in all.
const DIMENSIONS: &[&[&str]] = &[&["operation", "status_class"], &["status_class"], &[]];

const fn metric(name: &'static str, unit: &'static str) -> Metric {
    Metric { name, unit }
}

/// The access log line of `request`, with its metrics, as of `now`: one JSON object, no newline.
#[must_use]
pub fn line(namespace: &Namespace, request: &Request<'_>, now: SystemTime) -> String {
    let served = request.served;
    let mut metrics = vec![metric("requests", "Count"), metric("latency_us", "Microseconds")];
    let event = served.link_event();
    let count_if = |name: &'static str, wanted: &str, metrics: &mut Vec<Metric>| {
        (event == Some(wanted)).then(|| {
            metrics.push(metric(name, "Count"));
            1
        })
    };
    let share_links_minted = count_if("share_links_minted", "minted", &mut metrics);
    let share_links_opened = count_if("share_links_opened", "opened", &mut metrics);
    let share_links_refused = count_if("share_links_refused", "refused", &mut metrics);
    let storage = request.storage;
    let called = storage.calls > 0;
    if called {
        metrics.push(metric("storage_calls", "Count"));
        metrics.push(metric("storage_errors", "Count"));
        metrics.push(metric("storage_latency_us", "Microseconds"));
    }
    let line = Line {
        timestamp: DateTime::from(now).fmt(Format::DateTime).unwrap_or_default(),
        level: "INFO",
        target: "presign_gateway::access_log",
        message: "request",
        method: served.method.as_str(),
        key: request.key,
        operation: served.operation(),
        status: served.status.as_u16(),
        status_class: status_class(served.status.as_u16()),
        latency_us: u64::try_from(served.elapsed.as_micros()).unwrap_or(u64::MAX),
        request_id: request.request_id,
        requests: 1,
        share_links_minted,
        share_links_opened,
        share_links_refused,
        storage_calls: called.then_some(storage.calls),
        storage_errors: called.then_some(storage.errors),
        storage_latency_us: called.then_some(storage.micros),
        aws: Aws {
            timestamp: u64::try_from(now.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(0),
            cloud_watch_metrics: [Directive { namespace: namespace.as_str(), dimensions: DIMENSIONS, metrics }],
        },
    };
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_string(&line).unwrap_or_default()
}

fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::{Method, StatusCode};
    use serde_json::{Value, json};

    use super::*;

    fn request<'a>(method: &'a Method, operation: Option<&'static str>, status: u16, link: bool) -> Request<'a> {
        Request {
            served: Served {
                method,
                operation,
                status: StatusCode::from_u16(status).unwrap(),
                elapsed: Duration::from_micros(42),
                link,
            },
            key: Some("tenants/acme/a.txt"),
            request_id: "req-1",
            storage: StorageTally::default(),
        }
    }

    #[test]
    fn a_redirect_counts_one_request_and_its_latency() {
        let namespace = Namespace::new("presign-gateway").unwrap();
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let line: Value =
            serde_json::from_str(&line(&namespace, &request(&Method::GET, Some("GetObject"), 307, false), now))
                .unwrap();
        assert_eq!(
            line["_aws"],
            json!({
                "Timestamp": 1_700_000_000_123_u64,
                "CloudWatchMetrics": [{
                    "Namespace": "presign-gateway",
                    "Dimensions": [["operation", "status_class"], ["status_class"], []],
                    "Metrics": [{"Name": "requests", "Unit": "Count"}, {"Name": "latency_us", "Unit": "Microseconds"}]
                }]
            })
        );
        for (field, value) in [
            ("operation", json!("GetObject")),
            ("status_class", json!("3xx")),
            ("status", json!(307)),
            ("requests", json!(1)),
            ("latency_us", json!(42)),
            ("method", json!("GET")),
            ("key", json!("tenants/acme/a.txt")),
            ("request_id", json!("req-1")),
        ] {
            assert_eq!(line[field], value, "{field}");
        }
        assert!(line.get("storage_calls").is_none());
    }

    #[test]
    fn links_and_storage_calls_add_their_metrics() {
        let namespace = Namespace::new("files/prod").unwrap();
        let mut refused = request(&Method::GET, None, 403, true);
        refused.storage = StorageTally { calls: 2, errors: 1, micros: 900 };
        let line: Value = serde_json::from_str(&line(&namespace, &refused, SystemTime::now())).unwrap();
        let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["requests", "latency_us", "share_links_refused", "storage_calls", "storage_errors", "storage_latency_us"]
        );
        for name in names {
            assert!(line[name].is_u64(), "{name} must be a number at the root");
        }
        assert_eq!((line["operation"].as_str(), line["status_class"].as_str()), (Some("none"), Some("4xx")));
    }

    #[test]
    fn namespaces_are_checked() {
        for good in ["presign-gateway", "a", "files/prod#1:x_y.z"] {
            assert!(Namespace::new(good).is_ok(), "{good}");
        }
        for bad in ["", "AWS/S3", "has space", "ünïcode", &"x".repeat(256)] {
            assert!(Namespace::new(bad).is_err(), "{bad}");
        }
    }
}
