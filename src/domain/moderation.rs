//! Who runs a room and who is kept quiet in it (docs/protocol.md §4 "Moderation").

use serde::Serialize;
use utoipa::ToSchema;

/// A user's role in one room: the owner appoints moderators; everyone else is a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Moderator,
    Member,
}

impl Role {
    /// `user_id`'s role in a room owned by `owner`, `moderator` saying
    /// whether they are one of its moderators (the owner is owner first).
    pub fn of(owner: &str, user_id: &str, moderator: bool) -> Self {
        if owner == user_id {
            Self::Owner
        } else if moderator {
            Self::Moderator
        } else {
            Self::Member
        }
    }

    /// Owner and moderators moderate, and slow mode does not hold them back.
    pub fn moderates(self) -> bool {
        matches!(self, Self::Owner | Self::Moderator)
    }
}

/// One of the people whose list holds a room, with their role in it (the
/// `members` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Member {
    pub user: super::User,
    pub role: Role,
}

/// A mute in force: `user` may read the room but not post to it before `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Mute {
    /// The muted user's id.
    pub user: String,
    /// Unix milliseconds.
    pub until: i64,
    /// The user id of who muted them.
    pub by: String,
}

/// A ban: `user` may not join, read or post to the room until unbanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ban {
    /// The banned user's id.
    pub user: String,
    /// The user id of who banned them.
    pub by: String,
    /// When, unix milliseconds.
    pub ts: i64,
}

/// Where one user stands in one room, read in one statement at each join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub banned: bool,
    /// The end of the mute in force, if any.
    pub muted_until: Option<i64>,
    /// The room's slow mode in seconds; 0 is off.
    pub slow_mode: i64,
}
