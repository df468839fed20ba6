//! Answering an event: the one place an ack is sent, its refusal counted and
//! its latency recorded (`ack_seconds`), for handled and refused events alike.

use std::time::Instant;

use serde::Serialize;
use socketioxide::extract::AckSender;

use super::delivery;
use crate::cluster::{Adapter, Sock};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::protocol::Ack;

/// Sends `result` as the event's ack: `{ok: true, ...answer}` or the refusal.
/// Without an ack id the client asked for no answer, and nothing is sent; the
/// latency is recorded either way. A lost ack is a lost guarantee, so a
/// socket whose buffer is full is disconnected (see `delivery`); its client
/// finds what was stored when it rejoins with `since`.
pub(super) fn answer<T: Serialize>(
    metrics: &Metrics,
    s: &Sock,
    ack: AckSender<Adapter>,
    received: Instant,
    result: Result<T, AppError>,
) {
    let sent = match result {
        Ok(answer) => ack.send(&Ack::ok(answer)),
        Err(e) => {
            metrics.event_error(e.code());
            ack.send(&e.to_ack())
        }
    };
    if let Err(e) = sent {
        delivery::send_failed(s, &e);
    }
    metrics
        .ack_seconds
        .observe(received.elapsed().as_secs_f64());
}
