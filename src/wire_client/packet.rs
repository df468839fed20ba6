//! Engine.IO / Socket.IO text packets of the default namespace: built and read, no I/O.

use serde::Serialize;
use serde_json::Value;

/// CONNECT's `auth` object as roomcast reads it (PROTOCOL §2).
#[derive(Serialize)]
pub struct TokenAuth<'a> {
    pub token: &'a str,
}

/// The `{room}` argument of `join`, `leave` and `typing`.
#[derive(Serialize)]
pub struct RoomArg<'a> {
    pub room: &'a str,
}

/// `value` as a JSON value (the two shapes above cannot fail to encode).
pub fn to_value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Engine.IO ping (the server sends it); answer with [`PONG`].
pub const PING: &str = "2";
/// Engine.IO pong.
pub const PONG: &str = "3";
/// Engine.IO close.
pub const CLOSE: &str = "1";
/// Socket.IO DISCONNECT.
pub const DISCONNECT: &str = "41";

/// Socket.IO CONNECT, with `auth` as its payload when given.
pub fn connect(auth: Option<&Value>) -> String {
    match auth {
        Some(a) => format!("40{a}"),
        None => "40".to_owned(),
    }
}

/// Socket.IO CONNECT with `{"token": token}` (PROTOCOL §2), or no auth.
pub fn connect_with_token(token: Option<&str>) -> String {
    connect(token.map(|token| to_value(TokenAuth { token })).as_ref())
}

/// Socket.IO EVENT `[event, args...]`, asking for ack `ack` when given.
pub fn event(ack: Option<u64>, event: &str, args: &[Value]) -> String {
    let mut list = Vec::with_capacity(args.len() + 1);
    list.push(Value::from(event));
    list.extend_from_slice(args);
    let list = Value::Array(list);
    match ack {
        Some(id) => format!("42{id}{list}"),
        None => format!("42{list}"),
    }
}

