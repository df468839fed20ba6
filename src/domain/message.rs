//! A stored chat message in its current state (PROTOCOL §4 "Message").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{FileView, User};

/// A stored chat message as every payload shows it: its current text,
/// edit, deletion, reply and reactions. Absent parts are left out of the
/// JSON, so a plain message looks as it always did, `seq` aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Unique on the server, increasing within a room.
    pub id: i64,
    /// The message's position in its room's stream: its id when posted, a
    /// larger value after each change (`join {since}` takes one).
    pub seq: i64,
    pub room: String,
    pub user: User,
    /// Empty on a deleted message.
    pub message: String,
    /// Unix milliseconds.
    pub ts: i64,
    /// When it was last edited (unix ms); absent when never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<i64>,
    /// Present on a deleted message (a tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Deletion>,
    /// The message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyRef>,
    /// By first reaction; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionSummary>,
    /// The user ids its `@name`s mention (those who may read the room, its
    /// author left out); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The files it carries, in the order attached; absent when none (and
    /// on a deleted message, whose files are gone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileView>,
}

/// Who deleted a message, and when (unix ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deletion {
    /// The user id of whoever deleted it: its author, or the room's owner.
    pub by: String,
    pub ts: i64,
}

/// The parent of a reply, as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplyRef {
    pub id: i64,
    pub user: User,
    /// The parent's current text, its first [`EXCERPT_CHARS`] characters;
    /// absent once the parent is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// `true` once the parent is deleted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One emoji's reactions to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: u32,
    /// The first [`REACTION_USERS`] user ids, by time.
    pub users: Vec<String>,
}

/// How many characters of the parent a reply quotes.
const EXCERPT_CHARS: usize = 100;
/// How many user ids a reaction summary names.
const REACTION_USERS: usize = 5;

/// The first [`EXCERPT_CHARS`] characters of `text`.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

impl ReactionSummary {
    /// The summary of `(emoji, user)` pairs in the order they were added.
    pub fn of<'a>(reactions: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Self> {
        let mut out: Vec<Self> = Vec::new();
        for (emoji, user) in reactions {
            let i = match out.iter().position(|r| r.emoji == emoji) {
                Some(i) => i,
                None => {
                    out.push(Self {
                        emoji: emoji.to_owned(),
                        count: 0,
                        users: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let r = &mut out[i];
            r.count += 1;
            if r.users.len() < REACTION_USERS {
                r.users.push(user.to_owned());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_keep_first_reaction_order_and_five_users() {
        let pairs = [
            ("👍", "a"),
            ("🎉", "a"),
            ("👍", "b"),
            ("👍", "c"),
            ("👍", "d"),
            ("👍", "e"),
            ("👍", "f"),
        ];
        let s = ReactionSummary::of(pairs);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].emoji, "👍");
        assert_eq!(s[0].count, 6);
        assert_eq!(s[0].users, ["a", "b", "c", "d", "e"]);
        assert_eq!(s[1].count, 1);
    }

    #[test]
    fn excerpts_cut_at_characters() {
        let long = "é".repeat(150);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS);
        assert_eq!(excerpt("short"), "short");
    }
}
