//! The HTTP/1 accept loop, with the limits `axum::serve` does not set.
//!
//! `axum::serve` gives hyper no timer, so hyper's header-read timeout never
//! runs: a TCP connection that sends nothing, or a request head one byte at
//! a time, is held forever. This loop is `axum::serve` (connect info,
//! `TCP_NODELAY`, upgrades for WebSocket, graceful shutdown) plus a timer, a
//! deadline for the request head and a cap on its size.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// Bytes hyper buffers while reading a request head (request line and
/// headers); a head it cannot parse within them gets 431 and the connection
/// closes. hyper checks the limit between reads, so a head of up to about
/// twice this may pass; past that it never does. Node's default is 16 KiB;
/// browsers with many cookies send a few KiB.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Serves `router` on `listener` until `stop` completes, then stops
/// accepting, asks every connection to finish its request and close, and
/// returns once all have. `head_timeout` bounds how long a connection may
/// take to send a request head, including the wait for the next request on
/// an idle keep-alive connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    head_timeout: Duration,
    stop: impl Future<Output = ()> + Send,
) {
    // Each connection task holds a receiver: `closed()` below completes when
    // the last one is gone.
    let (close_tx, close_rx) = watch::channel(());
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let conn = Conn {
            router: router.clone(),
            head_timeout,
            stop: stop_rx.clone(),
            _close: close_rx.clone(),
        };
        tokio::spawn(conn.run(tcp, addr));
    }
    drop(listener);
    drop(close_rx);
    let _ = stop_tx.send(true);
    close_tx.closed().await;
}

struct Conn {
    router: Router,
    head_timeout: Duration,
    stop: watch::Receiver<bool>,
    _close: watch::Receiver<()>,
}

impl Conn {
    async fn run(mut self, tcp: TcpStream, addr: SocketAddr) {
        // Small acks would otherwise wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let router = self.router.clone();
        let service = TowerToHyperService::new(tower::service_fn(move |req: Request<Incoming>| {
            let (mut head, body) = req.into_parts();
            detach_head(&mut head);
            head.extensions.insert(ConnectInfo(addr));
            let req = Request::from_parts(head, axum::body::Body::new(body));
            router.clone().oneshot(req)
        }));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.head_timeout)
            .max_buf_size(MAX_HEAD_BYTES);
        let conn = builder
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades();
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                changed = self.stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// Gives the request head its own copy of the URI and header values.
///
/// hyper parses a head in place: the URI and every header value are slices
/// of the connection's read buffer (8 KiB, growing up to [`MAX_HEAD_BYTES`]),
/// and any one of them keeps the whole buffer allocated. socketioxide keeps
/// each socket's handshake request (`Socket::req_parts`) for the socket's
/// life, so every idle WebSocket held a read buffer it will never use again.
/// Copying the few hundred bytes of the head lets the buffer go.
fn detach_head(head: &mut axum::http::request::Parts) {
    for value in head.headers.values_mut() {
        // Every value hyper accepted is a valid `HeaderValue`; keep the
        // original if that ever changes.
        if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
    if let Ok(uri) = head.uri.to_string().parse::<Uri>() {
        head.uri = uri;
    }
}

/// Per-connection accept errors are the client's; others (out of file
/// descriptors) are logged and retried after a pause, as hyper used to do.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