/// The `chat` event asking for ack `ack_id`, built without a JSON encoder:
/// `room` and `body` must need no escaping (the load tool's are ASCII
/// without quotes or backslashes).
#[inline]
pub fn chat(ack_id: u64, room: &str, body: &str) -> String {
    format!(r#"42{ack_id}["chat",{{"room":"{room}","message":"{body}"}}]"#)
}

/// What a text frame is, read as far as needed and no further.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Engine.IO open, with its JSON (`sid`, `pingInterval`, ...).
    Open(&'a str),
    Close,
    Ping,
    Pong,
    /// CONNECT answered: the payload (`{"sid":...}`).
    Connected(&'a str),
    /// CONNECT refused: the payload (`{"message":...}`).
    ConnectError(&'a str),
    Disconnect,
    /// EVENT: its ack id if it asks for one, and its argument array (raw JSON).
    Event(Option<u64>, &'a str),
    /// ACK: its id and its argument array (raw JSON).
    Ack(u64, &'a str),
    /// Anything else, malformed included.
    Other(&'a str),
}

/// Reads a frame's packet type and ids; payloads stay raw.
pub fn decode(t: &str) -> Packet<'_> {
    match t {
        CLOSE => return Packet::Close,
        PING => return Packet::Ping,
        PONG => return Packet::Pong,
        DISCONNECT => return Packet::Disconnect,
        _ => {}
    }
    if let Some(open) = t.strip_prefix('0') {
        return Packet::Open(open);
    }
    let Some(sio) = t.strip_prefix('4') else {
        return Packet::Other(t);
    };
    let (kind, rest) = match sio.as_bytes().first() {
        Some(k) => (*k, &sio[1..]),
        None => return Packet::Other(t),
    };
    match kind {
        b'0' => Packet::Connected(rest),
        b'4' => Packet::ConnectError(rest),
        b'2' => match split_id(rest) {
            Some((id, args)) => Packet::Event(id, args),
            None => Packet::Other(t),
        },
        b'3' => match split_id(rest) {
            Some((Some(id), args)) => Packet::Ack(id, args),
            _ => Packet::Other(t),
        },
        _ => Packet::Other(t),
    }
}

/// A leading ack id (digits) and what follows; `None` if it overflows a u64.
fn split_id(rest: &str) -> Option<(Option<u64>, &str)> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Some((None, rest));
    }
    let id = rest[..digits].parse().ok()?;
    Some((Some(id), &rest[digits..]))
}

/// An EVENT's argument array as its name and arguments.
pub fn event_args(args: &str) -> Option<(String, Vec<Value>)> {
    let Value::Array(mut list) = serde_json::from_str(args).ok()? else {
        return None;
    };
    if list.is_empty() {
        return None;
    }
    match list.remove(0) {
        Value::String(name) => Some((name, list)),
        _ => None,
    }
}

/// An ACK's first argument (PROTOCOL §4 acks carry one object).
pub fn ack_value(args: &str) -> Option<Value> {
    let Value::Array(list) = serde_json::from_str(args).ok()? else {
        return None;
    };
    list.into_iter().next()
}

/// What an incoming frame is to a load client, read with no JSON parser.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Ping,
    /// An ack: its id and its argument list (raw JSON).
    Ack(u64, &'a str),
    /// A `chat` broadcast: the `message` string's content, when it needs no
    /// unescaping (what [`chat`] sent).
    Chat(&'a str),
    /// The server disconnected this socket (`41`).
    Disconnect,
    Other,
}

/// Classifies a frame for the hot path of the load tool: every frame of
/// every client goes through here.
#[inline]
pub fn classify(t: &str) -> Incoming<'_> {
    if t == PING {
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
        // The body is the sender's: no quotes or escapes inside, so the
        // first quote after the key ends it.
        if let Some(start) = t.find(r#""message":""#) {
            let body = &t[start + 11..];
            if let Some(end) = body.find('"') {
                return Incoming::Chat(&body[..end]);
            }
        }
        return Incoming::Other;
    }
    if t.starts_with(DISCONNECT) {
        return Incoming::Disconnect;
    }
    Incoming::Other
}

/// Whether an ack's argument list says `ok: true` (as PROTOCOL §4 answers).
#[inline]
pub fn ack_ok(args: &str) -> bool {
    // Node, socketioxide and python-socketio all write compact JSON.
    args.contains(r#""ok":true"#)
}

/// A `chat` broadcast's message id: read straight after `{"id":` when the
/// server put it first (roomcast does), else by parsing the frame.
pub fn chat_id(t: &str) -> Option<i64> {
    if let Some(rest) = t.strip_prefix(r#"42["chat",{"id":"#) {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if let Ok(id) = rest[..end].parse() {
            return Some(id);
        }
    }
    let v: Value = serde_json::from_str(t.get(2..)?).ok()?;
    v.get(1)?.get("id")?.as_i64()
}

/// At most 200 characters of `s`, for error messages.
pub fn clip(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_the_frames_the_load_tool_cares_about() {
        assert_eq!(classify("2"), Incoming::Ping);
        assert_eq!(
            classify(r#"4312[{"ok":true,"id":5}]"#),
            Incoming::Ack(12, r#"[{"ok":true,"id":5}]"#)
        );
        let chat = r#"42["chat",{"id":1,"room":"r","user":{"id":"u","name":"n"},"message":"3:4:5:xx","ts":1}]"#;
        assert_eq!(classify(chat), Incoming::Chat("3:4:5:xx"));
        assert_eq!(chat_id(chat), Some(1));
        assert_eq!(classify("41"), Incoming::Disconnect);
        assert_eq!(classify(r#"42["join",{}]"#), Incoming::Other);
        assert!(ack_ok(r#"[{"ok":true,"id":5}]"#));
        assert!(!ack_ok(r#"[{"ok":false,"error":"rate_limited"}]"#));
    }

    #[test]
    fn decodes_what_it_encodes() {
        let join = event(Some(7), "join", &[json!({"room": "r"})]);
        assert_eq!(join, r#"427["join",{"room":"r"}]"#);
        let Packet::Event(Some(7), args) = decode(&join) else {
            panic!("{join}")
        };
        assert_eq!(
            event_args(args),
            Some(("join".to_owned(), vec![json!({"room": "r"})]))
        );
        assert_eq!(decode(r#"42["x"]"#), Packet::Event(None, r#"["x"]"#));
        assert_eq!(
            decode(r#"431[{"ok":true}]"#),
            Packet::Ack(1, r#"[{"ok":true}]"#)
        );
        assert_eq!(ack_value(r#"[{"ok":true}]"#), Some(json!({"ok": true})));
        assert_eq!(connect_with_token(Some("t")), r#"40{"token":"t"}"#);
        assert_eq!(
            decode(r#"40{"sid":"s"}"#),
            Packet::Connected(r#"{"sid":"s"}"#)
        );
        assert_eq!(
            decode(r#"44{"message":"m"}"#),
            Packet::ConnectError(r#"{"message":"m"}"#)
        );
        assert_eq!(decode(r#"0{"sid":"e"}"#), Packet::Open(r#"{"sid":"e"}"#));
        let huge = "4318446744073709551616[]";
        assert_eq!(decode(huge), Packet::Other(huge));
        assert_eq!(
            chat(2, "r", "b"),
            r#"422["chat",{"room":"r","message":"b"}]"#
        );
    }
}
