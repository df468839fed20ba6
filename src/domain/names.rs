//! Room names and usernames: short identifiers from a safe alphabet.

use std::fmt;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

/// A room name: 1 to 64 characters from `A-Z a-z 0-9 _ - . :`, not only
/// dots (PROTOCOL §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(format!(
                "room name must be 1 to {} characters",
                Self::MAX_LEN
            ));
        }
        if !s.chars().all(is_name_char) {
            return Err("room name may only use A-Z a-z 0-9 _ - . :".into());
        }
        // `/r/.` and `/r/..` are normalised away by browsers before the
        // request is sent, so such a room could never be opened.
        if s.chars().all(|c| c == '.') {
            return Err("room name must not be made only of dots".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `type` of a custom room event (`signal`, docs/protocol.md §4): 1 to
/// 64 characters of `A-Z a-z 0-9 . - _`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalType(String);

impl SignalType {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(format!("type must be 1 to {} characters", Self::MAX_LEN));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err("type may only use A-Z a-z 0-9 . - _".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every built-in account's user id is its username behind this prefix, so
/// that no `sub` an integrating app signs can be mistaken for an account:
/// a username has no `:`, and a JWT whose `sub` has this prefix is only
/// accepted with a live login session behind it (`auth::Auth::identify`).
pub const ACCOUNT_PREFIX: &str = "acct:";

/// Whether `user_id` is a built-in account's (see [`ACCOUNT_PREFIX`]).
pub fn is_account_id(user_id: &str) -> bool {
    user_id.starts_with(ACCOUNT_PREFIX)
}

/// A built-in account's username: 1 to 32 characters from
/// `A-Z a-z 0-9 _ - .`. Its user id is [`Username::user_id`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(format!(
                "username must be 1 to {} characters",
                Self::MAX_LEN
            ));
        }
        if !s.chars().all(|c| is_name_char(c) && c != ':') {
            return Err("username may only use A-Z a-z 0-9 _ - .".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The account's user id: `acct:` and the username.
    pub fn user_id(&self) -> String {
        format!("{ACCOUNT_PREFIX}{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_follow_the_contract() {
        for ok in [
            "a",
            "general",
            "team-1.ops:eu",
            "A_b",
            &"x".repeat(64),
            ".a",
            "..b",
        ] {
            assert!(RoomName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "has space",
            "émoji",
            "a/b",
            "<script>",
            &"x".repeat(65),
            ".",
            "..",
            "...",
        ] {
            assert!(RoomName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_refuse_colons_and_long_names() {
        assert!(Username::parse("alice.b-1").is_ok());
        assert!(Username::parse("a:b").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("").is_err());
    }
}

/// The names of direct conversations begin so; no other room may be made
/// with such a name (docs/protocol.md §4 "Direct messages").
pub const DM_PREFIX: &str = "dm:";

/// The one room of the conversation between `users` (the caller among
/// them; order and repeats do not matter): `dm:` and 32 hex digits of the
/// SHA-256 of the sorted, distinct ids, so every node and every first
/// `dm`, however concurrent, names the same room.
pub fn dm_room(users: &[&str]) -> RoomName {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<&str> = users.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut hash = Sha256::new();
    for id in ids {
        hash.update(id.as_bytes());
        hash.update([0u8]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    RoomName(format!("{DM_PREFIX}{hex}"))
}

/// Whether `name` is a direct conversation's room.
pub fn is_dm(name: &str) -> bool {
    name.starts_with(DM_PREFIX)
}

#[cfg(test)]
mod dm_tests {
    use super::*;

    #[test]
    fn one_room_per_set_of_people() {
        let a = dm_room(&["acct:ann", "bob"]);
        assert_eq!(a, dm_room(&["bob", "acct:ann", "bob"]));
        assert_ne!(a, dm_room(&["acct:ann", "bob", "carol"]));
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(dm_room(&["ab", "c"]), dm_room(&["a", "bc"]));
        assert!(RoomName::parse(a.as_str()).is_ok());
        assert!(is_dm(a.as_str()));
    }
}
