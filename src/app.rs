//! Builds the server from settings (store, auth, writer, Socket.IO, routes)
//! apart from running it, so `main` and the tests share it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use socketioxide::SocketIo;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::config::Settings;
use crate::realtime::{self, Ctx};
use crate::{http, store, web};

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

    let (io_service, io) = SocketIo::builder()
        // A client that lets this fill is disconnected (realtime::delivery).
        // The buffer grows in small blocks as needed, so an idle socket does
        // not pay for the capacity.
        .max_buffer_size(settings.socket_buffer)
        .ack_timeout(Duration::from_secs(10))
        .build_svc();
    let ctx = Arc::new(Ctx {
        io: io.clone(),
        store,
        writer,
        auth,
        auto_create: settings.auto_create,
    });
    realtime::attach(ctx.clone());
    tokio::spawn(realtime::deliver(io, committed));

    // Socket.IO owns exactly /socket.io/; the client bundle below it is an
    // ordinary route (socketioxide's layer would swallow every /socket.io* path).
    let router = http::router(ctx.clone())
        .merge(web::router(ctx.clone()))
        .route_service("/socket.io/", io_service.clone())
        .route_service("/socket.io", io_service)
        .layer(axum::middleware::from_fn(web::csrf::guard));
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
