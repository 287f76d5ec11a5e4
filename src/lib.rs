//! presign-gateway answers `GET`, `HEAD`, `PUT` and `DELETE` on any object key
//! with a `307 Temporary Redirect` to a short-lived presigned S3 URL, so files
//! of any size move between clients and storage without passing through the
//! API. A 307 keeps the method and the body: `curl -L --upload-file f URL`
//! uploads straight to storage.
//!
//! The layout follows the request:
//! - [`transport`]: the edges, AWS Lambda and a local HTTP server, both
//!   driving the same [`gateway::app`] router;
//! - [`core`]: the pure step from a request and its caller to a
//!   [`core::Decision`] (operation, tenant-scoped key, lifetime, download
//!   headers), a share link to mint, or a typed rejection;
//! - [`auth`] and [`links`]: who is asking, and share-link tokens;
//! - [`signing`]: SigV4 presigning with the AWS SDK's own code;
//! - `store`: the embedded S3-compatible store (feature `embedded-store`).
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
//! let Action::Presign(decision) = decide(&request, &query, Caller::Owner(None), &policy)? else {
//!     unreachable!("a GET is presigned")
//! };
//! assert_eq!(decision.key.as_str(), "reports/Q3 summary.pdf");
//!
//! let presigner = Presigner::new(BucketEndpoint {
//!     url: "https://files.s3.eu-west-1.amazonaws.com".into(),
//!     signing_region: "eu-west-1".into(),
//! });
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "example");
//! let url = presigner.presign(&decision, &credentials, SystemTime::now())?;
//! assert!(url.as_str().starts_with("https://files.s3.eu-west-1.amazonaws.com/reports/Q3%20summary.pdf?"));
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod aws;
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
pub mod config;
pub mod core;
pub mod cors;
pub mod gateway;
pub mod links;
pub mod signing;
pub mod storage;
#[cfg(feature = "embedded-store")]
pub mod store;
pub mod telemetry;
pub mod transport;
