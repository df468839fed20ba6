//! Builds the server from settings (store, auth, writer, Socket.IO, routes)
//! apart from running it, so `main` and the tests share it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use socketioxide::SocketIo;
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};
use tokio::net::TcpListener;

use crate::auth::{Auth, Origins};
use crate::cluster::{Adapter, Bus, Crowds};
use crate::config::{AdminUiMode, Settings, Timeouts};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::monitor::Monitor;
use crate::shutdown::Gate;
use crate::state::Ctx;
use crate::telemetry::RefusalLog;
use crate::{admin_ui, http, realtime, store, web, webhooks};

/// Initial WebSocket read buffer per socket, in bytes; also the most one
/// read takes from the kernel. 1 KiB holds several chat frames.
const WS_READ_BUFFER: usize = 1024;

/// Refused connections logged each second at most; beyond it they are
/// counted, so a flood of bad tokens costs a line a second, not one each.
const REFUSALS_LOGGED_PER_SECOND: u32 = 10;

/// A bound, ready server.
pub struct App {
    listener: TcpListener,
    /// `--metrics-listen`'s, serving `/metrics` only.
    metrics_listener: Option<TcpListener>,
    router: Router,
    ctx: Arc<Ctx>,
    shutdown_timeout: Duration,
    timeouts: Timeouts,
    /// Held while the server runs: one server per SQLite file.
    db_lock: Option<std::fs::File>,
    /// This node's webhook sender, stopped after the last commit.
    webhooks: webhooks::Sender,
}

/// Binds the listener, opens the database and wires everything together.
pub async fn build(settings: Settings) -> anyhow::Result<App> {
    // First, before anything is made on disk: a server that cannot listen
    // must not leave a new database (and its secret) behind.
    let listener = crate::serve::bind(settings.listen)
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let metrics_listener = match settings.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--metrics-listen)"))?,
        ),
        None => None,
    };
    let db_lock = store::lock_for_server(&settings.database)?;
    let metrics = Metrics::new()?;
    let store::Opened {
        store,
        writer,
        committed,
        writer_task: _,
    } = store::open(
        &settings.database,
        settings.sqlite_sync,
        metrics.commit_seconds.clone(),
    )
    .await?;
    // The file's endpoints replace those it had at the last start.
    store
        .sync_file_endpoints(&settings.webhooks)
        .await
        .context("storing the [[webhooks]] of the settings")?;
    let auth = Auth::new(&settings, store.clone()).await?;
    // The engine closes a connection whose request or frame exceeds its limit,
    // so it is set well above `max_payload`: events between the two are
    // answered `invalid_payload` and the socket stays (realtime::inbox).
    let engine_limit = settings.max_payload.saturating_mul(16);

    let bus = match &settings.redis {
        Some(url) => Bus::connect(url).await?,
        None => Bus::off(),
    };
    let adapter = RedisAdapterCtr::new_with_driver(
        bus.clone(),
        // A roomy queue for other nodes' broadcasts: the driver drops what
        // does not fit.
        RedisAdapterConfig::default().with_stream_buffer(65_536),
    );
    let (io_service, io) = SocketIo::builder()
        .with_adapter::<Adapter>(adapter)
        // A client that lets this fill is disconnected (realtime::delivery).
        // The buffer grows in small blocks as needed, so an idle socket does
        // not pay for the capacity.
        .max_buffer_size(settings.socket_buffer)
        .ack_timeout(Duration::from_secs(10))
        // A handshake without CONNECT, or a session that stops polling or
        // answering pings, is closed after these.
        .connect_timeout(settings.timeouts.connect)
        .ping_interval(settings.timeouts.ping_interval)
        .ping_timeout(settings.timeouts.ping_timeout)
        // tungstenite's read buffer starts at this size, grows to fit any
        // frame up to the limits below and is kept for the socket's life:
        // most sockets read a few small frames, so start small (the default
        // 4 KiB was an eighth of an idle socket's memory).
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_payload(engine_limit as u64)
        .ws_max_message_size(engine_limit)
        .ws_max_frame_size(engine_limit)
        .build_svc();
    let enlister = crate::rooms::Enlister::spawn(store.clone());
    let files = Arc::new(
        crate::files::Files::new(&settings, store.clone(), metrics.clone())
            .await
            .context("opening the files' storage")?,
    );
    files.clone().spawn_sweeper();
    let ctx = Arc::new(Ctx {
        io: io.clone(),
        bus: bus.clone(),
        store,
        writer,
        files,
        auth,
        enlister,
        auto_create: settings.auto_create,
        online_names: settings.online_names,
        crowds: Crowds::new(io.clone(), settings.presence_batch_above),
        limits: Limits::new(&settings),
        gate: Gate::default(),
        metrics: metrics.clone(),
        origins: Origins::new(&settings.allowed_origins),
        monitor: Monitor::new(
            io.clone(),
            settings.admin_ui_mode == AdminUiMode::Development,
        ),
        refusals: RefusalLog::new(REFUSALS_LOGGED_PER_SECOND),
    });
    realtime::attach(ctx.clone()).await?;
    let admin_ui = admin_ui::Options::new(&settings, listener.local_addr()?.port());
    let admin_pages = admin_ui::router(&admin_ui);
    let node_name = admin_ui.server_id.clone();
    admin_ui::attach(ctx.clone(), admin_ui).await?;
    tokio::spawn(realtime::deliver(
        io.clone(),
        bus,
        committed,
        metrics.clone(),
    ));
    tokio::spawn(drop_revoked_keys(io, ctx.store.clone()));
    let webhooks = webhooks::spawn(
        ctx.store.clone(),
        webhooks::Options {
            timeout: settings.webhook_timeout,
            backoff_max: settings.webhook_backoff_max,
            attempts: settings.webhook_attempts,
        },
        metrics.clone(),
        &node_name,
    )?;

    // Socket.IO owns exactly /socket.io/; the client bundle below it is an
    // ordinary route (socketioxide's layer would swallow every /socket.io* path).
    let with_metrics = metrics_listener.is_none();
    let edge = http::Edge::new(&settings);
    let router = http::router(ctx.clone(), edge.clone(), with_metrics)
        .merge(web::router(ctx.clone()))
        .merge(admin_pages)
        .route_service("/socket.io/", io_service.clone())
        .route_service("/socket.io", io_service)
        .merge(http::upload_router(ctx.clone(), edge))
        .layer(axum::middleware::from_fn_with_state(
            ctx.origins.clone(),
            web::csrf::guard,
        ))
        .layer(DefaultBodyLimit::max(settings.max_payload))
        .layer(axum::middleware::map_response(http::security_headers))
        // Outside the guards, so their refusals are counted too.
        .layer(axum::middleware::from_fn_with_state(
            ctx.metrics.clone(),
            http::track_requests,
        ));
    // Outermost, so preflight requests are answered before anything else.
    let router = match ctx.origins.cors() {
        Some(cors) => router.layer(cors),
        None => router,
    };
    Ok(App {
        listener,
        metrics_listener,
        router,
        ctx,
        shutdown_timeout: Duration::from_secs(settings.shutdown_timeout_secs),
        timeouts: settings.timeouts,
        db_lock,
        webhooks,
    })
}

