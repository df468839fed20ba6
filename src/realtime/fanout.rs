//! Chats and changes to them across nodes, in one order on every node.
//!
//! Per room, ids already increase in the order batches are handed here (the
//! PostgreSQL backend's room locks, held until the batch is published). A
//! node does not emit its own batches at once: it publishes them on a Redis
//! channel it also subscribes to, and every node, this one included, emits
//! what that channel brings, in the order Redis ran the publishes. So a
//! node's sockets cannot get its own id 12 before another node's id 11 that
//! is still on its way. Each node emits to its sockets one by one, so the
//! slow-client eviction of `delivery` holds on every node, which an adapter
//! room broadcast (silent drops on a full buffer) would not give. Joins,
//! leaves, typing, `online` and member removal go through socketioxide-redis.

use futures_util::StreamExt;
use socketioxide_redis::drivers::{ChanItem, MessageStream};

use std::sync::Arc;

use super::delivery::{created, to_local_sockets};
use crate::cluster::{Bus, Io};
use crate::metrics::Metrics;
use crate::store::{Applied, Committed};

/// Publishes committed batches and delivers every node's batches locally.
pub(super) async fn run(io: Io, bus: Bus, mut committed: Committed, metrics: Arc<Metrics>) {
    match bus.chats().await {
        Ok(stream) => {
            tokio::spawn(receive(io.clone(), stream, metrics.clone()));
        }
        Err(e) => tracing::error!(error = %e, "cannot subscribe to other nodes' chats"),
    }
    while let Some(batch) = committed.recv().await {
        // The batch holds its rooms' order until the closure returns: the
        // next writer of these rooms, on any node, publishes after it.
        batch
            .deliver(async |changes| {
                metrics.messages_stored.inc_by(created(changes));
                let published = match serde_json::to_vec(changes) {
                    Ok(body) => bus.publish_chats(body).await.is_ok(),
                    Err(e) => {
                        tracing::error!(error = %e, "could not encode a batch");
                        false
                    }
                };
                if !published {
                    // Redis is down: this node's own sockets still get the batch;
                    // the others find it with `join {since}` or `history`.
                    to_local_sockets(&io, changes, &metrics);
                }
            })
            .await;
    }
}

async fn receive(io: Io, mut stream: MessageStream<ChanItem>, metrics: Arc<Metrics>) {
    while let Some((_, body)) = stream.next().await {
        match serde_json::from_slice::<Vec<Applied>>(&body) {
            Ok(changes) => to_local_sockets(&io, &changes, &metrics),
            Err(e) => tracing::warn!(error = %e, "undecodable chat batch from Redis"),
        }
    }
}
