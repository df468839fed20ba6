//! A request body with a deadline: hyper's `Incoming`, failing once the
//! body is not complete within the deadline from its request head.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use super::conns::{ConnEntry, Phase};

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error(transparent)]
    Hyper(#[from] hyper::Error),
    #[error("request body not received in time")]
    TimedOut,
}

/// `Incoming` with a deadline. The timer is only created once a read has
/// to wait, so complete and empty bodies (every GET) cost none.
pub(crate) struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
    entry: Arc<ConnEntry>,
}

impl DeadlineBody {
    pub(crate) fn new(inner: Incoming, deadline: Instant, entry: Arc<ConnEntry>) -> Self {
        Self {
            inner,
            deadline,
            sleep: None,
            entry,
        }
    }

    fn complete(&self) {
        if self.entry.phase() == Phase::Body {
            self.entry.set_phase(Phase::Busy);
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.complete();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    this.complete();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.entry.mark_body_timed_out();
                        Poll::Ready(Some(Err(BodyError::TimedOut)))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
