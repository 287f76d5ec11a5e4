//! Logging through `tracing`: JSON lines in Lambda, readable text locally,
//! always to standard error (standard output is for what the user asked for).
//!
//! The local server gathers its lines in memory and writes them in batches:
//! when 64 KiB have gathered, and every 20 ms otherwise, so under load the
//! access log costs one system call per few hundred requests instead of one
//! each (a write per line cost about 4 µs of a request, a queue to a writer
//! thread more, with its wake-ups: BENCHMARKS.md). A line waits at most
//! 20 ms; what is gathered is written when the server stops, and only a
//! crash loses it. Lambda writes each line at once: a frozen execution
//! environment must not hold lines back.

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{self, FilterExt};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::LogFormat;
use crate::config::{LogConfig, LogWriter};

/// The most a batched line waits before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// How much is gathered before it is written at once.
const BATCH_BYTES: usize = 64 * 1024;

/// Keeps batched log lines flowing; dropping it writes out what is gathered.
#[derive(Debug)]
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    flusher: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.flusher.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// Lines gathered in one buffer shared by every thread that logs.
struct Batched<W: Write>(Arc<Mutex<BufWriter<W>>>);

impl<W: Write> Clone for Batched<W> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// One line's hold on the buffer (the formatter writes a line at once).
struct BatchedLine<'a, W: Write>(MutexGuard<'a, BufWriter<W>>);

impl<W: Write> Write for BatchedLine<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Lines are written by the batch, not each on its own.
        Ok(())
    }
}

impl<'a, W: Write + 'a> MakeWriter<'a> for Batched<W> {
    type Writer = BatchedLine<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        BatchedLine(self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<W: Write + Send + 'static> Batched<W> {
    /// Gathers lines for `out`, and a thread that writes them every
    /// [`FLUSH_EVERY`] and when the guard is dropped.
    fn new(out: W) -> (Self, LogGuard) {
        let batched = Self(Arc::new(Mutex::new(BufWriter::with_capacity(BATCH_BYTES, out))));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = batched.clone();
        let thread = std::thread::Builder::new().name("presign-gateway-log".into()).spawn(move || {
            loop {
                let last = !matches!(stopped.recv_timeout(FLUSH_EVERY), Err(RecvTimeoutError::Timeout));
                let _ = shared.0.lock().unwrap_or_else(PoisonError::into_inner).flush();
                if last {
                    return;
                }
            }
        });
        match thread {
            Ok(thread) => (batched, LogGuard { flusher: Some((stop, thread)) }),
            // No thread: lines are still written when 64 KiB gather, and at exit.
            Err(_) => (batched, LogGuard { flusher: None }),
        }
    }
}

/// Targets dropped whatever the filter says, because they print presigned
/// request URIs or what was signed (s3s's request lines, aws-sigv4's
/// canonical requests), or, below `warn`, the SDK's and HTTP stack's own
/// requests with their query strings (upload ids). A filter directive cannot
/// bring them back: `s3s::service=debug` is more specific than `s3s=off`, so
/// they are dropped by a filter of their own, not by directives.
fn silenced(metadata: &tracing::Metadata<'_>) -> bool {
    let target = metadata.target();
    let under = |crate_name: &str| {
        target.strip_prefix(crate_name).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    };
    let always = ["s3s", "s3s_fs", "aws_sigv4"];
    // lambda_runtime logs each raw invocation at trace: its query string, its `Authorization`.
    let below_warn = [
        "aws_smithy_runtime",
        "aws_smithy_runtime_api",
        "aws_smithy_http",
        "aws_smithy_http_client",
        "aws_sdk_s3",
        "aws_sdk_secretsmanager",
        "hyper",
        "hyper_util",
        "reqwest",
        "h2",
        "rustls",
        "lambda_runtime",
        "lambda_runtime_api_client",
        "lambda_http",
    ];
    always.iter().any(|name| under(name))
        || (*metadata.level() > Level::WARN && below_warn.iter().any(|name| under(name)))
}

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
        LogWriter::Direct => (formatted(log, Mutex::new(out), ansi), LogGuard { flusher: None }),
        LogWriter::Batched => {
            let (writer, guard) = Batched::new(out);
            (formatted(log, writer, ansi), guard)
        }
    }
}

fn formatted<W>(log: &LogConfig, writer: W, ansi: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&log.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let filter = filter.and(filter::filter_fn(|metadata| !silenced(metadata)));
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    match log.format {
        LogFormat::Json => {
            let layer = layer.json().with_current_span(false).with_span_list(false);
            Box::new(tracing_subscriber::registry().with(layer.with_filter(filter)))
        }
        LogFormat::Text => Box::new(tracing_subscriber::registry().with(layer.with_ansi(ansi).with_filter(filter))),
    }
}

/// Logs for a person at a terminal (the `upload` and `download` commands):
/// `presign-gateway: warning: …`, with no time, level column or module path.
pub fn init_for_people(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).event_format(ForPeople).init();
}

struct ForPeople;

impl<S, N> FormatEvent<S, N> for ForPeople
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            _ => "note",
        };
        write!(writer, "presign-gateway: {level}: ")?;
        context.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read, counting the writes that reach it.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut sink = self.0.lock().unwrap();
            sink.0.extend_from_slice(bytes);
            sink.1 += 1;
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn batched_lines_are_written_together_and_all_of_them_when_the_guard_goes() {
        let sink = Sink::default();
        let log = LogConfig { format: LogFormat::Text, filter: "info".into(), writer: LogWriter::Batched };
        let (subscriber, guard) = subscriber(&log, sink.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            for n in 0..100 {
                tracing::info!(n, "line");
            }
        });
        drop(guard);
        let (text, writes) = {
            let sink = sink.0.lock().unwrap();
            (String::from_utf8(sink.0.clone()).unwrap(), sink.1)
        };
        assert_eq!(text.lines().count(), 100, "{text}");
        assert!(text.lines().last().is_some_and(|l| l.ends_with("line n=99")), "{text}");
        assert!(writes < 100, "{writes} writes for 100 lines: not batched");
    }
}
