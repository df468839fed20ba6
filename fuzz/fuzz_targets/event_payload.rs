//! Event payloads and HTTP bodies as a client sends them: any bytes, parsed
//! as the JSON argument of an event, then read field by field as every
//! request of `roomcast::protocol` does, and as each request.
//! Properties: every refusal uses one of the contract's codes and says why;
//! every accepted field obeys PROTOCOL §3/§4.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomcast::error::AppError;
use roomcast::protocol::{
    Chat, Credentials, Fields, History, InRoom, Invite, Join, NewRoom, PostMessage, Request,
};
use serde_json::Value;

const CODES: [&str; 3] = ["invalid_payload", "invalid_room", "invalid_message"];

fn refused_properly(e: &AppError) {
    let code = e.code().as_str();
    assert!(CODES.contains(&code), "unexpected code {code}");
    let ack = serde_json::to_value(e.to_ack()).expect("an ack serializes");
    assert_eq!(ack["error"], code);
    assert_eq!(ack["ok"], false);
    assert!(ack["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn check<T>(parsed: Result<T, AppError>) {
    if let Err(e) = parsed {
        refused_properly(&e);
    }
}

fuzz_target!(|data: &[u8]| {
    // What socketioxide hands over: a JSON value, or nothing when the
    // argument was missing or not JSON.
    let value: Option<Value> = serde_json::from_slice(data).ok();
    let was_object = matches!(value, Some(Value::Object(_)));
    // Every request refuses with a code of the contract, or parses.
    check(Join::parse(value.clone()));
    check(Chat::parse(value.clone()));
    check(History::parse(value.clone()));
    check(InRoom::parse(value.clone()));
    check(Credentials::parse(value.clone()));
    check(NewRoom::parse(value.clone()));
    check(PostMessage::parse(value.clone()));
    check(Invite::parse(value.clone()));
    let obj = match value.clone() {
        Some(Value::Object(obj)) => obj,
        _ => serde_json::Map::new(),
    };
    let fields = match Fields::of(value) {
        Ok(fields) => fields,
        Err(e) => {
            assert!(!was_object);
            assert_eq!(e.code().as_str(), "invalid_payload");
            return refused_properly(&e);
        }
    };
    match fields.room() {
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
    match fields.message() {
        Ok(text) => {
            let sent = obj["message"].as_str().expect("message was a string");
            let text = text.into_string();
            assert_eq!(text, sent.trim(), "a message is only trimmed");
            assert!((1..=4000).contains(&text.chars().count()));
        }
        Err(e) => refused_properly(&e),
    }
    for key in ["since", "before"] {
        match fields.opt_id(key) {
            Ok(Some(id)) => assert_eq!(obj[key].as_i64(), Some(id)),
            Ok(None) => assert!(obj.get(key).is_none_or(Value::is_null)),
            Err(e) => refused_properly(&e),
        }
    }
    match fields.limit() {
        Ok(n) => assert!((1..=100).contains(&n)),
        Err(e) => refused_properly(&e),
    }
});
