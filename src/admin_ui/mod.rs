//! The Socket.IO Admin UI (docs/protocol.md §4b): the official dashboard
//! (`@socket.io/admin-ui`, built into the binary) at `/admin/`, and the
//! `/admin` namespace it connects to, open to admin accounts only. What it is
//! told as things happen comes from `monitor`; `stats` sends each node's
//! `server_stats`; `actions` carries out what a dashboard asks.

mod actions;
mod assets;
mod login;
mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use serde::Serialize;
use serde_json::Value;
use socketioxide::extract::TryData;
use socketioxide::handler::ConnectHandler;

use crate::cluster::Sock;
use crate::config::{AdminUiMode, Settings};
use crate::domain::User;
use crate::http::Edge;
use crate::protocol::admin_ui::{ADMIN_NAMESPACE, AdminConfig, Feature};
use crate::state::Ctx;

/// How the dashboard is served, from `Settings`.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: AdminUiMode,
    pub emit: bool,
    pub server_id: String,
    pub stats_interval: Duration,
    /// Whose forwarded headers are believed, as for the HTTP login.
    pub edge: Arc<Edge>,
    /// When the server was built, for `uptime`.
    pub started: Instant,
}

impl Options {
    /// `port` is the bound one, for the default server id.
    pub fn new(settings: &Settings, port: u16) -> Self {
        let server_id = settings
            .admin_ui_server_id
            .clone()
            .unwrap_or_else(|| format!("{}:{port}", stats::hostname()));
        Self {
            mode: settings.admin_ui_mode,
            emit: settings.admin_ui_emit,
            server_id,
            stats_interval: settings.admin_ui_stats_interval,
            edge: Edge::new(settings),
            started: Instant::now(),
        }
    }

    fn on(&self) -> bool {
        self.mode != AdminUiMode::Off
    }

    /// What `config` tells a dashboard it may do.
    fn features(&self) -> Vec<Feature> {
        let mut f = vec![
            Feature::Join,
            Feature::Leave,
            Feature::Disconnect,
            Feature::Mjoin,
            Feature::Mleave,
            Feature::Mdisconnect,
            Feature::AggregatedEvents,
        ];
        if self.emit {
            f.insert(0, Feature::Emit);
        }
        if self.mode == AdminUiMode::Development {
            f.push(Feature::AllEvents);
        }
        f
    }
}

/// A dashboard's socket: who logged in, and the session token to hand it
/// once it is connected (a password login's).
struct Dashboard {
    user: User,
    session: Option<String>,
    connected_at: i64,
}

/// The pages at `/admin/`, unless the Admin UI is off.
pub fn router(options: &Options) -> Router {
    if options.on() {
        assets::router()
    } else {
        Router::new()
    }
}

/// Installs the `/admin` namespace and starts this node's stats, unless
/// the Admin UI is off. With Redis this subscribes the namespace's channels,
/// so every node's broadcasts to it reach every dashboard.
pub async fn attach(ctx: Arc<Ctx>, options: Options) -> anyhow::Result<()> {
    if !options.on() {
        return Ok(());
    }
    let options = Arc::new(options);
    let (c, o) = (ctx.clone(), options.clone());
    let middleware = move |s: Sock, TryData(auth): TryData<Value>| {
        let (ctx, options) = (c.clone(), o.clone());
        async move { login::admit(ctx, options, s, auth.ok()).await }
    };
    let (c, o) = (ctx.clone(), options.clone());
    let connected = move |s: Sock| {
        let (ctx, options) = (c.clone(), o.clone());
        async move { welcome(ctx, options, s).await }
    };
    ctx.io
        .ns(ADMIN_NAMESPACE, connected.with(middleware))
        .await
        .map_err(|e| anyhow::anyhow!("Socket.IO adapter: {e}"))?;
    tokio::spawn(stats::report(ctx, options));
    Ok(())
}

/// After CONNECT: the session token, `config`, this node's stats at once
/// (the next come with everyone's), and in development mode every socket.
async fn welcome(ctx: Arc<Ctx>, options: Arc<Options>, s: Sock) {
    let Some(dashboard) = s.extensions.get::<Arc<Dashboard>>() else {
        return;
    };
    if let Some(session) = &dashboard.session {
        send(&s, "session", session);
    }
    let config = AdminConfig {
        supported_features: options.features(),
    };
    send(&s, "config", &config);
    send(
        &s,
        "server_stats",
        &stats::snapshot(&ctx, &options, Vec::new()),
    );
    if ctx.monitor.verbose() {
        let all = actions::all_sockets(&ctx).await;
        send(&s, "all_sockets", &all);
    }
}

fn send<T: ?Sized + Serialize>(s: &Sock, event: &str, data: &T) {
    if let Err(e) = s.emit(event, data) {
        tracing::debug!(error = %e, event, "admin event not sent");
    }
}

/// Who a dashboard socket of this node is and when it connected.
fn dashboard(s: &Sock) -> Option<(User, i64)> {
    let d = s.extensions.get::<Arc<Dashboard>>()?;
    Some((d.user.clone(), d.connected_at))
}
