//! [`Progress`] applied where a local server meets its client: every
//! response is written through [`PacedStream`], every request body read
//! through [`PacedBody`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::progress::Progress;

/// A connection whose writes must keep moving.
#[derive(Debug)]
pub struct PacedStream<S> {
    inner: S,
    writes: Progress,
}

impl<S> PacedStream<S> {
    /// `inner`, its writes at `min_rate` bytes a second over `window` of waiting.
    pub fn new(inner: S, min_rate: u64, window: Duration) -> Self {
        Self { inner, writes: Progress::new(min_rate, window) }
    }

    fn paced(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        let moved = match &written {
            Poll::Ready(Ok(bytes)) => Some(*bytes),
            Poll::Ready(Err(_)) => return written,
            Poll::Pending => None,
        };
        match self.writes.record(cx, moved) {
            Ok(()) => written,
            Err(slow) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, slow))),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PacedStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PacedStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.paced(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.paced(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that must keep arriving.
#[derive(Debug)]
pub struct PacedBody<B> {
    inner: B,
    reads: Progress,
}

impl<B> PacedBody<B> {
    /// `inner`, at `min_rate` bytes a second over `window` of waiting.
    pub fn new(inner: B, min_rate: u64, window: Duration) -> Self {
        Self { inner, reads: Progress::new(min_rate, window) }
    }
}

impl<B> Body for PacedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let moved = match &polled {
            Poll::Ready(Some(Ok(frame))) => Some(frame.data_ref().map_or(0, Bytes::len)),
            Poll::Ready(_) => return polled.map(|frame| frame.map(|frame| frame.map_err(Into::into))),
            Poll::Pending => None,
        };
        if let Err(slow) = self.reads.record(cx, moved) {
            return Poll::Ready(Some(Err(slow.into())));
        }
        let frame = ready!(polled);
        Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
