//! Reading a request's fields one by one, so each mistake gets its own code
//! (docs/protocol.md §4): the one parser behind every [`Request`] of the
//! socket events and the HTTP bodies.

use serde_json::{Map, Value};

use crate::domain::{Emoji, MAX_FILES, MessageText, RoomName, SignalType, Topic, is_file_id};
use crate::error::AppError;

/// A request: parsed once from the event's argument or the HTTP body,
/// valid once built.
pub trait Request: Sized {
    /// `None` when the event had no argument or it was not JSON.
    fn parse(payload: Option<Value>) -> Result<Self, AppError>;
}

/// The fields of a request's JSON object.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// The payload as a JSON object; anything else is `invalid_payload`.
    pub fn of(payload: Option<Value>) -> Result<Self, AppError> {
        match payload {
            Some(Value::Object(map)) => Ok(Self(map)),
            _ => Err(AppError::payload("payload must be a JSON object")),
        }
    }

    /// The field, `None` when absent or `null`.
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// The required `room` field: missing or not a string is `invalid_payload`,
    /// a string that is no room name is `invalid_room`.
    pub fn room(&self) -> Result<RoomName, AppError> {
        self.room_at("room")
    }

    /// A required room name under `key` (the HTTP body's `name`).
    pub fn room_at(&self, key: &str) -> Result<RoomName, AppError> {
        match self.0.get(key) {
            Some(Value::String(s)) => RoomName::parse(s).map_err(AppError::InvalidRoom),
            Some(_) => Err(AppError::payload(format!("{key} must be a string"))),
            None => Err(AppError::payload(format!("{key} is required"))),
        }
    }

    /// The required `message` field: missing is `invalid_payload`; anything but
    /// a string of 1 to 4000 characters after trimming is `invalid_message`.
    pub fn message(&self) -> Result<MessageText, AppError> {
        match self.0.get("message") {
            Some(Value::String(s)) => MessageText::parse(s).map_err(AppError::InvalidMessage),
            Some(_) => Err(AppError::InvalidMessage("message must be a string".into())),
            None => Err(AppError::payload("message is required")),
        }
    }

    /// A post's text and files: `message` as [`Fields::message`] takes it,
    /// but with at least one file it may be missing or empty (stored as
    /// `""`); `files` an array of at most [`MAX_FILES`] distinct file ids
    /// (absent or `null`: none). An id that cannot be one is "no such
    /// file", as the writer says of ids it does not find.
    pub fn post(&self) -> Result<(String, Vec<String>), AppError> {
        let files = match self.get("files") {
            None => Vec::new(),
            Some(Value::Array(ids)) => {
                if ids.len() > MAX_FILES {
                    return Err(AppError::payload(format!(
                        "a message carries at most {MAX_FILES} files"
                    )));
                }
                let mut out: Vec<String> = Vec::with_capacity(ids.len());
                for id in ids {
                    let Value::String(id) = id else {
                        return Err(AppError::payload("files must be an array of file ids"));
                    };
                    if !is_file_id(id) {
                        return Err(AppError::payload("no such file"));
                    }
                    if out.contains(id) {
                        return Err(AppError::payload("files names a file twice"));
                    }
                    out.push(id.clone());
                }
                out
            }
            Some(_) => return Err(AppError::payload("files must be an array of file ids")),
        };
        let blank = match self.get("message") {
            None => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if !files.is_empty() && blank {
            return Ok((String::new(), files));
        }
        Ok((self.message()?.into_string(), files))
    }

    /// The required `type` of a signal: missing or not a string is
    /// `invalid_payload`, and so is a string that is no type name.
    pub fn signal_type(&self) -> Result<SignalType, AppError> {
        SignalType::parse(&self.string("type")?).map_err(AppError::InvalidPayload)
    }

    /// Any JSON under `key`, `null` when absent (a signal's `data`).
    pub fn json(&self, key: &str) -> Value {
        self.0.get(key).cloned().unwrap_or(Value::Null)
    }

    /// A required string field; missing or another type is `invalid_payload`.
    pub fn string(&self, key: &str) -> Result<String, AppError> {
        match self.0.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(AppError::payload(format!("{key} must be a string"))),
            None => Err(AppError::payload(format!("{key} is required"))),
        }
    }

    /// An optional string field; `null` counts as absent.
    pub fn opt_string(&self, key: &str) -> Result<Option<&str>, AppError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(AppError::payload(format!("{key} must be a string"))),
        }
    }

    /// An optional integer field (a message id); `null` counts as absent.
    pub fn opt_id(&self, key: &str) -> Result<Option<i64>, AppError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| AppError::payload(format!("{key} must be an integer message id"))),
        }
    }

    /// An optional boolean field; another type is `invalid_payload`.
    pub fn opt_boolean(&self, key: &str) -> Result<Option<bool>, AppError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(_) => self.boolean(key).map(Some),
        }
    }

    /// A required boolean field; missing or another type is `invalid_payload`.
    pub fn boolean(&self, key: &str) -> Result<bool, AppError> {
        match self.0.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(AppError::payload(format!("{key} must be true or false"))),
            None => Err(AppError::payload(format!("{key} is required"))),
        }
    }

    /// A required integer field from `min` to `max`; anything else is `invalid_payload`.
    pub fn int_in(&self, key: &str, min: i64, max: i64) -> Result<i64, AppError> {
        self.0
            .get(key)
            .and_then(Value::as_i64)
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                AppError::payload(format!("{key} must be an integer from {min} to {max}"))
            })
    }

    /// A required integer field (a message id); missing or another type is
    /// `invalid_payload`.
    pub fn id(&self, key: &str) -> Result<i64, AppError> {
        self.opt_id(key)?
            .ok_or_else(|| AppError::payload(format!("{key} is required")))
    }

    /// A room's topic under `key`: missing, not a string or not a topic
    /// (too long, control characters) is `invalid_payload`.
    pub fn topic(&self, key: &str) -> Result<Topic, AppError> {
        Topic::parse(&self.string(key)?).map_err(AppError::InvalidPayload)
    }

    /// The required `emoji` field: exactly one emoji, else `invalid_payload`.
    pub fn emoji(&self) -> Result<Emoji, AppError> {
        match self.0.get("emoji") {
            Some(Value::String(s)) => Emoji::parse(s).map_err(AppError::InvalidPayload),
            Some(_) => Err(AppError::payload("emoji must be a string")),
            None => Err(AppError::payload("emoji is required")),
        }
    }

    /// The optional `limit` of a history page: 1 to 100, 50 when absent.
    pub fn limit(&self) -> Result<u32, AppError> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => v.as_u64().and_then(page_limit).ok_or_else(bad_limit),
        }
    }
}

