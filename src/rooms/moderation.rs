//! Who may moderate a room (docs/protocol.md §4 "Moderation"): roles,
//! mutes, bans and slow mode, shared by sockets, HTTP and the CLI. Whether
//! a user may post or change messages now is the writer's to check, inside
//! its batch (`store::restraints`).

use crate::auth::Identity;
use crate::domain::{Ban, Mute, Role, RoomName, RoomRecord, Standing};
use crate::error::AppError;
use crate::protocol::Action;
use crate::store::{Moderation, Store};

/// Where `user_id` stands in the room; `not_found` when there is no such room.
pub async fn standing(
    store: &dyn Store,
    name: &RoomName,
    user_id: &str,
    now: i64,
) -> Result<Standing, AppError> {
    store
        .standing(name, user_id, now)
        .await?
        .ok_or_else(|| super::not_found(name))
}

/// Whether `who` is the room's owner or one of its moderators (and not banned).
pub async fn may_moderate(
    store: &dyn Store,
    room: &RoomName,
    who: &Identity,
) -> Result<bool, AppError> {
    let now = crate::domain::now_ms();
    let st = standing(store, room, &who.user.id, now).await?;
    Ok(st.role.moderates() && !st.banned)
}

/// The refusal of a banned user's join, read or post.
pub fn banned(room: &RoomName) -> AppError {
    AppError::Forbidden(format!("you are banned from room {room}"))
}

/// A change of one user's standing in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Appoint (`true`) or dismiss a moderator: the owner's alone.
    Appoint(bool),
    Mute {
        seconds: i64,
    },
    Unmute,
    Ban,
    Unban,
}

/// A change that was made, for the caller to announce.
#[derive(Debug, Clone)]
pub struct Applied {
    pub room: RoomRecord,
    pub action: Action,
    /// `Mute`: when it ends.
    pub until: Option<i64>,
}

/// `who` changes `target`'s standing in the room. The owner may do
/// anything to anyone else; a moderator may mute and ban members only;
/// nobody acts on themselves or on the owner; members moderate nothing.
pub async fn moderate(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    target: &str,
    change: Change,
    now: i64,
) -> Result<Applied, AppError> {
    let room = store
        .room(name)
        .await?
        .ok_or_else(|| super::not_found(name))?;
    let actor = standing(store, name, &who.user.id, now).await?;
    // A moderator the owner appointed after banning them stays banned, and
    // moderates nothing while banned.
    if !actor.role.moderates() || actor.banned {
        return Err(AppError::Forbidden(
            "only the room's owner and moderators moderate it".into(),
        ));
    }
    if matches!(change, Change::Appoint(_)) && actor.role != Role::Owner {
        return Err(AppError::Forbidden(
            "only the room's owner appoints and dismisses moderators".into(),
        ));
    }
    if target == who.user.id {
        return Err(AppError::Forbidden("you cannot moderate yourself".into()));
    }
    if target == room.owner {
        return Err(AppError::Forbidden(
            "nobody moderates the room's owner".into(),
        ));
    }
    let theirs = standing(store, name, target, now).await?;
    if actor.role == Role::Moderator && theirs.role == Role::Moderator {
        return Err(AppError::Forbidden(
            "a moderator cannot act on another moderator".into(),
        ));
    }
    apply(store, &who.user.id, name, target, change, now).await?;
    let (action, until) = match change {
        Change::Appoint(true) => (Action::Appointed, None),
        Change::Appoint(false) => (Action::Dismissed, None),
        Change::Mute { seconds } => (Action::Muted, Some(now + seconds * 1000)),
        Change::Unmute => (Action::Unmuted, None),
        Change::Ban => (Action::Banned, None),
        Change::Unban => (Action::Unbanned, None),
    };
    Ok(Applied {
        room,
        action,
        until,
    })
}

/// Stores `change` made by `by` (a user id, or the CLI's name for itself);
/// lifting what is not there is `not_found`.
pub async fn apply(
    store: &dyn Store,
    by: &str,
    name: &RoomName,
    target: &str,
    change: Change,
    now: i64,
) -> Result<(), AppError> {
    let missing = |what: &str| AppError::NotFound(format!("{target} is not {what} in room {name}"));
    match change {
        Change::Appoint(on) => {
            let changed = store.set_moderator(name, target, by, on).await?;
            if !on && !changed {
                return Err(missing("a moderator"));
            }
        }
        Change::Mute { seconds } => {
            let mute = Mute {
                user: target.to_owned(),
                until: now + seconds * 1000,
                by: by.to_owned(),
            };
            store.mute(name, &mute).await?;
        }
        Change::Unmute => {
            if !store.unmute(name, target, now).await? {
                return Err(missing("muted"));
            }
        }
        Change::Ban => {
            let ban = Ban {
                user: target.to_owned(),
                by: by.to_owned(),
                ts: now,
            };
            store.ban(name, &ban).await?;
        }
        Change::Unban => {
            if !store.unban(name, target).await? {
                return Err(missing("banned"));
            }
        }
    }
    Ok(())
}

/// The owner or a moderator sets the room's slow mode (0 turns it off).
pub async fn set_slow_mode(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    seconds: i64,
) -> Result<RoomRecord, AppError> {
    let change = super::Settings {
        slow_mode: Some(seconds),
        topic: None,
    };
    super::configure(store, who, name, change).await
}

/// The room's moderators, mutes, bans and slow mode, for its owner and moderators.
pub async fn list(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    now: i64,
) -> Result<Moderation, AppError> {
    if !may_moderate(store, name, who).await? {
        return Err(AppError::Forbidden(
            "only the room's owner and moderators see its moderation".into(),
        ));
    }
    Ok(store.moderation(name, now).await?)
}
