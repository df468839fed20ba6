//! Event payloads as a client sends them: any bytes, parsed as the JSON
//! argument of an event, then read field by field as the handlers do.
//! Properties: every refusal uses one of the contract's codes and says why;
//! every accepted field obeys PROTOCOL §3/§4.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomcast::error::AppError;
use roomcast::realtime::payload;
use serde_json::Value;

const CODES: [&str; 3] = ["invalid_payload", "invalid_room", "invalid_message"];

fn refused_properly(e: &AppError) {
    assert!(CODES.contains(&e.code()), "unexpected code {}", e.code());
    let ack = e.to_ack();
    assert_eq!(ack["ok"], false);
    assert!(ack["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fuzz_target!(|data: &[u8]| {
    // What socketioxide hands over: a JSON value, or nothing when the
    // argument was missing or not JSON.
    let value: Option<Value> = serde_json::from_slice(data).ok();
    let was_object = matches!(value, Some(Value::Object(_)));
    let obj = match payload::object(value) {
        Ok(obj) => obj,
        Err(e) => {
            assert!(!was_object);
            assert_eq!(e.code(), "invalid_payload");
            return refused_properly(&e);
        }
    };
    match payload::room(&obj) {
        Ok(room) => {
            let sent = obj["room"].as_str().expect("room was a string");
            assert_eq!(room.as_str(), sent, "a room name is taken as sent");
            assert!((1..=64).contains(&sent.len()));
            assert!(
                sent.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
            );
        }
        Err(e) => refused_properly(&e),
    }
    match payload::message(&obj) {
        Ok(text) => {
            let sent = obj["message"].as_str().expect("message was a string");
            let text = text.into_string();
            assert_eq!(text, sent.trim(), "a message is only trimmed");
            assert!((1..=4000).contains(&text.chars().count()));
        }
        Err(e) => refused_properly(&e),
    }
    for key in ["since", "before"] {
        match payload::opt_id(&obj, key) {
            Ok(Some(id)) => assert_eq!(obj[key].as_i64(), Some(id)),
            Ok(None) => assert!(obj.get(key).is_none_or(Value::is_null)),
            Err(e) => refused_properly(&e),
        }
    }
    match payload::limit(&obj) {
        Ok(n) => assert!((1..=100).contains(&n)),
        Err(e) => refused_properly(&e),
    }
});
