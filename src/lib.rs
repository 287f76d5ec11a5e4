//! presign-gateway answers `GET`, `HEAD`, `PUT` and `DELETE` on any object key
//! with a `307 Temporary Redirect` to a short-lived presigned S3 URL, so files
//! of any size move between clients and storage without passing through the
//! API. A 307 keeps the method and the body: `curl -L --upload-file f URL`
//! uploads straight to storage.
//!
//! The modules, from the edge inwards (each uses only those below it):
//! - [`transport`]: the edges, AWS Lambda (the only module that knows it) and
//!   a local HTTP server, both building the same [`gateway::Gateway`] and
//!   driving the same [`gateway::app`] router;
//! - [`gateway`]: the router and its catch-all handler: authenticate, decide,
//!   then sign, mint a link or run a multipart step; errors mapped to HTTP;
//! - [`http_server`]: the local HTTP server with its limits (header timeout,
//!   connection cap), for the gateway and the embedded store;
//! - [`cors`]: the CORS layer the gateway and the embedded store share;
//! - [`config`]: the settings, validated once from [`cli`]'s raw arguments;
//! - [`aws`]: the AWS chain: credentials, region, the share keys' secret;
//! - [`auth`] and [`links`]: who is asking (with a sign-in provider's keys
//!   fetched over HTTPS and kept fresh), and share-link tokens (and the
//!   records of links minted with a state store);
//! - [`signing`]: SigV4 presigning, written here (`src/signing/sigv4.rs`) and
//!   checked against aws-sigv4 by a differential test (`tests/sigv4_reference.rs`);
//! - [`checksum`]: S3's checksum algorithms and types, one table for all;
//! - [`storage`]: the gateway's own calls to storage, behind a trait;
//! - [`catalog`]: the upload log (who uploaded what, and its processing
//!   status) and the processor that files storage's events in it and makes
//!   renditions;
//! - [`keys`]: API keys for external systems, kept as hashes in the state store;
//! - [`state`]: the gateway's own state (the upload log), behind a trait,
//!   in DynamoDB or a local redb file;
//! - [`metrics`]: the gateway's counts, as Prometheus text or CloudWatch EMF;
//! - [`render`]: renditions, pure: image bytes and presets in, resized,
//!   upright JPEG or PNG out (no EXIF), within size and pixel limits;
//! - [`core`]: the pure step from a request and its caller to a
//!   [`core::Action`] (a URL to presign, a share link, a multipart step) or a
//!   typed rejection;
//! - [`wire`]: the messages server and client exchange, as serde types, and
//!   the upload event storage sends (S3's EventBridge shape);
//! - [`telemetry`]: log output;
//! - `store`: the embedded S3-compatible store (feature `embedded-store`),
//!   which spools and POSTs upload events to `--notify-url`;
//! - `client`: `presign-gateway upload` and `download` (feature `client`).
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use aws_credential_types::Credentials;
//! use http::Method;
//! use presign_gateway::core::query::Query;
//! use presign_gateway::core::{Action, BodySize, Caller, Incoming, KeyPath, Policy, decide};
//! use presign_gateway::signing::{BucketEndpoint, Presigner};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::new(Duration::from_secs(300));
//! let request = Incoming {
//!     method: &Method::GET,
//!     path: KeyPath::Encoded("/reports/Q3%20summary.pdf"),
//!     body: BodySize::Absent,
//!     upload: Default::default(),
//! };
//! let query = Query::parse(Some("download"))?;
//! let Action::Presign(order) = decide(&request, &query, Caller::Owner(None), &policy)? else {
//!     unreachable!("a GET is presigned")
//! };
//! assert_eq!(order.key.as_str(), "reports/Q3 summary.pdf");
//!
//! let presigner = Presigner::new(BucketEndpoint::new("https://files.s3.eu-west-1.amazonaws.com", "eu-west-1")?);
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "example");
//! let url = presigner.presign(&order, &credentials, SystemTime::now())?;
//! assert!(url.as_str().starts_with("https://files.s3.eu-west-1.amazonaws.com/reports/Q3%20summary.pdf?"));
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod aws;
pub mod catalog;
pub mod checksum;
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
pub mod config;
pub mod core;
pub mod cors;
pub mod gateway;
pub mod http_server;
pub mod keys;
pub mod links;
pub mod metrics;
pub mod render;
pub mod signing;
pub mod state;
pub mod storage;
#[cfg(feature = "embedded-store")]
pub mod store;
pub mod telemetry;
pub mod transport;
pub mod wire;
