//! Per-socket ordered event processing.
//!
//! socketioxide runs each event handler in a task of its own, so two events
//! from one socket may run in either order. Clients expect their events
//! handled in the order sent (a `join` then a `chat`, or many `chat`s without
//! waiting for acks), as the Node server does. The extractor below queues each
//! event synchronously, in arrival order, and one task per busy socket drains
//! the queue; an idle socket has no task.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use socketioxide::extract::{AckSender, Event, TryData};
use socketioxide::handler::FromMessageParts;
use socketioxide::socket::Socket;

use super::Conn;
use super::ack::answer;
use super::handlers::{self, Inbound};
use crate::cluster::{Adapter, Sock};
use crate::error::AppError;
use crate::shutdown::Busy;

/// Events a socket may have waiting before new ones are refused with `rate_limited`.
const MAX_QUEUED: usize = 1024;

#[derive(Default)]
pub(crate) struct Inbox {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Inbound>,
    draining: bool,
}

/// The handler registered for every event: the work is done by [`Queued`].
pub(crate) async fn enqueue(_: Queued) {}

/// Extracting this queues the event: extraction runs synchronously as the
/// packet is read, so queue order is arrival order.
pub(crate) struct Queued;

#[derive(Debug, thiserror::Error)]
#[error("event could not be queued: no connection state or unreadable event")]
pub(crate) struct NoConn;

impl FromMessageParts<Adapter> for Queued {
    type Error = NoConn;

    fn from_message_parts(
        s: &Arc<Socket<Adapter>>,
        v: &mut socketioxide_core::Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, NoConn> {
        let conn = s.extensions.get::<Arc<Conn>>().ok_or(NoConn)?;
        let Ok(ack) = AckSender::from_message_parts(s, v, ack_id);
        let received = Instant::now();
        // socketioxide (vendor patch) hands over an unreadable event only
        // when it asks for an ack; without one it closes the socket, as the
        // reference server does (PROTOCOL §4).
        let Ok(Event(event)) = Event::from_message_parts(s, v, ack_id) else {
            let err = AppError::payload(
                "malformed event: expected a JSON array whose first element is the event name",
            );
            refuse(&conn, s, ack, received, err);
            return Ok(Queued);
        };
        if v.len() > conn.ctx.limits.max_payload {
            // Answered, not a reason to disconnect (PROTOCOL §4): the engine's
            // own, larger limit is what closes a connection (see `app`).
            let err = AppError::payload(format!(
                "payload too large: at most {} bytes",
                conn.ctx.limits.max_payload
            ));
            refuse(&conn, s, ack, received, err);
            return Ok(Queued);
        }
        let Ok(TryData(payload)) = TryData::<Value>::from_message_parts(s, v, ack_id);
        let payload = payload.ok();
        let socket = Sock::from(s.clone());
        conn.ctx
            .monitor
            .received(&socket, &event, payload.as_ref(), v.len());
        let inbound = Inbound {
            event: event.to_string(),
            payload,
            ack,
            received,
        };
        push(conn, socket, inbound);
        Ok(Queued)
    }
}

fn push(conn: Arc<Conn>, socket: Sock, inbound: Inbound) {
    let refuse = |inbound: Inbound, err| {
        answer(
            &conn.ctx.metrics,
            &socket,
            inbound.ack,
            inbound.received,
            Err::<(), _>(err),
        );
    };
    let start = {
        let mut state = conn.inbox.state.lock().unwrap_or_else(|p| p.into_inner());
        if conn.ctx.gate.is_closing() {
            let err = AppError::Unavailable("server is shutting down; reconnect and retry".into());
            refuse(inbound, err);
            return;
        }
        if state.queue.len() >= MAX_QUEUED {
            let err = AppError::RateLimited("too many events waiting; wait for acks".into());
            refuse(inbound, err);
            return;
        }
        state.queue.push_back(inbound);
        !std::mem::replace(&mut state.draining, true)
    };
    if start {
        // Counted before the task starts, so shutdown never sees a queue
        // with no drainer as idle.
        let busy = conn.ctx.gate.busy();
        tokio::spawn(drain(conn, socket, busy));
    }
}

/// Answers an event that will not be handled.
fn refuse(
    conn: &Conn,
    s: &Arc<Socket<Adapter>>,
    ack: AckSender<Adapter>,
    received: Instant,
    err: AppError,
) {
    let s = Sock::from(s.clone());
    answer(&conn.ctx.metrics, &s, ack, received, Err::<(), _>(err));
}

async fn drain(conn: Arc<Conn>, socket: Sock, _busy: Busy) {
    loop {
        let next = {
            let mut state = conn.inbox.state.lock().unwrap_or_else(|p| p.into_inner());
            match state.queue.pop_front() {
                Some(next) => next,
                None => {
                    state.draining = false;
                    // An idle socket keeps no queue storage (a few hundred
                    // bytes after a burst): the next event allocates again.
                    state.queue = VecDeque::new();
                    return;
                }
            }
        };
        handlers::dispatch(&conn, &socket, next).await;
    }
}
