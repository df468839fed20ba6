//! The events of the Socket.IO Admin UI (docs/protocol.md §4b), shaped as
//! `@socket.io/admin-ui` 0.5.1 defines them (its `dist/typed-events.d.ts`):
//! what roomcast sends on the `/admin` namespace and the actions it reads.

use std::collections::BTreeMap;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{RoomName, User};
use crate::error::AppError;

/// The namespace the dashboard connects to.
pub const ADMIN_NAMESPACE: &str = "/admin";

/// The CONNECT `auth` of the dashboard: its login form's username and
/// password, or the `sessionId` a former login's `session` event gave it.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminAuth {
    Password { username: String, password: String },
    Session(String),
    None,
}

impl AdminAuth {
    /// Anything but a string `username` and `password`, or a non-empty
    /// string `sessionId`, is no credentials.
    pub fn parse(auth: Option<Value>) -> Self {
        let Some(Value::Object(mut map)) = auth else {
            return Self::None;
        };
        if let (Some(Value::String(username)), Some(Value::String(password))) =
            (map.remove("username"), map.remove("password"))
        {
            return Self::Password { username, password };
        }
        match map.remove("sessionId") {
            Some(Value::String(s)) if !s.is_empty() => Self::Session(s),
            _ => Self::None,
        }
    }
}

/// What a dashboard may ask for, listed in `config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Feature {
    Emit,
    Join,
    Leave,
    Disconnect,
    Mjoin,
    Mleave,
    Mdisconnect,
    AggregatedEvents,
    AllEvents,
}

/// `config`, sent once after CONNECT.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminConfig {
    pub supported_features: Vec<Feature>,
}

/// One namespace and its sockets on the reporting node.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceDetails {
    pub name: String,
    pub sockets_count: usize,
}

/// A count of one kind of thing that happened in one second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregatedEvent {
    /// The second, as unix milliseconds.
    pub timestamp: i64,
    /// `rawConnection`, `rawDisconnection`, `packetsIn` or `packetsOut`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// For `rawDisconnection`, the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<&'static str>,
    pub count: u64,
}

/// `server_stats`, sent by every node every 2 s.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStats {
    pub server_id: String,
    pub hostname: String,
    pub pid: u32,
    /// Seconds since the server started.
    pub uptime: f64,
    pub clients_count: usize,
    pub polling_clients_count: usize,
    pub aggregated_events: Vec<AggregatedEvent>,
    pub namespaces: Vec<NamespaceDetails>,
}

impl ServerStats {
    pub const EVENT: &'static str = "server_stats";
}

/// The part of a socket's handshake the dashboard shows. Credentials
/// (`Cookie`, `Authorization`) are never in `headers`.
#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    pub address: String,
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// When the socket connected, unix milliseconds.
    pub issued: i64,
    pub secure: bool,
    /// The same, as an ISO 8601 date.
    pub time: String,
    pub url: String,
    pub xdomain: bool,
}

/// A socket as `all_sockets` and `socket_connected` show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SerializedSocket {
    pub id: String,
    pub client_id: String,
    pub transport: &'static str,
    pub nsp: String,
    /// `{user: {id, name}}` for a chat socket, `{}` for a dashboard.
    pub data: SocketData,
    pub handshake: Handshake,
    /// Its chat rooms, and its own id (which the dashboard shows as a
    /// private room); never roomcast's bookkeeping rooms.
    pub rooms: Vec<String>,
}

/// What roomcast knows about a socket's user.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SocketData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// Every event a dashboard may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminEvent {
    Join,
    Leave,
    Disconnect,
    Emit,
}

impl AdminEvent {
    pub fn parse(name: &str) -> Result<Self, AppError> {
        Ok(match name {
            "join" => Self::Join,
            "leave" => Self::Leave,
            "_disconnect" => Self::Disconnect,
            "emit" => Self::Emit,
            other => return Err(AppError::payload(format!("unknown event {other:?}"))),
        })
    }
}

/// Which sockets of a namespace an action is for: one socket (by id) or a
/// room's; `None` is all of them.
pub type Filter = Option<String>;

/// `join(nsp, room, filter?)` and `leave(nsp, room, filter?)`.
#[derive(Debug)]
pub struct RoomAction {
    pub nsp: String,
    pub room: RoomName,
    pub filter: Filter,
}

/// `_disconnect(nsp, close, filter?)`.
#[derive(Debug)]
pub struct DisconnectAction {
    pub nsp: String,
    /// Close the whole connection rather than leave the namespace: one
    /// namespace per connection here, so both end the socket.
    pub close: bool,
    pub filter: Filter,
}

/// `emit(nsp, filter, event, ...args)`.
#[derive(Debug)]
pub struct EmitAction {
    pub nsp: String,
    pub filter: Filter,
    pub event: String,
    pub args: Vec<Value>,
}

