//! Values parsed from client input: once built, they are valid. No I/O here.

mod emoji;
mod file;
mod mentions;
mod message;
mod message_text;
mod moderation;
mod names;
mod search;
mod topic;

pub use emoji::Emoji;
pub use file::{
    FileView, MAX_FILES, THUMBNAIL, file_name, is_file_id, new_file_id, percent_decode,
    percent_encode,
};
pub use mentions::{MAX_MENTIONS, candidate_ids, mentioned_names};
pub use message::{Deletion, Message, ReactionSummary, ReplyRef, excerpt};
pub use message_text::MessageText;
pub use moderation::{Ban, Member, Mute, Role, Standing};
pub use names::{
    ACCOUNT_PREFIX, DM_PREFIX, RoomName, SignalType, Username, dm_room, is_account_id, is_dm,
};
pub use search::SearchQuery;
pub use topic::Topic;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user as every payload shows it (PROTOCOL §2): `bot: true` only for
/// the user of an API key (`bot:` and the key's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

/// The user id of every API key's bot is its name behind this prefix; no
/// JWT may name such a subject (docs/protocol.md §2).
pub const BOT_PREFIX: &str = "bot:";

impl User {
    /// The user of this id and name; a bot when the id is a key's
    /// ([`BOT_PREFIX`]), so a message stored under it is shown as a bot's.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        let id = id.into();
        Self {
            bot: id.starts_with(BOT_PREFIX),
            id,
            name: name.into(),
        }
    }
}

/// Who may join a room (PROTOCOL §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Self::Public),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

/// A stored room, without the live `online` count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub name: String,
    pub visibility: Visibility,
    pub owner: String,
    /// `None` when it has none.
    pub topic: Option<String>,
}

/// Milliseconds since the Unix epoch, the `ts` of every payload.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
