//! `server_stats`: every node sends its own, with its server id, every 2 s
//! (as Node's `@socket.io/admin-ui` does); through the adapter it reaches
//! the dashboards on every node, which list each server.

use std::sync::Arc;

use socketioxide::TransportType;

use super::Options;
use crate::protocol::admin_ui::{ADMIN_NAMESPACE, AggregatedEvent, NamespaceDetails, ServerStats};
use crate::state::Ctx;

/// Sends this node's stats every interval until shutdown begins.
pub(super) async fn report(ctx: Arc<Ctx>, options: Arc<Options>) {
    let mut tick = tokio::time::interval(options.stats_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut delivered = ctx.metrics.deliveries.get();
    loop {
        tick.tick().await;
        if ctx.gate.is_closing() {
            return;
        }
        // Chat messages delivered are the packets out that are counted.
        let now = ctx.metrics.deliveries.get();
        ctx.monitor.packets_out(now.saturating_sub(delivered));
        delivered = now;
        let stats = snapshot(&ctx, &options, ctx.monitor.take_tally());
        if let Some(admin) = ctx.io.of(ADMIN_NAMESPACE)
            && let Err(e) = admin.emit(ServerStats::EVENT, &stats).await
        {
            tracing::debug!(error = %e, "server_stats did not reach every node");
        }
    }
}

/// This node's counts now. A client is a connection to one namespace
/// (roomcast's clients each open one: the chat `/`, a dashboard `/admin`).
pub(super) fn snapshot(ctx: &Ctx, options: &Options, events: Vec<AggregatedEvent>) -> ServerStats {
    let mut namespaces = Vec::new();
    let (mut clients, mut polling) = (0, 0);
    for ns in ctx.io.nsps() {
        let name = ns.ns_path().to_owned();
        let sockets = ns.local().sockets();
        clients += sockets.len();
        polling += sockets
            .iter()
            .filter(|s| s.transport_type() == TransportType::Polling)
            .count();
        namespaces.push(NamespaceDetails {
            name,
            sockets_count: sockets.len(),
        });
    }
    namespaces.sort_by(|a, b| a.name.cmp(&b.name));
    ServerStats {
        server_id: options.server_id.clone(),
        hostname: hostname(),
        pid: std::process::id(),
        uptime: options.started.elapsed().as_secs_f64(),
        clients_count: clients,
        polling_clients_count: polling,
        aggregated_events: events,
        namespaces,
    }
}

/// The machine's host name (Linux), else `localhost`.
pub(super) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
