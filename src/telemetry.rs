//! Logging through `tracing`: JSON lines in Lambda, readable text locally,
//! always to standard error (standard output is for what the user asked for).
//!
//! The local server writes its lines from a thread of their own, in batches:
//! a request formats its line and queues it, and the writer thread drains the
//! queue into one buffered write, so under load the access log costs one
//! system call per batch instead of one per request, off the request's
//! thread (BENCHMARKS.md). Nothing is dropped: a full queue (16k lines)
//! makes requests wait. Lambda writes directly: a frozen execution
//! environment must not hold lines back.

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::Mutex;

use tracing::Subscriber;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::cli::LogFormat;
use crate::config::{LogConfig, LogWriter};

/// Lines the background writer holds before a request waits for it.
const QUEUED_LINES: usize = 16_384;

/// Keeps the background log writer running; dropping it writes out what is queued.
#[derive(Debug)]
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

/// Targets that are silenced whatever the filter says, because at debug or
/// trace level they print presigned request URIs or what was signed.
const SILENCED: [&str; 3] = ["s3s=off", "s3s_fs=off", "aws_sigv4=off"];

/// Installs the global subscriber, writing to standard error. The filter
/// was validated with the config.
pub fn init(log: &LogConfig) -> LogGuard {
    let (subscriber, guard) = subscriber(log, std::io::stderr(), std::io::stderr().is_terminal());
    // Only fails if a subscriber is already installed, which `main` never does twice.
    let _ = tracing::subscriber::set_global_default(subscriber);
    guard
}

/// The subscriber `init` installs, writing to `out` instead (benchmarks
/// write the access log to a file), with colours if `ansi`.
pub fn subscriber(
    log: &LogConfig,
    out: impl Write + Send + 'static,
    ansi: bool,
) -> (Box<dyn Subscriber + Send + Sync>, LogGuard) {
    match log.writer {
        LogWriter::Direct => (formatted(log, Mutex::new(out), ansi), LogGuard { _writer: None }),
        LogWriter::Background => {
            let (writer, guard) = NonBlockingBuilder::default()
                // Half a second of lines at full load; its slots are allocated up front.
                .buffered_lines_limit(QUEUED_LINES)
                .lossy(false)
                .thread_name("presign-gateway-log")
                .finish(BufWriter::with_capacity(64 * 1024, out));
            (formatted(log, writer, ansi), LogGuard { _writer: Some(guard) })
        }
    }
}

fn formatted<W>(log: &LogConfig, writer: W, ansi: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let mut filter = EnvFilter::try_new(&log.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in SILENCED {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match log.format {
        LogFormat::Json => Box::new(builder.json().with_current_span(false).with_span_list(false).finish()),
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
    }
}

/// Shows an error with all its sources, `a: b: c`.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
