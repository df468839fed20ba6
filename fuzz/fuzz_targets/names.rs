//! Room names, usernames and message texts from any string. Properties:
//! accepted exactly when PROTOCOL §3/§4 says so, and what is accepted
//! round-trips unchanged (messages: trimmed, nothing else).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomcast::domain::{MessageText, RoomName, Username};

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fuzz_target!(|s: &str| {
    // Names made only of dots are refused: browsers normalise `/r/.` away.
    let room_ok =
        (1..=64).contains(&s.len()) && s.chars().all(name_char) && !s.chars().all(|c| c == '.');
    match RoomName::parse(s) {
        Ok(room) => {
            assert!(room_ok, "{s:?} accepted as a room name");
            assert_eq!(room.as_str(), s);
            assert_eq!(room.to_string(), s);
            assert_eq!(RoomName::parse(room.as_str()), Ok(room));
        }
        Err(why) => assert!(!room_ok && !why.is_empty(), "{s:?} refused"),
    }
    let user_ok = (1..=32).contains(&s.len()) && s.chars().all(|c| name_char(c) && c != ':');
    match Username::parse(s) {
        Ok(user) => {
            assert!(user_ok, "{s:?} accepted as a username");
            assert_eq!(user.as_str(), s);
        }
        Err(why) => assert!(!user_ok && !why.is_empty(), "{s:?} refused"),
    }
    let trimmed = s.trim();
    let message_ok = !trimmed.is_empty() && trimmed.chars().count() <= 4000;
    match MessageText::parse(s) {
        Ok(text) => {
            assert!(message_ok, "{s:?} accepted as a message");
            assert_eq!(text.into_string(), trimmed);
        }
        Err(why) => assert!(!message_ok && !why.is_empty(), "{s:?} refused"),
    }
});