/// An action's arguments, all of them, in order. Read as a tuple of any
/// length: socketioxide hands a tuple type every argument (after the event
/// name), any other type only the first.
#[derive(Debug, Default)]
pub struct ActionArgs(pub Vec<Value>);

impl<'de> Deserialize<'de> for ActionArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct All;
        impl<'de> Visitor<'de> for All {
            type Value = ActionArgs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the action's arguments")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ActionArgs, A::Error> {
                let mut all = Vec::new();
                while let Some(v) = seq.next_element()? {
                    all.push(v);
                }
                Ok(ActionArgs(all))
            }
        }
        d.deserialize_tuple(usize::MAX, All)
    }
}

/// Each action has at least two arguments.
fn args(payload: ActionArgs) -> Result<Vec<Value>, AppError> {
    if payload.0.len() < 2 {
        return Err(AppError::payload("expected the action's arguments"));
    }
    Ok(payload.0)
}

fn text(v: Option<Value>, what: &str) -> Result<String, AppError> {
    match v {
        Some(Value::String(s)) => Ok(s),
        _ => Err(AppError::payload(format!("{what} must be a string"))),
    }
}

fn filter(v: Option<Value>) -> Result<Filter, AppError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AppError::payload("filter must be a string")),
    }
}

impl RoomAction {
    /// A room must be a chat room name: roomcast's bookkeeping rooms are
    /// not the dashboard's to change.
    pub fn parse(payload: ActionArgs) -> Result<Self, AppError> {
        let mut a = args(payload)?.into_iter();
        let nsp = text(a.next(), "namespace")?;
        let room = RoomName::parse(&text(a.next(), "room")?).map_err(AppError::InvalidRoom)?;
        Ok(Self {
            nsp,
            room,
            filter: filter(a.next())?,
        })
    }
}

impl DisconnectAction {
    pub fn parse(payload: ActionArgs) -> Result<Self, AppError> {
        let mut a = args(payload)?.into_iter();
        let nsp = text(a.next(), "namespace")?;
        let close = match a.next() {
            Some(Value::Bool(b)) => b,
            _ => return Err(AppError::payload("close must be a boolean")),
        };
        Ok(Self {
            nsp,
            close,
            filter: filter(a.next())?,
        })
    }
}

impl EmitAction {
    pub fn parse(payload: ActionArgs) -> Result<Self, AppError> {
        let mut a = args(payload)?.into_iter();
        let nsp = text(a.next(), "namespace")?;
        let filter = filter(a.next())?;
        let event = text(a.next(), "event")?;
        Ok(Self {
            nsp,
            filter,
            event,
            args: a.collect(),
        })
    }
}

/// A date as JavaScript's `Date.prototype.toJSON` writes it
/// (`2026-12-02T06:17:11.123Z`), which is what the dashboard expects where
/// Node sends a `Date`.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_are_written_as_javascript_does() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_796_192_231_123), "2026-12-02T06:17:11.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    fn list(v: Value) -> ActionArgs {
        match v {
            Value::Array(a) => ActionArgs(a),
            other => ActionArgs(vec![other]),
        }
    }

    #[test]
    fn actions_are_read_positionally_and_bad_ones_refused() {
        let d = DisconnectAction::parse(list(json!(["/", false, "abc"]))).expect("valid");
        assert_eq!(
            (d.nsp.as_str(), d.close, d.filter.as_deref()),
            ("/", false, Some("abc"))
        );
        assert!(DisconnectAction::parse(list(json!(["/", "yes"]))).is_err());
        assert!(DisconnectAction::parse(list(json!(["/"]))).is_err());
        assert!(RoomAction::parse(list(json!(["/", "@id/acct:ann"]))).is_err());
        let r = RoomAction::parse(list(json!(["/", "lobby"]))).expect("valid");
        assert_eq!((r.room.as_str(), r.filter), ("lobby", None));
        let e = EmitAction::parse(list(json!(["/", null, "note", 1, "two"]))).expect("valid");
        assert_eq!((e.event.as_str(), e.args.len()), ("note", 2));
    }

    #[test]
    fn dashboard_credentials_are_a_password_or_a_session() {
        let pw = AdminAuth::parse(Some(json!({"username": "ann", "password": "pw"})));
        assert!(matches!(pw, AdminAuth::Password { .. }));
        let s = AdminAuth::parse(Some(json!({"sessionId": "abc"})));
        assert_eq!(s, AdminAuth::Session("abc".into()));
        assert_eq!(
            AdminAuth::parse(Some(json!({"sessionId": ""}))),
            AdminAuth::None
        );
        assert_eq!(
            AdminAuth::parse(Some(json!({"username": 1}))),
            AdminAuth::None
        );
        assert_eq!(AdminAuth::parse(None), AdminAuth::None);
    }
}