/// A history page's size when the request names none.
pub const DEFAULT_LIMIT: u32 = 50;

/// `n` as a page size when it is 1 to 100.
pub(crate) fn page_limit(n: u64) -> Option<u32> {
    (1..=100).contains(&n).then_some(n as u32)
}

pub(crate) fn bad_limit() -> AppError {
    AppError::payload("limit must be an integer from 1 to 100")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        Fields::of(Some(v)).expect("object")
    }

    fn code<T>(r: Result<T, AppError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code().as_str())
    }

    #[test]
    fn every_non_object_is_invalid_payload() {
        for v in [json!(null), json!(1), json!("s"), json!([1]), json!(true)] {
            assert_eq!(code(Fields::of(Some(v))), "invalid_payload");
        }
        assert_eq!(code(Fields::of(None)), "invalid_payload");
    }

    #[test]
    fn fields_get_their_own_codes() {
        assert_eq!(code(fields(json!({})).room()), "invalid_payload");
        assert_eq!(code(fields(json!({"room": 5})).room()), "invalid_payload");
        assert_eq!(code(fields(json!({"room": "a b"})).room()), "invalid_room");
        assert_eq!(
            code(fields(json!({"message": 5})).message()),
            "invalid_message"
        );
        assert_eq!(
            code(fields(json!({"message": " "})).message()),
            "invalid_message"
        );
        assert_eq!(code(fields(json!({})).message()), "invalid_payload");
        assert_eq!(
            code(fields(json!({"since": "x"})).opt_id("since")),
            "invalid_payload"
        );
        assert_eq!(
            fields(json!({"since": 3})).opt_id("since").ok(),
            Some(Some(3))
        );
        assert_eq!(code(fields(json!({"limit": 0})).limit()), "invalid_payload");
        assert_eq!(
            code(fields(json!({"limit": 101})).limit()),
            "invalid_payload"
        );
        assert_eq!(fields(json!({})).limit().ok(), Some(50));
        assert_eq!(
            code(fields(json!({"type": "a b"})).signal_type()),
            "invalid_payload"
        );
        assert_eq!(
            code(fields(json!({"type": 1})).signal_type()),
            "invalid_payload"
        );
        assert_eq!(
            code(fields(json!({"type": "x".repeat(65)})).signal_type()),
            "invalid_payload"
        );
        assert_eq!(
            code(fields(json!({"type": "cursor.move-2_x"})).signal_type()),
            "ok"
        );
        assert_eq!(
            code(fields(json!({"user": 1})).string("user")),
            "invalid_payload"
        );
    }
}
