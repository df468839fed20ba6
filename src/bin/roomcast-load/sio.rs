//! A minimal Socket.IO v5 / Engine.IO v4 client over WebSocket: just what
//! the chat subset needs (open, CONNECT with auth, `join`, `chat`, acks, pings).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub(crate) type WsStream = WebSocketStream<TcpStream>;

/// The ack id of `join`; chats use 2, 3, ... (the chat's sequence number + 2).
pub(crate) const JOIN_ACK: u64 = 1;

/// Initial read buffer of each client's WebSocket.
const READ_BUFFER: usize = 4096;

/// Opens the TCP connection (from `source` when given) and the WebSocket.
pub(crate) async fn open(
    url: &str,
    server: SocketAddr,
    source: Option<IpAddr>,
) -> Result<WsStream, String> {
    let socket = if server.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("bind {ip}: {e}"))?;
    }
    let stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect {server}: {e}"))?;
    // Small frames must leave at once, or latency measures Nagle's delay.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    // tungstenite allocates a 128 KiB read buffer per socket by default:
    // 13 GB for 100k clients. Chat frames are small; the buffer grows if not.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| format!("websocket handshake: {e}"))?;
    Ok(ws)
}

/// The next text frame, answering Engine.IO pings on the way (setup only).
async fn next_text(ws: &mut WsStream, wait: Duration) -> Result<String, String> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next())
            .await
            .map_err(|_| "timed out waiting for the server".to_string())?
            .ok_or("connection closed")?
            .map_err(|e| format!("websocket: {e}"))?;
        match msg {
            Ws::Text(t) if t.as_str() == "2" => {
                ws.send(Ws::text("3")).await.map_err(|e| e.to_string())?;
            }
            Ws::Text(t) => return Ok(t.as_str().to_owned()),
            Ws::Close(c) => return Err(format!("closed by server: {c:?}")),
            _ => {}
        }
    }
}

/// Engine.IO open, then Socket.IO CONNECT to `/` (with `auth.token` when
/// given), then `join {room}` with an ack that must be `ok: true`.
pub(crate) async fn handshake_and_join(
    ws: &mut WsStream,
    token: Option<&str>,
    room: &str,
    wait: Duration,
) -> Result<(), String> {
    let open = next_text(ws, wait).await?;
    if !open.starts_with("0{") {
        return Err(format!("expected the Engine.IO open packet, got {open:?}"));
    }
    let connect = match token {
        Some(t) => format!("40{}", json!({ "token": t })),
        None => "40".to_owned(),
    };
    ws.send(Ws::text(connect))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let t = next_text(ws, wait).await?;
        if t.starts_with("40") {
            break;
        }
        if t.starts_with("44") {
            return Err(format!("connect refused: {t}"));
        }
    }
    let join = format!("42{JOIN_ACK}{}", json!(["join", { "room": room }]));
    ws.send(Ws::text(join)).await.map_err(|e| e.to_string())?;
    let prefix = format!("43{JOIN_ACK}");
    loop {
        let t = next_text(ws, wait).await?;
        if let Some(rest) = t.strip_prefix(prefix.as_str()) {
            if ack_ok(rest) {
                return Ok(());
            }
            return Err(format!("join refused: {}", clip(rest)));
        }
        // Broadcasts such as `join` notices: not ours to count.
    }
}

/// The `chat` event packet asking for ack `ack_id`. `body` must need no
/// JSON escaping (the load tool's bodies are ASCII without quotes).
pub(crate) fn chat_packet(ack_id: u64, room: &str, body: &str) -> String {
    format!(r#"42{ack_id}["chat",{{"room":"{room}","message":"{body}"}}]"#)
}

/// What one incoming text frame is, as far as the load tool cares.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    Ping,
    /// An ack: its id and its argument list (raw JSON).
    Ack(u64, &'a str),
    /// A `chat` broadcast: the `message` string's content.
    Chat(&'a str),
    /// The server disconnected this socket (`41`).
    Disconnect,
    Other,
}

pub(crate) fn classify(t: &str) -> Incoming<'_> {
    if t == "2" {
        return Incoming::Ping;
    }
    if let Some(rest) = t.strip_prefix("43") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return match rest[..digits].parse() {
            Ok(n) => Incoming::Ack(n, &rest[digits..]),
            Err(_) => Incoming::Other,
        };
    }
    if t.starts_with(r#"42["chat","#) {
        // The body is ours: no quotes or escapes inside, so the first
        // quote after the key ends it.
        if let Some(start) = t.find(r#""message":""#) {
            let body = &t[start + 11..];
            if let Some(end) = body.find('"') {
                return Incoming::Chat(&body[..end]);
            }
        }
        return Incoming::Other;
    }
    if t.starts_with("41") {
        return Incoming::Disconnect;
    }
    Incoming::Other
}

/// Whether an ack's argument list says `ok: true` (as PROTOCOL §4 answers).
pub(crate) fn ack_ok(args: &str) -> bool {
    // Node, socketioxide and python-socketio all write compact JSON.
    args.contains(r#""ok":true"#)
}

/// At most 200 characters of `s`, for error messages.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_frames_the_tool_cares_about() {
        assert_eq!(classify("2"), Incoming::Ping);
        assert_eq!(
            classify(r#"4312[{"ok":true,"id":5}]"#),
            Incoming::Ack(12, r#"[{"ok":true,"id":5}]"#)
        );
        let chat = r#"42["chat",{"id":1,"room":"r","user":{"id":"u","name":"n"},"message":"3:4:5:xx","ts":1}]"#;
        assert_eq!(classify(chat), Incoming::Chat("3:4:5:xx"));
        assert_eq!(classify("41"), Incoming::Disconnect);
        assert_eq!(classify(r#"42["join",{}]"#), Incoming::Other);
        assert!(ack_ok(r#"[{"ok":true,"id":5}]"#));
        assert!(!ack_ok(r#"[{"ok":false,"error":"rate_limited"}]"#));
    }
}