impl App {
    /// The address actually bound (the port when `listen` asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served when not on [`App::local_addr`].
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref()?.local_addr().ok()
    }

    /// The shared context (for tests and admin tools).
    pub fn ctx(&self) -> Arc<Ctx> {
        self.ctx.clone()
    }

    /// Serves until the process ends.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `signal` completes, then shuts down gracefully: stop
    /// accepting connections and refuse new events (with an answer), let the
    /// queued events finish, commit and ack every message already submitted,
    /// then close every socket (clients see a transport close and reconnect,
    /// as with Node's `io.close()`).
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let _db_lock = self.db_lock;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::serve::serve(
            self.listener,
            self.router,
            self.timeouts,
            self.ctx.metrics.clone(),
            async move {
                let _ = stop_rx.await;
            },
        ));
        let metrics = self.metrics_listener.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!("metrics on http://{addr}/metrics");
            }
            let router = http::metrics_router(self.ctx.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "metrics server failed");
                }
            })
        });
        signal.await;
        tracing::info!("shutting down");
        self.ctx.gate.close();
        let _ = stop_tx.send(());
        finish_and_close(&self.ctx, self.shutdown_timeout).await;
        self.webhooks.stop().await;
        // Open HTTP requests (long-polls end with the sockets) get the same time.
        match tokio::time::timeout(self.shutdown_timeout, server).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
            Err(_) => tracing::warn!("connections still open at the shutdown timeout"),
        }
        // Scrapes need no draining: the last one in flight may be cut.
        if let Some(task) = metrics {
            task.abort();
        }
        tracing::info!("shut down");
        Ok(())
    }
}

/// Lets the queued events finish, commits and acks every submitted message,
/// then closes every socket.
async fn finish_and_close(ctx: &Ctx, timeout: Duration) {
    if !ctx.gate.idle(timeout).await {
        tracing::warn!("queued events still running at the shutdown timeout");
    }
    ctx.writer.flush().await;
    ctx.io.close().await;
}

/// Completes at SIGTERM or SIGINT (Ctrl-C). The handlers are installed
/// when this is called, not when the future is first polled: `main` calls it
/// before printing the address, so a supervisor or test that sends SIGTERM
/// as soon as it reads that line gets a graceful shutdown, never the
/// default action (the process killed outright).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (interrupt, term) {
                (Ok(mut interrupt), Ok(mut term)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                (Ok(mut one), Err(e)) | (Err(e), Ok(mut one)) => {
                    tracing::error!(error = %e, "cannot listen for one of SIGINT and SIGTERM");
                    one.recv().await;
                }
                (Err(e), Err(_)) => {
                    tracing::error!(error = %e, "cannot listen for SIGINT or SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How soon a revoked key's open sockets are disconnected, at most.
const KEY_SWEEP: std::time::Duration = std::time::Duration::from_secs(1);

async fn drop_revoked_keys(io: crate::cluster::Io, store: Arc<dyn crate::store::Store>) {
    let mut tick = tokio::time::interval(KEY_SWEEP);
    loop {
        tick.tick().await;
        crate::cluster::drop_revoked_keys(&io, store.as_ref()).await;
    }
}
