//! Builds the server from settings (store, auth, writer, Socket.IO, routes)
//! apart from running it, so `main` and the tests share it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use socketioxide::SocketIo;
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::config::Settings;
use crate::realtime::{self, Adapter, Bus, Ctx};
use crate::{http, store};

/// A bound, ready server.
pub struct App {
    listener: TcpListener,
    router: Router,
    ctx: Arc<Ctx>,
}

/// Opens the database, binds the listener and wires everything together.
pub async fn build(settings: Settings) -> anyhow::Result<App> {
    let store = store::open(&settings.database).await?;
    let auth = Auth::new(&settings, store.clone()).await?;
    let (writer, committed, _writer_task) = store::Writer::spawn(store.clone());

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
        .build_svc();
    let ctx = Arc::new(Ctx {
        io: io.clone(),
        bus: bus.clone(),
        store,
        writer,
        auth,
        auto_create: settings.auto_create,
    });
    realtime::attach(ctx.clone()).await?;
    tokio::spawn(realtime::deliver(io, bus, committed));

    // Socket.IO owns exactly /socket.io/; the client bundle below it is an
    // ordinary route (socketioxide's layer would swallow every /socket.io* path).
    let router = http::router(ctx.clone())
        .route_service("/socket.io/", io_service.clone())
        .route_service("/socket.io", io_service);
    let listener = TcpListener::bind(settings.listen).await?;
    Ok(App {
        listener,
        router,
        ctx,
    })
}

impl App {
    /// The address actually bound (the port when `listen` asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared context (for tests and admin tools).
    pub fn ctx(&self) -> Arc<Ctx> {
        self.ctx.clone()
    }

    /// Serves until the process ends.
    pub async fn run(self) -> std::io::Result<()> {
        // axum leaves Nagle's algorithm on; small acks would wait for it.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(listener, self.router).await
    }
}
