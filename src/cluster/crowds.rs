//! Presence notices of big rooms, coalesced (docs/protocol.md §4, `presence`).
//!
//! Each `join` notice goes to every member, so 1,000 sockets joining one
//! room sent some 500,000 of them and joined at 0.4 of the rate of 1,000
//! sockets into 100 rooms (bench/README.md, "Joining a big room"). In a
//! room with more than `--presence-batch-above` users online, this node
//! gathers its sockets' joins and leaves for [`WINDOW`] and sends them as
//! one `presence` notice, in the order they happened; smaller rooms get
//! `join` and `leave` at once, as before.
//!
//! The only owner of which rooms are big, per node: each join's census
//! (the handler has just counted the room) says so. A room's notices keep
//! going into the batch while one is waiting, so a leave never overtakes
//! the join before it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::bus::Io;
use crate::domain::{User, now_ms};
use crate::protocol::{Broadcast, PresenceChange, PresenceNotice};

/// How long a big room's joins and leaves are gathered before they go out.
const WINDOW: Duration = Duration::from_millis(200);

/// The rooms whose presence notices this node coalesces, and what waits.
pub struct Crowds {
    io: Io,
    /// Rooms with more users online than this are big.
    above: usize,
    rooms: Mutex<HashMap<String, Crowd>>,
}

#[derive(Default)]
struct Crowd {
    /// The last census said more than `above`.
    big: bool,
    /// Gathered, in order; `None`: no flush is scheduled.
    waiting: Option<Vec<PresenceChange>>,
}

impl Crowds {
    pub fn new(io: Io, above: usize) -> Arc<Self> {
        Arc::new(Self {
            io,
            above,
            rooms: Mutex::new(HashMap::new()),
        })
    }

    /// `user` joined `room`, which has `online` users now (the joiner's
    /// census): `true` when the notice is gathered, `false` when the
    /// caller sends `join` itself.
    pub fn joined(self: &Arc<Self>, room: &str, user: &User, online: usize) -> bool {
        let big = online > self.above;
        let mut rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        let crowd = match rooms.get_mut(room) {
            Some(c) => c,
            None if big => rooms.entry(room.to_owned()).or_default(),
            None => return false,
        };
        crowd.big = big;
        if !big && crowd.waiting.is_none() {
            rooms.remove(room);
            return false;
        }
        self.gather(crowd, room, user, true);
        true
    }

    /// `user` left `room`: `true` when the notice is gathered, `false`
    /// when the caller sends `leave` itself.
    pub fn left(self: &Arc<Self>, room: &str, user: &User) -> bool {
        let mut rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        match rooms.get_mut(room) {
            Some(crowd) if crowd.big || crowd.waiting.is_some() => {
                self.gather(crowd, room, user, false);
                true
            }
            _ => false,
        }
    }

    fn gather(self: &Arc<Self>, crowd: &mut Crowd, room: &str, user: &User, joined: bool) {
        let change = PresenceChange {
            user: user.clone(),
            joined,
        };
        match &mut crowd.waiting {
            Some(changes) => changes.push(change),
            None => {
                crowd.waiting = Some(vec![change]);
                let this = self.clone();
                let room = room.to_owned();
                tokio::spawn(async move {
                    tokio::time::sleep(WINDOW).await;
                    this.flush(room).await;
                });
            }
        }
    }

    async fn flush(&self, room: String) {
        let changes = {
            let mut rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(crowd) = rooms.get_mut(&room) else {
                return;
            };
            let changes = crowd.waiting.take().unwrap_or_default();
            if !crowd.big {
                rooms.remove(&room);
            }
            changes
        };
        if changes.is_empty() {
            return;
        }
        let notice = PresenceNotice {
            room: &room,
            changes: &changes,
            ts: now_ms(),
        };
        let _ = self
            .io
            .to(room.clone())
            .emit(PresenceNotice::EVENT, &notice)
            .await;
    }
}
