//! A benchmark fixture, not an example of using the crate: one image in,
//! one rendition out, through the same `render::render` the processor calls,
//! so `benches/renditions.sh` can time it beside `vipsthumbnail`.
//!
//! `cargo run --release --example thumbnail -- in.jpg out.jpg 320x320[:options] [repeat]`
//!
//! With `repeat` above 1 it renders that many times in-process and prints
//! the mean time per rendition (no process start, no file I/O).

use std::time::Instant;

use anyhow::{Context, bail};
use presign_gateway::render::{ImageLimits, Presets, render};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, size, rest @ ..] = args.as_slice() else {
        bail!("usage: thumbnail IN OUT WIDTHxHEIGHT[:options] [repeat]");
    };
    let repeat: u32 = rest.first().map(|r| r.parse()).transpose().context("repeat")?.unwrap_or(1);
    let presets = Presets::parse(&format!("thumb={size}"))?;
    let bytes = std::fs::read(input).with_context(|| format!("reading {input}"))?;
    let limits = ImageLimits::default();
    let started = Instant::now();
    let mut rendered = Vec::new();
    for _ in 0..repeat.max(1) {
        rendered = render(&bytes, presets.as_slice(), &limits)?;
    }
    let elapsed = started.elapsed();
    let thumb = rendered.first().context("no rendition")?;
    std::fs::write(output, &thumb.bytes).with_context(|| format!("writing {output}"))?;
    if repeat > 1 {
        println!(
            "{}x{} {} bytes, {:.1} ms per rendition (mean of {repeat})",
            thumb.width,
            thumb.height,
            thumb.bytes.len(),
            elapsed.as_secs_f64() * 1000.0 / f64::from(repeat)
        );
    }
    Ok(())
}
