//! Every user's list of rooms and read positions (docs/protocol.md §4 "Your
//! rooms and read state"), for sockets and HTTP alike.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::auth::Identity;
use crate::domain::{RoomName, RoomRecord, User, Visibility, dm_room, is_dm};
use crate::error::AppError;
use crate::store::{DM_OWNER, Entry, Listed, ReadMark, Store};

/// The most people besides the caller in one direct conversation.
pub const DM_MAX_OTHERS: usize = 7;

/// The direct conversation of `who` with `others` (user ids): its room,
/// made on first use and the same for everyone after (its name is the
/// hash of who is in it), and every participant's id. Each must be a user
/// the server knows and not disabled (`not_found` otherwise).
pub async fn open_dm(
    store: &dyn Store,
    who: &Identity,
    others: &[String],
) -> Result<(RoomRecord, Vec<String>), AppError> {
    let mut ids: Vec<String> = others
        .iter()
        .filter(|id| **id != who.user.id)
        .cloned()
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::payload(
            "a direct message needs someone besides you",
        ));
    }
    if ids.len() > DM_MAX_OTHERS {
        return Err(AppError::payload(format!(
            "a conversation holds at most {} people",
            DM_MAX_OTHERS + 1
        )));
    }
    let known = store.known_users(&ids).await?;
    if let Some(missing) = ids.iter().find(|id| !known.iter().any(|u| &u.id == *id)) {
        return Err(AppError::NotFound(format!("no user {missing}")));
    }
    ids.push(who.user.id.clone());
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let name = dm_room(&id_refs);
    if !who.may_use(name.as_str()) {
        return Err(AppError::Forbidden(format!(
            "this key may not act in room {name}"
        )));
    }
    store.open_dm(&name, &ids).await?;
    // Read back for what its people may have set since it was made (the
    // topic); as made when the admin CLI deleted it meanwhile.
    let room = match store.room(&name).await? {
        Some(room) => room,
        None => RoomRecord {
            name: name.into_string(),
            visibility: Visibility::Private,
            owner: DM_OWNER.to_owned(),
            topic: None,
        },
    };
    Ok((room, ids))
}

/// The most first joins in one transaction.
const ENLIST_BATCH: usize = 512;

type Enlisting = ((String, String), oneshot::Sender<Option<bool>>);

/// Puts rooms in their users' lists at their first `join`: every first
/// join arriving meanwhile goes in one transaction, so a crowd of new
/// users joining (a launch, a load test) pays one commit per batch, not an
/// fsync each (the lesson of `auth::newcomers`). A handle; cheap to clone.
#[derive(Clone)]
pub struct Enlister {
    tx: mpsc::Sender<Enlisting>,
}

impl Enlister {
    /// Starts the task; it ends when every handle is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Enlisting>(4 * ENLIST_BATCH);
        tokio::spawn(async move {
            let mut pending = Vec::with_capacity(ENLIST_BATCH);
            while rx.recv_many(&mut pending, ENLIST_BATCH).await > 0 {
                let entries: Vec<(String, String)> =
                    pending.iter().map(|(e, _)| e.clone()).collect();
                let added = match store.enlist(&entries).await {
                    Ok(added) => added.into_iter().map(Some).collect(),
                    Err(e) => {
                        tracing::error!(error = %e, joins = entries.len(), "recording first joins failed");
                        vec![None; entries.len()]
                    }
                };
                for ((_, done), added) in pending.drain(..).zip(added) {
                    let _ = done.send(added);
                }
            }
        });
        Self { tx }
    }

    /// After `who` entered a room (`entry`, already checked): the room goes
    /// in their list when it was not there, durably before this returns.
    /// `true` when it was added.
    pub async fn enlist(
        &self,
        who: &Identity,
        name: &RoomName,
        entry: &Entry,
    ) -> Result<bool, AppError> {
        if entry.member {
            return Ok(false);
        }
        let (done, added) = oneshot::channel();
        let job = ((name.to_string(), who.user.id.clone()), done);
        if self.tx.send(job).await.is_err() {
            return Err(AppError::Unavailable(
                "the first-join recorder stopped".into(),
            ));
        }
        added.await.ok().flatten().ok_or(AppError::Internal)
    }
}

/// `who` takes `name` out of their list for good (a private room's
/// invitation goes with it); `not_found` when it was not in it.
pub async fn leave_for_good(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
) -> Result<RoomRecord, AppError> {
    let room = store.room(name).await?.ok_or_else(|| not_listed(name))?;
    if !store.delist(name, &who.user.id).await? {
        return Err(not_listed(name));
    }
    Ok(room)
}

/// Moves `who`'s read position in `name` forward to `id`: the position now,
/// and whether it moved (then the user's other sockets are told).
pub async fn mark_read(
    store: &dyn Store,
    who: &Identity,
    name: &RoomName,
    id: i64,
) -> Result<(i64, bool), AppError> {
    if !who.may_use(name.as_str()) {
        return Err(AppError::Forbidden(format!(
            "this key may not act in room {name}"
        )));
    }
    match store.mark_read(name, &who.user.id, id).await? {
        ReadMark::Moved => Ok((id, true)),
        ReadMark::Ahead(at) => Ok((at, false)),
        ReadMark::PastNewest(newest) => Err(AppError::payload(format!(
            "id {id} is past the newest message of room {name} ({newest})"
        ))),
        ReadMark::NotListed => Err(not_listed(name)),
    }
}

/// `who`'s list, with counts, by name (rooms a key may not use left out),
/// and the people of its direct conversations, by room.
pub async fn listed(
    store: &dyn Store,
    who: &Identity,
) -> Result<(Vec<Listed>, Vec<(String, User)>), AppError> {
    let mut list = store.listed(&who.user.id).await?;
    list.retain(|l| who.may_use(&l.room.name));
    let people = if list.iter().any(|l| is_dm(&l.room.name)) {
        store.dm_people(&who.user.id).await?
    } else {
        Vec::new()
    };
    Ok((list, people))
}

fn not_listed(name: &RoomName) -> AppError {
    AppError::NotFound(format!("room {name} is not in your rooms"))
}
