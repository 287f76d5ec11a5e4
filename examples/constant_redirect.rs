//! A benchmark fixture, not an example of using the crate: the ceiling for
//! `benches/load.sh` (see BENCHMARKS.md), an axum server on the same stack as
//! the gateway that answers every request with the same 307 and signs nothing.
//!
//! `cargo run --release --example constant_redirect -- 127.0.0.1:3100`

use axum::Router;
use axum::response::IntoResponse;
use http::{StatusCode, header};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3100".to_owned());
    let location = "http://127.0.0.1:9/presign-gateway/reports/2024/Q3%20summary.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256";
    let app = Router::new().fallback(move || async move {
        (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location), (header::CACHE_CONTROL, "no-store")])
            .into_response()
    });
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("constant 307 on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
