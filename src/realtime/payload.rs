//! Reading event payloads field by field, so each mistake gets its own code.
//! Public for the fuzz targets (`fuzz/`), not for other crates.

use serde_json::{Map, Value};

use crate::domain::{MessageText, RoomName};
use crate::error::AppError;

pub type Object = Map<String, Value>;

/// The payload as a JSON object; anything else is `invalid_payload`.
pub fn object(payload: Option<Value>) -> Result<Object, AppError> {
    match payload {
        Some(Value::Object(map)) => Ok(map),
        _ => Err(AppError::payload("payload must be a JSON object")),
    }
}

/// The required `room` field: missing or not a string is `invalid_payload`,
/// a string that is no room name is `invalid_room`.
pub fn room(obj: &Object) -> Result<RoomName, AppError> {
    match obj.get("room") {
        Some(Value::String(s)) => RoomName::parse(s).map_err(AppError::InvalidRoom),
        Some(_) => Err(AppError::payload("room must be a string")),
        None => Err(AppError::payload("room is required")),
    }
}

/// The required `message` field: missing is `invalid_payload`; anything but
/// a string of 1 to 4000 characters after trimming is `invalid_message`.
pub fn message(obj: &Object) -> Result<MessageText, AppError> {
    match obj.get("message") {
        Some(Value::String(s)) => MessageText::parse(s).map_err(AppError::InvalidMessage),
        Some(_) => Err(AppError::InvalidMessage("message must be a string".into())),
        None => Err(AppError::payload("message is required")),
    }
}

/// An optional integer field (a message id); `null` counts as absent.
pub fn opt_id(obj: &Object, key: &str) -> Result<Option<i64>, AppError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| AppError::payload(format!("{key} must be an integer message id"))),
    }
}

/// The optional `limit` of `history`: 1 to 100, 50 when absent.
pub fn limit(obj: &Object) -> Result<u32, AppError> {
    match obj.get("limit") {
        None | Some(Value::Null) => Ok(50),
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=100).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| AppError::payload("limit must be an integer from 1 to 100")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        object(Some(v)).expect("object")
    }

    fn code<T>(r: Result<T, AppError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn every_non_object_is_invalid_payload() {
        for v in [json!(null), json!(1), json!("s"), json!([1]), json!(true)] {
            assert_eq!(code(object(Some(v))), "invalid_payload");
        }
        assert_eq!(code(object(None)), "invalid_payload");
    }

    #[test]
    fn fields_get_their_own_codes() {
        assert_eq!(code(room(&obj(json!({})))), "invalid_payload");
        assert_eq!(code(room(&obj(json!({"room": 5})))), "invalid_payload");
        assert_eq!(code(room(&obj(json!({"room": "a b"})))), "invalid_room");
        assert_eq!(
            code(message(&obj(json!({"message": 5})))),
            "invalid_message"
        );
        assert_eq!(
            code(message(&obj(json!({"message": " "})))),
            "invalid_message"
        );
        assert_eq!(code(message(&obj(json!({})))), "invalid_payload");
        let since = obj(json!({"since": "x"}));
        assert_eq!(code(opt_id(&since, "since")), "invalid_payload");
        assert_eq!(
            opt_id(&obj(json!({"since": 3})), "since").ok(),
            Some(Some(3))
        );
        assert_eq!(code(limit(&obj(json!({"limit": 0})))), "invalid_payload");
        assert_eq!(code(limit(&obj(json!({"limit": 101})))), "invalid_payload");
        assert_eq!(limit(&obj(json!({}))).ok(), Some(50));
    }
}
